"""Round results: ratings as a DataFrame, the scoring package's figures, the stored snapshot.

Group figures leave this module only through `delphi.disclosure` (no figure for a group of
fewer than 3 raters): `compute_results` discloses what it returns and stores, and stored
snapshots are read through `RoundSnapshot.results` / `LiveSnapshot.results`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    Criterion,
    Item,
    ItemVersion,
    Panellist,
    Rating,
    Round,
    RoundItem,
    RoundSnapshot,
    StakeholderGroup,
    Study,
)
from app.services.export_data import read_frame
from app.services.ratings import expected_answers
from app.settings import settings
from delphi import (
    ConsensusStatus,
    PanelRole,
    disclose_round_results,
    pair_for_stability,
    suggest_decision,
    wording_changed_verdict,
)
from delphi.criteria import COMBINATION_TEXT, combine_statuses
from delphi.withdrawal import on_panel_for_round, withdrew_during_round
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
    stability,
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
    text += " 'Unable to rate' answers are left out of the percentages."
    if len(study.criteria) > 1:
        names = ", ".join(c.name for c in study.criteria)
        text += f" Items are rated on several criteria ({names}). {COMBINATION_TEXT}"
    return text


def first_criterion(study: Study) -> Criterion:
    """The study's first criterion: the one a single-criterion figure (the overall alpha,
    stability, the real-time view) is on."""
    return study.criteria[0]


def ratings_frame(round_: Round, criterion_id: int | None = None) -> pd.DataFrame:
    """Long form: panellist, item (item version id), rating (NaN = unable to rate), group;
    the ratings on one criterion, `criterion_id` or the study's first.

    Read from the driver's cursor as the export does: building SQLAlchemy `Row`s first (which
    pandas then probes one by one) took seconds for a 100,000-rating round.
    """
    if criterion_id is None:
        criterion_id = first_criterion(round_.study).id
    frame = read_frame(
        select(Rating.panellist_id, Rating.item_version_id, Rating.score, StakeholderGroup.name)
        .join(Panellist, Panellist.id == Rating.panellist_id)
        .join(StakeholderGroup, StakeholderGroup.id == Panellist.group_id)
        .where(Rating.round_id == round_.id, Rating.criterion_id == criterion_id),
        ["panellist", "item", "rating", "group"],
    )
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
    """Per stakeholder group: panellists who can rate (less those who withdrew before the
    round opened), how many answered anything, all (every criterion of every item), and how
    many withdrew during the round (`delphi.withdrawal`)."""
    item_count = expected_answers(round_.id)
    answered = dict(
        db.session.execute(
            select(Rating.panellist_id, db.func.count(Rating.id))
            .where(Rating.round_id == round_.id)
            .group_by(Rating.panellist_id)
        ).all()
    )
    # One query for every group's raters, not one per group.
    by_group: dict[int, list[int]] = {}
    withdrew: set[int] = set()
    for panellist_id, group_id, joined_at, withdrawn_at in db.session.execute(
        select(Panellist.id, Panellist.group_id, Panellist.joined_at, Panellist.withdrawn_at).where(
            Panellist.study_id == round_.study_id,
            Panellist.role != PanelRole.OBSERVER.value,
            Panellist.joined_at.is_not(None),
        )
    ):
        if not on_panel_for_round(joined_at, withdrawn_at, round_.opened_at):
            continue
        by_group.setdefault(group_id, []).append(panellist_id)
        if withdrew_during_round(withdrawn_at, round_.opened_at, round_.closed_at):
            withdrew.add(panellist_id)
    out = []
    for group in round_.study.groups:
        members = by_group.get(group.id, [])
        responded = [p for p in members if answered.get(p)]
        completed = [p for p in members if answered.get(p, 0) >= item_count > 0]
        out.append(
            {
                "group": group.name,
                "panel": len(members),
                "responded": len(responded),
                "completed": len(completed),
                "withdrew": sum(p in withdrew for p in members),
            }
        )
    return out


def compute_results(round_: Round) -> dict[str, Any]:
    """Everything the results page, the next round's feedback and exports need, group
    figures disclosed (`delphi.disclosure`): a small group's figures are never stored.

    Each item's figures are those of its first criterion, and its status the combination of
    its criteria's (`delphi.criteria.combine_statuses`: with one criterion, that criterion's).
    A study with several criteria also keeps, per item, ``criteria``: one entry per criterion
    asked of it (``criterion_id``, ``criterion``, its figures and ``groups``), and
    ``alpha_criteria`` / ``alpha_criteria_groups`` by criterion name; ``alpha`` stays the
    first criterion's."""
    study = round_.study
    scale = Scale(low=study.scale_min, high=study.scale_max)
    rule = scoring_rule(study)
    criteria = study.criteria
    several = len(criteria) > 1
    resamples = settings().bootstrap_resamples
    summaries: dict[int, tuple[pd.DataFrame, pd.DataFrame | None]] = {}
    alphas: dict[int, tuple[Any, Any]] = {}
    for criterion in criteria:
        frame = ratings_frame(round_, criterion.id)
        summaries[criterion.id] = (
            item_summary(frame, scale, rule, require_all_groups=study.require_all_groups),
            group_summary(frame, scale, rule) if len(frame) else None,
        )
        if several or criterion is criteria[0]:
            alphas[criterion.id] = (
                alpha(frame, level="ordinal", scale=scale, bootstrap=resamples, seed=round_.id),
                alpha_by_group(
                    frame, level="ordinal", scale=scale, bootstrap=resamples, seed=round_.id
                ),
            )
    out_items: dict[str, Any] = {}
    for round_item in round_items_loaded(round_):
        version = round_item.item_version
        key = version.id
        per_criterion = []
        for criterion in criteria:
            if not criterion.applies(version.item_kind):
                continue
            items, by_group = summaries[criterion.id]
            figures = item_figures(items.loc[key]) if key in items.index else unrated_figures(study)
            groups: dict[str, Any] = {}
            if by_group is not None:
                for group in study.groups:
                    if (group.name, key) in by_group.index:
                        groups[group.name] = item_figures(by_group.loc[(group.name, key)])
            per_criterion.append(
                {
                    "criterion_id": criterion.id,
                    "criterion": criterion.name,
                    **figures,
                    "groups": groups,
                }
            )
        if per_criterion:
            top = {
                k: v for k, v in per_criterion[0].items() if k not in ("criterion_id", "criterion")
            }
        else:
            top = {**unrated_figures(study), "groups": {}}
        status = combine_statuses(
            c.get("status") or ConsensusStatus.NOT_RATED for c in per_criterion
        )
        entry = {
            "item_id": version.item_id,
            "ref": version.item.ref,
            "version": version.number,
            **top,
            "status": status.value,
            "suggested": suggest_decision(status.value).value,
        }
        if several:
            entry["criteria"] = [
                {**c, "suggested": suggest_decision(str(c.get("status"))).value}
                for c in per_criterion
            ]
        out_items[str(key)] = entry
    overall, group_alphas = alphas[criteria[0].id]
    results = {
        "round": round_.number,
        "scale": [study.scale_min, study.scale_max],
        "rule": {"name": study.rule, "description": rule_description(study)},
        "items": out_items,
        "alpha": plain(overall.as_dict()),
        "alpha_groups": {name: plain(a.as_dict()) for name, a in group_alphas.items()},
        "participation": participation(round_),
    }
    if several:
        results["criteria"] = [
            {
                "id": c.id,
                "name": c.name,
                "question": c.question,
                "applies_to": sorted(k.value for k in c.kinds),
            }
            for c in criteria
        ]
        results["alpha_criteria"] = {c.name: plain(alphas[c.id][0].as_dict()) for c in criteria}
        results["alpha_criteria_groups"] = {
            c.name: {name: plain(a.as_dict()) for name, a in alphas[c.id][1].items()}
            for c in criteria
        }
    return disclose_round_results(results)


