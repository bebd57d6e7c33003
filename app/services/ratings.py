"""Saving a panellist's rating: one row per (panellist, item version, round), last write wins."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import Panellist, Rating, Round, RoundItem, utcnow
from delphi import RatingChoice, RoundStatus, Scale, validate_rating
from delphi.errors import DomainError, RoundClosed


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


def round_item_version_ids(round_: Round) -> set[int]:
    """The item versions rated in this round (ids only: this runs on every autosave)."""
    return set(
        db.session.scalars(select(RoundItem.item_version_id).where(RoundItem.round_id == round_.id))
    )


def save_rating(
    round_: Round,
    panellist: Panellist,
    item_version_id: int,
    score: int | None,
    unable: bool,
    reason: str,
    change_reason: str = "",
    version_ids: set[int] | None = None,
) -> RatingChoice:
    """Validate, upsert, then confirm the round was still open while holding its row lock.

    The lock (FOR SHARE on PostgreSQL; SQLite's single writer) orders every save either
    wholly before a close, and so in its snapshot, or wholly after it, and so refused.
    ``version_ids``: the round's item versions, when the caller has them already.
    """
    if version_ids is None:
        version_ids = round_item_version_ids(round_)
    if item_version_id not in version_ids:
        raise NotInRound("That item is not part of this round.")
    study = round_.study
    choice = validate_rating(
        round_status=round_.round_status,
        role=panellist.panel_role,
        scale=Scale(study.scale_min, study.scale_max),
        score=score,
        unable=unable,
        reason=reason,
    )
    now = utcnow()
    values = {
        "round_id": round_.id,
        "panellist_id": panellist.id,
        "item_version_id": item_version_id,
        "score": choice.score,
        "unable": choice.unable,
        "reason": choice.reason,
        "change_reason": change_reason.strip()[:2000],
        "created_at": now,
        "updated_at": now,
    }
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(Rating).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["panellist_id", "item_version_id", "round_id"],
        set_={
            "score": statement.excluded.score,
            "unable": statement.excluded.unable,
            "reason": statement.excluded.reason,
            "change_reason": statement.excluded.change_reason,
            "updated_at": statement.excluded.updated_at,
        },
    )
    db.session.execute(statement)
    status = db.session.scalar(
        select(Round.status).where(Round.id == round_.id).with_for_update(read=True)
    )
    if status != RoundStatus.OPEN.value:
        db.session.rollback()
        raise RoundClosed(
            "This round has closed, so your rating was not saved. "
            "Your earlier answers are kept in the results."
        )
    # Only the rating row was written, through Core, so the loaded study, round and panellist
    # are still current: keeping them spares the autosave answer reloading them.
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire
    return choice


def ratings_by_version(round_: Round, panellist: Panellist) -> dict[int, Rating]:
    rows = db.session.scalars(
        select(Rating).where(Rating.round_id == round_.id, Rating.panellist_id == panellist.id)
    )
    return {r.item_version_id: r for r in rows}


def rating_of(round_: Round, panellist: Panellist, item_version_id: int) -> Rating | None:
    return db.session.scalar(
        select(Rating).where(
            Rating.round_id == round_.id,
            Rating.panellist_id == panellist.id,
            Rating.item_version_id == item_version_id,
        )
    )


def answered_count(round_: Round, panellist: Panellist) -> int:
    return (
        db.session.scalar(
            select(func.count(Rating.id)).where(
                Rating.round_id == round_.id, Rating.panellist_id == panellist.id
            )
        )
        or 0
    )
