"""Which ratings stability may compare between two rounds: like with like.

Ratings attach to the item version rated. An item reworded between two rounds was rated as
two different texts, so a change in its ratings may be the new wording rather than panellists
moving: its stability is not computed, and the reports say that the wording changed. The
statistics themselves (`scoring.stability`) know nothing of versions; callers pair ratings by
this rule first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class StabilityPairing:
    """Items rated in both rounds: in the same version (`comparable`) or not (`reworded`)."""

    comparable: frozenset[int]
    reworded: frozenset[int]


def pair_for_stability(before: Mapping[int, int], after: Mapping[int, int]) -> StabilityPairing:
    """`before` and `after`: item id → the id of the version rated in each round."""
    both = before.keys() & after.keys()
    return StabilityPairing(
        comparable=frozenset(i for i in both if before[i] == after[i]),
        reworded=frozenset(i for i in both if before[i] != after[i]),
    )


def wording_changed_verdict(from_round: int, to_round: int) -> str:
    """What the reports say instead of a verdict for an item reworded between the rounds."""
    return (
        f"not computed: the wording changed between rounds {from_round} and {to_round}, "
        "so the ratings are of different texts"
    )
