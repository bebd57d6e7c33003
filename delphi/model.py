"""Enumerations and value objects shared by the domain rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from scale_bands import Band, Bands


class StudyStatus(StrEnum):
    SETUP = "setup"
    ACTIVE = "active"
    COMPLETED = "completed"


class RoundStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class PanelRole(StrEnum):
    PARTNER = "partner"
    PATIENT_REP = "patient_rep"
    OBSERVER = "observer"

    @property
    def label(self) -> str:
        return {
            PanelRole.PARTNER: "Partner",
            PanelRole.PATIENT_REP: "Patient representative",
            PanelRole.OBSERVER: "Observer",
        }[self]

    @property
    def can_rate(self) -> bool:
        return self is not PanelRole.OBSERVER


class ItemKind(StrEnum):
    PROMPT = "prompt"
    INDICATOR = "indicator"

    @property
    def ref_prefix(self) -> str:
        return "P" if self is ItemKind.PROMPT else "I"


class Decision(StrEnum):
    ACCEPT = "accept"
    EXCLUDE = "exclude"
    CARRY_FORWARD = "carry_forward"

    @property
    def label(self) -> str:
        return {
            Decision.ACCEPT: "Accept (consensus in)",
            Decision.EXCLUDE: "Exclude (consensus out)",
            Decision.CARRY_FORWARD: "Carry forward to the next round",
        }[self]

    @property
    def short_label(self) -> str:
        """For a narrow choice beside the figures, where the status already says why."""
        return {
            Decision.ACCEPT: "Accept",
            Decision.EXCLUDE: "Exclude",
            Decision.CARRY_FORWARD: "Carry forward",
        }[self]


_BAND_WORDS = {  # (meaning, what it says about the item, how-it-works explanation)
    Band.BOTTOM: ("not important", "exclude", "not important; it should be left out"),
    Band.MIDDLE: ("uncertain", "uncertain", "uncertain; important but not critical"),
    Band.TOP: ("critical", "include", "critical or appropriate; it should be included"),
}


@dataclass(frozen=True)
class ScaleBand:
    """One band of a scale as people read it: its range ("7-9") and its words ("include")."""

    band: Band
    low: int
    high: int

    @property
    def range(self) -> str:
        return f"{self.low}-{self.high}"

    @property
    def meaning(self) -> str:
        return _BAND_WORDS[self.band][0]

    @property
    def word(self) -> str:
        """What a rating in the band says about the item: include, uncertain, exclude."""
        return _BAND_WORDS[self.band][1]

    @property
    def description(self) -> str:
        """'critical, include'; 'uncertain' (meaning and word are one there)."""
        if self.meaning == self.word:
            return self.word
        return f"{self.meaning}, {self.word}"

    @property
    def label(self) -> str:
        """'7-9: critical, include'."""
        return f"{self.range}: {self.description}"

    @property
    def explanation(self) -> str:
        """The band explained to a new panellist: 'critical or appropriate; it should be
        included'."""
        return _BAND_WORDS[self.band][2]


@dataclass(frozen=True)
class Scale:
    """A study's rating scale with three bands (bottom, middle, top).

    The bands are `scale_bands.Bands.default`, the definition the scoring package uses too.
    """

    low: int = 1
    high: int = 9

    @cached_property
    def bands(self) -> Bands:
        return Bands.default(self.low, self.high)

    @property
    def bottom_max(self) -> int:
        return self.bands.bottom_max

    @property
    def top_min(self) -> int:
        return self.bands.top_min

    @property
    def width(self) -> int:
        return self.high - self.low + 1

    @property
    def points(self) -> list[int]:
        return list(range(self.low, self.high + 1))

    def band(self, score: float) -> Band:
        return self.bands.band(score)

    def named(self, band: Band | str) -> ScaleBand:
        """A band with its range and words."""
        band = Band(band)
        return ScaleBand(band, *self.bands.range_of(band))

    @property
    def bottom_band(self) -> ScaleBand:
        return self.named(Band.BOTTOM)

    @property
    def middle_band(self) -> ScaleBand:
        return self.named(Band.MIDDLE)

    @property
    def top_band(self) -> ScaleBand:
        return self.named(Band.TOP)

    @property
    def named_bands(self) -> list[ScaleBand]:
        """The bands with at least one point, bottom to top."""
        return [b for b in map(self.named, Band) if b.high >= b.low]

    def band_labels(self) -> dict[str, str]:
        """People's words for each band, e.g. '7-9: critical, include'."""
        return {band.value: self.named(band).label for band in Band}
