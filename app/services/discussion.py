"""The discussion: threads per item and a study channel, messages, moderation, live updates.

Live pages poll `discussion_events` for ids above the last one they saw; nothing is kept in a
worker's memory. On PostgreSQL every writer first locks the study's row, so event ids become
visible in the order they were given and a poller never skips one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from markupsafe import Markup
from sqlalchemy import and_, event, exists, func, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.discussion.markdown import excerpt, render
from app.extensions import db
from app.inputs import parse_int
from app.models import (
    DiscussionEvent,
    DiscussionMessage,
    DiscussionRead,
    DiscussionThread,
    Item,
    ItemVersion,
    Panellist,
    Rating,
    Round,
    RoundItem,
    Study,
    StudyFacilitator,
    utcnow,
)
from app.services import audit
from delphi import PanelRole, RoundStatus
from delphi.discussion import (
    Category,
    can_change,
    check_can_change,
    check_can_post,
    check_rate,
)

CHANNEL = "channel"
PATIENT_ROLE = PanelRole.PATIENT_REP.value

MentionUrl = Callable[[str], str | None]


def item_key(item_id: int) -> str:
    return f"item:{item_id}"


def dom_key(key: str) -> str:
    """A thread key as it appears in DOM ids: "channel" or "item-12"."""
    return key.replace(":", "-")


@dataclass(frozen=True)
class Viewer:
    """Who is looking: decides names, hidden messages and which actions are offered."""

    user_id: int
    panellist: Panellist | None
    is_facilitator: bool

    @property
    def role(self) -> PanelRole | None:
        return self.panellist.panel_role if self.panellist else None

    @property
    def can_post(self) -> bool:
        return self.is_facilitator or (self.role is not None and self.role.can_rate)


@dataclass(frozen=True)
class Filters:
    voices: str = "all"  # "all", "highlight" or "patients"
    category: str = ""

    @classmethod
    def parse(cls, voices: str | None, category: str | None) -> Filters:
        voices = voices if voices in ("all", "highlight", "patients") else "all"
        category = category if category in {c.value for c in Category} else ""
        return cls(voices, category)

    @property
    def active(self) -> bool:
        return self.voices == "patients" or bool(self.category)

    def keeps(self, message: DiscussionMessage) -> bool:
        if self.voices == "patients" and not _is_patient(message):
            return False
        return not self.category or message.category == self.category


@dataclass
class Quote:
    author: str
    text: str


@dataclass
class MessageView:
    """One message as one viewer may see it; names only ever reach facilitators."""

    id: int
    key: str
    ref: str
    is_system: bool
    author: str
    group: str
    author_name: str | None
    is_patient: bool
    by_facilitator: bool
    round_label: str
    created_at: datetime
    html: Markup
    body: str
    category: str
    category_label: str
    edited: bool
    deleted: bool
    hidden: bool
    hidden_reason: str | None
    show_body: bool
    is_own: bool
    can_change: bool
    can_moderate: bool
    shared_reason: bool
    reply_to: Quote | None


@dataclass
class ThreadPanel:
    key: str
    item: Item | None
    thread: DiscussionThread | None
    messages: list[MessageView] = field(default_factory=list)
    total: int = 0
    unread: int = 0
    locked: bool = False
    summary: str = ""
    summary_html: Markup = Markup("")
    summary_round: int | None = None
    category_counts: dict[str, int] | None = None

    @property
    def dom(self) -> str:
        return dom_key(self.key)


# ---------------------------------------------------------------- reading


def _is_patient(message: DiscussionMessage) -> bool:
    return (
        not message.as_facilitator
        and message.author_panellist is not None
        and message.author_panellist.role == PATIENT_ROLE
    )


def current_round(study_id: int) -> Round | None:
    """The round people are in: the latest one that has opened."""
    return db.session.scalar(
        select(Round)
        .where(Round.study_id == study_id, Round.status != RoundStatus.DRAFT.value)
        .order_by(Round.number.desc())
        .limit(1)
    )


def item_refs(study_id: int) -> set[str]:
    return set(db.session.scalars(select(Item.ref).where(Item.study_id == study_id)))


def find_thread(study_id: int, key: str) -> DiscussionThread | None:
    return db.session.scalar(
        select(DiscussionThread).where(
            DiscussionThread.study_id == study_id, DiscussionThread.key == key
        )
    )


def _message_query() -> Any:
    return select(DiscussionMessage).options(
        selectinload(DiscussionMessage.author_panellist).selectinload(Panellist.group),
        selectinload(DiscussionMessage.author_user),
        selectinload(DiscussionMessage.round),
        selectinload(DiscussionMessage.parent).selectinload(DiscussionMessage.author_panellist),
        selectinload(DiscussionMessage.thread).selectinload(DiscussionThread.item),
    )


def _author(message: DiscussionMessage) -> tuple[str, str]:
    if message.kind == "system":
        return "Delphi panel", "System"
    if message.as_facilitator or message.author_panellist is None:
        return "Facilitator", "Study team"
    return message.author_panellist.pseudonym, message.author_panellist.group.name


def view_of(
    message: DiscussionMessage, viewer: Viewer, mention_url: MentionUrl, now: datetime
) -> MessageView:
    author, group = _author(message)
    is_own = message.author_user_id == viewer.user_id and message.kind != "system"
    hidden = message.hidden_at is not None
    deleted = message.deleted_at is not None
    show_body = not deleted and (not hidden or is_own or viewer.is_facilitator)
    quote = None
    if message.parent is not None:
        parent = message.parent
        if parent.deleted_at is not None:
            quote = Quote(_author(parent)[0], "This message was deleted.")
        elif parent.hidden_at is not None and not viewer.is_facilitator:
            quote = Quote(_author(parent)[0], "This message was hidden by a facilitator.")
        else:
            quote = Quote(_author(parent)[0], excerpt(parent.body))
    category = message.category or ""
    return MessageView(
        id=message.id,
        key=message.thread.key,
        ref=message.thread.item.ref if message.thread.item else CHANNEL,
        is_system=message.kind == "system",
        author=author,
        group=group,
        author_name=(
            message.author_user.name
            if viewer.is_facilitator and message.author_user is not None
            else None
        ),
        is_patient=_is_patient(message),
        by_facilitator=message.as_facilitator,
        round_label=f"Round {message.round.number}" if message.round else "Before round 1",
        created_at=message.created_at,
        html=render(message.body, mention_url) if show_body else Markup(""),
        body=message.body if show_body else "",
        category=category,
        category_label=Category(category).label if category else "",
        edited=message.edited_at is not None,
        deleted=deleted,
        hidden=hidden,
        hidden_reason=(
            message.hidden_reason if hidden and (is_own or viewer.is_facilitator) else None
        ),
        show_body=show_body,
        is_own=is_own,
        can_change=can_change(
            is_author=is_own, created_at=message.created_at, now=now, deleted=deleted
        )
        and not hidden
        and message.thread.locked_at is None,
        can_moderate=viewer.is_facilitator and message.kind != "system" and not deleted,
        shared_reason=message.rating_id is not None,
        reply_to=quote,
    )


def mention_resolver(study_id: int, url_for_ref: Callable[[str], str]) -> MentionUrl:
    refs = item_refs(study_id)
    return lambda ref: url_for_ref(ref) if ref in refs else None


def _panel_meta(panel: ThreadPanel, thread: DiscussionThread | None, mention: MentionUrl) -> None:
    panel.thread = thread
    if thread is None:
        return
    panel.locked = thread.locked_at is not None
    panel.summary = thread.summary
    panel.summary_html = render(thread.summary, mention) if thread.summary else Markup("")
    panel.summary_round = thread.summary_round.number if thread.summary_round else None


def thread_panels(
    study: Study,
    items: Iterable[Item | None],
    viewer: Viewer,
    mention: MentionUrl,
    filters: Filters = Filters(),
) -> dict[str, ThreadPanel]:
    """Panels for the channel (None) and/or items, with messages and unread counts batched."""
    panels: dict[str, ThreadPanel] = {}
    for item in items:
        key = CHANNEL if item is None else item_key(item.id)
        panels[key] = ThreadPanel(key=key, item=item, thread=None)
    threads = db.session.scalars(
        select(DiscussionThread)
        .options(selectinload(DiscussionThread.summary_round))
        .where(DiscussionThread.study_id == study.id, DiscussionThread.key.in_(list(panels)))
    ).all()
    by_id = {t.id: t for t in threads}
    for thread in threads:
        _panel_meta(panels[thread.key], thread, mention)
    if not threads:
        return panels
    now = utcnow()
    messages = db.session.scalars(
        _message_query()
        .where(DiscussionMessage.thread_id.in_(list(by_id)))
        .order_by(DiscussionMessage.id)
    ).all()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for message in messages:
        panel = panels[by_id[message.thread_id].key]
        if message.deleted_at is None and message.kind == "message":
            panel.total += 1
            counts[panel.key][message.category or "none"] += 1
        if filters.keeps(message):
            panel.messages.append(view_of(message, viewer, mention, now))
    if viewer.is_facilitator:
        for key, panel in panels.items():
            panel.category_counts = {c.value: counts[key].get(c.value, 0) for c in Category} | {
                "none": counts[key].get("none", 0)
            }
    for key, unread in unread_counts(viewer.user_id, list(by_id)).items():
        panels[by_id[key].key].unread = unread
    return panels


def unread_counts(user_id: int, thread_ids: list[int]) -> dict[int, int]:
    """Messages by others, not deleted, above the person's read mark, per thread id."""
    if not thread_ids:
        return {}
    read_mark = (
        select(DiscussionRead.last_message_id)
        .where(
            DiscussionRead.user_id == user_id,
            DiscussionRead.thread_id == DiscussionMessage.thread_id,
        )
        .correlate(DiscussionMessage)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(DiscussionMessage.thread_id, func.count(DiscussionMessage.id))
        .where(
            DiscussionMessage.thread_id.in_(thread_ids),
            DiscussionMessage.deleted_at.is_(None),
            DiscussionMessage.hidden_at.is_(None),
            or_(
                DiscussionMessage.author_user_id.is_(None),
                DiscussionMessage.author_user_id != user_id,
            ),
            DiscussionMessage.id > func.coalesce(read_mark, 0),
        )
        .group_by(DiscussionMessage.thread_id)
    ).all()
    return {thread_id: count for thread_id, count in rows}


