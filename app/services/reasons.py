"""The reasons given with ratings: loading them for a reader, counting them per item, hiding
one and showing it again. Who may read which is `delphi.reasons`; this module only loads
rows into `delphi.reasons.Reason`s and asks it.

Every query reads rating rows with a non-empty reason, whatever else a rating row holds
(one row per item and criterion once ratings have criteria), so each reason is grouped by the
band of the score it was given with. Item pages load one item's reasons only: a study of 500
panellists and 200 items may hold tens of thousands, so the feedback, review and results
pages count them per item (one grouped query) and load an item's reasons when it is opened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, and_, case, func, select

from app.extensions import db
from app.models import (
    DiscussionThread,
    Item,
    ItemVersion,
    Panellist,
    Rating,
    ReasonReview,
    Round,
    StakeholderGroup,
    Study,
    utcnow,
)
from app.services import audit
from app.services.transaction import transactional
from delphi import PanelRole, RoundStatus, check_record_open
from delphi.reasons import Reason, check_hide_reason, hiding_reason_shown, visible_to


@dataclass(frozen=True)
class Reader:
    """Who reads: decides which reasons are shown (`delphi.reasons.visible_to`)."""

    user_id: int | None
    is_facilitator: bool


@dataclass(frozen=True)
class ReasonShown:
    """A reason as one reader sees it."""

    reason: Reason
    own: bool
    # Why it was hidden, for its author and facilitators only; None when not hidden.
    hidden_note: str | None


def round_closed(round_: Round) -> bool:
    return round_.round_status is RoundStatus.CLOSED and round_.closed_at is not None


def _with_reason() -> Select:  # type: ignore[type-arg]
    return (
        select(
            Rating.id,
            ItemVersion.item_id,
            Rating.reason,
            Rating.score,
            Rating.unable,
            Panellist.pseudonym,
            StakeholderGroup.name,
            Panellist.role,
            Panellist.user_id,
            ReasonReview.id,
            ReasonReview.reason,
        )
        .join(ItemVersion, ItemVersion.id == Rating.item_version_id)
        .join(Panellist, Panellist.id == Rating.panellist_id)
        .join(StakeholderGroup, StakeholderGroup.id == Panellist.group_id)
        .outerjoin(ReasonReview, ReasonReview.rating_id == Rating.id)
        .where(func.trim(Rating.reason) != "")
        .order_by(Rating.id)
    )


def _reason(row: tuple) -> Reason:  # type: ignore[type-arg]
    rating_id, item_id, text, score, unable, pseudonym, group, role, user_id, rid, why = row
    return Reason(
        rating_id=rating_id,
        item_id=item_id,
        text=text.strip(),
        score=score,
        unable=bool(unable),
        pseudonym=pseudonym,
        group=group,
        role=PanelRole(role),
        author_user_id=user_id,
        hidden=rid is not None,
        hidden_reason=why or "",
    )


def item_reasons(round_: Round, item_id: int, reader: Reader) -> list[ReasonShown]:
    """The reasons given for one item in the round that `reader` may read, oldest first."""
    rows = db.session.execute(
        _with_reason().where(Rating.round_id == round_.id, ItemVersion.item_id == item_id)
    ).all()
    return _shown((_reason(tuple(row)) for row in rows), round_, reader)


def round_reasons(round_: Round, reader: Reader) -> dict[int, list[ReasonShown]]:
    """Every reason of the round `reader` may read, by item id (for exports and small pages)."""
    rows = db.session.execute(_with_reason().where(Rating.round_id == round_.id)).all()
    out: dict[int, list[ReasonShown]] = {}
    for shown in _shown((_reason(tuple(row)) for row in rows), round_, reader):
        out.setdefault(shown.reason.item_id, []).append(shown)
    return out


def reasons_in(round_ids: list[int], item_ids: list[int]) -> dict[tuple[int, int], list[Reason]]:
    """Every reason given for `item_ids` in `round_ids`, hidden ones included (callers ask
    `delphi.reasons`), by (round id, item id): one query, for the specification."""
    if not round_ids or not item_ids:
        return {}
    rows = db.session.execute(
        _with_reason()
        .add_columns(Rating.round_id)
        .where(Rating.round_id.in_(round_ids), ItemVersion.item_id.in_(item_ids))
    ).all()
    out: dict[tuple[int, int], list[Reason]] = {}
    for row in rows:
        reason = _reason(tuple(row)[:-1])
        out.setdefault((row[-1], reason.item_id), []).append(reason)
    return out


def _shown(reasons: Iterable[Reason], round_: Round, reader: Reader) -> list[ReasonShown]:
    closed = round_closed(round_)
    return [
        ReasonShown(
            reason=r,
            own=reader.user_id is not None and r.author_user_id == reader.user_id,
            hidden_note=hiding_reason_shown(
                r, viewer_user_id=reader.user_id, is_facilitator=reader.is_facilitator
            ),
        )
        for r in reasons
        if visible_to(
            r,
            viewer_user_id=reader.user_id,
            is_facilitator=reader.is_facilitator,
            round_closed=closed,
        )
    ]


@dataclass(frozen=True)
class Counts:
    """How many reasons a reader may read for an item; how many of them are patients'; and
    (for facilitators) how many are hidden."""

    total: int = 0
    patients: int = 0
    hidden: int = 0


def reason_counts(round_: Round, reader: Reader) -> dict[int, Counts]:
    """Per item id, the reasons `reader` may read: one grouped query, whatever the study's
    size. Rows are grouped by what `visible_to` depends on (hidden, the reader's own), and
    each group asked once."""
    own = (
        Panellist.user_id == reader.user_id
        if reader.user_id is not None
        else Panellist.id.is_(None)
    )
    own_flag = case((own, 1), else_=0)
    hidden_flag = case((ReasonReview.id.is_not(None), 1), else_=0)
    rows = db.session.execute(
        select(
            ItemVersion.item_id,
            own_flag,
            hidden_flag,
            Panellist.role,
            func.count(Rating.id),
        )
        .join(ItemVersion, ItemVersion.id == Rating.item_version_id)
        .join(Panellist, Panellist.id == Rating.panellist_id)
        .outerjoin(ReasonReview, ReasonReview.rating_id == Rating.id)
        .where(Rating.round_id == round_.id, func.trim(Rating.reason) != "")
        .group_by(ItemVersion.item_id, own_flag, hidden_flag, Panellist.role)
    ).all()
    closed = round_closed(round_)
    totals: dict[int, list[int]] = {}
    for item_id, is_own, is_hidden, role, count in rows:
        sample = Reason(
            rating_id=0,
            item_id=item_id,
            text="",
            score=None,
            unable=False,
            pseudonym="",
            group="",
            role=PanelRole(role),
            author_user_id=reader.user_id if is_own else -1,  # type: ignore[arg-type]
            hidden=bool(is_hidden),
        )
        if not visible_to(
            sample,
            viewer_user_id=reader.user_id,
            is_facilitator=reader.is_facilitator,
            round_closed=closed,
        ):
            continue
        entry = totals.setdefault(item_id, [0, 0, 0])
        entry[0] += count
        entry[1] += count if sample.is_patient else 0
        entry[2] += count if is_hidden else 0
    return {item_id: Counts(*values) for item_id, values in totals.items()}


def summaries(study: Study) -> dict[int, str]:
    """Each item's pinned summary of the arguments (the discussion's), by item id."""
    return {
        item_id: text
        for item_id, text in db.session.execute(
            select(DiscussionThread.item_id, DiscussionThread.summary).where(
                DiscussionThread.study_id == study.id,
                DiscussionThread.item_id.is_not(None),
                DiscussionThread.summary != "",
            )
        )
    }


def rating_in_round(round_: Round, rating_id: int) -> Rating | None:
    """The rating, if it belongs to the round and has a reason."""
    return db.session.scalar(
        select(Rating).where(
            and_(
                Rating.id == rating_id,
                Rating.round_id == round_.id,
                func.trim(Rating.reason) != "",
            )
        )
    )


def review_of(rating_id: int) -> ReasonReview | None:
    return db.session.scalar(select(ReasonReview).where(ReasonReview.rating_id == rating_id))


def item_id_of(rating: Rating) -> int:
    return int(
        db.session.scalar(
            select(ItemVersion.item_id).where(ItemVersion.id == rating.item_version_id)
        )
        or 0
    )


def _item_ref(rating: Rating) -> str:
    return (
        db.session.scalar(
            select(Item.ref)
            .join(ItemVersion, ItemVersion.item_id == Item.id)
            .where(ItemVersion.id == rating.item_version_id)
        )
        or ""
    )


@transactional
def hide_reason(study: Study, rating: Rating, why: str, *, actor_id: int) -> ReasonReview:
    """Hide a rating's reason from the rest of the panel; its author reads `why`."""
    check_record_open(study.study_status, action="hiding a reason")
    why = check_hide_reason(why)
    review = review_of(rating.id)
    if review is None:
        review = ReasonReview(rating_id=rating.id)
        db.session.add(review)
    review.reason = why
    review.hidden_by_id = actor_id
    review.hidden_at = utcnow()
    audit.record(
        study.id,
        "reason.hidden",
        by=actor_id,
        rating=rating.id,
        item=_item_ref(rating),
        reason=why,
    )
    return review


@transactional
def show_reason(study: Study, rating: Rating, *, actor_id: int) -> bool:
    """Show a hidden reason to the panel again; False if it was not hidden."""
    check_record_open(study.study_status, action="showing a hidden reason")
    review = review_of(rating.id)
    if review is None:
        return False
    db.session.delete(review)
    audit.record(study.id, "reason.shown", by=actor_id, rating=rating.id, item=_item_ref(rating))
    return True
