"""Every write to the discussion: posting, editing, moderating, read marks, round notices.

Each public function is one transaction (`@transactional`) and takes who acts, a `Viewer`
built by the caller (a view, the demo): none looks up the signed-in user itself. Each change
adds a `discussion_events` row, which live pages poll for. On PostgreSQL every writer first
locks the study's row (`_serialise_events`), so event ids become visible in the order they
were given and a poller never skips one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    DiscussionEvent,
    DiscussionMessage,
    DiscussionRead,
    DiscussionThread,
    Item,
    Rating,
    Round,
    Study,
    utcnow,
)
from app.services import audit
from app.services.discussion import (
    CHANNEL,
    Viewer,
    current_round,
    find_thread,
    item_key,
    key_of,
)
from app.services.transaction import transactional
from app.settings import settings
from app.text.dates import london
from delphi import RoundStatus, check_record_open
from delphi.discussion import Category, check_can_change, check_can_post, check_rate
from delphi.withdrawal import check_not_withdrawn


def _serialise_events(study_id: int) -> None:
    """On PostgreSQL, take the study's row lock so event ids commit in order."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Study.id).where(Study.id == study_id).with_for_update())


def ensure_thread(study_id: int, item_id: int | None) -> DiscussionThread:
    key = CHANNEL if item_id is None else item_key(item_id)
    found = find_thread(study_id, key)
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            thread = DiscussionThread(study_id=study_id, key=key, item_id=item_id, summary="")
            db.session.add(thread)
        return thread
    except IntegrityError:
        found = find_thread(study_id, key)
        assert found is not None
        return found


def _event(study_id: int, thread: DiscussionThread, kind: str, message: Any = None) -> None:
    db.session.add(DiscussionEvent(study_id=study_id, thread=thread, message=message, kind=kind))


def _category(category: str) -> str:
    return category if category in {c.value for c in Category} else ""


# ---------------------------------------------------------------- posting


def _rate_limit(user_id: int) -> None:
    limit, seconds = settings().discussion_rate_limit
    since = utcnow() - timedelta(seconds=seconds)
    recent = (
        db.session.scalar(
            select(func.count(DiscussionMessage.id)).where(
                DiscussionMessage.author_user_id == user_id,
                DiscussionMessage.kind == "message",
                DiscussionMessage.created_at >= since,
            )
        )
        or 0
    )
    check_rate(recent, limit=limit, seconds=seconds)


def _record_open(study_id: int, action: str) -> None:
    """A completed study's discussion is part of its final record (`check_record_open`)."""
    study = db.session.get(Study, study_id)
    if study is not None:
        check_record_open(study.study_status, action=action)


def check_posting(study: Study, item: Item | None, viewer: Viewer) -> None:
    check_record_open(study.study_status, action="posting to the discussion")
    if viewer.panellist is not None and not viewer.is_facilitator:
        check_not_withdrawn(viewer.panellist.withdrawn_at)
    thread = find_thread(study.id, key_of(item))
    check_can_post(
        role=viewer.role,
        is_facilitator=viewer.is_facilitator,
        locked=thread is not None and thread.locked_at is not None,
    )


@transactional
def post_message(
    study: Study,
    item: Item | None,
    viewer: Viewer,
    body: str,
    *,
    category: str = "",
    parent_id: int | None = None,
    rating: Rating | None = None,
) -> DiscussionMessage:
    check_posting(study, item, viewer)
    _rate_limit(viewer.user_id)
    _serialise_events(study.id)
    thread = ensure_thread(study.id, item.id if item else None)
    parent = db.session.get(DiscussionMessage, parent_id) if parent_id else None
    if parent is not None and parent.thread_id != thread.id:
        parent = None
    round_ = current_round(study.id)
    message = DiscussionMessage(
        thread=thread,
        kind="message",
        author_user_id=viewer.user_id,
        author_panellist_id=viewer.panellist.id if viewer.panellist else None,
        as_facilitator=viewer.is_facilitator,
        round_id=round_.id if round_ else None,
        parent_id=parent.id if parent else None,
        rating_id=rating.id if rating else None,
        category=_category(category),
        body=body.strip(),
        hidden_reason="",
    )
    db.session.add(message)
    _event(study.id, thread, "posted", message)
    db.session.flush()
    _raise_read_mark(viewer.user_id, thread, message.id)
    return message


def post_round_notice(round_: Round, *, reopened: bool = False) -> None:
    """The study channel's system message that a round opened, closed or reopened (in the
    caller's transaction: `open_round`, `close_round` and `reopen_round` call it)."""
    if round_.round_status is RoundStatus.OPEN:
        text = f"Round {round_.number} {'reopened' if reopened else 'opened'}."
        if round_.closes_at is not None:
            text += f" It closes on {london(round_.closes_at)}."
    else:
        text = f"Round {round_.number} closed."
    _serialise_events(round_.study_id)
    thread = ensure_thread(round_.study_id, None)
    message = DiscussionMessage(
        thread=thread,
        kind="system",
        round=round_,
        body=text,
        category="",
        hidden_reason="",
        as_facilitator=False,
    )
    db.session.add(message)
    _event(round_.study_id, thread, "posted", message)


# ---------------------------------------------------------------- read marks