def mark_read(user_id: int, thread: DiscussionThread | None) -> None:
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
        if row.last_message_id >= latest:
            return
        row.last_message_id = latest
        db.session.commit()
        return
    try:
        with db.session.begin_nested():
            db.session.add(
                DiscussionRead(user_id=user_id, thread_id=thread.id, last_message_id=latest)
            )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def latest_event_id(study_id: int) -> int:
    return (
        db.session.scalar(
            select(func.max(DiscussionEvent.id)).where(DiscussionEvent.study_id == study_id)
        )
        or 0
    )


# ---------------------------------------------------------------- polling


def poll_state(slug: str, user_id: int, after: int) -> tuple[bool, bool]:
    """(member of the study, anything new after `after`) in one cheap query."""
    study = select(Study.id).where(Study.slug == slug).scalar_subquery()
    member = or_(
        exists().where(StudyFacilitator.study_id == study, StudyFacilitator.user_id == user_id),
        exists().where(
            Panellist.study_id == study,
            Panellist.user_id == user_id,
            Panellist.joined_at.is_not(None),
        ),
    )
    news = exists().where(DiscussionEvent.study_id == study, DiscussionEvent.id > after)
    row = db.session.execute(select(member.label("member"), news.label("news"))).one()
    return bool(row.member), bool(row.news)


