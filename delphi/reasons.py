"""The reasons panellists give with their ratings: who reads which, how they are grouped, and
what the specification quotes.

Controlled feedback in Delphi is the arguments as well as the numbers. Each rating may carry
a reason; once its round has closed, the rest of the panel reads it under the author's
pseudonym, grouped by the band of the rating it came with. Facilitators read every reason at
any time and may hide one, with a reason of their own: a hidden reason is never shown to other
panellists again, while its author keeps seeing it, with why it was hidden.

Every page and export asks this module; the web layer only loads rows into `Reason`s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from delphi.errors import ReasonRequired
from delphi.model import PanelRole, Scale
from scale_bands import Band

MAX_HIDE_REASON = 2000
# How many reasons the specification quotes on each side of an item without consensus.
QUOTES_PER_SIDE = 3


@dataclass(frozen=True)
class Reason:
    """One rating's reason, with what deciding who sees it needs."""

    rating_id: int
    item_id: int
    text: str
    score: int | None
    unable: bool
    pseudonym: str
    group: str
    role: PanelRole
    author_user_id: int
    hidden: bool = False
    hidden_reason: str = ""

    @property
    def is_patient(self) -> bool:
        return self.role is PanelRole.PATIENT_REP


class Voices(StrEnum):
    """The discussion's 'patient voices' filter, applied to reasons."""

    ALL = "all"
    HIGHLIGHT = "highlight"
    PATIENTS = "patients"

    @classmethod
    def parse(cls, value: str | None) -> Voices:
        try:
            return cls(value or cls.ALL)
        except ValueError:
            return cls.ALL


class SortBy(StrEnum):
    """How facilitators order an item's reasons on the results page."""

    BAND = "band"
    GROUP = "group"

    @classmethod
    def parse(cls, value: str | None) -> SortBy:
        try:
            return cls(value or cls.BAND)
        except ValueError:
            return cls.BAND


def panel_may_read(*, round_closed: bool) -> bool:
    """Panellists read each other's reasons only once the round has closed: while it is open,
    a reason read would be feedback before the round's end, unequal between early and late
    raters."""
    return round_closed


def visible_to(
    reason: Reason, *, viewer_user_id: int | None, is_facilitator: bool, round_closed: bool
) -> bool:
    """Whether one reader may read one reason.

    Facilitators read all; an author always reads their own (hidden or not); anyone else only
    reasons of a closed round that no facilitator has hidden."""
    if is_facilitator:
        return True
    if viewer_user_id is not None and reason.author_user_id == viewer_user_id:
        return True
    return panel_may_read(round_closed=round_closed) and not reason.hidden


def hiding_reason_shown(
    reason: Reason, *, viewer_user_id: int | None, is_facilitator: bool
) -> str | None:
    """Why a reason was hidden, for the two who may know it (facilitators and its author)."""
    if not reason.hidden:
        return None
    if is_facilitator or reason.author_user_id == viewer_user_id:
        return reason.hidden_reason
    return None


def check_hide_reason(text: str) -> str:
    """The facilitator's reason for hiding, which the author will read: required, bounded."""
    text = text.strip()
    if not text:
        raise ReasonRequired("Give the reason for hiding it: its author will read it.")
    if len(text) > MAX_HIDE_REASON:
        raise ReasonRequired(f"The reason must be {MAX_HIDE_REASON:,} characters or fewer.")
    return text


def band_of(reason: Reason, scale: Scale) -> Band | None:
    """The band of the rating the reason came with; None for "unable to rate"."""
    if reason.unable or reason.score is None:
        return None
    return scale.band(reason.score)


# Top band first: reasons to include, uncertain, to exclude, then unable to rate.
_BAND_ORDER = {Band.TOP: 0, Band.MIDDLE: 1, Band.BOTTOM: 2, None: 3}


