"""Discussion pages and actions. Every page works without JavaScript; htmx makes it live.

URLs: /studies/<slug>/discussion is the study channel, /studies/<slug>/discussion/P7 the
thread of item P7. Live pages poll /studies/<slug>/discussion/poll; when nothing is new the
answer is 204 with no body after one query. Facilitators' moderation is in `moderation.py`.
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlsplit

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.discussion import bp
from app.discussion.forms import EditForm, MessageForm
from app.discussion.pages import (
    can_follow,
    compose_fragment,
    filter_args,
    filters,
    item_or_channel,
    mentions,
    message_fragment,
    message_in,
    ref_of,
    refresh,
    reply_quote,
    require_facilitator,
    thread_page,
    thread_url,
    viewer_in,
)
from app.discussion.presenters import (
    WINDOW,
    ThreadPanel,
    changes_since,
    dom_key,
    thread_panels,
)
from app.forms_common import field_errors
from app.htmx import is_htmx, render
from app.inputs import form_text, int_arg, parse_int
from app.redirects import safe_next
from app.services import discussion as svc
from app.services import discussion_writes as writes
from app.services import notifications
from app.services.discussion import CHANNEL
from app.services.discussion_export import export_rows
from app.text.cells import neutralise_formula
from delphi.discussion import MAX_LENGTH, DiscussionError

BAD_CURSOR = "The page's place in the discussion is not a valid number. Reload the page."


# ---------------------------------------------------------------- pages


@bp.get("", defaults={"ref": CHANNEL})
@bp.get("/<ref>")
@login_required
def thread(slug: str, ref: str) -> Response:
    study, viewer = viewer_in(slug)
    item = item_or_channel(study, ref)
    return thread_page(study, item, viewer)


@bp.get("/<ref>/compose")
@login_required
def compose(slug: str, ref: str) -> Response:
    """The message form, replying to `reply_to` if given (htmx swaps it in place)."""
    study, viewer = viewer_in(slug)
    item = item_or_channel(study, ref)
    if not is_htmx():
        return redirect(
            thread_url(study, item, reply_to=int_arg("reply_to"))
            + "#compose-"
            + dom_key(svc.key_of(item)),
            303,
        )
    key = svc.key_of(item)
    panel = ThreadPanel(key=key, item=item, thread=svc.find_thread(study.id, key))
    reply = reply_quote(study, panel, viewer, int_arg("reply_to"))
    form = MessageForm(prefix=panel.dom, formdata=None)
    if reply:
        form.parent_id.data = str(reply.id)
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    next_url = safe_next(current.path, thread_url(study, item)) + f"#discussion-{panel.dom}"
    return compose_fragment(study, key, item, viewer, form, reply=reply, next_url=next_url)


@bp.get("/<ref>/panel")
@login_required
def panel(slug: str, ref: str) -> Response:
    """An item's thread as the ballot shows it once opened (htmx): the latest messages, the
    message form and a link to the whole thread. The ballot carries only each thread's counts,
    so its size does not grow with the discussion. Without htmx, the thread page."""
    study, viewer = viewer_in(slug)
    item = item_or_channel(study, ref)
    if not is_htmx():
        return redirect(thread_url(study, item), 303)
    key = svc.key_of(item)
    shown = thread_panels(study, [item], viewer, mentions(study))[key]
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    next_url = safe_next(current.path, thread_url(study, item)) + f"#discussion-{shown.dom}"
    return render(
        "discussion/_ballot_thread.html",
        study=study,
        item=item,
        panel=shown,
        viewer=viewer,
        form=MessageForm(prefix=shown.dom, formdata=None),
        max_length=MAX_LENGTH,
        next_url=next_url,
    )


@bp.get("/<ref>/earlier")
@login_required
def earlier(slug: str, ref: str) -> Response:
    """The WINDOW messages before message `before` (htmx puts them above those shown; the
    latest WINDOW without `before`). Without htmx, the thread page showing WINDOW more than
    the page had."""
    study, viewer = viewer_in(slug)
    item = item_or_channel(study, ref)
    before = int_arg("before")
    if before is None and "before" in request.args:
        abort(400, description="The message to show the earlier ones of is not a number.")
    key = svc.key_of(item)
    chosen = filters()
    if not is_htmx():
        thread = svc.find_thread(study.id, key)
        newer = svc.count_from(thread.id, before) if thread and before else 0
        return redirect(
            thread_url(study, item, shown=newer + WINDOW, **filter_args(chosen))
            + f"#messages-{dom_key(key)}",
            303,
        )
    shown = thread_panels(study, [item], viewer, mentions(study), chosen, before=before)[key]
    return render(
        "discussion/_earlier.html",
        study=study,
        panel=shown,
        viewer=viewer,
        filters=chosen,
        context="ballot" if request.args.get("context") == "ballot" else "page",
    )


# ---------------------------------------------------------------- posting


@bp.post("/<ref>/messages")
@login_required
def post(slug: str, ref: str) -> Response:
    study, viewer = viewer_in(slug)
    item = item_or_channel(study, ref)
    key = svc.key_of(item)
    form = MessageForm(prefix=dom_key(key))
    next_url = safe_next(form.next.data, thread_url(study, item))
    status, notice = 422, None
    if form.validate_on_submit():
        try:
            writes.post_message(
                study,
                item,
                viewer,
                form.body.data or "",
                category=form.category.data or "",
                parent_id=parse_int(form.parent_id.data),
            )
        except DiscussionError as error:
            status, notice = error.status_code, str(error)
            form.body.errors = [*form.body.errors, notice]
        else:
            if is_htmx():
                fresh = MessageForm(prefix=dom_key(key), formdata=None)
                return refresh(compose_fragment(study, key, item, viewer, fresh, next_url=next_url))
            flash("Your message has been posted.", "success")
            return redirect(next_url + f"#discussion-{dom_key(key)}", 303)
    if is_htmx():
        return compose_fragment(
            study, key, item, viewer, form, status=status, notice=notice, next_url=next_url
        )
    return thread_page(study, item, viewer, form=form, errors=field_errors(form), status=status)


@bp.post("/<ref>/share-reason")
@login_required
def share_reason(slug: str, ref: str) -> Response:
    """Post the panellist's rating reason (as typed on the ballot, else as saved)."""
    study, viewer = viewer_in(slug)
    item = item_or_channel(study, ref)
    if item is None or viewer.panellist is None:
        abort(403, description="Only panellists can share a rating reason.")
    if is_htmx() and not any(f"share-{v.id}" in request.form for v in item.versions):
        # The ballot's box was unticked: nothing is shared (a shared message is deleted from
        # the discussion itself). htmx filters on `checked` would need eval, which is off.
        return render("discussion/_shared.html", item=item, message="", ok=False, status=200)
    round_, rating = svc.rating_for_sharing(study, item, viewer.panellist)
    typed = next(
        (form_text(f"reason-{v.id}") for v in item.versions if form_text(f"reason-{v.id}").strip()),
        "",
    )
    reason = (typed or (rating.reason if rating else "")).strip()
    back = (
        url_for("ballot.show", slug=slug, number=round_.number) + f"#item-{item.current.id}"
        if round_ is not None
        else thread_url(study, item)
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
            writes.post_message(
                study,
                item,
                viewer,
                reason,
                rating=rating if rating is not None and rating.reason.strip() == reason else None,
            )
        except DiscussionError as error:
            status, message, ok = error.status_code, str(error), False
    if is_htmx():
        response = render(
            "discussion/_shared.html", item=item, message=message, ok=ok, status=status
        )
        return refresh(response) if ok else response
    flash(message, "success" if ok else "error")
    return redirect(back, 303)


# ---------------------------------------------------------------- following


@bp.post("/<ref>/follow")
@login_required
def follow(slug: str, ref: str) -> Response:
    """Follow the item (`following=yes`) or stop following it (`following=no`): its new
    messages are in the person's daily digest or not. htmx swaps the control in place;
    without JavaScript, back to the thread page."""
    study, viewer = viewer_in(slug)
    item = item_or_channel(study, ref)
    if item is None:
        abort(404)
    choice = request.form.get("following", "")
    if choice not in ("yes", "no"):
        abort(400, description="Choose whether to follow the item: following=yes or no.")
    # A completed study is refused by the service (409, its record is final).
    if not viewer.record_final and not can_follow(item, viewer):
        abort(403, description="You cannot follow this item's discussion.")
    following = choice == "yes"
    notifications.set_following(study, item, viewer.user_id, following)
    if is_htmx():
        return render("discussion/_follow.html", study=study, item=item, following=following)
    flash(
        f"You follow {item.ref}." if following else f"You no longer follow {item.ref}.",
        "success",
    )
    return redirect(thread_url(study, item), 303)


# ---------------------------------------------------------------- editing


@bp.route("/messages/<int:message_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, message_id: int) -> Response:
    study, viewer = viewer_in(slug)
    message = message_in(study, message_id)
    item = message.thread.item
    form = EditForm()
    if request.method == "GET":
        writes.ensure_can_change(message, viewer)
        form.body.data, form.category.data = message.body, message.category
    status = 200
    if form.is_submitted() and form.validate():
        try:
            writes.edit_message(message, viewer, form.body.data or "", form.category.data or "")
        except DiscussionError as error:
            form.body.errors = [str(error)]
            status = error.status_code
        else:
            if is_htmx():
                return refresh(message_fragment(study, message, viewer))
            flash("Your message has been edited.", "success")
            return redirect(thread_url(study, item) + f"#message-{message.id}", 303)
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


@bp.post("/messages/<int:message_id>/delete")
@login_required
def delete(slug: str, message_id: int) -> Response:
    study, viewer = viewer_in(slug)
    message = message_in(study, message_id)
    writes.delete_message(message, viewer)
    if is_htmx():
        return refresh(message_fragment(study, message, viewer))
    flash("Your message has been deleted.", "success")
    return redirect(thread_url(study, message.thread.item) + f"#message-{message.id}", 303)


# ---------------------------------------------------------------- export


@bp.get("/<ref>/export.<fmt>")
@login_required
def export(slug: str, ref: str, fmt: str) -> Response:
    """Facilitators export a thread; `for=panellists` leaves names and hidden messages out."""
    study, viewer = viewer_in(slug)
    require_facilitator(viewer)
    item = item_or_channel(study, ref)
    if fmt not in ("csv", "json"):
        abort(404)
    with_names = request.args.get("for") != "panellists"
    rows = export_rows(study, item, with_names=with_names)
    thread_ref = ref_of(item)
    name = f"{study.slug}-discussion-{thread_ref}{'' if with_names else '-panellists'}"
    if fmt == "json":
        body = json.dumps({"study": study.title, "thread": thread_ref, "messages": rows}, indent=2)
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
    study, viewer = viewer_in(slug)
    scope = request.args.get("scope", "")
    chosen = filters()
    changes = changes_since(
        study, after, svc.scope_keys(study, scope), viewer, mentions(study), chosen
    )
    return render(
        "discussion/_changes.html",
        study=study,
        viewer=viewer,
        changes=changes,
        scope=scope,
        filters=chosen,
        context="ballot" if scope.startswith("ballot:") else "page",
    )


@bp.post("/<ref>/read")
@login_required
def read(slug: str, ref: str) -> Response:
    study, viewer = viewer_in(slug)
    item = item_or_channel(study, ref)
    key = svc.key_of(item)
    writes.mark_read(viewer.user_id, svc.find_thread(study.id, key))
    if not is_htmx():
        return redirect(thread_url(study, item), 303)
    panel = thread_panels(study, [item], viewer, mentions(study), with_messages=False)[key]
    return render("discussion/_unread.html", panel=panel)
