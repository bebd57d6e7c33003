"""Figures per criterion: Krippendorff's alpha (overall and per group) and stability.

A rating judges one criterion of an item (importance, validity, feasibility...). Alpha,
consensus and stability mean something only within one criterion: pooling the importance and
the feasibility ratings of an item would treat two different judgements as two raters
agreeing or not about one thing. So the long table's optional ``criterion`` column splits the
ratings, and every figure here is computed on one criterion's ratings with the functions used
for a table without criteria (same options, same edge cases, same notes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from scoring.coincidence import Level
from scoring.errors import ScoringInputError
from scoring.ratings import single_round, validate_ratings
from scoring.reliability import (
    TENTATIVE,
    AlphaResult,
    CiMethod,
    _alpha_by_group_validated,
    _alpha_validated,
    _check_options,
)
from scoring.scale import Scale
from scoring.stability import stability

CRITERION = "criterion"
# A criterion is a name ("importance") or a whole-number id (a database key), one kind per table.
Criterion = str | int


def split_by_criterion(
    df: pd.DataFrame, scale: Scale | None = None
) -> dict[Criterion, pd.DataFrame]:
    """The validated ratings of each criterion, without the ``criterion`` column.

    Keys (names, or ids if the column holds ids) in order of first appearance in the table
    (the order a study lists its criteria in is usually the order its ratings are exported
    in). Each part is a table every other
    function of the package accepts. Raises ScoringInputError without a ``criterion`` column,
    plus the ``validate_ratings`` errors (an empty criterion, or one that is not text).
    """
    clean = validate_ratings(df, scale or Scale())
    if CRITERION not in clean.columns:
        raise ScoringInputError("the ratings have no 'criterion' column to split by")
    names = list(pd.unique(clean[CRITERION]))
    parts = dict(tuple(clean.groupby(CRITERION, sort=False)))
    return {name: parts[name].drop(columns=CRITERION) for name in names}


def _one_round(df: pd.DataFrame, scale: Scale, what: str) -> dict[Criterion, pd.DataFrame]:
    parts = split_by_criterion(df, scale)
    for part in parts.values():
        single_round(part, what)
    return parts


def alpha_by_criterion(
    df: pd.DataFrame,
    level: Level = "ordinal",
    scale: Scale | None = None,
    bootstrap: int = 1000,
    seed: int | None = None,
    ci_method: CiMethod = "units",
    min_alpha: float = TENTATIVE,
    confidence: float = 0.95,
) -> dict[Criterion, AlphaResult]:
    """``scoring.alpha`` on each criterion's ratings of one round (keys as in
    ``split_by_criterion``). Every criterion's interval uses the same ``seed``."""
    scale = scale or Scale()
    _check_options(level, ci_method, bootstrap, confidence)
    # The parts are validated once, by the split; the private helpers do not check again.
    return {
        name: _alpha_validated(
            part, level, scale, bootstrap, seed, ci_method, min_alpha, confidence
        )
        for name, part in _one_round(df, scale, "alpha_by_criterion").items()
    }


def alpha_by_criterion_and_group(
    df: pd.DataFrame,
    level: Level = "ordinal",
    scale: Scale | None = None,
    bootstrap: int = 1000,
    seed: int | None = None,
    ci_method: CiMethod = "units",
    min_alpha: float = TENTATIVE,
    confidence: float = 0.95,
) -> dict[Criterion, dict[str, AlphaResult]]:
    """``scoring.alpha_by_group`` on each criterion's ratings of one round: criterion →
    group → alpha. A group with no rating on a criterion has no entry for it. The caller
    decides what may be shown (the web app hides groups of fewer than 3 raters). Raises
    ScoringInputError without a ``group`` column."""
    scale = scale or Scale()
    _check_options(level, ci_method, bootstrap, confidence)
    parts = _one_round(df, scale, "alpha_by_criterion_and_group")
    if parts and "group" not in next(iter(parts.values())).columns:
        raise ScoringInputError("alpha_by_criterion_and_group needs a 'group' column")
    return {
        name: _alpha_by_group_validated(
            part, level, scale, bootstrap, seed, ci_method, min_alpha, confidence
        )
        for name, part in parts.items()
    }