def scope_keys(study: Study, scope: str) -> set[str]:
    """Which threads a page shows: "channel", "item:<id>" or "ballot:<round number>"."""
    if scope == CHANNEL:
        return {CHANNEL}
    if scope.startswith("item:") and parse_int(scope[5:]) is not None:
        return {scope}
    if scope.startswith("ballot:") and (number := parse_int(scope[7:])) is not None:
        ids = db.session.scalars(
            select(ItemVersion.item_id)
            .join(RoundItem, RoundItem.item_version_id == ItemVersion.id)
            .join(Round, Round.id == RoundItem.round_id)
            .where(Round.study_id == study.id, Round.number == number)
        ).all()
        return {item_key(i) for i in ids}
    return set()


@dataclass
class Changes:
    cursor: int
    appended: dict[str, list[MessageView]] = field(default_factory=dict)
    replaced: list[MessageView] = field(default_factory=list)
    panels: dict[str, ThreadPanel] = field(default_factory=dict)


def changes_since(
    study: Study,
    after: int,
    keys: set[str],
    viewer: Viewer,
    mention: MentionUrl,
    filters: Filters = Filters(),
) -> Changes:
    """What a page showing threads `keys` must add or replace since event `after`."""
    events = db.session.execute(
        select(
            DiscussionEvent.id, DiscussionEvent.kind, DiscussionEvent.message_id, DiscussionThread
        )
        .join(DiscussionThread, DiscussionThread.id == DiscussionEvent.thread_id)
        .where(DiscussionEvent.study_id == study.id, DiscussionEvent.id > after)
        .order_by(DiscussionEvent.id)
        .limit(500)
    ).all()
    changes = Changes(cursor=max([after] + [e.id for e in events]))
    posted: dict[int, str] = {}
    changed: set[int] = set()
    touched: dict[str, DiscussionThread] = {}
    for _event_id, kind, message_id, thread in events:
        if thread.key not in keys:
            continue
        touched[thread.key] = thread
        if kind == "posted" and message_id:
            posted[message_id] = thread.key
        elif kind == "changed" and message_id:
            changed.add(message_id)
    wanted = set(posted) | changed
    if wanted:
        now = utcnow()
        rows = db.session.scalars(
            _message_query()
            .where(DiscussionMessage.id.in_(list(wanted)))
            .order_by(DiscussionMessage.id)
        ).all()
        for message in rows:
            if message.id in posted:
                if filters.keeps(message):
                    changes.appended.setdefault(posted[message.id], []).append(
                        view_of(message, viewer, mention, now)
                    )
            else:
                changes.replaced.append(view_of(message, viewer, mention, now))
    if touched:
        items = {
            i.id: i
            for i in db.session.scalars(
                select(Item).where(Item.id.in_([t.item_id for t in touched.values() if t.item_id]))
            )
        }
        unread = unread_counts(viewer.user_id, [t.id for t in touched.values()])
        for key, thread in touched.items():
            panel = ThreadPanel(key=key, item=items.get(thread.item_id or 0), thread=None)
            _panel_meta(panel, thread, mention)
            panel.unread = unread.get(thread.id, 0)
            panel.total = (
                db.session.scalar(
                    select(func.count(DiscussionMessage.id)).where(
                        DiscussionMessage.thread_id == thread.id,
                        DiscussionMessage.kind == "message",
                        DiscussionMessage.deleted_at.is_(None),
                    )
                )
                or 0
            )
            changes.panels[key] = panel
    return changes