def _raise_read_mark(user_id: int, thread: DiscussionThread, message_id: int) -> None:
    row = db.session.scalar(
        select(DiscussionRead).where(
            DiscussionRead.user_id == user_id, DiscussionRead.thread_id == thread.id
        )
    )
    if row is None:
        db.session.add(
            DiscussionRead(user_id=user_id, thread_id=thread.id, last_message_id=message_id)
        )
    else:
        row.last_message_id = max(row.last_message_id, message_id)


@transactional
def mark_read(user_id: int, thread: DiscussionThread | None) -> None:
    """Everything in the thread so far counts as read by the user."""
    if thread is None:
        return
    latest = db.session.scalar(
        select(func.max(DiscussionMessage.id)).where(DiscussionMessage.thread_id == thread.id)
    )
    if latest is None:
        return
    row = db.session.scalar(
        select(DiscussionRead).where(
            DiscussionRead.user_id == user_id, DiscussionRead.thread_id == thread.id
        )
    )
    if row is not None:
        row.last_message_id = max(row.last_message_id, latest)
        return
    try:
        with db.session.begin_nested():
            db.session.add(
                DiscussionRead(user_id=user_id, thread_id=thread.id, last_message_id=latest)
            )
    except IntegrityError:
        pass  # another request of the same person's marked it first


# ---------------------------------------------------------------- authors' changes


def ensure_can_change(message: DiscussionMessage, viewer: Viewer) -> None:
    check_can_change(
        is_author=message.author_user_id == viewer.user_id and message.kind == "message",
        created_at=message.created_at,
        now=utcnow(),
        deleted=message.deleted_at is not None,
        locked=message.thread.locked_at is not None,
    )


@transactional
def edit_message(message: DiscussionMessage, viewer: Viewer, body: str, category: str) -> None:
    _record_open(message.thread.study_id, "editing a message")
    ensure_can_change(message, viewer)
    _serialise_events(message.thread.study_id)
    message.body = body.strip()
    message.category = _category(category)
    message.edited_at = utcnow()
    _event(message.thread.study_id, message.thread, "changed", message)


@transactional
def delete_message(message: DiscussionMessage, viewer: Viewer) -> None:
    _record_open(message.thread.study_id, "deleting a message")
    ensure_can_change(message, viewer)
    _serialise_events(message.thread.study_id)
    message.deleted_at = utcnow()
    _event(message.thread.study_id, message.thread, "changed", message)


# ---------------------------------------------------------------- moderation


def _ref(thread: DiscussionThread) -> str:
    return thread.item.ref if thread.item else "study channel"


@transactional
def hide_message(message: DiscussionMessage, viewer: Viewer, reason: str) -> None:
    study_id = message.thread.study_id
    _record_open(study_id, "hiding a message")
    _serialise_events(study_id)
    message.hidden_at = utcnow()
    message.hidden_reason = reason.strip()
    message.hidden_by_id = viewer.user_id
    audit.record(
        study_id,
        "discussion.message_hidden",
        by=viewer.user_id,
        message=message.id,
        thread=_ref(message.thread),
        reason=message.hidden_reason,
    )
    _event(study_id, message.thread, "changed", message)


@transactional
def unhide_message(message: DiscussionMessage, viewer: Viewer) -> None:
    study_id = message.thread.study_id
    _record_open(study_id, "showing a hidden message")
    _serialise_events(study_id)
    message.hidden_at = None
    message.hidden_by_id = None
    audit.record(
        study_id,
        "discussion.message_shown",
        by=viewer.user_id,
        message=message.id,
        thread=_ref(message.thread),
    )
    _event(study_id, message.thread, "changed", message)


@transactional
def pin_summary(study: Study, item: Item, viewer: Viewer, text: str) -> DiscussionThread:
    """Pin the facilitators' summary of an item's discussion; empty text removes it."""
    check_record_open(study.study_status, action="changing a discussion summary")
    _serialise_events(study.id)
    thread = ensure_thread(study.id, item.id)
    round_ = current_round(study.id)
    thread.summary = text.strip()
    thread.summary_round_id = round_.id if round_ and text.strip() else None
    thread.summary_at = utcnow() if text.strip() else None
    thread.summary_by_id = viewer.user_id
    audit.record(
        study.id,
        "discussion.summary_pinned" if text.strip() else "discussion.summary_removed",
        by=viewer.user_id,
        item=item.ref,
    )
    _event(study.id, thread, "thread")
    return thread


@transactional
def set_locked(study: Study, items: list[Item | None], viewer: Viewer, locked: bool) -> int:
    """Lock or unlock the threads of `items` (None is the channel); returns how many changed."""
    check_record_open(study.study_status, action="locking or unlocking a discussion")
    _serialise_events(study.id)
    changed = 0
    for item in items:
        thread = ensure_thread(study.id, item.id if item else None)
        if (thread.locked_at is not None) == locked:
            continue
        thread.locked_at = utcnow() if locked else None
        thread.locked_by_id = viewer.user_id if locked else None
        _event(study.id, thread, "thread")
        changed += 1
    if changed:
        audit.record(
            study.id,
            "discussion.locked" if locked else "discussion.unlocked",
            by=viewer.user_id,
            threads=[item.ref if item else "channel" for item in items],
        )
    return changed
