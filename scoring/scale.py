"""The rating scale and its three bands (bottom, middle, top)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from scale_bands import Band, Bands
from scoring.errors import ScoringInputError


@dataclass(frozen=True)
class Scale:
    """An integer rating scale ``low..high`` split into bottom, middle and top bands.

    Default bands (``scale_bands.Bands.default``, shared with the domain package): the bottom
    and top bands each take ``round(n_points / 3)`` points and the middle band the rest (1-9
    gives 1-3 / 4-6 / 7-9, 1-5 gives 1-2 / 3 / 4-5, 1-7 gives 1-2 / 3-5 / 6-7, 0-10 gives
    0-3 / 4-6 / 7-10, 1-4 gives 1 / 2-3 / 4). ``bottom_max`` and ``top_min`` override them.
    Bands must be non-empty except the middle one, which may be empty (e.g. a 1-4 scale with
    ``bottom_max=2, top_min=3``).

    Raises ScoringInputError if the scale has fewer than two points or the bands are invalid.
    """

    low: int = 1
    high: int = 9
    bottom_max: int | None = None
    top_min: int | None = None

    def __post_init__(self) -> None:
        if self.high <= self.low:
            raise ScoringInputError(
                f"scale {self.low}-{self.high}: the top of the scale must be above the bottom"
            )
        # Frozen dataclass: fill the computed defaults through object.__setattr__.
        default = Bands.default(self.low, self.high)
        if self.bottom_max is None:
            object.__setattr__(self, "bottom_max", default.bottom_max)
        if self.top_min is None:
            object.__setattr__(self, "top_min", default.top_min)
        assert self.bottom_max is not None and self.top_min is not None
        if not (self.low <= self.bottom_max < self.top_min <= self.high):
            raise ScoringInputError(
                f"scale {self.low}-{self.high}: bands need low <= bottom_max < top_min <= high, "
                f"got bottom_max={self.bottom_max}, top_min={self.top_min}"
            )

    @property
    def n_points(self) -> int:
        """Number of points on the scale."""
        return self.high - self.low + 1

    @property
    def points(self) -> list[int]:
        """The scale points, low to high."""
        return list(range(self.low, self.high + 1))

    @property
    def bottom(self) -> int:
        """Highest point of the bottom band."""
        assert self.bottom_max is not None
        return self.bottom_max

    @property
    def top(self) -> int:
        """Lowest point of the top band."""
        assert self.top_min is not None
        return self.top_min

    @cached_property
    def bands(self) -> Bands:
        """Where this scale's bands end (the defaults, or the overrides)."""
        return Bands(self.low, self.high, self.bottom, self.top)

    @property
    def midpoint(self) -> float:
        """Centre of the scale (5 on 1-9)."""
        return (self.low + self.high) / 2

    def band(self, value: float) -> Band:
        """Band of a value; a non-integer value (a median of 6.5) is top only if >= top_min.

        So a median of 6.5 on 1-9 is "middle" and 3.5 is "middle": a median between bands does
        not count as being in the outer band.
        """
        return self.bands.band(value)

    def label(self) -> str:
        """Human-readable description, e.g. ``1-9 (bottom 1-3, middle 4-6, top 7-9)``."""
        middle = (
            f"{self.bottom + 1}-{self.top - 1}"
            if self.top - self.bottom > 2
            else (str(self.bottom + 1) if self.top - self.bottom == 2 else "none")
        )
        return (
            f"{self.low}-{self.high} (bottom {self.low}-{self.bottom}, middle {middle}, "
            f"top {self.top}-{self.high})"
        )


def parse_scale(text: str) -> Scale:
    """Parse ``LOW-HIGH`` (e.g. ``1-9``) into a Scale; raises ScoringInputError if malformed."""
    parts = text.strip().split("-")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ScoringInputError(f"scale {text!r}: expected LOW-HIGH with whole numbers, e.g. 1-9")
    return Scale(low=int(parts[0]), high=int(parts[1]))
