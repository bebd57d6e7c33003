"""Saving a panellist's rating: one row per (panellist, item version, round, criterion).

A rating sent without a criterion is on the item's first criterion (the first of the study's
criteria that applies to the item's kind): with one criterion, as before criteria existed.
The ballot's reason belongs to that first criterion's rating.

The last write wins, except over an answer saved after the page that sends it was loaded:
the page sends the version it showed (`seen`), and the write happens only if that is still
the stored one (`delphi.check_not_overwriting` says what then).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from sqlalchemy import Boolean, Insert, Select, and_, bindparam, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import (
    Criterion,
    Item,
    ItemVersion,
    Panellist,
    Rating,
    Round,
    RoundItem,
    utcnow,
)
from app.services.consent import check_may_answer
from app.services.transaction import unit_of_work
from delphi import (
    RatingChoice,
    RoundStatus,
    Scale,
    check_not_overwriting,
    check_record_open,
    validate_rating,
)
from delphi.errors import DomainError, RoundClosed
from delphi.ratings import ROUND_CLOSED_MESSAGE

NOT_IN_ROUND = "That item is not part of this round."
NOT_A_CRITERION = "That criterion is not asked of this item."
# A version no rating has: what a garbled `seen` value stands for.
_NO_SUCH_VERSION = datetime(1970, 1, 1, tzinfo=UTC)


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


def version_of(rating: Rating | None) -> str:
    """What a page sends back as `seen` for the answer it shows: "" when there is none."""
    return rating.updated_at.isoformat() if rating is not None else ""


def _expected_version(seen: str | None) -> tuple[bool, datetime | None]:
    """(whether to check, the stored version required) for a page's `seen` value.

    None (not sent): no check. "": the page showed no answer, so none may be stored. A time:
    the answer must still be the one saved then. Anything else matches no stored answer.
    """
    if seen is None:
        return False, None
    if seen == "":
        return True, None
    try:
        version = datetime.fromisoformat(seen)
        if version.tzinfo is None:
            return True, _NO_SUCH_VERSION
        return True, version.astimezone(UTC)
    except (ValueError, OverflowError):
        return True, _NO_SUCH_VERSION


def save_rating(
    round_: Round,
    panellist: Panellist,
    item_version_id: int,
    score: int | None,
    unable: bool,
    reason: str,
    change_reason: str = "",
    *,
    seen: str | None = None,
    criterion_id: int | None = None,
) -> Rating:
    """Validate, then write the rating in one statement that holds the round open.

    `seen` is the version of the answer the sending page showed (`version_of`); when given,
    the statement writes only over that version, so an answer saved since (in another tab)
    is never set back: `AnswerChangedElsewhere` says what it is, unless the same answer was
    sent, which is returned as stored.

    The upsert takes its values from a SELECT of the round's row (locked FOR SHARE on
    PostgreSQL; SQLite has a single writer) joined to the item's place in the round, filtered
    on the round being open. A close takes that row FOR UPDATE, so every save is wholly
    before it, and so in its snapshot, or wholly after it, and then matches no row and writes
    nothing. Returns the stored rating (detached from the session).

    `criterion_id`: which criterion the answer judges; None for the item's first. A criterion
    that is not the study's or not asked of the item's kind matches no row either.
    """
    study = round_.study
    check_record_open(study.study_status, action="rating")
    check_may_answer(panellist)
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
    check, expected = _expected_version(seen)
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
        "p_check": check,
        "p_expected": expected,
        "p_criterion": criterion_id,
    }
    # Only the rating row is written, through Core, so the loaded study, round and panellist
    # stay current: keeping them (expire=False) spares the autosave answer reloading them.
    with unit_of_work(expire=False):
        row = db.session.execute(_upsert(db.engine.dialect.name), params).one_or_none()
        if row is None:
            # Why, read in the transaction that wrote nothing, before it ends.
            refused = _why_not_saved(round_.id, item_version_id, criterion_id)
            if refused is not None:
                raise refused
            # The round is open and the item in it: the stored answer is newer than the page.
            criterion = criterion_id or item_criteria(round_.id, item_version_id)[0]
            newer = _stored(round_.id, panellist.id, item_version_id, criterion)
            assert newer is not None
            check_not_overwriting(choice, RatingChoice(newer.score, newer.unable, newer.reason))
            return newer
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
        "criterion_id": Criterion.id,
        "score": bindparam("p_score", type_=columns.score.type),
        "unable": bindparam("p_unable", type_=columns.unable.type),
        "reason": bindparam("p_reason", type_=columns.reason.type),
        "change_reason": bindparam("p_change", type_=columns.change_reason.type),
        "created_at": bindparam("p_now", type_=columns.created_at.type),
        "updated_at": bindparam("p_now", type_=columns.updated_at.type),
    }
    wanted = bindparam("p_criterion", type_=columns.criterion_id.type)
    source = (
        _with_criteria(select(*values.values()).join(Round, Round.id == RoundItem.round_id))
        .where(
            RoundItem.round_id == bindparam("p_round"),
            RoundItem.item_version_id == bindparam("p_version"),
            Round.status == RoundStatus.OPEN.value,
            or_(wanted.is_(None), Criterion.id == wanted),
        )
        # The item's first criterion when none is named.
        .order_by(Criterion.position, Criterion.id)
        .limit(1)
    )
    insert = sqlite_insert
    if dialect == "postgresql":
        source = source.with_for_update(read=True, of=Round)
        insert = pg_insert
    statement = insert(table).from_select(list(values), source)
    return statement.on_conflict_do_update(
        index_elements=["panellist_id", "item_version_id", "round_id", "criterion_id"],
        set_={
            name: statement.excluded[name]
            for name in ("score", "unable", "reason", "change_reason", "updated_at")
        },
        # Over the version the page showed only, when it says which (`seen`).
        where=or_(
            ~bindparam("p_check", type_=Boolean()),
            columns.updated_at == bindparam("p_expected", type_=columns.updated_at.type),
        ),
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


def _with_criteria(query):  # type: ignore[no-untyped-def]
    """`query` (which has `RoundItem` and `Round`) joined to the criteria asked of each item:
    the study's criteria whose kinds include the kind the version was rated under."""
    kind = func.coalesce(ItemVersion.kind, Item.kind)
    return (
        query.join(ItemVersion, ItemVersion.id == RoundItem.item_version_id)
        .join(Item, Item.id == ItemVersion.item_id)
        .join(
            Criterion,
            and_(
                Criterion.study_id == Round.study_id,
                (literal(",") + Criterion.applies_to + literal(",")).like(
                    literal("%,") + kind + literal(",%")
                ),
            ),
        )
    )


