"""Discussion pages and actions. Every page works without JavaScript; htmx makes it live.

URLs: /studies/<slug>/discussion is the study channel, /studies/<slug>/discussion/P7 the
thread of item P7. Live pages poll /studies/<slug>/discussion/poll; when nothing is new the
answer is 204 with no body after one query.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.access import item_of, membership, round_of
from app.discussion.forms import EditForm, HideForm, MessageForm, SummaryForm
from app.export.cells import neutralise_formula
from app.extensions import db
from app.forms_common import field_errors
from app.htmx import is_htmx, render
from app.inputs import form_text, int_arg, parse_int
from app.models import DiscussionMessage, Item, Round, Study, utcnow
from app.redirects import safe_next
from app.services import discussion as svc
from delphi import RoundStatus
from delphi.discussion import MAX_LENGTH, Category, DiscussionError

bp = Blueprint("discussion", __name__, url_prefix="/studies/<slug>/discussion")

CHANNEL = "channel"
BAD_CURSOR = "The page's place in the discussion is not a valid number. Reload the page."


# ---------------------------------------------------------------- helpers


def _viewer(slug: str) -> tuple[Study, svc.Viewer]:
    member = membership(slug)
    return member.study, svc.Viewer(current_user.id, member.panellist, member.is_facilitator)


def _item(study: Study, ref: str) -> Item | None:
    """None for the channel; 404 for an unknown item."""
    if ref == CHANNEL:
        return None
    return item_of(study, ref)


def _ref(item: Item | None) -> str:
    return item.ref if item else CHANNEL


def _mention(study: Study) -> svc.MentionUrl:
    return svc.mention_resolver(
        study.id, lambda ref: url_for("discussion.thread", slug=study.slug, ref=ref)
    )


def _thread_url(study: Study, item: Item | None, **args: Any) -> str:
    return url_for("discussion.thread", slug=study.slug, ref=_ref(item), **args)


def _filters() -> svc.Filters:
    return svc.Filters.parse(request.values.get("voices"), request.values.get("category"))


def _message(study: Study, message_id: int) -> DiscussionMessage:
    message = db.session.get(DiscussionMessage, message_id)
    if message is None or message.thread.study_id != study.id or message.kind != "message":
        abort(404)
    return message


def _facilitator(viewer: svc.Viewer) -> None:
    if not viewer.is_facilitator:
        abort(403, description="Only the study's facilitators can do that.")


def _thread_page(
    study: Study,
    item: Item | None,
    viewer: svc.Viewer,
    *,
    form: MessageForm | None = None,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
    summary_form: SummaryForm | None = None,
) -> Response:
    filters = _filters()
    panel = svc.thread_panels(study, [item], viewer, _mention(study), filters)[
        svc.CHANNEL if item is None else svc.item_key(item.id)
    ]
    if status == 200:
        svc.mark_read(viewer.user_id, panel.thread)
    reply = _reply_quote(study, panel, viewer, int_arg("reply_to"))
    if form is None:
        form = MessageForm(prefix=panel.dom, formdata=None)
        if reply:
            form.parent_id.data = str(reply.id)
    if summary_form is None:
        summary_form = SummaryForm(formdata=None)
        summary_form.summary.data = panel.summary
    rounds = [r for r in study.rounds if r.round_status is RoundStatus.CLOSED]
    return render(
        "discussion/thread.html",
        study=study,
        item=item,
        panel=panel,
        viewer=viewer,
        form=form,
        reply=reply,
        summary_form=summary_form,
        filters=filters,
        categories=list(Category),
        cursor=svc.latest_event_id(study.id),
        scope=panel.key,
        closed_rounds=rounds,
        errors=errors or [],
        status=status,
        max_length=MAX_LENGTH,
        next_url=_thread_url(study, item),
    )


def _reply_quote(
    study: Study, panel: svc.ThreadPanel, viewer: svc.Viewer, message_id: int | None
) -> svc.MessageView | None:
    if not message_id or panel.thread is None:
        return None
    message = db.session.get(DiscussionMessage, message_id)
    if message is None or message.thread_id != panel.thread.id:
        return None
    view = svc.view_of(message, viewer, _mention(study), utcnow())
    return view if view.show_body and not view.is_system else None


def _compose(
    study: Study,
    panel_key: str,
    item: Item | None,
    viewer: svc.Viewer,
    form: MessageForm,
    *,
    reply: svc.MessageView | None = None,
    status: int = 200,
    notice: str | None = None,
    next_url: str | None = None,
) -> Response:
    response = render(
        "discussion/_compose.html",
        study=study,
        item=item,
        dom=svc.dom_key(panel_key),
        viewer=viewer,
        form=form,
        reply=reply,
        notice=notice,
        max_length=MAX_LENGTH,
        next_url=next_url or _thread_url(study, item),
        status=status,
    )
    return response


def _refresh(response: Response) -> Response:
    """Ask the page's poller to fetch now, so the author sees their message at once."""
    response.headers["HX-Trigger"] = "discussion-refresh"
    return response


