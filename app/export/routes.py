"""The specification in the app, and a download for each format (facilitators only)."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import facilitated_study
from app.export.formats import FORMATS, ExportUnavailable
from app.export.service import export_study
from app.htmx import render
from app.services.export import build_specification

bp = Blueprint("export", __name__, url_prefix="/studies/<slug>/export")


def _names_requested() -> bool:
    return request.args.get("names", "") in ("1", "true", "yes", "on")


@bp.get("")
@login_required
def show(slug: str) -> Response:
    study = facilitated_study(slug)
    from app.export.formats import HELPERS

    spec = build_specification(study)
    return render(
        "export/specification.html",
        study=study,
        spec=spec,
        formats=FORMATS,
        in_app=True,
        **HELPERS,
    )


@bp.get("/download")
@login_required
def download(slug: str) -> Response:
    """The form on the specification page: pick a format (and names), get the file."""
    facilitated_study(slug)
    fmt = request.args.get("format", "")
    if fmt not in FORMATS:
        abort(404, description="Choose one of the formats listed on the specification page.")
    params = {"names": "1"} if _names_requested() else {}
    return redirect(url_for("export.file", slug=slug, fmt=fmt, **params), 303)


@bp.get("/<fmt>")
@login_required
def file(slug: str, fmt: str) -> Response:
    study = facilitated_study(slug)
    if fmt not in FORMATS:
        abort(404, description="There is no export in that format.")
    try:
        exported = export_study(study, fmt, actor=current_user, include_names=_names_requested())
    except ExportUnavailable as error:
        abort(503, description=str(error))
    response = make_response(exported.body)
    response.headers["Content-Type"] = exported.mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    return response
