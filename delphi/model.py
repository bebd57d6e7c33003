"""Enumerations and value objects shared by the domain rules, each with the words people read.

Pages, services and exports label a status, decision, outcome or band through these (the web
layer registers them once for templates, app/web.py), so a wording changes in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple

from scale_bands import Band, Bands


class StudyStatus(StrEnum):
    SETUP = "setup"
    ACTIVE = "active"
    COMPLETED = "completed"


class StudyMode(StrEnum):
    """Classic rounds, or real-time Delphi (ratings revisable until the study closes)."""

    ROUNDS = "rounds"
    REALTIME = "realtime"

    @property
    def label(self) -> str:
        return {
            StudyMode.ROUNDS: "In rounds: rate, see the group's feedback, rate again",
            StudyMode.REALTIME: (
                "Real-time: see the group's view right after rating, revise any time"
            ),
        }[self]


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

    @property
    def label(self) -> str:
        return "Prompt" if self is ItemKind.PROMPT else "Indicator"


class Decision(StrEnum):
    """The facilitator's decision on an item after a round."""

    ACCEPT = "accept"
    EXCLUDE = "exclude"
    CARRY_FORWARD = "carry_forward"

    @property
    def label(self) -> str:
        """The choice with what it means: 'Accept (consensus in)'."""
        return _DECISION_WORDS[self].label

    @property
    def short_label(self) -> str:
        """For a narrow choice beside the figures, where the status already says why."""
        return _DECISION_WORDS[self].short_label

    @property
    def past_label(self) -> str:
        """The decision once taken, for the facilitators' tables and the exports."""
        return _DECISION_WORDS[self].past_label

    @property
    def panel_label(self) -> str:
        """What panellists are told the decision means for the item."""
        return _DECISION_WORDS[self].panel_label

    @property
    def tag_colour(self) -> str:
        """The colour of the decision's tag on the panel's feedback (words say it too)."""
        return _DECISION_WORDS[self].tag_colour


class _DecisionWords(NamedTuple):
    label: str
    short_label: str
    past_label: str
    panel_label: str
    tag_colour: str


_DECISION_WORDS = {
    Decision.ACCEPT: _DecisionWords(
        "Accept (consensus in)", "Accept", "Accepted", "Agreed: included", "green"
    ),
    Decision.EXCLUDE: _DecisionWords(
        "Exclude (consensus out)", "Exclude", "Excluded", "Agreed: left out", "red"
    ),
    Decision.CARRY_FORWARD: _DecisionWords(
        "Carry forward to the next round",
        "Carry forward",
        "Carried forward",
        "Rated again in the next round",
        "blue",
    ),
}


class Outcome(StrEnum):
    """Where an item ends up in the specification, from its final decision."""

    AGREED = "agreed"
    EXCLUDED = "excluded"
    NO_CONSENSUS = "no_consensus"

    @classmethod
    def of(cls, decision: str | None) -> Outcome:
        """An item accepted is agreed, excluded is excluded; undecided has no consensus."""
        if decision == Decision.ACCEPT:
            return cls.AGREED
        if decision == Decision.EXCLUDE:
            return cls.EXCLUDED
        return cls.NO_CONSENSUS

    @property
    def label(self) -> str:
        return {
            Outcome.AGREED: "Agreed (consensus in)",
            Outcome.EXCLUDED: "Excluded (consensus out)",
            Outcome.NO_CONSENSUS: "No consensus",
        }[self]


class ConsensusStatus(StrEnum):
    """What the consensus rule found for an item in a round (the values `scoring` returns)."""

    IN = "consensus_in"
    OUT = "consensus_out"
    NO_CONSENSUS = "no_consensus"
    NOT_RATED = "not_rated"

    @classmethod
    def of(cls, value: str | None) -> ConsensusStatus:
        """The status of stored figures; none recorded means nobody rated the item."""
        return cls(value) if value else cls.NOT_RATED

    @property
    def label(self) -> str:
        return _STATUS_WORDS[self].label

    @property
    def so_far(self) -> str:
        """The status of a real-time study's ratings so far, in a panellist's words."""
        return _STATUS_WORDS[self].so_far

    @property
    def tag_colour(self) -> str:
        """The colour of the status's tag (words always say it too)."""
        return _STATUS_WORDS[self].tag_colour


class _StatusWords(NamedTuple):
    label: str
    so_far: str
    tag_colour: str


_STATUS_WORDS = {
    ConsensusStatus.IN: _StatusWords("Consensus in", "Consensus to include, so far.", "green"),
    ConsensusStatus.OUT: _StatusWords("Consensus out", "Consensus to exclude, so far.", "red"),
    ConsensusStatus.NO_CONSENSUS: _StatusWords("No consensus", "No consensus yet.", "yellow"),
    ConsensusStatus.NOT_RATED: _StatusWords("Not rated", "", "grey"),
}

# The enumerations above, in their order, which the web layer hands to templates (app/web.py)
# so that pages compare with and label by them, never by raw strings.
VOCABULARY: tuple[type[StrEnum], ...] = (
    StudyStatus,
    StudyMode,
    RoundStatus,
    PanelRole,
    ItemKind,
    Decision,
    Outcome,
    ConsensusStatus,
)


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
