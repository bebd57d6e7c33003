"""Saving a panellist's rating: one row per (panellist, item version, round), last write wins."""

from __future__ import annotations

import functools

from sqlalchemy import Insert, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import Panellist, Rating, Round, RoundItem, utcnow
from app.services.transaction import unit_of_work
from delphi import RoundStatus, Scale, validate_rating
from delphi.errors import DomainError, RoundClosed
from delphi.ratings import ROUND_CLOSED_MESSAGE

NOT_IN_ROUND = "That item is not part of this round."


class NotInRound(DomainError):
    status_code = 404


def parse_answer(raw: str | None) -> tuple[int | None, bool]:
    """A form value ("1".."9" or "unable") as (score, unable); anything else is no score."""
    if raw == "unable":
        return None, True
    try:
        return (int(raw), False) if raw is not None else (None, False)
    except ValueError:
        return None, False


def save_rating(
    round_: Round,
    panellist: Panellist,
    item_version_id: int,
    score: int | None,
    unable: bool,
    reason: str,
    change_reason: str = "",
) -> Rating:
    """Validate, then write the rating in one statement that holds the round open.

    The upsert takes its values from a SELECT of the round's row (locked FOR SHARE on
    PostgreSQL; SQLite has a single writer) joined to the item's place in the round, filtered
    on the round being open. A close takes that row FOR UPDATE, so every save is wholly
    before it, and so in its snapshot, or wholly after it, and then matches no row and writes
    nothing. Returns the stored rating (detached from the session).
    """
    study = round_.study
    try:
        choice = validate_rating(
            round_status=round_.round_status,
            role=panellist.panel_role,
            scale=Scale(study.scale_min, study.scale_max),
            score=score,
            unable=unable,
            reason=reason,
        )
    except DomainError:
        # An item outside the round is "not found", whatever was sent for it.
        if not _in_round(round_.id, item_version_id):
            raise NotInRound(NOT_IN_ROUND) from None
        raise
    now = utcnow()
    params = {
        "p_round": round_.id,
        "p_panellist": panellist.id,
        "p_version": item_version_id,
        "p_score": choice.score,
        "p_unable": choice.unable,
        "p_reason": choice.reason,
        "p_change": change_reason.strip()[:2000],
        "p_now": now,
    }
    # Only the rating row is written, through Core, so the loaded study, round and panellist
    # stay current: keeping them (expire=False) spares the autosave answer reloading them.
    with unit_of_work(expire=False):
        row = db.session.execute(_upsert(db.engine.dialect.name), params).one_or_none()
        if row is None:
            raise _why_not_saved(round_.id, item_version_id)
    return Rating(**row._asdict())


@functools.cache
def _upsert(dialect: str) -> Insert:
    """The rating upsert of `save_rating`, built once per dialect (it runs on every answer)."""
    table = Rating.__table__
    columns = table.c
    values = {
        "round_id": RoundItem.round_id,
        "panellist_id": bindparam("p_panellist", type_=columns.panellist_id.type),
        "item_version_id": RoundItem.item_version_id,
        "score": bindparam("p_score", type_=columns.score.type),
        "unable": bindparam("p_unable", type_=columns.unable.type),
        "reason": bindparam("p_reason", type_=columns.reason.type),
        "change_reason": bindparam("p_change", type_=columns.change_reason.type),
        "created_at": bindparam("p_now", type_=columns.created_at.type),
        "updated_at": bindparam("p_now", type_=columns.updated_at.type),
    }
    source = (
        select(*values.values())
        .join(Round, Round.id == RoundItem.round_id)
        .where(
            RoundItem.round_id == bindparam("p_round"),
            RoundItem.item_version_id == bindparam("p_version"),
            Round.status == RoundStatus.OPEN.value,
        )
    )
    insert = sqlite_insert
    if dialect == "postgresql":
        source = source.with_for_update(read=True, of=Round)
        insert = pg_insert
    statement = insert(table).from_select(list(values), source)
    return statement.on_conflict_do_update(
        index_elements=["panellist_id", "item_version_id", "round_id"],
        set_={
            name: statement.excluded[name]
            for name in ("score", "unable", "reason", "change_reason", "updated_at")
        },
    ).returning(*columns)


def _in_round(round_id: int, item_version_id: int) -> bool:
    return (
        db.session.scalar(
            select(RoundItem.id).where(
                RoundItem.round_id == round_id, RoundItem.item_version_id == item_version_id
            )
        )
        is not None
    )


def _why_not_saved(round_id: int, item_version_id: int) -> DomainError:
    """Why the save matched no row: the item is not in the round, or the round closed."""
    if not _in_round(round_id, item_version_id):
        return NotInRound(NOT_IN_ROUND)
    return RoundClosed(ROUND_CLOSED_MESSAGE)


def ratings_by_version(round_: Round, panellist: Panellist) -> dict[int, Rating]:
    rows = db.session.scalars(
        select(Rating).where(Rating.round_id == round_.id, Rating.panellist_id == panellist.id)
    )
    return {r.item_version_id: r for r in rows}


def answered_count(round_: Round, panellist: Panellist) -> int:
    return (
        db.session.scalar(
            select(func.count(Rating.id)).where(
                Rating.round_id == round_.id, Rating.panellist_id == panellist.id
            )
        )
        or 0
    )
