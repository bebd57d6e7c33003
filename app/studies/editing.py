"""Editing setup after the fact: deleting and reordering items and themes, renaming and
deleting stakeholder groups. Facilitators only; what is allowed when is `delphi.setup`.

Every change is a POST with the CSRF token; deleting asks first (a POST without
`confirm=yes` only shows the question). Refusals show on the page with their reason.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import facilitated_study, item_of
from app.forms_common import field_errors
from app.htmx import render
from app.models import StakeholderGroup, Study
from app.services.setup import (
    delete_group,
    delete_item,
    group_members,
    item_deletable,
    move_item,
    move_theme,
    rename_group,
    rounds_put_to,
)
from app.studies.forms import GroupForm, UploadForm
from app.studies.routes import bp, items_context
from delphi import DomainError
from delphi.setup import check_can_delete_group, check_can_delete_item

CONFIRMED = "yes"


def _items_page(study: Study, error: DomainError) -> Response:
    return render(
        "studies/items.html",
        study=study,
        upload=UploadForm(formdata=None),
        errors=[("items", str(error))],
        status=error.status_code,
        **items_context(study),
    )


def _direction() -> bool:
    """True for "up"; anything but "up" or "down" is a malformed request."""
    direction = request.form.get("direction", "")
    if direction not in ("up", "down"):
        abort(400, description="Choose to move up or down.")
    return direction == "up"


@bp.post("/<slug>/items/<ref>/move")
@login_required
def move_item_view(slug: str, ref: str) -> Response:
    study = facilitated_study(slug)
    item = item_of(study, ref)
    try:
        move_item(study, item, up=_direction(), actor=current_user)
    except DomainError as error:
        return _items_page(study, error)
    return redirect(url_for("studies.items", slug=slug) + f"#item-{item.ref}", 303)


@bp.post("/<slug>/themes/<int:theme_id>/move")
@login_required
def move_theme_view(slug: str, theme_id: int) -> Response:
    study = facilitated_study(slug)
    theme = next((t for t in study.themes if t.id == theme_id), None)
    if theme is None:
        abort(404)
    try:
        move_theme(study, theme, up=_direction(), actor=current_user)
    except DomainError as error:
        return _items_page(study, error)
    return redirect(url_for("studies.items", slug=slug) + f"#theme-{theme.id}", 303)


@bp.route("/<slug>/items/<ref>/delete", methods=["GET", "POST"])
@login_required
def delete_item_view(slug: str, ref: str) -> Response:
    study = facilitated_study(slug)
    item = item_of(study, ref)
    refusal = None
    try:
        check_can_delete_item(
            study.study_status,
            ref=item.ref,
            rounds_put_to=rounds_put_to(item),
            ratings=0 if item_deletable(item) else 1,
        )
    except DomainError as error:
        refusal = error
    if request.method == "POST" and request.form.get("confirm") == CONFIRMED:
        try:
            delete_item(study, item, actor=current_user)
        except DomainError as error:
            refusal = error
        else:
            flash(f"{ref.upper()} deleted.", "success")
            return redirect(url_for("studies.items", slug=slug), 303)
    return render(
        "studies/delete_item.html",
        study=study,
        item=item,
        refusal=refusal,
        errors=[("delete", str(refusal))] if refusal and request.method == "POST" else [],
        status=refusal.status_code if refusal and request.method == "POST" else 200,
    )


def _group_of(study: Study, group_id: int) -> StakeholderGroup:
    group = next((g for g in study.groups if g.id == group_id), None)
    if group is None:
        abort(404)
    return group


@bp.route("/<slug>/groups/<int:group_id>", methods=["GET", "POST"])
@login_required
def edit_group(slug: str, group_id: int) -> Response:
    study = facilitated_study(slug)
    group = _group_of(study, group_id)
    form = GroupForm()
    if not form.is_submitted():
        form.name.data = group.name
    elif form.validate_on_submit():
        try:
            rename_group(study, group, form.name.data or "", actor=current_user)
        except DomainError as error:
            form.name.errors = [str(error)]
        else:
            flash(f"Group renamed \u201c{group.name}\u201d.", "success")
            return redirect(url_for("studies.show", slug=slug) + "#groups", 303)
    return render(
        "studies/group_edit.html",
        study=study,
        group=group,
        form=form,
        members=group_members(group),
        errors=field_errors(form),
        status=422 if form.errors else 200,
    )


@bp.route("/<slug>/groups/<int:group_id>/delete", methods=["GET", "POST"])
@login_required
def delete_group_view(slug: str, group_id: int) -> Response:
    study = facilitated_study(slug)
    group = _group_of(study, group_id)
    refusal = None
    try:
        check_can_delete_group(study.study_status, name=group.name, members=group_members(group))
    except DomainError as error:
        refusal = error
    if request.method == "POST" and request.form.get("confirm") == CONFIRMED:
        name = group.name
        try:
            delete_group(study, group, actor=current_user)
        except DomainError as error:
            refusal = error
        else:
            flash(f"Group \u201c{name}\u201d deleted.", "success")
            return redirect(url_for("studies.show", slug=slug) + "#groups", 303)
    posted = refusal is not None and request.method == "POST"
    return render(
        "studies/group_delete.html",
        study=study,
        group=group,
        refusal=refusal,
        errors=[("delete", str(refusal))] if posted else [],
        status=refusal.status_code if posted and refusal else 200,
    )
