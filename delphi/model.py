"""Enumerations and value objects shared by the domain rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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


@dataclass(frozen=True)
class Scale:
    """A rating scale with three bands (bottom, middle, top)."""

    low: int = 1
    high: int = 9

    @property
    def bottom_max(self) -> int:
        return {(1, 9): 3, (1, 5): 2}.get((self.low, self.high), self.low + (self.width - 1) // 3)

    @property
    def top_min(self) -> int:
        return {(1, 9): 7, (1, 5): 4}.get((self.low, self.high), self.high - (self.width - 1) // 3)

    @property
    def width(self) -> int:
        return self.high - self.low + 1

    @property
    def points(self) -> list[int]:
        return list(range(self.low, self.high + 1))

    def band(self, score: int) -> str:
        if score <= self.bottom_max:
            return "bottom"
        if score >= self.top_min:
            return "top"
        return "middle"

    def band_labels(self) -> dict[str, str]:
        """People's words for each band, e.g. '7-9: critical, include'."""
        return {
            "bottom": f"{self.low}-{self.bottom_max}: not important, exclude",
            "middle": f"{self.bottom_max + 1}-{self.top_min - 1}: uncertain",
            "top": f"{self.top_min}-{self.high}: critical, include",
        }