def _round_items(query):  # type: ignore[no-untyped-def]
    return query.select_from(RoundItem).join(Round, Round.id == RoundItem.round_id)


def item_criteria(round_id: int, item_version_id: int) -> list[int]:
    """The ids of the criteria asked of the item in the round, first first."""
    return list(
        db.session.scalars(
            _with_criteria(_round_items(select(Criterion.id)))
            .where(RoundItem.round_id == round_id, RoundItem.item_version_id == item_version_id)
            .order_by(Criterion.position, Criterion.id)
        )
    )


def expected_answers(round_id: int) -> int:
    """How many answers rating every item of the round takes: one per item and criterion
    asked of it. Progress counts answers, not items."""
    return db.session.scalar(_progress_statements()[0], {"p_round": round_id}) or 0


def progress(round_: Round, panellist: Panellist) -> tuple[int, int]:
    """(answers given, answers the round takes) for the panellist, in one statement: the
    autosave tells "n of N rated" after every answer."""
    _expected, _answered, both = _progress_statements()
    row = db.session.execute(both, {"p_round": round_.id, "p_panellist": panellist.id}).one()
    return int(row[0] or 0), int(row[1] or 0)


@functools.cache
def _progress_statements() -> tuple[Select, Select, Select]:
    """(expected answers, answers given, both) with bound parameters, built once: building
    a statement costs about as much as running it, and the autosave runs them every time."""
    expected = _with_criteria(_round_items(select(func.count()))).where(
        RoundItem.round_id == bindparam("p_round")
    )
    answered = select(func.count(Rating.id)).where(
        Rating.round_id == bindparam("p_round"), Rating.panellist_id == bindparam("p_panellist")
    )
    return expected, answered, select(answered.scalar_subquery(), expected.scalar_subquery())


def _why_not_saved(
    round_id: int, item_version_id: int, criterion_id: int | None = None
) -> DomainError | None:
    """Why the save matched no row: the item is not in the round, the criterion not asked of
    it, or the round is not open; None when none of these (then a newer answer is stored)."""
    if not _in_round(round_id, item_version_id):
        return NotInRound(NOT_IN_ROUND)
    if criterion_id is not None and criterion_id not in item_criteria(round_id, item_version_id):
        return NotInRound(NOT_A_CRITERION)
    status = db.session.scalar(select(Round.status).where(Round.id == round_id))
    if status != RoundStatus.OPEN.value:
        return RoundClosed(ROUND_CLOSED_MESSAGE)
    return None


def _stored(
    round_id: int, panellist_id: int, item_version_id: int, criterion_id: int
) -> Rating | None:
    """The stored answer as the database has it now: a copy of it already loaded in the
    session may predate a Core write (`save_rating` keeps loaded objects, expire=False)."""
    return db.session.scalar(
        select(Rating)
        .where(
            Rating.round_id == round_id,
            Rating.panellist_id == panellist_id,
            Rating.item_version_id == item_version_id,
            Rating.criterion_id == criterion_id,
        )
        .execution_options(populate_existing=True)
    )


def stored_answer(
    round_: Round, panellist: Panellist, item_version_id: int, criterion_id: int | None
) -> Rating | None:
    """The panellist's stored answer on one criterion (None: the item's first) of an item."""
    criteria = item_criteria(round_.id, item_version_id)
    if not criteria:
        return None
    return _stored(round_.id, panellist.id, item_version_id, criterion_id or criteria[0])


def answers_of(round_: Round, panellist: Panellist) -> dict[tuple[int, int], Rating]:
    """The panellist's answers in the round by (item version id, criterion id)."""
    rows = db.session.scalars(
        select(Rating).where(Rating.round_id == round_.id, Rating.panellist_id == panellist.id)
    )
    return {(r.item_version_id, r.criterion_id): r for r in rows}


def ratings_by_version(round_: Round, panellist: Panellist) -> dict[int, Rating]:
    """The panellist's answer per item on its first criterion answered (the one holding the
    reason, when the first is answered)."""
    rows = db.session.scalars(
        select(Rating)
        .join(Criterion, Criterion.id == Rating.criterion_id)
        .where(Rating.round_id == round_.id, Rating.panellist_id == panellist.id)
        .order_by(Criterion.position.desc(), Criterion.id.desc())
    )
    return {r.item_version_id: r for r in rows}


def answered_count(round_: Round, panellist: Panellist) -> int:
    params = {"p_round": round_.id, "p_panellist": panellist.id}
    return db.session.scalar(_progress_statements()[1], params) or 0