# ---------------------------------------------------------------- writing


def _serialise_events(study_id: int, session: Session | None = None) -> None:
    """On PostgreSQL, take the study's row lock so event ids commit in order."""
    session = session or db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Study.id).where(Study.id == study_id).with_for_update())


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


def _rate_limit(user_id: int) -> None:
    limit, seconds = current_app.config.get("DISCUSSION_RATE_LIMIT", (8, 60))
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


def check_posting(study: Study, item: Item | None, viewer: Viewer) -> None:
    thread = find_thread(study.id, CHANNEL if item is None else item_key(item.id))
    check_can_post(
        role=viewer.role,
        is_facilitator=viewer.is_facilitator,
        locked=thread is not None and thread.locked_at is not None,
    )


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
        category=category if category in {c.value for c in Category} else "",
        body=body.strip(),
        hidden_reason="",
    )
    db.session.add(message)
    _event(study.id, thread, "posted", message)
    db.session.flush()
    mark_read_in_session(viewer.user_id, thread, message.id)
    db.session.commit()
    return message


def mark_read_in_session(user_id: int, thread: DiscussionThread, message_id: int) -> None:
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


def ensure_can_change(message: DiscussionMessage, viewer: Viewer) -> None:
    check_can_change(
        is_author=message.author_user_id == viewer.user_id and message.kind == "message",
        created_at=message.created_at,
        now=utcnow(),
        deleted=message.deleted_at is not None,
        locked=message.thread.locked_at is not None,
    )


