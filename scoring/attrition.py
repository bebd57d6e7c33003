"""Attrition bias: did those who left the panel rate differently from those who stayed?

For each item, an earlier round's ratings are split by whether the panellist answered the
later round (stayed) or not (left); the two sides are compared by their medians and a
two-sided Mann-Whitney U test. A difference (p below the significance level) warns that the
later round's agreement may partly reflect who remained rather than a change of mind.
"""

from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from scoring.ratings import single_criterion, single_round, validate_ratings
from scoring.scale import Scale

COLUMNS = (
    "n_stayed",
    "n_left",
    "median_stayed",
    "median_left",
    "u_statistic",
    "p_value",
    "flagged",
)

# Up to this many ratings in all the p-value is exact even with ties (Delphi ratings nearly
# always tie); above it SciPy's normal approximation with tie correction is close enough.
EXACT_MAX_N = 50


def mann_whitney(stayed: ArrayLike, left: ArrayLike) -> tuple[float, float]:
    """Two-sided Mann-Whitney U test: (U of `stayed`, p-value).

    U counts the pairs (stayed, left) where the stayed rating is higher, ties counting a
    half (SciPy's convention for the first sample). Up to `EXACT_MAX_N` ratings the p-value
    is exact under ties: the null distribution of the first sample's rank sum over every way
    of choosing which ratings are "stayed" is counted on doubled mid-ranks (integers), the
    p-value being twice the smaller tail. Needs at least one rating on each side.
    """
    x = np.asarray(stayed, dtype=float)
    y = np.asarray(left, dtype=float)
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("each side needs at least one rating")
    ranks = stats.rankdata(np.concatenate([x, y]))
    rank_sum = float(ranks[:n1].sum())
    u = rank_sum - n1 * (n1 + 1) / 2
    if n1 + n2 > EXACT_MAX_N:
        test = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
        return float(test.statistic), float(test.pvalue)
    doubled = np.rint(2 * ranks).astype(np.int64)
    total = int(doubled.sum())
    # counts[k, s]: subsets of k ratings whose doubled ranks sum to s.
    counts = np.zeros((n1 + 1, total + 1))
    counts[0, 0] = 1.0
    for r in doubled:
        for k in range(n1, 0, -1):
            counts[k, r:] += counts[k - 1, : total + 1 - r]
    probabilities = counts[n1] / counts[n1].sum()
    observed = int(round(2 * rank_sum))
    lower = probabilities[: observed + 1].sum()
    upper = probabilities[observed:].sum()
    return u, float(min(1.0, 2.0 * min(lower, upper)))


def attrition_bias(
    earlier: pd.DataFrame,
    stayed: Collection[object],
    scale: Scale | None = None,
    significance: float = 0.05,
) -> pd.DataFrame:
    """Per item, the earlier round's ratings of those who stayed against those who left.

    `earlier` is one round's ratings in long form (panellist, item, rating; NaN for
    "unable to rate", left out); `stayed` the panellists who answered the later round.
    Returns one row per item (`COLUMNS`): how many rated on each side, each side's median,
    the test's U and p-value (None unless both sides have ratings), and ``flagged`` when
    p < `significance`. Who is on which side is the caller's to keep private.
    """
    frame = validate_ratings(earlier, scale or Scale())
    single_round(frame, "attrition bias")
    single_criterion(frame, "attrition bias")
    kept = set(stayed)
    rows: dict[object, dict[str, object]] = {}
    for item, group in frame.groupby("item", sort=False):
        rated = group.dropna(subset=["rating"])
        mask = rated["panellist"].isin(kept)
        on_stayed = rated.loc[mask, "rating"].to_numpy(dtype=float)
        on_left = rated.loc[~mask, "rating"].to_numpy(dtype=float)
        u: float | None = None
        p: float | None = None
        if len(on_stayed) and len(on_left):
            u, p = mann_whitney(on_stayed, on_left)
        rows[item] = {
            "n_stayed": len(on_stayed),
            "n_left": len(on_left),
            "median_stayed": float(np.median(on_stayed)) if len(on_stayed) else None,
            "median_left": float(np.median(on_left)) if len(on_left) else None,
            "u_statistic": u,
            "p_value": p,
            "flagged": p is not None and not math.isnan(p) and p < significance,
        }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS))
    table.index.name = "item"
    return table