def round_items_loaded(round_: Round, *, with_versions: bool = False) -> list[RoundItem]:
    """The round's items in order, each with its version, item and theme loaded (and, with
    `with_versions`, every version of the item, for `Item.current`): one query per kind of
    row, however many items, where walking `round_.round_items` loads each one by one."""
    # Versions, items and themes are one each per round item: joined into the one query.
    item = joinedload(RoundItem.item_version, innerjoin=True).joinedload(
        ItemVersion.item, innerjoin=True
    )
    options = [item.joinedload(Item.theme, innerjoin=True)]
    if with_versions:
        options.append(item.selectinload(Item.versions))
    return list(
        db.session.scalars(
            select(RoundItem)
            .where(RoundItem.round_id == round_.id)
            .order_by(RoundItem.position)
            .options(*options)
        )
    )


STABILITY_KEYS = (
    "n_paired",
    "n_changed_band",
    "pct_changed_band",
    "n_changed_rating",
    "wilcoxon_stat",
    "p_value",
    "stable",
    "verdict",
)


def compute_stability(round_: Round) -> dict[str, Any] | None:
    """Per-item stability between this round and the closed round before it, JSON-safe:
    stored with the round's results when it closes, and read by the dashboard, the results
    across rounds, the API and the specification.

    Only ratings of the same wording are compared (`delphi.pair_for_stability`): an item
    reworded between the rounds gets no figures, ``wording_changed`` and the verdict that
    its wording changed. ``items``: a row (`STABILITY_KEYS`, ``item_id``, ``in_both``: the
    item has ratings in both rounds, ``wording_changed``) for every item rated in this round,
    in the round's order; ``all_stable``: every item rated in both rounds was compared and is
    stable. None when there is no earlier closed round or nothing was rated in this one."""
    previous = previous_closed_round(round_)
    if previous is None:
        return None
    criteria = round_.study.criteria
    rows = _stability_rows(previous, round_, criteria[0].id)
    if rows is None:
        return None
    both = [r for r in rows if r["in_both"]]
    all_stable = bool(both) and all(r["stable"] is True for r in both)
    if len(criteria) > 1:
        # Several criteria: each item's stability on each criterion asked of it; the study's
        # ratings are stable only when they are on every criterion.
        per = {
            c.id: {r["item_id"]: r for r in (_stability_rows(previous, round_, c.id) or [])}
            for c in criteria
        }
        for row in rows:
            row["criteria"] = [
                {"criterion": c.name, **{k: per[c.id][row["item_id"]][k] for k in STABILITY_KEYS}}
                for c in criteria
                if row["item_id"] in per[c.id]
            ]
        all_stable = bool(both) and all(c["stable"] is True for r in both for c in r["criteria"])
    return {"rounds": [previous.number, round_.number], "items": rows, "all_stable": all_stable}


