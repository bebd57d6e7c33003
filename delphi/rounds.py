"""The round state machine and the suggested decision per item."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from delphi.errors import InvalidTransition, ReasonRequired
from delphi.model import ConsensusStatus, Decision, RoundStatus, StudyStatus


@dataclass(frozen=True)
class RoundState:
    number: int
    status: RoundStatus
    item_count: int


def check_can_open(
    *,
    study_status: StudyStatus,
    rounds: Sequence[RoundState],
    number: int,
    max_rounds: int,
    undecided_items: int,
) -> None:
    """Raise `InvalidTransition` unless round `number` may open now."""
    if study_status is StudyStatus.COMPLETED:
        raise InvalidTransition("This study is completed, so no more rounds can open.")
    if any(r.status is RoundStatus.OPEN for r in rounds):
        raise InvalidTransition("Close the open round before opening another.")
    if number > max_rounds:
        raise InvalidTransition(
            f"This study allows at most {max_rounds} rounds. "
            "Raise the maximum in the study settings to run another."
        )
    current = next((r for r in rounds if r.number == number), None)
    if current is not None and current.status is not RoundStatus.DRAFT:
        raise InvalidTransition(f"Round {number} has already been opened.")
    if current is not None and current.item_count == 0:
        raise InvalidTransition(f"Round {number} has no items to rate. Add items first.")
    if current is None and undecided_items == 0:
        raise InvalidTransition("There are no items left to rate.")


def check_can_close(status: RoundStatus) -> None:
    """Raise `InvalidTransition` unless the round is open."""
    if status is RoundStatus.CLOSED:
        raise InvalidTransition("This round is already closed.")
    if status is not RoundStatus.OPEN:
        raise InvalidTransition("This round has not been opened yet.")


def check_can_reopen(
    *, study_status: StudyStatus, rounds: Sequence[RoundState], number: int
) -> None:
    """Raise `InvalidTransition` unless closed round `number` may open again.

    A closed round reopens while no later round has opened (its results and decisions have
    not yet fed another round) and the study is not completed. Reopening sets its stored
    results and decisions aside: they are made again when it closes again.
    """
    if study_status is StudyStatus.COMPLETED:
        raise InvalidTransition("This study is completed, so its rounds cannot reopen.")
    current = next((r for r in rounds if r.number == number), None)
    if current is None or current.status is not RoundStatus.CLOSED:
        raise InvalidTransition(f"Round {number} is not closed, so there is nothing to reopen.")
    later = [r for r in rounds if r.number > number and r.status is not RoundStatus.DRAFT]
    if later:
        raise InvalidTransition(
            f"Round {later[0].number} has opened, so round {number} can no longer reopen: "
            "its results and decisions have been used."
        )


def check_can_complete(
    *, study_status: StudyStatus, rounds: Sequence[RoundState], unconfirmed_decisions: int
) -> None:
    """Raise `InvalidTransition` unless the study may be completed now."""
    if study_status is StudyStatus.COMPLETED:
        raise InvalidTransition("This study is already completed.")
    if any(r.status is RoundStatus.OPEN for r in rounds):
        raise InvalidTransition("Close the open round before completing the study.")
    if unconfirmed_decisions:
        raise InvalidTransition(
            "Confirm the decisions on the last round's items first "
            f"({unconfirmed_decisions} left)."
        )


_SUGGESTION: dict[str, Decision] = {
    ConsensusStatus.IN: Decision.ACCEPT,
    ConsensusStatus.OUT: Decision.EXCLUDE,
}


def suggest_decision(status: str, *, last_round: bool = False) -> Decision:
    """The decision the consensus status points to; the facilitator confirms or overrides it.

    Items without consensus are carried forward, also in the last round: a facilitator who
    stops there records them as "no consensus" by not accepting or excluding them.
    """
    return _SUGGESTION.get(status, Decision.CARRY_FORWARD)


_DECIDING = {
    Decision.ACCEPT: ("accepting", "accept it"),
    Decision.EXCLUDE: ("excluding", "exclude it"),
    Decision.CARRY_FORWARD: ("carrying forward", "carry it forward"),
}


def check_decision(ref: str, *, suggested: Decision, chosen: Decision, reason: str) -> None:
    """Raise `ReasonRequired` when the decision on item `ref` differs from the suggestion
    and no reason is given: departing from the rule defined in advance is explained."""
    if chosen is suggested or reason.strip():
        return
    doing, _ = _DECIDING[chosen]
    _, advised = _DECIDING[suggested]
    raise ReasonRequired(f"Give a reason for {doing} {ref}: the suggestion was to {advised}")


_FOR_PANEL = {  # what the facilitators decided, as panellists are told it
    Decision.ACCEPT: "include it",
    Decision.EXCLUDE: "leave it out",
    Decision.CARRY_FORWARD: "rate it again in the next round",
}
_OVERRIDE_LABEL = {  # the tag of a decision the ratings did not point to: no "Agreed"
    Decision.ACCEPT: "Included by the facilitators",
    Decision.EXCLUDE: "Left out by the facilitators",
    Decision.CARRY_FORWARD: "Rated again, as the facilitators decided",
}


@dataclass(frozen=True)
class DecisionForPanel:
    """A confirmed decision as panellists are told it: what the consensus rule found in the
    ratings, what the facilitators decided and, when they departed from the rule's
    suggestion or gave one anyway, their reason. An override is never called "agreed"."""

    found: ConsensusStatus
    suggested: Decision
    decision: Decision
    reason: str

    @property
    def overridden(self) -> bool:
        return self.decision is not self.suggested

    @property
    def label(self) -> str:
        if self.overridden:
            return _OVERRIDE_LABEL[self.decision]
        return self.decision.panel_label

    @property
    def tag_colour(self) -> str:
        return self.decision.tag_colour

    @property
    def rule_found(self) -> str:
        found = "Nobody rated it" if self.found is ConsensusStatus.NOT_RATED else self.found.label
        return f"{found}, so the rule suggested to {_DECIDING[self.suggested][1]}."

    @property
    def facilitators_decided(self) -> str:
        words = _FOR_PANEL[self.decision]
        if self.overridden:
            return f"{words[0].upper()}{words[1:]}, which differs from the rule's suggestion."
        return f"{words[0].upper()}{words[1:]}, as the rule suggested."


def decision_for_panel(
    *, status: str | None, suggested: str, decision: str, reason: str
) -> DecisionForPanel:
    """`DecisionForPanel` from stored values (a snapshot's status, a decision row's)."""
    return DecisionForPanel(
        found=ConsensusStatus.of(status),
        suggested=Decision(suggested),
        decision=Decision(decision),
        reason=reason.strip(),
    )


def check_record_open(study_status: StudyStatus, *, action: str) -> None:
    """Raise `InvalidTransition` when the study is completed.

    A completed study's record is final: setup, the panel, items, ratings and the discussion
    change only after a facilitator reopens the study, with a reason that the audit log keeps.
    `action` completes the sentence "so ... is not possible", e.g. "adding an item".
    """
    if study_status is StudyStatus.COMPLETED:
        raise InvalidTransition(
            f"This study is completed, so {action} is not possible. Its record is final; "
            "a facilitator can reopen the study, with a reason, from the study page."
        )


def check_can_reopen_study(study_status: StudyStatus, *, reason: str) -> None:
    """Raise unless a completed study may reopen: only a completed one, and only for a reason
    (the audit log and the specification's method section keep it)."""
    if study_status is not StudyStatus.COMPLETED:
        raise InvalidTransition("This study is not completed, so there is nothing to reopen.")
    if not reason.strip():
        raise ReasonRequired("Give the reason for reopening the study")
