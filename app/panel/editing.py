"""Moving a panellist to another group or role, and removing them from the panel: before
round 1 only (`delphi.setup`), facilitators only, removal asked first."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from app.access import facilitated_study
from app.errors import error_response
from app.extensions import db
from app.forms_common import field_errors
from app.htmx import render
from app.models import Panellist, Study
from app.panel.forms import InviteForm, PanellistForm
from app.panel.routes import _page, bp
from app.services.setup import change_panellist, messages_by, remove_panellist
from app.studies.forms import UploadForm
from app.studies.routes import too_large_message
from delphi import DomainError, PanelRole
from delphi.setup import check_can_change_panellist


def _panellist_of(study: Study, panellist_id: int) -> Panellist:
    panellist = db.session.get(Panellist, panellist_id)
    if panellist is None or panellist.study_id != study.id:
        abort(404)
    return panellist


def _refusal(study: Study, panellist: Panellist, *, removing: bool) -> DomainError | None:
    try:
        check_can_change_panellist(
            study.study_status,
            name=panellist.name,
            round_opened=bool(study.rounds),
            removing=removing,
            messages=messages_by(panellist) if removing else 0,
        )
    except DomainError as error:
        return error
    return None


@bp.route("/<int:panellist_id>/change", methods=["GET", "POST"])
@login_required
def change(slug: str, panellist_id: int) -> Response:
    study = facilitated_study(slug)
    panellist = _panellist_of(study, panellist_id)
    refusal = _refusal(study, panellist, removing=False)
    form = PanellistForm()
    form.group.choices = [(g.id, g.name) for g in study.groups]
    status = 200
    if not form.is_submitted():
        form.group.data = panellist.group_id
        form.role.data = panellist.role
    elif refusal is not None:
        form.group.errors = [str(refusal)]
        status = refusal.status_code
    elif form.validate_on_submit():
        group = next(g for g in study.groups if g.id == form.group.data)
        try:
            change_panellist(
                study, panellist, group=group, role=PanelRole(form.role.data), actor=current_user
            )
        except DomainError as error:
            form.group.errors = [str(error)]
            status = error.status_code
        else:
            flash(f"{panellist.name} is now shown as {panellist.pseudonym}.", "success")
            return redirect(url_for("panel.index", slug=slug) + f"#panellist-{panellist.id}", 303)
    else:
        status = 422
    return render(
        "panel/change.html",
        study=study,
        panellist=panellist,
        form=form,
        refusal=refusal,
        removal=_refusal(study, panellist, removing=True),
        errors=field_errors(form),
        status=status,
    )


@bp.route("/<int:panellist_id>/remove", methods=["GET", "POST"])
@login_required
def remove(slug: str, panellist_id: int) -> Response:
    study = facilitated_study(slug)
    panellist = _panellist_of(study, panellist_id)
    refusal = _refusal(study, panellist, removing=True)
    if request.method == "POST" and request.form.get("confirm") == "yes":
        name = panellist.name
        try:
            remove_panellist(study, panellist, actor=current_user)
        except DomainError as error:
            refusal = error
        else:
            flash(
                f"{name} removed from the panel. Their invitation link no longer works.", "success"
            )
            return redirect(url_for("panel.index", slug=slug), 303)
    posted = refusal is not None and request.method == "POST"
    return render(
        "panel/remove.html",
        study=study,
        panellist=panellist,
        refusal=refusal,
        errors=[("remove", str(refusal))] if posted else [],
        status=refusal.status_code if posted and refusal else 200,
    )


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error: RequestEntityTooLarge) -> Response | tuple[Response | str, int]:
    """A panel file over the limit: the panel page with the message in its error summary
    (the form was never read, so no form here may read it either)."""
    slug = (request.view_args or {}).get("slug")
    if request.endpoint != "panel.import_view" or not slug or not current_user.is_authenticated:
        return error_response(413, too_large_message())
    try:
        study = facilitated_study(slug)
    except HTTPException as refused:
        return error_response(refused.code or 403)
    invite = InviteForm(formdata=None)
    invite.group.choices = [(g.id, g.name) for g in study.groups]
    upload = UploadForm(formdata=None)
    upload.file.errors = [too_large_message()]
    return _page(study, form=invite, upload=upload, status=413)