def _stability_rows(
    previous: Round, round_: Round, criterion_id: int
) -> list[dict[str, Any]] | None:
    """`compute_stability`'s rows on one criterion; None when nothing was rated on it."""
    before = ratings_frame(previous, criterion_id)
    after = ratings_frame(round_, criterion_id)
    if not len(after):
        return None
    version_before = {
        ri.item_version.item_id: ri.item_version_id for ri in round_items_loaded(previous)
    }
    in_round = round_items_loaded(round_)
    version_after = {ri.item_version.item_id: ri.item_version_id for ri in in_round}
    pairing = pair_for_stability(version_before, version_after)
    rated_before = set(before["item"])
    rated_after = set(after["item"])
    same = {version_after[i] for i in pairing.comparable}
    study = round_.study
    scale = Scale(low=study.scale_min, high=study.scale_max)
    # Nothing to compare when every item rated in both was reworded.
    table = (
        stability(before[before["item"].isin(same)], after[after["item"].isin(same)], scale)
        if same
        else None
    )
    rows = []
    for ri in in_round:
        item_id, version_id = ri.item_version.item_id, ri.item_version_id
        if version_id not in rated_after:
            continue
        reworded = item_id in pairing.reworded
        earlier = version_before.get(item_id)
        row: dict[str, Any] = {
            "item_id": int(item_id),
            "in_both": earlier is not None and earlier in rated_before,
            "wording_changed": reworded,
        }
        if reworded or table is None or version_id not in table.index:
            row.update(dict.fromkeys(STABILITY_KEYS))
            row.update(n_paired=0, n_changed_band=0, n_changed_rating=0)
            row["verdict"] = (
                wording_changed_verdict(previous.number, round_.number)
                if reworded
                else "not rated in both rounds"
            )
        else:
            row.update({k: _plain_value(table.loc[version_id, k]) for k in STABILITY_KEYS})
        rows.append(row)
    return rows


def _plain_value(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


SUMMARY_ITEM_KEYS = ("item_id", "ref", "status", "median", "pct_top")


def _summary_item(entry: dict[str, Any]) -> dict[str, Any]:
    out = {k: entry.get(k) for k in SUMMARY_ITEM_KEYS}
    if entry.get("criteria"):
        # Several criteria: the board shows each one's status.
        out["criteria"] = [
            {"criterion": c.get("criterion"), "status": c.get("status")} for c in entry["criteria"]
        ]
    return out


def summarise(payload: dict[str, Any]) -> dict[str, Any]:
    """The part of a round's stored results that the dashboard and the results across rounds
    show (kept as `RoundSnapshot.summary`): per item its status, median and % in the top
    band; alpha (per group too), participation and stability. No group figure per item."""
    out = {
        "round": payload.get("round"),
        "items": {key: _summary_item(entry) for key, entry in (payload.get("items") or {}).items()},
        "alpha": payload.get("alpha"),
        "alpha_groups": payload.get("alpha_groups"),
        "participation": payload.get("participation"),
    }
    for kept in ("stability", "attrition"):
        if kept in payload:
            out[kept] = payload[kept]
    return out


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