def edit_message(message: DiscussionMessage, viewer: Viewer, body: str, category: str) -> None:
    ensure_can_change(message, viewer)
    _serialise_events(message.thread.study_id)
    message.body = body.strip()
    message.category = category if category in {c.value for c in Category} else ""
    message.edited_at = utcnow()
    _event(message.thread.study_id, message.thread, "changed", message)
    db.session.commit()


def delete_message(message: DiscussionMessage, viewer: Viewer) -> None:
    ensure_can_change(message, viewer)
    _serialise_events(message.thread.study_id)
    message.deleted_at = utcnow()
    _event(message.thread.study_id, message.thread, "changed", message)
    db.session.commit()


def _ref(thread: DiscussionThread) -> str:
    return thread.item.ref if thread.item else "study channel"


def hide_message(message: DiscussionMessage, reason: str) -> None:
    study_id = message.thread.study_id
    _serialise_events(study_id)
    message.hidden_at = utcnow()
    message.hidden_reason = reason.strip()
    message.hidden_by_id = _user_id()
    audit.record(
        study_id,
        "discussion.message_hidden",
        message=message.id,
        thread=_ref(message.thread),
        reason=message.hidden_reason,
    )
    _event(study_id, message.thread, "changed", message)
    db.session.commit()


def unhide_message(message: DiscussionMessage) -> None:
    study_id = message.thread.study_id
    _serialise_events(study_id)
    message.hidden_at = None
    message.hidden_by_id = None
    audit.record(
        study_id, "discussion.message_shown", message=message.id, thread=_ref(message.thread)
    )
    _event(study_id, message.thread, "changed", message)
    db.session.commit()


def _user_id() -> int | None:
    from flask_login import current_user

    # Outside a request (flask demo, cron) there is no signed-in user.
    return current_user.id if current_user and current_user.is_authenticated else None


def pin_summary(study: Study, item: Item, text: str) -> DiscussionThread:
    _serialise_events(study.id)
    thread = ensure_thread(study.id, item.id)
    round_ = current_round(study.id)
    thread.summary = text.strip()
    thread.summary_round_id = round_.id if round_ and text.strip() else None
    thread.summary_at = utcnow() if text.strip() else None
    thread.summary_by_id = _user_id()
    audit.record(
        study.id,
        "discussion.summary_pinned" if text.strip() else "discussion.summary_removed",
        item=item.ref,
    )
    _event(study.id, thread, "thread")
    db.session.commit()
    return thread


def set_locked(study: Study, items: list[Item | None], locked: bool) -> int:
    """Lock or unlock the threads of `items` (None is the channel); returns how many changed."""
    _serialise_events(study.id)
    changed = 0
    for item in items:
        thread = ensure_thread(study.id, item.id if item else None)
        if (thread.locked_at is not None) == locked:
            continue
        thread.locked_at = utcnow() if locked else None
        thread.locked_by_id = _user_id() if locked else None
        _event(study.id, thread, "thread")
        changed += 1
    if changed:
        audit.record(
            study.id,
            "discussion.locked" if locked else "discussion.unlocked",
            threads=[item.ref if item else "channel" for item in items],
        )
    db.session.commit()
    return changed


