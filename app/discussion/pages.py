"""What the discussion's views share: who is looking, which thread, and rendering the thread
page and the compose fragment."""

from __future__ import annotations

from typing import Any

from flask import abort, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.access import item_of, membership
from app.discussion.forms import MessageForm, SummaryForm
from app.discussion.presenters import (
    WINDOW,
    Filters,
    MentionUrl,
    MessageView,
    ThreadPanel,
    dom_key,
    mention_resolver,
    thread_panels,
    view_of,
)
from app.extensions import db
from app.htmx import render
from app.inputs import int_arg
from app.models import DiscussionMessage, Item, Study, utcnow
from app.services import discussion as svc
from app.services.discussion import CHANNEL
from app.services.discussion_writes import mark_read
from app.services.indicator_testing import shown_summary
from app.services.notifications import is_following
from delphi import RoundStatus, StudyStatus
from delphi.discussion import MAX_LENGTH, Category

# The most messages one thread page shows at once (`?shown=`): a bound on the page's size.
MAX_SHOWN = 2000


def viewer_in(slug: str) -> tuple[Study, svc.Viewer]:
    """The study and the signed-in user as its viewer; 404 for people outside it."""
    member = membership(slug)
    study = member.study
    return study, svc.Viewer(
        current_user.id,
        member.panellist,
        member.is_facilitator,
        record_final=study.study_status is StudyStatus.COMPLETED,
    )


def item_or_channel(study: Study, ref: str) -> Item | None:
    """None for the channel; 404 for an unknown item."""
    if ref == CHANNEL:
        return None
    return item_of(study, ref)


def ref_of(item: Item | None) -> str:
    return item.ref if item else CHANNEL


def mentions(study: Study) -> MentionUrl:
    return mention_resolver(
        study.id, lambda ref: url_for("discussion.thread", slug=study.slug, ref=ref)
    )


def thread_url(study: Study, item: Item | None, **args: Any) -> str:
    return url_for("discussion.thread", slug=study.slug, ref=ref_of(item), **args)


def filters() -> Filters:
    return Filters.parse(request.values.get("voices"), request.values.get("category"))


def shown() -> int:
    """How many of the latest messages the thread page shows (`?shown=`, the no-JavaScript
    "Show earlier messages"): at least WINDOW, at most MAX_SHOWN."""
    asked = int_arg("shown") or WINDOW
    return max(WINDOW, min(asked, MAX_SHOWN))


def earlier_url(study: Study, panel: ThreadPanel, chosen: Filters | None, context: str) -> str:
    """Where "Show earlier messages" fetches the messages before the first one shown."""
    return url_for(
        "discussion.earlier",
        slug=study.slug,
        ref=ref_of(panel.item),
        before=panel.first_id,
        context=context,
        **filter_args(chosen),
    )


def more_url(study: Study, panel: ThreadPanel, chosen: Filters | None) -> str:
    """The thread page showing WINDOW more messages, for browsers without JavaScript."""
    count = len(panel.messages) + WINDOW
    return thread_url(study, panel.item, shown=count, **filter_args(chosen))


def filter_args(chosen: Filters | None) -> dict[str, str]:
    args: dict[str, str] = {}
    if chosen is None:
        return args
    if chosen.voices != "all":
        args["voices"] = chosen.voices
    if chosen.category:
        args["category"] = chosen.category
    return args


def message_in(study: Study, message_id: int) -> DiscussionMessage:
    message = db.session.get(DiscussionMessage, message_id)
    if message is None or message.thread.study_id != study.id or message.kind != "message":
        abort(404)
    return message


def require_facilitator(viewer: svc.Viewer) -> None:
    if not viewer.is_facilitator:
        abort(403, description="Only the study's facilitators can do that.")


def thread_page(
    study: Study,
    item: Item | None,
    viewer: svc.Viewer,
    *,
    form: MessageForm | None = None,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
    summary_form: SummaryForm | None = None,
) -> Response:
    """The thread page. Showing it (status 200) marks the thread read: the page works
    without JavaScript, so reading it is the only sign the person has read it."""
    chosen = filters()
    panel = thread_panels(study, [item], viewer, mentions(study), chosen, window=shown())[
        svc.key_of(item)
    ]
    if status == 200:
        mark_read(viewer.user_id, panel.thread)
    reply = reply_quote(study, panel, viewer, int_arg("reply_to"))
    if form is None:
        form = MessageForm(prefix=panel.dom, formdata=None)
        if reply:
            form.parent_id.data = str(reply.id)
    if summary_form is None:
        summary_form = SummaryForm(formdata=None)
        summary_form.summary.data = panel.summary
    rounds = [r for r in study.rounds if r.round_status is RoundStatus.CLOSED]
    allowed = can_follow(item, viewer)
    return render(
        "discussion/thread.html",
        study=study,
        item=item,
        panel=panel,
        viewer=viewer,
        form=form,
        reply=reply,
        summary_form=summary_form,
        filters=chosen,
        categories=list(Category),
        cursor=svc.latest_event_id(study.id),
        scope=panel.key,
        closed_rounds=rounds,
        errors=errors or [],
        status=status,
        max_length=MAX_LENGTH,
        next_url=thread_url(study, item),
        testing=shown_summary(item),
        can_follow=allowed,
        following=allowed and is_following(viewer.user_id, panel.thread),
    )


def can_follow(item: Item | None, viewer: svc.Viewer) -> bool:
    """Who may follow an item: its facilitators and the panel (observers too), but not a
    withdrawn panellist (no longer mailed about the study) nor anyone once the study is
    completed (its discussion is over: the digest has nothing new to tell of it). The study
    channel is not an item: it cannot be followed."""
    if item is None or viewer.record_final:
        return False
    if viewer.is_facilitator:
        return True
    panellist = viewer.panellist
    return panellist is not None and panellist.joined_at is not None and not panellist.withdrawn


def reply_quote(
    study: Study, panel: ThreadPanel, viewer: svc.Viewer, message_id: int | None
) -> MessageView | None:
    if not message_id or panel.thread is None:
        return None
    message = db.session.get(DiscussionMessage, message_id)
    if message is None or message.thread_id != panel.thread.id:
        return None
    view = view_of(message, viewer, mentions(study), utcnow())
    return view if view.show_body and not view.is_system else None


def compose_fragment(
    study: Study,
    panel_key: str,
    item: Item | None,
    viewer: svc.Viewer,
    form: MessageForm,
    *,
    reply: MessageView | None = None,
    status: int = 200,
    notice: str | None = None,
    next_url: str | None = None,
) -> Response:
    return render(
        "discussion/_compose.html",
        study=study,
        item=item,
        dom=dom_key(panel_key),
        viewer=viewer,
        form=form,
        reply=reply,
        notice=notice,
        max_length=MAX_LENGTH,
        next_url=next_url or thread_url(study, item),
        status=status,
    )


def message_fragment(study: Study, message: DiscussionMessage, viewer: svc.Viewer) -> Response:
    db.session.refresh(message)
    view = view_of(message, viewer, mentions(study), utcnow())
    return render("discussion/_message.html", study=study, m=view, viewer=viewer, context="page")


def refresh(response: Response) -> Response:
    """Ask the page's poller to fetch now, so the author sees their message at once."""
    response.headers["HX-Trigger"] = "discussion-refresh"
    return response
