"""The panel: inviting people one by one or from a file, new links, and the links to pass on.

Every invitation answers with a redirect to the panel page (post/redirect/get), which lists
each link the facilitator is to pass on until it is used, replaced or expires.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, current_app, flash, make_response, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from app.access import facilitated_study
from app.extensions import db
from app.forms_common import field_errors
from app.htmx import render
from app.models import Invitation, Panellist, Study
from app.panel.forms import InviteForm
from app.services import audit
from app.services.consent import consents_by_panellist, current_version
from app.services.panel import (
    InviteOutcome,
    import_panel,
    invite_panellist,
    normalise_email,
    open_links,
    panellists_a_link_signs_in,
    reinvite_panellist,
)
from app.studies.forms import UploadForm
from app.text.cells import neutralise_formula
from app.text.dates import london
from app.words import count
from delphi import PanelRole
from delphi.errors import DomainError

bp = Blueprint("panel", __name__, url_prefix="/studies/<slug>/panel")


def invitation_url(token: str) -> str:
    """The link in an invitation: under PUBLIC_URL when set, else this request's host."""
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return base.rstrip("/") + url_for("auth.invitation", token=token)
    return url_for("auth.invitation", token=token, _external=True)


def _invite_form(study: Study) -> InviteForm:
    form = InviteForm()
    form.group.choices = [(g.id, g.name) for g in study.groups]
    return form


def _page(
    study: Study,
    *,
    form: InviteForm | None = None,
    upload: UploadForm | None = None,
    report_errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    form = form or _invite_form(study)
    upload = upload or UploadForm()
    panellists = db.session.scalars(
        select(Panellist)
        .where(Panellist.study_id == study.id)
        .order_by(Panellist.id)
        .options(joinedload(Panellist.user), joinedload(Panellist.group))
    ).all()
    latest = {}
    for inv in db.session.scalars(
        select(Invitation)
        .join(Panellist)
        .where(Panellist.study_id == study.id)
        .order_by(Invitation.created_at)
    ):
        latest[inv.panellist_id] = inv
    links, unavailable = open_links(study, invitation_url)
    consent_version = current_version(study.id)
    consents = consents_by_panellist(study) if consent_version else {}
    raters = [p for p in panellists if p.panel_role.can_rate]
    errors = field_errors(form) + field_errors(upload) + [("file", e) for e in report_errors or []]
    return render(
        "panel/index.html",
        study=study,
        form=form,
        upload=upload,
        panellists=panellists,
        latest=latest,
        links=links,
        unavailable=unavailable,
        signs_in=panellists_a_link_signs_in(panellists),
        consent_version=consent_version,
        consents=consents,
        raters=len(raters),
        consented=sum(
            1 for p in raters if p.id in consents and consents[p.id].version == consent_version
        ),
        report_errors=report_errors or [],
        errors=errors,
        status=status,
    )


def _tell(outcome: InviteOutcome, *, done: str) -> None:
    """Flash what happened to the invitations just made (`done` says what was done)."""
    if outcome.emailed:
        then = f"Invitation emailed to {', '.join(outcome.emailed)}."
    else:
        then = f"Copy {_their(outcome)} below and send it to them."
    flash(" ".join(part for part in (done, then) if part), "success")
    for error in outcome.mail_errors:
        flash(f"{error}. Copy the link below and send it to them yourself.", "error")


def _their(outcome: InviteOutcome) -> str:
    return "their link" if len(outcome.to_pass_on) == 1 else "each link"


@bp.get("")
@login_required
def index(slug: str) -> Response:
    return _page(facilitated_study(slug))


@bp.post("/invite")
@login_required
def invite(slug: str) -> Response:
    study = facilitated_study(slug)
    form = _invite_form(study)
    if form.validate_on_submit():
        group = next(g for g in study.groups if g.id == form.group.data)
        try:
            outcome = invite_panellist(
                study,
                name=(form.name.data or "").strip(),
                email=normalise_email(form.email.data or ""),
                group=group,
                role=PanelRole(form.role.data),
                actor=current_user,
                link_for=invitation_url,
            )
        except (ValueError, DomainError) as error:
            form.email.errors = [str(error)]
        else:
            done = "" if outcome.emailed else f"{(form.name.data or '').strip()} is invited."
            _tell(outcome, done=done)
            return redirect(url_for("panel.index", slug=slug), 303)
    return _page(study, form=form, status=422)


@bp.post("/import")
@login_required
def import_view(slug: str) -> Response:
    study = facilitated_study(slug)
    upload = UploadForm()
    if upload.validate_on_submit():
        data = upload.file.data
        report, outcome = import_panel(
            study, data.filename or "", data.read(), actor=current_user, link_for=invitation_url
        )
        if report.ok:
            assert outcome is not None
            _tell(outcome, done=f"{count(report.created, 'panellist')} invited.")
            return redirect(url_for("panel.index", slug=slug), 303)
        return _page(study, upload=upload, report_errors=report.errors, status=422)
    return _page(study, upload=upload, status=422)


@bp.post("/<int:panellist_id>/reinvite")
@login_required
def reinvite(slug: str, panellist_id: int) -> Response:
    study = facilitated_study(slug)
    panellist = db.session.get(Panellist, panellist_id)
    if panellist is None or panellist.study_id != study.id:
        return _page(study, report_errors=["That panellist is not on this panel."], status=404)
    try:
        outcome = reinvite_panellist(panellist, actor=current_user, link_for=invitation_url)
    except DomainError as error:
        flash(str(error), "error")
    else:
        what = "sign-in link" if panellist.joined_at else "link"
        _tell(outcome, done=f"New {what} for {panellist.name}: the earlier one no longer works.")
    return redirect(url_for("panel.index", slug=slug), 303)


@bp.get("/links.csv")
@login_required
def links_csv(slug: str) -> Response:
    """Every link waiting to be passed on, for a mail merge; the download is audited."""
    study = facilitated_study(slug)
    links, _ = open_links(study, invitation_url)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "email", "group", "role", "link", "expires"])
    for link in links:
        person = link.panellist
        writer.writerow(
            [
                neutralise_formula(value)
                for value in (
                    person.name,
                    person.user.email,
                    person.group.name,
                    person.panel_role.label,
                    link.url,
                    london(link.expires_at, "%Y-%m-%d %H:%M"),
                )
            ]
        )
    audit.log(study.id, "panel.links_downloaded", by=current_user.id, count=len(links))
    response = make_response(out.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{study.slug}-invitation-links.csv"'
    )
    return response


# Moving and removing panellists (app/panel/editing.py) registers on this blueprint.
from app.panel import editing as _editing  # noqa: E402,F401
