"""The specification in the app, a download for each document and format, and the guide's
settings (facilitators only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import facilitated_study
from app.export.formats import FORMATS, ExportUnavailable
from app.export.forms import GuideForm, ReportingForm
from app.export.service import DOCUMENTS, GUIDE_FORMATS, export_study, formats_of
from app.forms_common import field_errors
from app.htmx import render
from app.services.guide import GuideSettings, change_guide_settings, guide_settings_of
from app.services.reporting import (
    ReportingSettings,
    change_reporting_settings,
    reporting_settings_of,
)
from app.services.spec_cache import cached_specification

bp = Blueprint("export", __name__, url_prefix="/studies/<slug>/export")


def _names_requested() -> bool:
    return request.args.get("names", "") in ("1", "true", "yes", "on")


def _document() -> str:
    document = request.args.get("document", "") or "specification"
    if document not in DOCUMENTS:
        abort(404, description="There is no such document: choose the specification or the guide.")
    return document


@bp.get("")
@login_required
def show(slug: str) -> Response:
    study = facilitated_study(slug)
    from app.export.formats import HELPERS

    spec = cached_specification(study)
    return render(
        "export/specification.html",
        study=study,
        spec=spec,
        formats=FORMATS,
        guide_formats=GUIDE_FORMATS,
        documents=DOCUMENTS,
        in_app=True,
        **HELPERS,
    )


@bp.get("/download")
@login_required
def download(slug: str) -> Response:
    """The form on the specification page: pick a document and a format (and names)."""
    facilitated_study(slug)
    document = _document()
    fmt = request.args.get("format", "")
    if fmt not in FORMATS:
        abort(404, description="Choose one of the formats listed on the specification page.")
    if fmt not in formats_of(document):
        flash(
            "The inspectors' guide has no data of its own: choose another format, or the "
            "specification for its data.",
            "error",
        )
        return redirect(url_for("export.show", slug=slug) + "#downloads", 303)
    params = {"names": "1"} if _names_requested() else {}
    if document != "specification":
        params["document"] = document
    return redirect(url_for("export.file", slug=slug, fmt=fmt, **params), 303)


@bp.get("/<fmt>")
@login_required
def file(slug: str, fmt: str) -> Response:
    study = facilitated_study(slug)
    document = _document()
    if fmt not in formats_of(document):
        abort(404, description="There is no export in that format.")
    try:
        exported = export_study(
            study, fmt, actor=current_user, include_names=_names_requested(), document=document
        )
    except ExportUnavailable as error:
        abort(503, description=str(error))
    response = make_response(exported.body)
    response.headers["Content-Type"] = exported.mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    return response


def _settings_page(
    slug: str,
    form: Any,
    settings_of: Any,
    settings_cls: Any,
    change: Any,
    *,
    saved: str,
    anchor: str,
    template: str,
) -> Response:
    """A facilitator's settings form over a dataclass of text settings: filled from the
    study, saved through `change`, field errors answered 422."""
    study = facilitated_study(slug)
    if not form.is_submitted():
        for name, value in settings_of(study).__dict__.items():
            getattr(form, name).data = value
    elif form.validate_on_submit():
        names = settings_cls.__dataclass_fields__
        settings = settings_cls(**{name: getattr(form, name).data or "" for name in names})
        change(study, settings, actor=current_user)
        flash(saved, "success")
        return redirect(url_for("export.show", slug=slug) + anchor, 303)
    status = 422 if form.is_submitted() else 200
    return render(template, study=study, form=form, errors=field_errors(form), status=status)


@bp.route("/guide-settings", methods=["GET", "POST"])
@login_required
def guide_settings(slug: str) -> Response:
    """How the inspectors' guide frames the study: owner, context, framework, reporting."""
    return _settings_page(
        slug,
        GuideForm(),
        guide_settings_of,
        GuideSettings,
        change_guide_settings,
        saved="Guide settings saved.",
        anchor="#downloads",
        template="export/guide_settings.html",
    )


@bp.route("/reporting-settings", methods=["GET", "POST"])
@login_required
def reporting_settings(slug: str) -> Response:
    """What the specification's methods and ACCORD checklist state that the app does not
    otherwise hold: protocol, funding, steering group, item sources, pilot, deviations.
    Editable after completion, like the guide settings: they describe the study for its
    readers and are not part of the consensus record."""
    return _settings_page(
        slug,
        ReportingForm(),
        reporting_settings_of,
        ReportingSettings,
        change_reporting_settings,
        saved="Reporting settings saved.",
        anchor="#accord",
        template="export/reporting_settings.html",
    )
