"""The three bands of a rating scale: the one definition that `delphi/` and `scoring/` share.

Bottom and top bands take ``round(n_points / 3)`` points each (at least one), the middle band
the rest: 1-9 → 1-3 / 4-6 / 7-9, 1-5 → 1-2 / 3 / 4-5, 1-7 → 1-2 / 3-5 / 6-7 (scoring/README.md).
A value between bands (a median of 6.5 on 1-9) is in an outer band only if it reaches it.

Pure standard library. `delphi` and `scoring` may not import each other (import-linter), so
what both must agree on lives here, and this package imports neither of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Band(StrEnum):
    BOTTOM = "bottom"
    MIDDLE = "middle"
    TOP = "top"


@dataclass(frozen=True)
class Bands:
    """Where the bands of the scale ``low..high`` end: ``bottom_max`` and ``top_min``."""

    low: int
    high: int
    bottom_max: int
    top_min: int

    @classmethod
    def default(cls, low: int, high: int) -> Bands:
        """The documented default: ``round(n_points / 3)`` points per outer band."""
        # n/3 is never exactly x.5, so rounding half up needs no tie rule.
        side = max(int((high - low + 1) / 3 + 0.5), 1)
        return cls(low, high, low + side - 1, high - side + 1)

    def band(self, value: float) -> Band:
        """The band of a score, or of a median between two points (6.5 on 1-9 is middle)."""
        if value >= self.top_min:
            return Band.TOP
        if value <= self.bottom_max:
            return Band.BOTTOM
        return Band.MIDDLE

    def range_of(self, band: Band) -> tuple[int, int]:
        """First and last point of a band; the middle band is empty (last < first) when the
        outer bands meet."""
        if band == Band.BOTTOM:
            return self.low, self.bottom_max
        if band == Band.TOP:
            return self.top_min, self.high
        return self.bottom_max + 1, self.top_min - 1


__all__ = ["Band", "Bands"]