@dataclass(frozen=True)
class BandOfReasons:
    """The reasons given with ratings in one band (`band` None: "unable to rate")."""

    band: Band | None
    label: str
    reasons: tuple[Reason, ...]


def band_label(band: Band | None, scale: Scale) -> str:
    """'Rated 7-9 (critical, include)', or 'Unable to rate'."""
    if band is None:
        return "Unable to rate"
    named = scale.named(band)
    points = named.range if named.high > named.low else str(named.low)
    return f"Rated {points} ({named.description})"


def by_band(
    reasons: Iterable[Reason], scale: Scale, voices: Voices = Voices.ALL
) -> list[BandOfReasons]:
    """Reasons grouped by the band of their rating, top band first, empty bands left out;
    `Voices.PATIENTS` keeps only patient representatives' reasons. Within a band, patients'
    reasons come first when `voices` is not `ALL`, then the order given."""
    kept = [r for r in reasons if voices is not Voices.PATIENTS or r.is_patient]
    grouped: dict[Band | None, list[Reason]] = {}
    for reason in kept:
        grouped.setdefault(band_of(reason, scale), []).append(reason)
    out = []
    for band in sorted(grouped, key=lambda b: _BAND_ORDER[b]):
        rows = grouped[band]
        if voices is not Voices.ALL:
            rows = sorted(rows, key=lambda r: not r.is_patient)
        out.append(BandOfReasons(band, band_label(band, scale), tuple(rows)))
    return out


def sorted_reasons(
    reasons: Iterable[Reason], scale: Scale, sort: SortBy, groups: Sequence[str] = ()
) -> list[Reason]:
    """Facilitators' order: by band (top first, then group) or by stakeholder group (in the
    study's order of `groups`, then band). Stable otherwise."""
    position = {name: i for i, name in enumerate(groups)}

    def group_key(r: Reason) -> tuple[int, str]:
        return (position.get(r.group, len(position)), r.group)

    def band_key(r: Reason) -> int:
        return _BAND_ORDER[band_of(r, scale)]

    if sort is SortBy.GROUP:
        return sorted(reasons, key=lambda r: (group_key(r), band_key(r)))
    return sorted(reasons, key=lambda r: (band_key(r), group_key(r)))


@dataclass(frozen=True)
class Quote:
    text: str
    group: str


@dataclass(frozen=True)
class Arguments:
    """What the specification says of an item without consensus: the facilitators' summary
    of the arguments when there is one, otherwise reasons quoted from each side."""

    summary: str
    for_: tuple[Quote, ...]
    against: tuple[Quote, ...]

    @property
    def empty(self) -> bool:
        return not (self.summary or self.for_ or self.against)


def _pick(reasons: list[Reason], limit: int) -> tuple[Quote, ...]:
    # One quote per stakeholder group before a second from any, so that one large group
    # does not speak for the side; the order given breaks ties.
    picked: list[Reason] = []
    seen: dict[str, int] = {}
    for round_number in range(limit):
        for reason in reasons:
            if len(picked) == limit:
                break
            if reason in picked or seen.get(reason.group, 0) != round_number:
                continue
            picked.append(reason)
            seen[reason.group] = round_number + 1
    return tuple(Quote(r.text, r.group) for r in picked)


def main_arguments(
    summary: str, reasons: Iterable[Reason], scale: Scale, per_side: int = QUOTES_PER_SIDE
) -> Arguments:
    """The main arguments on each side: the summary if written; otherwise up to `per_side`
    reasons given with top-band ratings (for) and with bottom-band ratings (against). Hidden
    reasons are never quoted."""
    if summary.strip():
        return Arguments(summary.strip(), (), ())
    shown = [r for r in reasons if not r.hidden and r.text.strip()]
    top = [r for r in shown if band_of(r, scale) is Band.TOP]
    bottom = [r for r in shown if band_of(r, scale) is Band.BOTTOM]
    return Arguments("", _pick(top, per_side), _pick(bottom, per_side))