# ---------------------------------------------------------------- pages


@bp.get("", defaults={"ref": CHANNEL})
@bp.get("/<ref>")
@login_required
def thread(slug: str, ref: str) -> Response:
    study, viewer = _viewer(slug)
    item = _item(study, ref)
    return _thread_page(study, item, viewer)


@bp.get("/<ref>/compose")
@login_required
def compose(slug: str, ref: str) -> Response:
    """The message form, replying to `reply_to` if given (htmx swaps it in place)."""
    study, viewer = _viewer(slug)
    item = _item(study, ref)
    if not is_htmx():
        return redirect(
            _thread_url(study, item, reply_to=int_arg("reply_to"))
            + "#compose-"
            + svc.dom_key(svc.CHANNEL if item is None else svc.item_key(item.id)),
            303,
        )
    key = svc.CHANNEL if item is None else svc.item_key(item.id)
    panel = svc.ThreadPanel(key=key, item=item, thread=svc.find_thread(study.id, key))
    reply = _reply_quote(study, panel, viewer, int_arg("reply_to"))
    form = MessageForm(prefix=panel.dom, formdata=None)
    if reply:
        form.parent_id.data = str(reply.id)
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    next_url = safe_next(current.path, _thread_url(study, item)) + f"#discussion-{panel.dom}"
    return _compose(study, key, item, viewer, form, reply=reply, next_url=next_url)


# ---------------------------------------------------------------- posting


@bp.post("/<ref>/messages")
@login_required
def post(slug: str, ref: str) -> Response:
    study, viewer = _viewer(slug)
    item = _item(study, ref)
    key = svc.CHANNEL if item is None else svc.item_key(item.id)
    form = MessageForm(prefix=svc.dom_key(key))
    next_url = safe_next(form.next.data, _thread_url(study, item))
    status, notice = 422, None
    if form.validate_on_submit():
        try:
            svc.post_message(
                study,
                item,
                viewer,
                form.body.data or "",
                category=form.category.data or "",
                parent_id=parse_int(form.parent_id.data),
            )
        except DiscussionError as error:
            db.session.rollback()
            status, notice = error.status_code, str(error)
            form.body.errors = [*form.body.errors, notice]
        else:
            if is_htmx():
                fresh = MessageForm(prefix=svc.dom_key(key), formdata=None)
                return _refresh(_compose(study, key, item, viewer, fresh, next_url=next_url))
            flash("Your message has been posted.", "success")
            return redirect(next_url + f"#discussion-{svc.dom_key(key)}", 303)
    if is_htmx():
        return _compose(
            study, key, item, viewer, form, status=status, notice=notice, next_url=next_url
        )
    return _thread_page(study, item, viewer, form=form, errors=field_errors(form), status=status)


@bp.post("/<ref>/share-reason")
@login_required
def share_reason(slug: str, ref: str) -> Response:
    """Post the panellist's rating reason (as typed on the ballot, else as saved)."""
    study, viewer = _viewer(slug)
    item = _item(study, ref)
    if item is None or viewer.panellist is None:
        abort(403, description="Only panellists can share a rating reason.")
    round_, rating = svc.rating_for_sharing(study, item, viewer.panellist)
    typed = next(
        (form_text(f"reason-{v.id}") for v in item.versions if form_text(f"reason-{v.id}").strip()),
        "",
    )
    reason = (typed or (rating.reason if rating else "")).strip()
    back = (
        url_for("ballot.show", slug=slug, number=round_.number) + f"#item-{item.current.id}"
        if round_ is not None
        else _thread_url(study, item)
    )
    status, message, ok = 200, "Your reason is shared in the discussion.", True
    if not reason:
        status, message, ok = 422, "Write a reason first, then share it.", False
    elif len(reason) > MAX_LENGTH:
        status, message, ok = 422, f"Your reason must be {MAX_LENGTH:,} characters or fewer", False
    elif rating is not None and svc.already_shared(rating):
        message = "Your reason is already in the discussion."
    else:
        try:
            svc.post_message(
                study,
                item,
                viewer,
                reason,
                rating=rating if rating is not None and rating.reason.strip() == reason else None,
            )
        except DiscussionError as error:
            db.session.rollback()
            status, message, ok = error.status_code, str(error), False
    if is_htmx():
        response = render(
            "discussion/_shared.html", item=item, message=message, ok=ok, status=status
        )
        return _refresh(response) if ok else response
    flash(message, "success" if ok else "error")
    return redirect(back, 303)


