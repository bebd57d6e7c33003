"""Consensus rules: given one item's figures, decide consensus in, out or none.

Percentages are compared with exact rational arithmetic, so "70 % of 10 panellists" is met by
exactly 7 ratings and never lost to floating-point rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Final, Literal

from scoring.errors import ScoringInputError
from scoring.scale import Scale

Status = Literal["consensus_in", "consensus_out", "no_consensus", "not_rated"]
CONSENSUS_IN: Status = "consensus_in"
CONSENSUS_OUT: Status = "consensus_out"
NO_CONSENSUS: Status = "no_consensus"
NOT_RATED: Status = "not_rated"


@dataclass(frozen=True)
class ItemFigures:
    """The figures a rule needs about one item (n > 0 ratings on the scale)."""

    n: int
    n_bottom: int
    n_top: int
    median: float
    iqr: float
    di: float


def _share_at_least(count: int, n: int, pct: float) -> bool:
    return Fraction(count * 100, n) >= Fraction(str(pct))


def _share_at_most(count: int, n: int, pct: float) -> bool:
    return Fraction(count * 100, n) <= Fraction(str(pct))


@dataclass(frozen=True)
class PercentageRule:
    """Percentage rule (default): in when >= ``in_min_pct`` % rate in the top band and
    <= ``out_max_pct`` % in the bottom band; out when >= ``in_min_pct`` % rate in the bottom
    band and <= ``out_max_pct`` % in the top band; otherwise no consensus.

    Percentages are of the panellists who gave a rating ("unable to rate" excluded).
    """

    in_min_pct: float = 70.0
    out_max_pct: float = 15.0
    name: str = "percentage"

    def __post_init__(self) -> None:
        if not (0 < self.in_min_pct <= 100 and 0 <= self.out_max_pct < 100):
            raise ScoringInputError(
                "percentage rule: need 0 < in_min_pct <= 100 and 0 <= out_max_pct < 100"
            )

    def classify(self, f: ItemFigures, scale: Scale) -> Status:
        """Status of one rated item."""
        if _share_at_least(f.n_top, f.n, self.in_min_pct) and _share_at_most(
            f.n_bottom, f.n, self.out_max_pct
        ):
            return CONSENSUS_IN
        if _share_at_least(f.n_bottom, f.n, self.in_min_pct) and _share_at_most(
            f.n_top, f.n, self.out_max_pct
        ):
            return CONSENSUS_OUT
        return NO_CONSENSUS

    def describe(self) -> str:
        """One sentence for reports."""
        return (
            f"consensus in: >= {self.in_min_pct:g}% rate in the top band and <= "
            f"{self.out_max_pct:g}% in the bottom band; consensus out: the mirror image"
        )


@dataclass(frozen=True)
class MedianIQRRule:
    """Median and IQR rule: median in the top band and IQR <= ``max_iqr`` → in; median in the
    bottom band and IQR <= ``max_iqr`` → out; otherwise no consensus.

    A median between bands (6.5 on 1-9) is not in the top band (see ``Scale.band``).
    """

    max_iqr: float = 2.0
    name: str = "median_iqr"

    def __post_init__(self) -> None:
        if self.max_iqr < 0:
            raise ScoringInputError("median/IQR rule: max_iqr must not be negative")

    def classify(self, f: ItemFigures, scale: Scale) -> Status:
        """Status of one rated item."""
        band = scale.band(f.median)
        if f.iqr <= self.max_iqr and band == "top":
            return CONSENSUS_IN
        if f.iqr <= self.max_iqr and band == "bottom":
            return CONSENSUS_OUT
        return NO_CONSENSUS

    def describe(self) -> str:
        """One sentence for reports."""
        return f"median in the top (bottom) band and IQR <= {self.max_iqr:g} → in (out)"


@dataclass(frozen=True)
class RandRule:
    """RAND/UCLA rule: median in the top band without disagreement (DI <= ``max_di``) → in;
    median in the bottom band without disagreement → out; median in the middle band, or any
    median with disagreement (DI > ``max_di``), → no consensus (RAND's "uncertain").
    """

    max_di: float = 1.0
    name: str = "rand"

    def classify(self, f: ItemFigures, scale: Scale) -> Status:
        """Status of one rated item."""
        if f.di > self.max_di:
            return NO_CONSENSUS
        band = scale.band(f.median)
        if band == "top":
            return CONSENSUS_IN
        if band == "bottom":
            return CONSENSUS_OUT
        return NO_CONSENSUS

    def describe(self) -> str:
        """One sentence for reports."""
        return (
            f"RAND/UCLA: median in the top (bottom) band and DI <= {self.max_di:g} → in (out); "
            "DI above it means disagreement"
        )


Rule = PercentageRule | MedianIQRRule | RandRule


# Every rule's `name`, the one spelling used by the command line, reports and the web app.
RULE_NAMES: Final = (PercentageRule.name, MedianIQRRule.name, RandRule.name)


def rule_from_name(
    name: str,
    *,
    in_min_pct: float = PercentageRule.in_min_pct,
    out_max_pct: float = PercentageRule.out_max_pct,
    max_iqr: float = MedianIQRRule.max_iqr,
    max_di: float = RandRule.max_di,
) -> Rule:
    """The rule called `name` (one of `RULE_NAMES`) with the given thresholds; each rule uses
    its own and ignores the others'. Raises ScoringInputError for an unknown name."""
    if name == PercentageRule.name:
        return PercentageRule(in_min_pct=in_min_pct, out_max_pct=out_max_pct)
    if name == MedianIQRRule.name:
        return MedianIQRRule(max_iqr=max_iqr)
    if name == RandRule.name:
        return RandRule(max_di=max_di)
    raise ScoringInputError(f"unknown rule {name!r}: use {', '.join(RULE_NAMES)}")
