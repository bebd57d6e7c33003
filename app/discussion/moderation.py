"""Facilitators' moderation: hiding messages, pinning summaries, locking threads."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.discussion import bp
from app.discussion.forms import HideForm, SummaryForm
from app.discussion.pages import (
    item_or_channel,
    mentions,
    message_in,
    require_facilitator,
    thread_page,
    thread_url,
    viewer_in,
)
from app.discussion.presenters import view_of
from app.extensions import db
from app.forms_common import field_errors
from app.htmx import render
from app.models import Round, utcnow
from app.services import discussion_writes as writes
from delphi import RoundStatus


@bp.route("/messages/<int:message_id>/hide", methods=["GET", "POST"])
@login_required
def hide(slug: str, message_id: int) -> Response:
    study, viewer = viewer_in(slug)
    require_facilitator(viewer)
    message = message_in(study, message_id)
    form = HideForm()
    status = 200
    if form.validate_on_submit():
        writes.hide_message(message, viewer, form.reason.data or "")
        flash("The message is hidden from panellists.", "success")
        return redirect(thread_url(study, message.thread.item) + f"#message-{message.id}", 303)
    if form.is_submitted():
        status = 422
    view = view_of(message, viewer, mentions(study), utcnow())
    return render(
        "discussion/hide.html",
        study=study,
        item=message.thread.item,
        m=view,
        viewer=viewer,
        form=form,
        errors=field_errors(form),
        status=status,
    )


@bp.post("/messages/<int:message_id>/unhide")
@login_required
def unhide(slug: str, message_id: int) -> Response:
    study, viewer = viewer_in(slug)
    require_facilitator(viewer)
    message = message_in(study, message_id)
    writes.unhide_message(message, viewer)
    flash("The message is shown to panellists again.", "success")
    return redirect(thread_url(study, message.thread.item) + f"#message-{message.id}", 303)


@bp.post("/<ref>/summary")
@login_required
def summary(slug: str, ref: str) -> Response:
    study, viewer = viewer_in(slug)
    require_facilitator(viewer)
    item = item_or_channel(study, ref)
    if item is None:
        abort(404)
    form = SummaryForm()
    if not form.validate_on_submit():
        return thread_page(
            study, item, viewer, summary_form=form, errors=field_errors(form), status=422
        )
    writes.pin_summary(study, item, viewer, form.summary.data or "")
    flash("Summary pinned." if (form.summary.data or "").strip() else "Summary removed.", "success")
    return redirect(thread_url(study, item), 303)


@bp.post("/<ref>/lock")
@login_required
def lock(slug: str, ref: str) -> Response:
    return _set_lock(slug, ref, True)


@bp.post("/<ref>/unlock")
@login_required
def unlock(slug: str, ref: str) -> Response:
    return _set_lock(slug, ref, False)


def _set_lock(slug: str, ref: str, locked: bool) -> Response:
    study, viewer = viewer_in(slug)
    require_facilitator(viewer)
    item = item_or_channel(study, ref)
    writes.set_locked(study, [item], viewer, locked)
    flash("The discussion is locked." if locked else "The discussion is open again.", "success")
    return redirect(thread_url(study, item), 303)


@bp.post("/rounds/<int:number>/lock")
@login_required
def lock_round(slug: str, number: int) -> Response:
    """Lock the thread of every item rated in a closed round."""
    study, viewer = viewer_in(slug)
    require_facilitator(viewer)
    round_ = db.session.scalar(
        select(Round).where(Round.study_id == study.id, Round.number == number)
    )
    if round_ is None:
        abort(404)
    if round_.round_status is not RoundStatus.CLOSED:
        abort(409, description=f"Round {number} is still open; close it first.")
    items = [ri.item_version.item for ri in round_.round_items]
    count = writes.set_locked(study, list(items), viewer, True)
    flash(f"Locked the discussion of {count} items from round {number}.", "success")
    return redirect(url_for("discussion.thread", slug=slug), 303)