# ---------------------------------------------------------------- editing


@bp.route("/messages/<int:message_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, message_id: int) -> Response:
    study, viewer = _viewer(slug)
    message = _message(study, message_id)
    item = message.thread.item
    form = EditForm()
    if request.method == "GET":
        svc.ensure_can_change(message, viewer)
        form.body.data, form.category.data = message.body, message.category
    status = 200
    if form.is_submitted() and form.validate():
        try:
            svc.edit_message(message, viewer, form.body.data or "", form.category.data or "")
        except DiscussionError as error:
            db.session.rollback()
            form.body.errors = [str(error)]
            status = error.status_code
        else:
            if is_htmx():
                return _refresh(_message_fragment(study, message, viewer))
            flash("Your message has been edited.", "success")
            return redirect(_thread_url(study, item) + f"#message-{message.id}", 303)
    elif form.is_submitted():
        status = 422
    return render(
        "discussion/edit.html",
        block="edit_form" if is_htmx() else None,
        study=study,
        item=item,
        message=message,
        form=form,
        errors=field_errors(form),
        status=status,
        max_length=MAX_LENGTH,
    )


def _message_fragment(study: Study, message: DiscussionMessage, viewer: svc.Viewer) -> Response:
    db.session.refresh(message)
    view = svc.view_of(message, viewer, _mention(study), utcnow())
    return render("discussion/_message.html", study=study, m=view, viewer=viewer, context="page")


@bp.post("/messages/<int:message_id>/delete")
@login_required
def delete(slug: str, message_id: int) -> Response:
    study, viewer = _viewer(slug)
    message = _message(study, message_id)
    svc.delete_message(message, viewer)
    if is_htmx():
        return _refresh(_message_fragment(study, message, viewer))
    flash("Your message has been deleted.", "success")
    return redirect(_thread_url(study, message.thread.item) + f"#message-{message.id}", 303)


# ---------------------------------------------------------------- moderation


@bp.route("/messages/<int:message_id>/hide", methods=["GET", "POST"])
@login_required
def hide(slug: str, message_id: int) -> Response:
    study, viewer = _viewer(slug)
    _facilitator(viewer)
    message = _message(study, message_id)
    form = HideForm()
    status = 200
    if form.validate_on_submit():
        svc.hide_message(message, form.reason.data or "")
        flash("The message is hidden from panellists.", "success")
        return redirect(_thread_url(study, message.thread.item) + f"#message-{message.id}", 303)
    if form.is_submitted():
        status = 422
    view = svc.view_of(message, viewer, _mention(study), utcnow())
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
    study, viewer = _viewer(slug)
    _facilitator(viewer)
    message = _message(study, message_id)
    svc.unhide_message(message)
    flash("The message is shown to panellists again.", "success")
    return redirect(_thread_url(study, message.thread.item) + f"#message-{message.id}", 303)


@bp.post("/<ref>/summary")
@login_required
def summary(slug: str, ref: str) -> Response:
    study, viewer = _viewer(slug)
    _facilitator(viewer)
    item = _item(study, ref)
    if item is None:
        abort(404)
    form = SummaryForm()
    if not form.validate_on_submit():
        return _thread_page(
            study, item, viewer, summary_form=form, errors=field_errors(form), status=422
        )
    svc.pin_summary(study, item, form.summary.data or "")
    flash("Summary pinned." if (form.summary.data or "").strip() else "Summary removed.", "success")
    return redirect(_thread_url(study, item), 303)


@bp.post("/<ref>/lock")
@login_required
def lock(slug: str, ref: str) -> Response:
    return _set_lock(slug, ref, True)


@bp.post("/<ref>/unlock")
@login_required
def unlock(slug: str, ref: str) -> Response:
    return _set_lock(slug, ref, False)


def _set_lock(slug: str, ref: str, locked: bool) -> Response:
    study, viewer = _viewer(slug)
    _facilitator(viewer)
    item = _item(study, ref)
    svc.set_locked(study, [item], locked)
    flash("The discussion is locked." if locked else "The discussion is open again.", "success")
    return redirect(_thread_url(study, item), 303)


@bp.post("/rounds/<int:number>/lock")
@login_required
def lock_round(slug: str, number: int) -> Response:
    """Lock the thread of every item rated in a closed round."""
    study, viewer = _viewer(slug)
    _facilitator(viewer)
    round_ = round_of(study, number)
    if round_.round_status is not RoundStatus.CLOSED:
        abort(409, description=f"Round {number} is still open; close it first.")
    items = [ri.item_version.item for ri in round_.round_items]
    count = svc.set_locked(study, list(items), True)
    flash(f"Locked the discussion of {count} items from round {number}.", "success")
    return redirect(url_for("discussion.thread", slug=slug), 303)


# ---------------------------------------------------------------- export


@bp.get("/<ref>/export.<fmt>")
@login_required
def export(slug: str, ref: str, fmt: str) -> Response:
    """Facilitators export a thread; `for=panellists` leaves names and hidden messages out."""
    study, viewer = _viewer(slug)
    _facilitator(viewer)
    item = _item(study, ref)
    if fmt not in ("csv", "json"):
        abort(404)
    with_names = request.args.get("for") != "panellists"
    rows = svc.export_rows(study, item, with_names=with_names)
    name = f"{study.slug}-discussion-{_ref(item)}{'' if with_names else '-panellists'}"
    if fmt == "json":
        body = json.dumps({"study": study.title, "thread": _ref(item), "messages": rows}, indent=2)
        response = make_response(body)
        response.mimetype = "application/json"
    else:
        out = io.StringIO()
        columns = list(rows[0]) if rows else ["id", "thread", "round", "author", "group", "text"]
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: neutralise_formula(v) for k, v in row.items()})
        response = make_response(out.getvalue())
        response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


