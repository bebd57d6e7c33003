"""Opening and closing rounds, storing the frozen snapshot, recording decisions.

Opening, closing and reopening a round each post a notice in the study channel
(`discussion_writes.post_round_notice`), in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import (
    Item,
    ItemDecision,
    ItemVersion,
    Round,
    RoundItem,
    RoundSnapshot,
    Study,
    User,
    utcnow,
)
from app.services import audit
from app.services.discussion_writes import post_round_notice
from app.services.reporting import attrition_pair
from app.services.results import (
    compute_results,
    compute_stability,
    previous_closed_round,
    summarise,
)
from app.services.transaction import transactional
from delphi import (
    Decision,
    InvalidTransition,
    ReasonRequired,
    RoundState,
    RoundStatus,
    StudyMode,
    StudyStatus,
    check_can_close,
    check_can_open,
    check_can_reopen,
    check_decision,
    check_record_open,
)
from delphi.ideas import IdeasStatus, check_round_one_may_open


@transactional
def open_round(
    study: Study,
    *,
    actor: User | None,
    instructions: str = "",
    closes_at: datetime | None = None,
    invite_rule: str = "everyone",
    now: datetime | None = None,
) -> Round:
    """Open the next round with every undecided item (round 1) or those carried forward."""
    rounds = list(study.rounds)
    number = len(rounds) + 1
    previous = rounds[-1] if rounds else None
    if study.mode == StudyMode.REALTIME and rounds:
        raise InvalidTransition(
            "A real-time study has one continuous round. Freeze a snapshot instead."
        )
    if previous is not None and previous.round_status is RoundStatus.CLOSED:
        pending = db.session.scalars(
            select(ItemDecision).where(
                ItemDecision.round_id == previous.id, ItemDecision.decided_at.is_(None)
            )
        ).all()
        if pending:
            raise InvalidTransition(
                f"Confirm the decision on every item of round {previous.number} before opening "
                f"round {number} ({len(pending)} left)."
            )
        carried = db.session.scalars(
            select(Item)
            .join(ItemDecision, ItemDecision.item_id == Item.id)
            .where(
                ItemDecision.round_id == previous.id,
                ItemDecision.decision == Decision.CARRY_FORWARD.value,
            )
            .order_by(Item.position)
        ).all()
        # Items added since (accepted proposals, new items) join the next round too.
        rated_before = set(
            db.session.scalars(
                select(ItemVersion.item_id)
                .join(RoundItem, RoundItem.item_version_id == ItemVersion.id)
                .join(Round, Round.id == RoundItem.round_id)
                .where(Round.study_id == study.id)
            )
        )
        carried = [
            *carried,
            *(i for i in study.items if i.decision is None and i.id not in rated_before),
        ]
    else:
        carried = [i for i in study.items if i.decision is None]
    if number == 1:
        check_round_one_may_open(IdeasStatus(study.ideas_status or IdeasStatus.NONE.value))
    check_can_open(
        study_status=study.study_status,
        rounds=[RoundState(r.number, r.round_status, len(r.round_items)) for r in rounds],
        number=number,
        max_rounds=study.max_rounds,
        undecided_items=len(carried),
    )
    round_ = Round(
        study_id=study.id,
        number=number,
        status=RoundStatus.OPEN.value,
        instructions=instructions,
        closes_at=closes_at,
        opened_at=now or utcnow(),
        invite_rule=invite_rule if number > 1 else "everyone",
    )
    db.session.add(round_)
    db.session.flush()
    for position, item in enumerate(carried, start=1):
        db.session.add(
            RoundItem(round_id=round_.id, item_version_id=item.current.id, position=position)
        )
    study.status = StudyStatus.ACTIVE.value
    post_round_notice(round_)
    audit.record(
        study.id, "round.opened", by=audit.actor_id(actor), round=number, items=len(carried)
    )
    return round_


@transactional
def close_round(round_id: int, *, actor: User | None, now: datetime | None = None) -> Round:
    """Close the round and store its results once; a second close is refused.

    `actor` None is the system: the round's deadline passed (`close_due_rounds`).
    """
    round_ = db.session.scalar(select(Round).where(Round.id == round_id).with_for_update())
    if round_ is None:
        raise InvalidTransition("That round does not exist.")
    db.session.refresh(round_)
    check_can_close(round_.round_status)
    round_.status = RoundStatus.CLOSED.value
    round_.closed_at = now or utcnow()
    db.session.flush()
    post_round_notice(round_)
    payload = round_payload(round_)
    db.session.add(RoundSnapshot(round_id=round_.id, payload=payload, summary=summarise(payload)))
    for entry in payload["items"].values():
        db.session.add(
            ItemDecision(
                round_id=round_.id,
                item_id=entry["item_id"],
                suggested=entry["suggested"],
                decision=entry["suggested"],
            )
        )
    audit.record(round_.study_id, "round.closed", by=audit.actor_id(actor), round=round_.number)
    return round_


def round_payload(round_: Round) -> dict[str, Any]:
    """What a closed round keeps: its results and alpha (`compute_results`) and the stability
    of ratings since the closed round before it, computed once here so that no page
    recomputes them (reopening the round deletes them with the snapshot)."""
    payload = compute_results(round_)
    payload["stability"] = compute_stability(round_)
    earlier = previous_closed_round(round_)
    # The attrition-bias check needs the later round closed: both rounds' ratings are final.
    payload["attrition"] = attrition_pair(earlier, round_) if earlier is not None else None
    return payload


@transactional
def record_decisions(
    round_: Round, choices: dict[int, tuple[Decision, str]], user: User
) -> list[tuple[int, str]]:
    """Store the facilitator's decisions; an override of the suggestion needs a reason.

    Returns the problems found, (item id, message) per item: nothing is saved if there are
    any.
    """
    check_record_open(round_.study.study_status, action="changing a decision")
    if round_.round_status is not RoundStatus.CLOSED:
        raise InvalidTransition("Decisions are made after the round closes.")
    later = [r for r in round_.study.rounds if r.number > round_.number]
    if later:
        raise InvalidTransition(
            f"Round {round_.number + 1} has opened, so round {round_.number}'s decisions are final."
        )
    rows = db.session.scalars(select(ItemDecision).where(ItemDecision.round_id == round_.id)).all()
    problems = []
    for row in rows:
        if row.item_id not in choices:
            continue
        decision, reason = choices[row.item_id]
        try:
            check_decision(
                row.item.ref, suggested=Decision(row.suggested), chosen=decision, reason=reason
            )
        except ReasonRequired as error:
            problems.append((row.item_id, str(error)))
    if problems:
        return problems
    now = utcnow()
    for row in rows:
        if row.item_id not in choices:
            continue
        decision, reason = choices[row.item_id]
        row.decision = decision.value
        row.reason = reason.strip()
        row.decided_by_id = user.id
        row.decided_at = now
        row.item.decision = None if decision is Decision.CARRY_FORWARD else decision.value
    audit.record(
        round_.study_id, "round.decided", by=user.id, round=round_.number, count=len(choices)
    )
    return []


@transactional
def reopen_round(
    round_id: int, reason: str, closes_at: datetime | None = None, *, actor: User | None
) -> Round:
    """Open a closed round again (`delphi.check_can_reopen`), for the reason given.

    Its stored results are deleted and its decisions cleared (items it decided are undecided
    again): both are made afresh, on the ratings as they then stand, when it closes again.
    The audit log keeps when it had closed, the reason and the decisions cleared. It closes
    on `closes_at` if given; otherwise an earlier closing date still ahead is kept, and one
    already past dropped (it would close the round again at once).
    """
    round_ = db.session.scalar(select(Round).where(Round.id == round_id).with_for_update())
    if round_ is None:
        raise InvalidTransition("That round does not exist.")
    db.session.refresh(round_)
    study = round_.study
    check_can_reopen(
        study_status=study.study_status,
        rounds=[RoundState(r.number, r.round_status, len(r.round_items)) for r in study.rounds],
        number=round_.number,
    )
    if not reason.strip():
        raise ReasonRequired("Give the reason for reopening the round")
    decisions = db.session.scalars(
        select(ItemDecision)
        .join(Item, Item.id == ItemDecision.item_id)
        .where(ItemDecision.round_id == round_.id)
        .order_by(Item.position)
    ).all()
    cleared = [
        f"{d.item.ref} {d.value.past_label.lower()}" for d in decisions if d.decided_at is not None
    ]
    for decision in decisions:
        decision.item.decision = None
        db.session.delete(decision)
    db.session.execute(delete(RoundSnapshot).where(RoundSnapshot.round_id == round_.id))
    closed_at = round_.closed_at
    now = utcnow()
    round_.status = RoundStatus.OPEN.value
    round_.closed_at = None
    if closes_at is not None:
        round_.closes_at = closes_at
    elif round_.closes_at is not None and round_.closes_at <= now:
        round_.closes_at = None
    db.session.flush()
    post_round_notice(round_, reopened=True)
    audit.record(
        study.id,
        "round.reopened",
        by=audit.actor_id(actor),
        round=round_.number,
        reason=reason.strip(),
        closed_at=closed_at.isoformat() if closed_at else "",
        decisions_cleared=", ".join(cleared) or "none",
        closes_at=round_.closes_at.isoformat() if round_.closes_at else "",
    )
    return round_


def confirmed_decisions(round_: Round) -> int:
    """How many of the round's decisions the facilitator has confirmed."""
    return (
        db.session.scalar(
            select(func.count(ItemDecision.id)).where(
                ItemDecision.round_id == round_.id, ItemDecision.decided_at.is_not(None)
            )
        )
        or 0
    )


def close_due_rounds(now: datetime | None = None) -> list[Round]:
    """Close every open round whose deadline has passed, each in a transaction of its own,
    audited as done by the system (cron and each study page call this)."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Round.id).where(
            Round.status == RoundStatus.OPEN.value,
            Round.closes_at.is_not(None),
            Round.closes_at <= now,
        )
    ).all()
    closed = []
    for round_id in due:
        try:
            closed.append(close_round(round_id, actor=None, now=now))
        except InvalidTransition:
            continue  # another worker closed it first (its transaction is rolled back)
        # After the close has committed: the panel is told its feedback is ready; what
        # failed is in the audit log, where the facilitators see it.
        from app.services.notifications import notify_round_closed

        notify_round_closed(round_id, actor=None)
    return closed
