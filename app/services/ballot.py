"""What a panellist sees on a round's ballot: items by theme, their answers, last round's view."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, Select, bindparam, or_, select

from app.extensions import db
from app.models import Criterion, ItemDecision, ItemVersion, Panellist, Rating, Round, Theme
from app.services.cycle import ChangeShown, content_of, version_changes
from app.services.ratings import answers_of
from app.services.results import feedback_by_item, previous_closed_round, round_items_loaded
from delphi import DecisionForPanel, ItemField, Scale, decision_for_panel
from delphi.ordering import ballot_order


@dataclass
class BallotEntry:
    version: ItemVersion
    feedback: dict[str, Any] | None
    previous_rating: Rating | None
    previous_round: int | None
    # The wording rated last round, when it has been revised since.
    previous_version: ItemVersion | None = None
    # The facilitators' decision after the previous round, as panellists are told it.
    decision: DecisionForPanel | None = None
    # The criteria asked of the item, in order, and the panellist's answers by criterion id.
    criteria: list[Criterion] = field(default_factory=list)
    answers: dict[int, Rating] = field(default_factory=dict)

    @property
    def rating(self) -> Rating | None:
        """The answer on the item's first criterion, which holds the reason."""
        return self.answers.get(self.criteria[0].id) if self.criteria else None

    @property
    def questions(self) -> int:
        return len(self.criteria)

    @property
    def answered(self) -> int:
        return sum(1 for c in self.criteria if c.id in self.answers)

    @property
    def changes(self) -> list[ChangeShown] | None:
        """Every field changed since the version rated last round (wording, fields, type,
        theme), before and after."""
        if self.previous_version is None:
            return None
        return version_changes(self.previous_version, self.version)

    @property
    def presented(self) -> list[tuple[ItemField, str]]:
        """The fields besides the wording that this version presents, as the specification
        will (`delphi.items`)."""
        return content_of(self.version).presented()


def moved_band(scale: Scale, previous: Rating | None, current: Rating | None) -> str | None:
    """'7-9 to 4-6' when the panellist's rating moved band since the previous round."""
    if previous is None or current is None or previous.score is None or current.score is None:
        return None
    before, after = scale.band(previous.score), scale.band(current.score)
    if before == after:
        return None
    return f"{scale.named(before).range} to {scale.named(after).range}"


@dataclass
class ThemeSection:
    theme: Theme
    entries: list[BallotEntry] = field(default_factory=list)


def build_ballot(
    round_: Round, panellist: Panellist | None, *, needs_rating_only: bool = False
) -> list[ThemeSection]:
    answers = answers_of(round_, panellist) if panellist else {}
    criteria = round_.study.criteria
    feedback = feedback_by_item(round_)
    previous = previous_closed_round(round_)
    earlier_versions: dict[int, ItemVersion] = {}
    if previous is not None:
        earlier_versions = {
            ri.item_version.item_id: ri.item_version for ri in round_items_loaded(previous)
        }
    earlier: dict[int, Rating] = {}
    if previous is not None and panellist is not None:
        # The first criterion's answer last, so that it is the one kept per item.
        for rating, item_id in db.session.execute(
            select(Rating, ItemVersion.item_id)
            .join(ItemVersion, ItemVersion.id == Rating.item_version_id)
            .join(Criterion, Criterion.id == Rating.criterion_id)
            .where(Rating.round_id == previous.id, Rating.panellist_id == panellist.id)
            .order_by(Criterion.position.desc(), Criterion.id.desc())
        ):
            earlier[item_id] = rating
    decisions: dict[int, ItemDecision] = {}
    if previous is not None:
        decisions = {
            d.item_id: d
            for d in db.session.scalars(
                select(ItemDecision).where(
                    ItemDecision.round_id == previous.id, ItemDecision.decided_at.is_not(None)
                )
            )
        }
    sections: dict[int, ThemeSection] = {}
    ordered = ballot_order(
        round_items_loaded(round_),
        theme_position=lambda ri: ri.item_version.item.theme.position,
        item_position=lambda ri: ri.item_version.item.position,
        item_id=lambda ri: ri.item_version.item_id,
        study_id=round_.study_id,
        panellist_id=panellist.id if panellist is not None else None,
        shuffle=round_.study.random_item_order,
    )
    for round_item in ordered:
        version = round_item.item_version
        asked = [c for c in criteria if c.applies(version.item_kind)]
        mine = {c.id: answers[(version.id, c.id)] for c in asked if (version.id, c.id) in answers}
        if needs_rating_only and len(mine) == len(asked):
            continue
        theme = version.item.theme
        section = sections.setdefault(theme.id, ThemeSection(theme))
        before = earlier_versions.get(version.item_id)
        section.entries.append(
            BallotEntry(
                version=version,
                criteria=asked,
                answers=mine,
                feedback=feedback.get(version.item_id),
                previous_rating=earlier.get(version.item_id),
                previous_round=previous.number if previous else None,
                previous_version=before if before is not None and before.id != version.id else None,
                decision=_decision(decisions.get(version.item_id), feedback.get(version.item_id)),
            )
        )
    return list(sections.values())