# ---------------------------------------------------------------- live updates


@bp.get("/poll")
def poll(slug: str) -> Response:
    """204 when nothing is new (one query); otherwise the fragments to add or replace."""
    if not current_user.is_authenticated:
        abort(401)
    after = int_arg("after") if "after" in request.args else 0
    if after is None:
        abort(400, description=BAD_CURSOR)
    member, news = svc.poll_state(slug, current_user.id, after)
    if not member:
        abort(404)
    if not news:
        response = make_response("", 204)
        response.vary.add("HX-Request")
        return response
    study, viewer = _viewer(slug)
    scope = request.args.get("scope", "")
    filters = _filters()
    changes = svc.changes_since(
        study, after, svc.scope_keys(study, scope), viewer, _mention(study), filters
    )
    return render(
        "discussion/_changes.html",
        study=study,
        viewer=viewer,
        changes=changes,
        scope=scope,
        filters=filters,
        context="ballot" if scope.startswith("ballot:") else "page",
    )


@bp.post("/<ref>/read")
@login_required
def read(slug: str, ref: str) -> Response:
    study, viewer = _viewer(slug)
    item = _item(study, ref)
    key = svc.CHANNEL if item is None else svc.item_key(item.id)
    svc.mark_read(viewer.user_id, svc.find_thread(study.id, key))
    if not is_htmx():
        return redirect(_thread_url(study, item), 303)
    panel = svc.thread_panels(study, [item], viewer, _mention(study))[key]
    return render("discussion/_unread.html", panel=panel)


# ---------------------------------------------------------------- template helpers


@bp.app_template_filter("ago")
def ago(value: datetime | None) -> str:
    """'just now', '3 min ago', '2 hours ago', 'yesterday', '4 days ago', else the date."""
    if value is None:
        return ""
    seconds = (utcnow() - value).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours > 1 else ''} ago"
    days = int(seconds // 86400)
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    from app.web import london

    return london(value, "%-d %B %Y")


@bp.app_template_global("discussion_for_ballot")
def discussion_for_ballot(study: Study, round_: Round) -> dict[str, Any]:
    """What ballot.html needs: a panel per item, the live cursor, the viewer."""
    viewer = svc.Viewer(
        current_user.id,
        _panellist_of(study),
        _is_facilitator(study),
    )
    items = [ri.item_version.item for ri in round_.round_items]
    panels = svc.thread_panels(study, items, viewer, _mention(study))
    return {
        "panels": {int(key[5:]): panel for key, panel in panels.items()},
        "viewer": viewer,
        "cursor": svc.latest_event_id(study.id),
        "scope": f"ballot:{round_.number}",
        "max_length": MAX_LENGTH,
        "forms": {key: MessageForm(prefix=svc.dom_key(key), formdata=None) for key in panels},
    }


def _panellist_of(study: Study) -> Any:
    from app.models import Panellist

    return db.session.scalar(
        select(Panellist).where(
            Panellist.study_id == study.id,
            Panellist.user_id == current_user.id,
            Panellist.joined_at.is_not(None),
        )
    )


def _is_facilitator(study: Study) -> bool:
    from app.access import is_facilitator_of

    return is_facilitator_of(current_user.id, study.id)
