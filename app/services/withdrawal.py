"""Withdrawing from a study (issue 17): by the panellist, or recorded by a facilitator.

The rules (who may, what the choice means, which round counts it) live in
`delphi.withdrawal`; this module stores the withdrawal in one audited transaction and, when
the answers are to be removed, deletes them. Stored round snapshots are never touched: see
`delphi.withdrawal.CLOSED_ROUNDS_NOTE`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import (
    BackgroundAnswer,
    DiscussionMessage,
    Invitation,
    Panellist,
    Rating,
    User,
    utcnow,
)
from app.services import audit
from app.services.transaction import transactional
from delphi.withdrawal import AnswersChoice, check_can_withdraw

REMOVED_MESSAGE = ""


@dataclass(frozen=True)
class WithdrawalOutcome:
    ratings_removed: int = 0
    messages_removed: int = 0


def answers_held(panellist: Panellist) -> tuple[int, int]:
    """(ratings, messages) the panellist has given so far: what the confirm page names."""
    ratings = db.session.scalar(
        select(func.count(Rating.id)).where(Rating.panellist_id == panellist.id)
    )
    messages = db.session.scalar(
        select(func.count(DiscussionMessage.id)).where(
            DiscussionMessage.author_panellist_id == panellist.id,
            DiscussionMessage.as_facilitator.is_(False),
            DiscussionMessage.deleted_at.is_(None),
        )
    )
    return ratings or 0, messages or 0


@transactional
def withdraw(
    panellist: Panellist, choice: AnswersChoice, *, actor: User, by_facilitator: bool
) -> WithdrawalOutcome:
    """Withdraw the panellist; with `AnswersChoice.REMOVE` their ratings, messages and
    background answers go too. Audited as the person who acted (the panellist, or the
    facilitator who recorded it), with the pseudonym, never the name."""
    study = panellist.study
    check_can_withdraw(
        study.study_status,
        withdrawn_at=panellist.withdrawn_at,
        joined=panellist.joined_at is not None,
    )
    now = utcnow()
    panellist.withdrawn_at = now
    panellist.answers_removed = choice is AnswersChoice.REMOVE
    panellist.withdrawal_recorded_by_facilitator = by_facilitator
    # Any unused link stops working: they are no longer on the panel.
    db.session.execute(
        delete(Invitation).where(
            Invitation.panellist_id == panellist.id, Invitation.used_at.is_(None)
        )
    )
    outcome = WithdrawalOutcome()
    if choice is AnswersChoice.REMOVE:
        ratings = db.session.execute(delete(Rating).where(Rating.panellist_id == panellist.id))
        messages = 0
        for message in db.session.scalars(
            select(DiscussionMessage).where(
                DiscussionMessage.author_panellist_id == panellist.id,
                DiscussionMessage.as_facilitator.is_(False),
            )
        ):
            # Kept as a deleted message, so replies keep their place; its words go.
            message.body = REMOVED_MESSAGE
            message.deleted_at = message.deleted_at or now
            messages += 1
        db.session.execute(
            delete(BackgroundAnswer).where(BackgroundAnswer.panellist_id == panellist.id)
        )
        outcome = WithdrawalOutcome(ratings.rowcount or 0, messages)
    audit.record(
        study.id,
        "panel.withdrawal_recorded" if by_facilitator else "panel.withdrew",
        by=actor.id,
        pseudonym=panellist.pseudonym,
        answers="removed" if choice is AnswersChoice.REMOVE else "kept",
        ratings_removed=outcome.ratings_removed,
        messages_removed=outcome.messages_removed,
    )
    return outcome