def _decision(row: ItemDecision | None, figures: dict[str, Any] | None) -> DecisionForPanel | None:
    if row is None:
        return None
    return decision_for_panel(
        status=(figures or {}).get("status"),
        suggested=row.suggested,
        decision=row.decision,
        reason=row.reason,
    )


def previous_rating_for(
    round_: Round, panellist: Panellist, item_version_id: int, criterion_id: int | None = None
) -> Rating | None:
    """The panellist's rating of the same item (any version) in the previous closed round, on
    `criterion_id` (None: the first criterion answered).

    One query (the autosave asks it on every answer from round 2 on)."""
    if round_.number == 1:
        return None
    params = {
        "p_study": round_.study_id,
        "p_number": round_.number,
        "p_panellist": panellist.id,
        "p_version": item_version_id,
        "p_criterion": criterion_id,
    }
    return db.session.scalar(_previous_rating_statement(), params)


@functools.cache
def _previous_rating_statement() -> Select:
    """`previous_rating_for`'s query with bound parameters, built once."""
    previous_round = (
        select(Round.id)
        .where(
            Round.study_id == bindparam("p_study"),
            Round.number < bindparam("p_number"),
            Round.closed_at.is_not(None),
        )
        .order_by(Round.number.desc())
        .limit(1)
        .scalar_subquery()
    )
    item = (
        select(ItemVersion.item_id)
        .where(ItemVersion.id == bindparam("p_version"))
        .scalar_subquery()
    )
    wanted = bindparam("p_criterion", type_=Integer())
    return (
        select(Rating)
        .join(ItemVersion, ItemVersion.id == Rating.item_version_id)
        .join(Criterion, Criterion.id == Rating.criterion_id)
        .where(
            Rating.round_id == previous_round,
            Rating.panellist_id == bindparam("p_panellist"),
            ItemVersion.item_id == item,
            or_(wanted.is_(None), Rating.criterion_id == wanted),
        )
        .order_by(Criterion.position, Criterion.id)
        .limit(1)
    )


# The most items one page of a ballot shows: a longer ballot is split by theme (and a theme
# longer than this into equal parts), so a page stays well under a megabyte on a phone.
PAGE_ITEMS = 70


@dataclass
class BallotPart:
    """One page of a long ballot: some or all of one theme's items."""

    number: int
    sections: list[ThemeSection]
    label: str

    @property
    def items(self) -> int:
        return sum(len(s.entries) for s in self.sections)

    @property
    def count(self) -> int:
        """Answers the page asks for: one per item and criterion asked of it."""
        return sum(e.questions for s in self.sections for e in s.entries)

    @property
    def rated(self) -> int:
        """Answers given on the page (progress counts answers, not items)."""
        return sum(e.answered for s in self.sections for e in s.entries)

    def holds(self, version_id: int) -> bool:
        return any(e.version.id == version_id for s in self.sections for e in s.entries)


def ballot_parts(sections: list[ThemeSection], per_page: int = PAGE_ITEMS) -> list[BallotPart]:
    """The ballot's pages: everything on one when it has at most `per_page` items; otherwise
    one page per theme, a theme of more than `per_page` items in equal parts."""
    if sum(len(s.entries) for s in sections) <= per_page:
        return [BallotPart(1, sections, "")]
    parts: list[BallotPart] = []
    for section in sections:
        n = len(section.entries)
        pieces = -(-n // per_page)
        size = -(-n // pieces)
        for k in range(pieces):
            entries = section.entries[k * size : (k + 1) * size]
            label = section.theme.name
            if pieces > 1:
                label += f", part {k + 1} of {pieces}"
            parts.append(BallotPart(len(parts) + 1, [ThemeSection(section.theme, entries)], label))
    return parts