def stability_by_criterion(
    df_prev: pd.DataFrame,
    df_curr: pd.DataFrame,
    scale: Scale | None = None,
    max_changed_pct: float = 15.0,
    significance: float = 0.05,
) -> dict[Criterion, pd.DataFrame]:
    """``scoring.stability`` per criterion: a panellist's rating of an item on a criterion is
    paired with their rating of the same item on the same criterion in the other round.

    Criteria of the current round first, then those rated only in the previous round (their
    items read "not rated in both rounds"). Both tables need a ``criterion`` column.
    """
    scale = scale or Scale()
    prev = _one_round(df_prev, scale, "stability_by_criterion (previous round)")
    curr = _one_round(df_curr, scale, "stability_by_criterion (current round)")
    names = list(curr) + [name for name in prev if name not in curr]
    empty = validate_ratings(df_curr, scale).drop(columns=CRITERION).iloc[0:0]
    return {
        name: stability(
            prev.get(name, empty), curr.get(name, empty), scale, max_changed_pct, significance
        )
        for name in names
    }


@dataclass(frozen=True)
class CriterionAnalysis:
    """One criterion's reliability figures for a round.

    ``groups`` is empty without a ``group`` column; ``stability`` is None when no previous
    round was given (see ``scoring.stability`` for its columns).
    """

    criterion: Criterion
    alpha: AlphaResult
    groups: dict[str, AlphaResult] = field(default_factory=dict)
    stability: pd.DataFrame | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: alpha and per-group alpha as ``AlphaResult.as_dict``, stability as a
        list of per-item dicts (or None)."""
        rows = None
        if self.stability is not None:
            rows = [{"item": item, **dict(row.items())} for item, row in self.stability.iterrows()]
        return {
            "criterion": self.criterion,
            "alpha": self.alpha.as_dict(),
            "groups": {name: res.as_dict() for name, res in self.groups.items()},
            "stability": rows,
        }


def analyse_by_criterion(
    df: pd.DataFrame,
    scale: Scale | None = None,
    level: Level = "ordinal",
    bootstrap: int = 1000,
    seed: int | None = None,
    ci_method: CiMethod = "units",
    min_alpha: float = TENTATIVE,
    confidence: float = 0.95,
    previous: pd.DataFrame | None = None,
    max_changed_pct: float = 15.0,
    significance: float = 0.05,
) -> dict[Criterion, CriterionAnalysis]:
    """Per criterion of one round: alpha with its interval, alpha per stakeholder group (when
    there is a ``group`` column) and, given the ``previous`` round's ratings, stability.

    ``df`` (and ``previous``) are long tables of one round with a ``criterion`` column. Keys:
    the criteria of ``df`` in order of first appearance. The options are those of
    ``scoring.alpha`` and ``scoring.stability``. Raises ScoringInputError for a table without
    criteria, several rounds in one table, or invalid ratings.
    """
    scale = scale or Scale()
    _check_options(level, ci_method, bootstrap, confidence)
    parts = _one_round(df, scale, "analyse_by_criterion")
    moved = (
        stability_by_criterion(previous, df, scale, max_changed_pct, significance)
        if previous is not None
        else {}
    )
    out: dict[Criterion, CriterionAnalysis] = {}
    for name, part in parts.items():
        options = (level, scale, bootstrap, seed, ci_method, min_alpha, confidence)
        out[name] = CriterionAnalysis(
            criterion=name,
            alpha=_alpha_validated(part, *options),
            groups=_alpha_by_group_validated(part, *options) if "group" in part.columns else {},
            stability=moved.get(name) if previous is not None else None,
        )
    return out
