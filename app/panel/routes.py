"""The panel: inviting people one by one or from a file, and re-sending invitations."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.access import facilitated_study
from app.extensions import db
from app.forms_common import field_errors
from app.htmx import render
from app.models import Invitation, Panellist, Study
from app.panel.forms import InviteForm
from app.services import audit
from app.services.panel import (
    InviteOutcome,
    add_panellist,
    deliver,
    import_panel,
    issue_invitation,
    normalise_email,
)
from app.studies.forms import UploadForm
from app.words import count
from delphi import PanelRole
from delphi.errors import DomainError

bp = Blueprint("panel", __name__, url_prefix="/studies/<slug>/panel")


def _invite_form(study: Study) -> InviteForm:
    form = InviteForm()
    form.group.choices = [(g.id, g.name) for g in study.groups]
    return form


def _page(
    study: Study,
    *,
    form: InviteForm | None = None,
    upload: UploadForm | None = None,
    outcome: InviteOutcome | None = None,
    report_errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    form = form or _invite_form(study)
    upload = upload or UploadForm()
    panellists = db.session.scalars(
        select(Panellist).where(Panellist.study_id == study.id).order_by(Panellist.id)
    ).all()
    latest = {}
    for inv in db.session.scalars(
        select(Invitation)
        .join(Panellist)
        .where(Panellist.study_id == study.id)
        .order_by(Invitation.created_at)
    ):
        latest[inv.panellist_id] = inv
    errors = field_errors(form) + field_errors(upload) + [("file", e) for e in report_errors or []]
    return render(
        "panel/index.html",
        study=study,
        form=form,
        upload=upload,
        panellists=panellists,
        latest=latest,
        outcome=outcome,
        report_errors=report_errors or [],
        errors=errors,
        status=status,
    )


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
            email = normalise_email(form.email.data or "")
            panellist = add_panellist(
                study,
                name=(form.name.data or "").strip(),
                email=email,
                group=group,
                role=PanelRole(form.role.data),
            )
        except (ValueError, DomainError) as error:
            db.session.rollback()
            form.email.errors = [str(error)]
        else:
            token = issue_invitation(panellist)
            audit.record(study.id, "panel.invited", pseudonym=panellist.pseudonym)
            outcome = deliver(study, [(panellist, token)])
            db.session.commit()
            return _page(study, outcome=outcome)
    return _page(study, form=form, status=422)


@bp.post("/import")
@login_required
def import_view(slug: str) -> Response:
    study = facilitated_study(slug)
    upload = UploadForm()
    if upload.validate_on_submit():
        data = upload.file.data
        report, invited = import_panel(study, data.filename or "", data.read())
        if report.ok:
            outcome = deliver(study, invited)
            db.session.commit()
            flash(f"{count(report.created, 'panellist')} invited.", "success")
            return _page(study, outcome=outcome)
        db.session.rollback()
        return _page(study, upload=upload, report_errors=report.errors, status=422)
    return _page(study, upload=upload, status=422)


@bp.post("/<int:panellist_id>/reinvite")
@login_required
def reinvite(slug: str, panellist_id: int) -> Response:
    study = facilitated_study(slug)
    panellist = db.session.get(Panellist, panellist_id)
    if panellist is None or panellist.study_id != study.id:
        return _page(study, report_errors=["That panellist is not on this panel."], status=404)
    if panellist.joined_at is not None:
        flash(f"{panellist.name} has already joined.", "info")
        return redirect(url_for("panel.index", slug=slug), 303)
    token = issue_invitation(panellist)
    audit.record(study.id, "panel.reinvited", pseudonym=panellist.pseudonym)
    outcome = deliver(study, [(panellist, token)])
    db.session.commit()
    return _page(study, outcome=outcome)