def rating_for_sharing(
    study: Study, item: Item, panellist: Panellist
) -> tuple[Round | None, Rating | None]:
    """The panellist's rating of the item in the current round, if any."""
    round_ = current_round(study.id)
    if round_ is None:
        return None, None
    rating = db.session.scalar(
        select(Rating)
        .where(
            Rating.round_id == round_.id,
            Rating.panellist_id == panellist.id,
            Rating.item_version_id.in_([v.id for v in item.versions]),
        )
        .limit(1)
    )
    return round_, rating


def already_shared(rating: Rating) -> bool:
    return (
        db.session.scalar(
            select(DiscussionMessage.id).where(
                DiscussionMessage.rating_id == rating.id,
                DiscussionMessage.deleted_at.is_(None),
            )
        )
        is not None
    )


# ---------------------------------------------------------------- export


def export_rows(study: Study, item: Item | None, *, with_names: bool) -> list[dict[str, Any]]:
    """A thread as rows; without names, hidden and deleted messages are left out."""
    thread = find_thread(study.id, CHANNEL if item is None else item_key(item.id))
    if thread is None:
        return []
    rows = []
    messages = db.session.scalars(
        _message_query()
        .where(DiscussionMessage.thread_id == thread.id)
        .order_by(DiscussionMessage.id)
    ).all()
    for message in messages:
        if message.deleted_at is not None:
            continue
        if message.hidden_at is not None and not with_names:
            continue
        author, group = _author(message)
        row: dict[str, Any] = {
            "id": message.id,
            "thread": item.ref if item else "Study channel",
            "round": message.round.number if message.round else None,
            "written_at_utc": message.created_at.isoformat(timespec="seconds"),
            "author": author,
            "group": group,
            "category": Category(message.category).label if message.category else "",
            "reply_to": message.parent_id,
            "edited": message.edited_at is not None,
            "text": message.body,
        }
        if with_names:
            row["name"] = message.author_user.name if message.author_user else ""
            row["hidden"] = message.hidden_at is not None
            row["hidden_reason"] = message.hidden_reason if message.hidden_at else ""
        rows.append(row)
    return rows


# ---------------------------------------------------------------- system events


@event.listens_for(Session, "before_flush")
def _round_events(session: Session, flush_context: Any, instances: Any) -> None:
    """A round opening or closing posts a system message in the study channel."""
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, Round):
            continue
        if obj in session.new:
            changed_to = obj.status
        else:
            history = inspect(obj).attrs.status.history
            if not history.added or list(history.deleted) == list(history.added):
                continue
            changed_to = history.added[0]
        if changed_to not in (RoundStatus.OPEN.value, RoundStatus.CLOSED.value):
            continue
        _post_system(session, obj, changed_to)


def _post_system(session: Session, round_: Round, status: str) -> None:
    study_id = round_.study_id or (round_.study.id if round_.study else None)
    if study_id is None:
        return
    with session.no_autoflush:
        _serialise_events(study_id, session)
        thread = next(
            (
                o
                for o in session.new
                if isinstance(o, DiscussionThread) and o.study_id == study_id and o.key == CHANNEL
            ),
            None,
        ) or session.scalar(
            select(DiscussionThread).where(
                and_(DiscussionThread.study_id == study_id, DiscussionThread.key == CHANNEL)
            )
        )
        if thread is None:
            thread = DiscussionThread(study_id=study_id, key=CHANNEL, summary="")
            session.add(thread)
    if status == RoundStatus.OPEN.value:
        text = f"Round {round_.number} opened."
        if round_.closes_at is not None:
            from app.web import london

            text = f"Round {round_.number} opened. It closes on {london(round_.closes_at)}."
    else:
        text = f"Round {round_.number} closed."
    message = DiscussionMessage(
        thread=thread,
        kind="system",
        round=round_,
        body=text,
        category="",
        hidden_reason="",
        as_facilitator=False,
    )
    session.add(message)
    session.add(DiscussionEvent(study_id=study_id, thread=thread, message=message, kind="posted"))
