"""The discussion: threads per item and a study channel; who is looking; the queries.

Reading only. Writes (posting, moderating, read marks, round notices) are
`app/services/discussion_writes.py`, a thread as export rows
`app/services/discussion_export.py`, and how a message looks to a viewer (view models,
rendered Markdown) `app/discussion/presenters.py`.

Live pages poll `discussion_events` for ids above the last one they saw; nothing is kept in a
worker's memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.inputs import parse_int
from app.models import (
    Criterion,
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
)
from delphi import PanelRole, RoundStatus

CHANNEL = "channel"
PATIENT_ROLE = PanelRole.PATIENT_REP.value


def item_key(item_id: int) -> str:
    return f"item:{item_id}"


def key_of(item: Item | None) -> str:
    """The thread key of an item, or of the study channel for None."""
    return CHANNEL if item is None else item_key(item.id)


@dataclass(frozen=True)
class Viewer:
    """Who is looking or acting: decides names, hidden messages and what may be done."""

    user_id: int
    panellist: Panellist | None
    is_facilitator: bool
    # The study is completed: its discussion is final record, so pages offer no changes.
    record_final: bool = False

    @property
    def role(self) -> PanelRole | None:
        return self.panellist.panel_role if self.panellist else None

    @property
    def can_post(self) -> bool:
        if self.record_final:
            return False
        if self.panellist is not None and self.panellist.withdrawn_at is not None:
            return self.is_facilitator  # a withdrawn panellist posts no more
        return self.is_facilitator or (self.role is not None and self.role.can_rate)


# ---------------------------------------------------------------- who wrote it


def is_patient(message: DiscussionMessage) -> bool:
    return (
        not message.as_facilitator
        and message.author_panellist is not None
        and message.author_panellist.role == PATIENT_ROLE
    )


def author_of(message: DiscussionMessage) -> tuple[str, str]:
    """(author, group) as everyone sees them: a pseudonym, never a name."""
    if message.kind == "system":
        return "Delphi panel", "System"
    if message.as_facilitator or message.author_panellist is None:
        return "Facilitator", "Study team"
    return message.author_panellist.pseudonym, message.author_panellist.group.name


# ---------------------------------------------------------------- reading


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


def threads_with_keys(study_id: int, keys: list[str]) -> list[DiscussionThread]:
    return list(
        db.session.scalars(
            select(DiscussionThread)
            .options(selectinload(DiscussionThread.summary_round))
            .where(DiscussionThread.study_id == study_id, DiscussionThread.key.in_(keys))
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


def messages_in(thread_ids: list[int]) -> list[DiscussionMessage]:
    """Every message of the threads, oldest first, with what showing them needs loaded."""
    return list(
        db.session.scalars(
            _message_query()
            .where(DiscussionMessage.thread_id.in_(thread_ids))
            .order_by(DiscussionMessage.id)
        )
    )


@dataclass(frozen=True)
class MessageHead:
    """What counting and filtering a thread's messages needs, read without loading them."""

    id: int
    thread_id: int
    kind: str
    category: str
    deleted: bool
    patient: bool  # `is_patient`


def message_heads(thread_ids: list[int]) -> list[MessageHead]:
    """Every message of the threads as a `MessageHead`, oldest first: one plain query, so a
    thread of hundreds of messages loads (and renders) only the window it shows."""
    rows = db.session.execute(
        select(
            DiscussionMessage.id,
            DiscussionMessage.thread_id,
            DiscussionMessage.kind,
            DiscussionMessage.category,
            DiscussionMessage.deleted_at.is_not(None),
            DiscussionMessage.as_facilitator,
            Panellist.role,
        )
        .outerjoin(Panellist, Panellist.id == DiscussionMessage.author_panellist_id)
        .where(DiscussionMessage.thread_id.in_(thread_ids))
        .order_by(DiscussionMessage.id)
    ).all()
    return [
        MessageHead(
            id=id_,
            thread_id=thread_id,
            kind=kind,
            category=category or "",
            deleted=bool(deleted),
            patient=not as_facilitator and role == PATIENT_ROLE,
        )
        for id_, thread_id, kind, category, deleted, as_facilitator, role in rows
    ]


def messages_by_id(ids: list[int]) -> list[DiscussionMessage]:
    return list(
        db.session.scalars(
            _message_query().where(DiscussionMessage.id.in_(ids)).order_by(DiscussionMessage.id)
        )
    )


def message_total(thread_id: int) -> int:
    """Messages in the thread that count: not system notices, not deleted."""
    return (
        db.session.scalar(
            select(func.count(DiscussionMessage.id)).where(
                DiscussionMessage.thread_id == thread_id,
                DiscussionMessage.kind == "message",
                DiscussionMessage.deleted_at.is_(None),
            )
        )
        or 0
    )


def message_totals(thread_ids: list[int]) -> dict[int, int]:
    """`message_total` of each thread, in one query: thread id -> count (none when 0)."""
    rows = db.session.execute(
        select(DiscussionMessage.thread_id, func.count(DiscussionMessage.id))
        .where(
            DiscussionMessage.thread_id.in_(thread_ids),
            DiscussionMessage.kind == "message",
            DiscussionMessage.deleted_at.is_(None),
        )
        .group_by(DiscussionMessage.thread_id)
    ).all()
    return {thread_id: count for thread_id, count in rows}


def count_from(thread_id: int, message_id: int) -> int:
    """Messages of the thread from `message_id` on (how many a page showed below it)."""
    return (
        db.session.scalar(
            select(func.count(DiscussionMessage.id)).where(
                DiscussionMessage.thread_id == thread_id, DiscussionMessage.id >= message_id
            )
        )
        or 0
    )


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


def latest_event_id(study_id: int) -> int:
    return (
        db.session.scalar(
            select(func.max(DiscussionEvent.id)).where(DiscussionEvent.study_id == study_id)
        )
        or 0
    )


def rating_for_sharing(
    study: Study, item: Item, panellist: Panellist
) -> tuple[Round | None, Rating | None]:
    """The panellist's rating of the item in the current round, if any: on its first
    criterion answered, the one that holds the ballot's reason."""
    round_ = current_round(study.id)
    if round_ is None:
        return None, None
    rating = db.session.scalar(
        select(Rating)
        .join(Criterion, Criterion.id == Rating.criterion_id)
        .where(
            Rating.round_id == round_.id,
            Rating.panellist_id == panellist.id,
            Rating.item_version_id.in_([v.id for v in item.versions]),
        )
        .order_by(Criterion.position, Criterion.id)
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


def events_after(study_id: int, after: int, limit: int = 500) -> list[Any]:
    """(event id, kind, message id, thread) of the study's events after `after`, in order."""
    return list(
        db.session.execute(
            select(
                DiscussionEvent.id,
                DiscussionEvent.kind,
                DiscussionEvent.message_id,
                DiscussionThread,
            )
            .join(DiscussionThread, DiscussionThread.id == DiscussionEvent.thread_id)
            .where(DiscussionEvent.study_id == study_id, DiscussionEvent.id > after)
            .order_by(DiscussionEvent.id)
            .limit(limit)
        ).all()
    )


def items_by_id(ids: list[int]) -> dict[int, Item]:
    return {i.id: i for i in db.session.scalars(select(Item).where(Item.id.in_(ids)))}
