"""The built specification kept until something it shows changes.

At 500 panellists x 200 items x 3 rounds building the specification reads every round's
stored results (~700 KB of JSON each) and the whole panel: hundreds of milliseconds for a
page a facilitator reloads while writing up. It is kept, per process, under a key read from
the database in two small queries:

- `Study.content_stamp`, a random token replaced in the same transaction as every change to
  a row of the study (`_stamp_changed_studies`, an ORM flush hook; bulk UPDATE/DELETE/INSERT
  statements, which name no study, replace every study's token). Random rather than a
  counter, so a database restored from a backup cannot meet a kept specification built for
  another state under the same number.
- the number of panellists who have rated in each open round and the number of their
  ratings: the only figures the specification takes from live ratings (who responded, who
  finished). Ratings of closed rounds (the reasons it quotes) no longer change. Ratings
  themselves are left out of the hook, or every autosave would write the study's row and
  queue the panel's autosaves behind one lock.

Changes to rows the specification never shows (`UNSHOWN`: sign-in sessions and attempts,
messages and read marks, API tokens, invitation links) do not replace the token.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from uuid import uuid4

from sqlalchemy import distinct, event, func, inspect, select, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import (
    ApiToken,
    DiscussionEvent,
    DiscussionFollow,
    DiscussionMessage,
    DiscussionRead,
    DiscussionThread,
    Invitation,
    Item,
    ItemVersion,
    LoginAttempt,
    Panellist,
    Rating,
    Round,
    SignInLink,
    Study,
    StudyFacilitator,
    User,
    UserSession,
)

# Rows the specification does not show: writing them leaves the kept specification valid.
# A table added to what the specification reads must not be listed here.
UNSHOWN = frozenset(
    model.__table__.name
    for model in (
        Rating,  # who responded is in the key (`_live_key`); the figures are in snapshots
        UserSession,
        LoginAttempt,
        SignInLink,
        DiscussionMessage,
        DiscussionEvent,
        DiscussionRead,
        DiscussionFollow,
        ApiToken,
        Invitation,
    )
)

# A row's study, through the foreign key it holds: table -> the study id of its row.
_PARENTS: dict[str, Any] = {
    "items": (Item.id, Item.study_id),
    "rounds": (Round.id, Round.study_id),
    "panellists": (Panellist.id, Panellist.study_id),
    "discussion_threads": (DiscussionThread.id, DiscussionThread.study_id),
    "item_versions": (ItemVersion.id, Item.study_id),
}

KEEP = 8  # specifications kept per process (a few studies being written up at once)
_kept: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_lock = threading.Lock()


def cached_specification(study: Study) -> dict[str, Any]:
    """`build_specification(study)` (without names), built again only when the study has
    changed since it was last built in this process."""
    from app.services.export import build_specification

    key = _key(study)
    if key is None:
        return build_specification(study)
    with _lock:
        spec = _kept.get(key)
        if spec is not None:
            _kept.move_to_end(key)
            return spec
    spec = build_specification(study)
    with _lock:
        _kept[key] = spec
        while len(_kept) > KEEP:
            _kept.popitem(last=False)
    return spec


def forget() -> None:
    """Drop every kept specification (tests)."""
    with _lock:
        _kept.clear()


def _key(study: Study) -> tuple[Any, ...] | None:
    stamp = db.session.scalar(select(Study.content_stamp).where(Study.id == study.id))
    if stamp is None:
        return None
    return (study.id, stamp, _live_key(study))


def _live_key(study: Study) -> tuple[tuple[int, int, int], ...]:
    """(round id, panellists who rated, ratings) for each open round of the study."""
    return tuple(
        db.session.execute(
            select(
                Rating.round_id, func.count(distinct(Rating.panellist_id)), func.count(Rating.id)
            )
            .join(Round, Round.id == Rating.round_id)
            .where(Round.study_id == study.id, Round.closed_at.is_(None))
            .group_by(Rating.round_id)
            .order_by(Rating.round_id)
        ).all()
    )


# ---------------------------------------------------------------- stamping changes

_EVERY_STUDY = "every study"


def _value(obj: Any, key: str) -> Any:
    """An attribute as held, never loaded (a deleted row cannot be loaded again)."""
    state = inspect(obj)
    if key in state.dict:
        return state.dict[key]
    return state.committed_state.get(key)


def _studies_of(obj: Any, session: Session, memo: dict[tuple[str, Any], Any]) -> set[Any]:
    """The studies whose specification may show this row; `_EVERY_STUDY` when unknown.
    `memo` keeps each parent row's study for the flush: opening or closing a round adds a
    row per item under one round."""
    table = getattr(obj, "__table__", None)
    if table is None or table.name in UNSHOWN:
        return set()
    if isinstance(obj, Study):
        return {obj.id}
    if isinstance(obj, User):  # a facilitator's name heads the specification
        return set(
            session.connection().scalars(
                select(StudyFacilitator.study_id).where(StudyFacilitator.user_id == obj.id)
            )
        ) | set(
            session.connection().scalars(
                select(Panellist.study_id).where(Panellist.user_id == obj.id)
            )
        )
    if "study_id" in table.c:
        study_id = _value(obj, "study_id")
        return {study_id} if study_id is not None else {_EVERY_STUDY}
    for fk in table.foreign_keys:
        parent = _PARENTS.get(fk.column.table.name)
        if parent is None:
            continue
        row_id = _value(obj, fk.parent.key)
        if row_id is None:
            continue
        memo_key = (fk.column.table.name, row_id)
        if memo_key not in memo:
            id_column, study_column = parent
            query = select(study_column).where(id_column == row_id)
            if fk.column.table.name == "item_versions":
                query = query.join_from(ItemVersion, Item, Item.id == ItemVersion.item_id)
            memo[memo_key] = session.connection().scalar(query)
        found = memo[memo_key]
        return {found} if found is not None else {_EVERY_STUDY}
    return {_EVERY_STUDY}


def _restamp(session: Session, study_ids: set[Any]) -> None:
    if not study_ids:
        return
    statement = update(Study.__table__).values(content_stamp=uuid4().hex)
    if _EVERY_STUDY not in study_ids:
        statement = statement.where(Study.__table__.c.id.in_(study_ids))
    session.connection().execute(statement)


@event.listens_for(Session, "after_flush")
def _stamp_changed_studies(session: Session, flush_context: Any) -> None:
    changed: set[Any] = set()
    memo: dict[tuple[str, Any], Any] = {}
    for obj in session.deleted:
        changed |= _studies_of(obj, session, memo)
    for obj in session.new:
        if not isinstance(obj, Study):  # a new study has its own stamp already
            changed |= _studies_of(obj, session, memo)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            changed |= _studies_of(obj, session, memo)
    _restamp(session, changed)


@event.listens_for(Session, "do_orm_execute")
def _stamp_on_bulk_writes(state: Any) -> None:
    """An UPDATE, DELETE or INSERT statement names no study: every study is restamped."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and getattr(table, "name", None) in UNSHOWN:
        return
    _restamp(state.session, {_EVERY_STUDY})
