"""What a panellist sees on a round's ballot: items by theme, their answers, last round's view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import ItemDecision, ItemVersion, Panellist, Rating, Round, Theme
from app.services.cycle import ChangeShown, content_of, version_changes
from app.services.ratings import ratings_by_version
from app.services.results import feedback_by_item, previous_closed_round, round_items_loaded
from delphi import DecisionForPanel, ItemField, Scale, decision_for_panel


@dataclass
class BallotEntry:
    version: ItemVersion
    rating: Rating | None
    feedback: dict[str, Any] | None
    previous_rating: Rating | None
    previous_round: int | None
    # The wording rated last round, when it has been revised since.
    previous_version: ItemVersion | None = None
    # The facilitators' decision after the previous round, as panellists are told it.
    decision: DecisionForPanel | None = None

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
    ratings = ratings_by_version(round_, panellist) if panellist else {}
    feedback = feedback_by_item(round_)
    previous = previous_closed_round(round_)
    earlier_versions: dict[int, ItemVersion] = {}
    if previous is not None:
        earlier_versions = {
            ri.item_version.item_id: ri.item_version for ri in round_items_loaded(previous)
        }
    earlier: dict[int, Rating] = {}
    if previous is not None and panellist is not None:
        for rating, item_id in db.session.execute(
            select(Rating, ItemVersion.item_id)
            .join(ItemVersion, ItemVersion.id == Rating.item_version_id)
            .where(Rating.round_id == previous.id, Rating.panellist_id == panellist.id)
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
    ordered = sorted(
        round_items_loaded(round_),
        key=lambda ri: (ri.item_version.item.theme.position, ri.item_version.item.position),
    )
    for round_item in ordered:
        version = round_item.item_version
        if needs_rating_only and version.id in ratings:
            continue
        theme = version.item.theme
        section = sections.setdefault(theme.id, ThemeSection(theme))
        before = earlier_versions.get(version.item_id)
        section.entries.append(
            BallotEntry(
                version=version,
                rating=ratings.get(version.id),
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


def previous_rating_for(round_: Round, panellist: Panellist, item_version_id: int) -> Rating | None:
    """The panellist's rating of the same item (any version) in the previous closed round.

    One query (the autosave asks it on every answer from round 2 on)."""
    if round_.number == 1:
        return None
    previous_round = (
        select(Round.id)
        .where(
            Round.study_id == round_.study_id,
            Round.number < round_.number,
            Round.closed_at.is_not(None),
        )
        .order_by(Round.number.desc())
        .limit(1)
        .scalar_subquery()
    )
    item = select(ItemVersion.item_id).where(ItemVersion.id == item_version_id).scalar_subquery()
    return db.session.scalar(
        select(Rating)
        .join(ItemVersion, ItemVersion.id == Rating.item_version_id)
        .where(
            Rating.round_id == previous_round,
            Rating.panellist_id == panellist.id,
            ItemVersion.item_id == item,
        )
    )
