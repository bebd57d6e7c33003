"""Withdrawal: a panellist leaves the study, from their own page or through a facilitator.

They choose what happens to their answers so far: they stay, under the pseudonym, or they
are removed. Either way the person answers and posts no more, is not reminded or emailed,
and is not counted as a non-responder in later rounds; the round in which they withdrew
counts them as having withdrawn.

Removal takes their ratings (with reasons) and their messages out of the open round and of
every later computation (stability, the attrition-bias check, exports of ratings). The
results of rounds already closed are snapshots, the record of what the panel saw and what
was decided on it, so they are not rewritten: their figures stay as stored. The confirm
page says so before anyone chooses.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from delphi.errors import InvalidTransition, NotAllowedToRate, ReasonRequired
from delphi.model import StudyStatus
from delphi.rounds import check_record_open

WITHDRAWN_MESSAGE = "You have withdrawn from this study, so you can no longer answer or post in it."
CLOSED_ROUNDS_NOTE = (
    "The results of rounds that have already closed were stored when each round closed and "
    "are not rewritten: removing the answers takes them out of the open round and of every "
    "later calculation and export, but not out of figures already published."
)


class Withdrawn(NotAllowedToRate):
    """A withdrawn panellist tried to answer or post."""


class AnswersChoice(Enum):
    """What happens to a withdrawing panellist's answers so far."""

    KEEP = "keep"
    REMOVE = "remove"

    @property
    def label(self) -> str:
        return {
            AnswersChoice.KEEP: "Keep my answers so far, under my pseudonym",
            AnswersChoice.REMOVE: "Remove my answers so far",
        }[self]

    @property
    def label_for_facilitator(self) -> str:
        return {
            AnswersChoice.KEEP: "Keep their answers so far, under their pseudonym",
            AnswersChoice.REMOVE: "Remove their answers so far",
        }[self]


def parse_choice(raw: str | None) -> AnswersChoice:
    """The form's choice, or `ReasonRequired` with the message for people."""
    try:
        return AnswersChoice(raw or "")
    except ValueError:
        raise ReasonRequired("Choose whether the answers so far stay or are removed") from None


def check_not_withdrawn(withdrawn_at: datetime | None) -> None:
    """Raise `Withdrawn` once the panellist has withdrawn."""
    if withdrawn_at is not None:
        raise Withdrawn(WITHDRAWN_MESSAGE)


def check_can_withdraw(
    study_status: StudyStatus, *, withdrawn_at: datetime | None, joined: bool
) -> None:
    """A panellist who joined may withdraw once, while the study is not completed."""
    check_record_open(study_status, action="withdrawing from the study")
    if withdrawn_at is not None:
        raise InvalidTransition("This panellist has already withdrawn from the study.")
    if not joined:
        raise InvalidTransition(
            "This person has not joined the panel yet, so there is nothing to withdraw "
            "from. Remove them from the panel instead."
        )


def on_panel_for_round(
    joined_at: datetime | None, withdrawn_at: datetime | None, opened_at: datetime | None
) -> bool:
    """Whether a panellist counts on a round's panel: joined, and not withdrawn before the
    round opened (a round not yet opened counts those not withdrawn)."""
    if joined_at is None:
        return False
    if withdrawn_at is None:
        return True
    return opened_at is not None and withdrawn_at >= opened_at


def withdrew_during_round(
    withdrawn_at: datetime | None, opened_at: datetime | None, closed_at: datetime | None
) -> bool:
    """Whether the withdrawal fell while the round was open (or after, if it is still open)."""
    if withdrawn_at is None or opened_at is None or withdrawn_at < opened_at:
        return False
    return closed_at is None or withdrawn_at < closed_at
