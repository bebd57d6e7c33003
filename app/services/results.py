"""Round results: ratings as a DataFrame, the scoring package's figures, the stored snapshot.

Group figures leave this module only through `delphi.disclosure` (no figure for a group of
fewer than 3 raters): `compute_results` discloses what it returns and stores, and stored
snapshots are read through `RoundSnapshot.results` / `LiveSnapshot.results`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select

from app.extensions import db
from app.models import Panellist, Rating, Round, RoundSnapshot, StakeholderGroup, Study
from app.settings import settings
from delphi import ConsensusStatus, PanelRole, disclose_round_results, suggest_decision
from scoring import (
    ITEM_KEYS,
    Rule,
    Scale,
    alpha,
    alpha_by_group,
    group_summary,
    item_figures,
    item_summary,
    plain,
    rule_from_name,
)

RULE_LABELS = {
    "percentage": "Percentage rule",
    "median_iqr": "Median and IQR rule",
    "rand": "RAND/UCLA rule",
}


def scoring_rule(study: Study) -> Rule:
    """The study's consensus rule (`Study.rule` is one of `scoring.RULE_NAMES`)."""
    return rule_from_name(
        study.rule, in_min_pct=study.pct_in, out_max_pct=study.pct_out_max, max_iqr=study.max_iqr
    )


def rule_description(study: Study) -> str:
    top, bottom = study.scale.top_band.range, study.scale.bottom_band.range
    if study.rule == "median_iqr":
        text = (
            f"Consensus in when the median is {top} and the interquartile range is at most "
            f"{study.max_iqr:g}; consensus out when the median is {bottom} with the same spread."
        )
    elif study.rule == "rand":
        text = (
            f"RAND/UCLA: consensus in when the median is {top} without disagreement "
            f"(disagreement index at most 1); consensus out when the median is {bottom} "
            "without disagreement."
        )
    else:
        text = (
            f"Consensus in when at least {study.pct_in:g}% rate {top} and at most "
            f"{study.pct_out_max:g}% rate {bottom}; consensus out when at least "
            f"{study.pct_in:g}% rate {bottom} and at most {study.pct_out_max:g}% rate {top}."
        )
    if study.require_all_groups:
        text += " Every stakeholder group must meet the rule."
    return text + " 'Unable to rate' answers are left out of the percentages."


def ratings_frame(round_: Round) -> pd.DataFrame:
    """Long form: panellist, item (item version id), rating (NaN = unable to rate), group."""
    rows = db.session.execute(
        select(Rating.panellist_id, Rating.item_version_id, Rating.score, StakeholderGroup.name)
        .join(Panellist, Panellist.id == Rating.panellist_id)
        .join(StakeholderGroup, StakeholderGroup.id == Panellist.group_id)
        .where(Rating.round_id == round_.id)
    ).all()
    frame = pd.DataFrame(rows, columns=["panellist", "item", "rating", "group"])
    frame["rating"] = pd.to_numeric(frame["rating"], errors="coerce").astype(float)
    return frame


def unrated_figures(study: Study) -> dict[str, Any]:
    """An item nobody answered: every figure of `scoring.ITEM_KEYS` present, undefined ones
    None."""
    figures: dict[str, Any] = dict.fromkeys(ITEM_KEYS)
    figures.update(
        n=0, n_unable=0, counts=[0] * study.scale.width, status=ConsensusStatus.NOT_RATED.value
    )
    return figures


def participation(round_: Round) -> list[dict[str, Any]]:
    """Per stakeholder group: panellists who can rate, how many answered anything, and all."""
    item_count = len(round_.round_items)
    answered = dict(
        db.session.execute(
            select(Rating.panellist_id, db.func.count(Rating.id))
            .where(Rating.round_id == round_.id)
            .group_by(Rating.panellist_id)
        ).all()
    )
    out = []
    for group in round_.study.groups:
        members = db.session.scalars(
            select(Panellist).where(
                Panellist.group_id == group.id,
                Panellist.role != PanelRole.OBSERVER.value,
                Panellist.joined_at.is_not(None),
            )
        ).all()
        responded = [p for p in members if answered.get(p.id)]
        completed = [p for p in members if answered.get(p.id, 0) >= item_count > 0]
        out.append(
            {
                "group": group.name,
                "panel": len(members),
                "responded": len(responded),
                "completed": len(completed),
            }
        )
    return out


def compute_results(round_: Round) -> dict[str, Any]:
    """Everything the results page, the next round's feedback and exports need, group
    figures disclosed (`delphi.disclosure`): a small group's figures are never stored."""
    study = round_.study
    scale = Scale(low=study.scale_min, high=study.scale_max)
    rule = scoring_rule(study)
    frame = ratings_frame(round_)
    items = item_summary(frame, scale, rule, require_all_groups=study.require_all_groups)
    by_group = group_summary(frame, scale, rule) if len(frame) else None
    resamples = settings().bootstrap_resamples
    overall = alpha(frame, level="ordinal", scale=scale, bootstrap=resamples, seed=round_.id)
    group_alphas = alpha_by_group(
        frame, level="ordinal", scale=scale, bootstrap=resamples, seed=round_.id
    )
    out_items: dict[str, Any] = {}
    for round_item in round_.round_items:
        version = round_item.item_version
        key = version.id
        figures = item_figures(items.loc[key]) if key in items.index else unrated_figures(study)
        groups: dict[str, Any] = {}
        if by_group is not None:
            for group in study.groups:
                if (group.name, key) in by_group.index:
                    groups[group.name] = item_figures(by_group.loc[(group.name, key)])
        status = figures.get("status", ConsensusStatus.NOT_RATED)
        out_items[str(key)] = {
            "item_id": version.item_id,
            "ref": version.item.ref,
            "version": version.number,
            **figures,
            "suggested": suggest_decision(str(status)).value,
            "groups": groups,
        }
    results = {
        "round": round_.number,
        "scale": [study.scale_min, study.scale_max],
        "rule": {"name": study.rule, "description": rule_description(study)},
        "items": out_items,
        "alpha": plain(overall.as_dict()),
        "alpha_groups": {name: plain(a.as_dict()) for name, a in group_alphas.items()},
        "participation": participation(round_),
    }
    return disclose_round_results(results)


def snapshot_of(round_: Round) -> dict[str, Any] | None:
    """The closed round's stored results, group figures disclosed."""
    snap = db.session.scalar(select(RoundSnapshot).where(RoundSnapshot.round_id == round_.id))
    return snap.results if snap else None


def previous_closed_round(round_: Round) -> Round | None:
    earlier = [r for r in round_.study.rounds if r.number < round_.number and r.closed_at]
    return earlier[-1] if earlier else None


def feedback_by_item(round_: Round) -> dict[int, dict[str, Any]]:
    """The previous round's figures for each item in this round, keyed by item id."""
    previous = previous_closed_round(round_)
    snapshot = snapshot_of(previous) if previous else None
    if not snapshot:
        return {}
    return {entry["item_id"]: entry for entry in snapshot["items"].values()}
