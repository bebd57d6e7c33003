"""Whether a rating may be saved, and what it means."""

from __future__ import annotations

from dataclasses import dataclass

from delphi.errors import (
    AnswerChangedElsewhere,
    NotAllowedToRate,
    RatingOutOfRange,
    RoundClosed,
    RoundNotOpen,
)
from delphi.model import PanelRole, RoundStatus, Scale

REASON_MAX_LENGTH = 2000
ROUND_CLOSED_MESSAGE = (
    "This round has closed, so your rating was not saved. "
    "Your earlier answers are kept in the results."
)


@dataclass(frozen=True)
class RatingChoice:
    """A validated answer: a score on the scale, or "unable to rate" (score None)."""

    score: int | None
    unable: bool
    reason: str


def validate_rating(
    *,
    round_status: RoundStatus,
    role: PanelRole,
    scale: Scale,
    score: int | None,
    unable: bool,
    reason: str = "",
) -> RatingChoice:
    """Check one answer against the round's state, the panellist's role and the scale.

    Raises `RoundClosed`, `RoundNotOpen`, `NotAllowedToRate` or `RatingOutOfRange` with a
    message written for the panellist.
    """
    if round_status is RoundStatus.CLOSED:
        raise RoundClosed(ROUND_CLOSED_MESSAGE)
    if round_status is not RoundStatus.OPEN:
        raise RoundNotOpen("This round is not open for rating yet.")
    if not role.can_rate:
        raise NotAllowedToRate("Observers can read the study but cannot rate items.")
    reason = reason.strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise RatingOutOfRange(f"Your reason must be {REASON_MAX_LENGTH} characters or fewer.")
    if unable:
        return RatingChoice(score=None, unable=True, reason=reason)
    if score is None or not scale.low <= score <= scale.high:
        raise RatingOutOfRange(
            f"Select a rating from {scale.low} to {scale.high}, or 'unable to rate'."
        )
    return RatingChoice(score=score, unable=False, reason=reason)


def check_not_overwriting(sent: RatingChoice, newer: RatingChoice) -> None:
    """A page loaded before `newer` was saved (in another tab or window) sent `sent`.

    The newer answer stands: raise `AnswerChangedElsewhere`, saying what it is, unless the
    page sent that same answer. A page never sets back what was saved after it was opened.
    """
    if (sent.score, sent.unable, sent.reason) == (newer.score, newer.unable, newer.reason):
        return
    shown = "unable to rate" if newer.unable else str(newer.score)
    raise AnswerChangedElsewhere(
        "This answer was changed in another tab or window after you opened this page. "
        f"We kept the newer answer, {shown}. Choose again if you want to change it."
    )
