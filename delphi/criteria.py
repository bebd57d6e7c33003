"""Criteria: what a rating judges (Importance, Validity, Feasibility...).

Indicator panels (RAND/UCLA appropriateness, QOF and NICE indicator development, OMERACT)
rate each item on more than one criterion and judge consensus per criterion. An item is
only as good as its weakest necessary criterion: an indicator that matters but cannot be
measured must not pass. `combine_statuses` is that rule, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from delphi.errors import DomainError
from delphi.model import ConsensusStatus, ItemKind

DEFAULT_NAME = "Importance"
DEFAULT_QUESTION = "How important is this item?"
NAME_MAX = 100
QUESTION_MAX = 500

# Said after the consensus rule's own text when a study has several criteria.
COMBINATION_TEXT = (
    "Each criterion is judged by this rule on its own. An item is in only when every "
    "criterion that applies to it is in; it is out when any criterion that applies is out; "
    "otherwise there is no consensus on the item."
)


class CriteriaLocked(DomainError):
    """Criteria change only before round 1 opens: ratings already given judge these."""

    status_code = 409


class InvalidCriterion(DomainError):
    status_code = 422


@dataclass(frozen=True)
class CriterionSpec:
    """A criterion as a study defines it."""

    name: str
    question: str
    applies_to: frozenset[ItemKind]

    def applies(self, kind: ItemKind | str) -> bool:
        return ItemKind(kind) in self.applies_to


def parse_kinds(value: str | Iterable[str]) -> frozenset[ItemKind]:
    """The kinds a criterion applies to, from the stored "prompt,indicator" or a list;
    unknown words are ignored."""
    words = value.split(",") if isinstance(value, str) else value
    known = {k.value for k in ItemKind}
    return frozenset(ItemKind(w.strip()) for w in words if w.strip() in known)


def format_kinds(kinds: Iterable[ItemKind | str]) -> str:
    """Stored form of `parse_kinds`, in the enumeration's order (stable for comparisons)."""
    chosen = {ItemKind(k) for k in kinds}
    return ",".join(k.value for k in ItemKind if k in chosen)


def validate_criterion(
    name: str, question: str, kinds: Iterable[ItemKind | str], *, other_names: Iterable[str]
) -> CriterionSpec:
    """A criterion a facilitator typed, or `InvalidCriterion` saying what to change."""
    name, question = name.strip(), question.strip()
    if not name:
        raise InvalidCriterion("Enter the criterion's name, for example Feasibility.")
    if len(name) > NAME_MAX:
        raise InvalidCriterion(f"Keep the name to {NAME_MAX} characters or fewer.")
    if name.casefold() in {n.casefold() for n in other_names}:
        raise InvalidCriterion(f"The study already has a criterion named '{name}'.")
    if not question:
        raise InvalidCriterion("Enter the question panellists answer for this criterion.")
    if len(question) > QUESTION_MAX:
        raise InvalidCriterion(f"Keep the question to {QUESTION_MAX} characters or fewer.")
    applies_to = frozenset(ItemKind(k) for k in kinds)
    if not applies_to:
        raise InvalidCriterion("Select the kinds of item this criterion applies to.")
    return CriterionSpec(name, question, applies_to)


def check_criteria_editable(first_round_opened: bool) -> None:
    """Criteria are set before round 1 opens: changing them afterwards would change what
    ratings already given mean."""
    if first_round_opened:
        raise CriteriaLocked(
            "The criteria can no longer change: round 1 has opened, and ratings already "
            "given judge these criteria."
        )


def check_can_remove(remaining: int) -> None:
    if remaining < 1:
        raise InvalidCriterion("A study needs at least one criterion.")


def check_every_kind_asked(kinds_per_criterion: Iterable[frozenset[ItemKind]]) -> None:
    """Every kind of item is asked at least one criterion, or its items could not be rated."""
    covered = frozenset().union(*kinds_per_criterion)
    missing = [k for k in ItemKind if k not in covered]
    if missing:
        names = " and ".join(f"{k.label.lower()}s" for k in missing)
        raise InvalidCriterion(
            f"Every kind of item needs a criterion: {names} would have none to be rated on."
        )


def applicable(criteria: Sequence[CriterionSpec], kind: ItemKind | str) -> list[int]:
    """Positions (in `criteria`) of the criteria that apply to an item of `kind`."""
    return [i for i, c in enumerate(criteria) if c.applies(kind)]


def combine_statuses(statuses: Iterable[ConsensusStatus | str]) -> ConsensusStatus:
    """An item's status from the statuses of the criteria that apply to it.

    - in only when every criterion is in;
    - out when any criterion is out (the panel agreed the item fails something it needs);
    - not rated when no criterion was rated (or none applies);
    - otherwise no consensus (a criterion without consensus, or not rated beside others).
    """
    found = [ConsensusStatus(s) for s in statuses]
    if not found or all(s is ConsensusStatus.NOT_RATED for s in found):
        return ConsensusStatus.NOT_RATED
    if any(s is ConsensusStatus.OUT for s in found):
        return ConsensusStatus.OUT
    if all(s is ConsensusStatus.IN for s in found):
        return ConsensusStatus.IN
    return ConsensusStatus.NO_CONSENSUS
