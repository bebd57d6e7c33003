"""Stability between two rounds: band changes and a Wilcoxon signed-rank test per item."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scoring.errors import ScoringInputError
from scoring.ratings import single_criterion, single_round, validate_ratings
from scoring.scale import Scale

COLUMNS = (
    "n_paired",
    "n_changed_band",
    "pct_changed_band",
    "n_changed_rating",
    "wilcoxon_stat",
    "p_value",
    "stable",
    "verdict",
)


# Up to this many non-zero differences the p-value is exact (same limit as SciPy's "auto").
EXACT_MAX_N = 50


def signed_rank_test(differences: np.ndarray) -> tuple[float, float]:
    """Two-sided Wilcoxon signed-rank test of paired differences: (statistic, p-value).

    Zero differences are dropped (Wilcox's method); the statistic is min(R+, R-) on mid-ranks.
    Up to ``EXACT_MAX_N`` non-zero differences the p-value is exact even with tied
    differences, which Delphi ratings nearly always have: the null distribution of R+ over
    all 2^n sign assignments is built by convolution on doubled mid-ranks (integers), so
    it takes microseconds where SciPy's permutation method takes seconds and its normal
    approximation misleads at n = 5. Above that, SciPy's normal approximation with tie
    correction. Needs at least one non-zero difference.
    """
    d = np.asarray(differences, dtype=float)
    d = d[d != 0]
    n = len(d)
    if n == 0:
        raise ValueError("no non-zero differences")
    ranks = stats.rankdata(np.abs(d))
    r_plus = float(ranks[d > 0].sum())
    statistic = min(r_plus, float(ranks.sum()) - r_plus)
    if n > EXACT_MAX_N:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test = stats.wilcoxon(d, zero_method="wilcox", method="approx")
        return float(test.statistic), float(test.pvalue)
    doubled = np.rint(2 * ranks).astype(np.int64)
    total = int(doubled.sum())
    # counts[k]: sign assignments with doubled R+ == k (exact in float64 below 2**53).
    counts = np.zeros(total + 1)
    counts[0] = 1.0
    for r in doubled:
        counts[r:] = counts[r:] + counts[: total + 1 - r]  # right side read before writing
    probabilities = counts / counts.sum()
    observed = int(round(2 * r_plus))
    lower = probabilities[: observed + 1].sum()
    upper = probabilities[observed:].sum()
    return statistic, float(min(1.0, 2.0 * min(lower, upper)))


def _bands(values: np.ndarray, scale: Scale) -> np.ndarray:
    return np.where(values >= scale.top, 2, np.where(values <= scale.bottom, 0, 1))


def stability(
    df_prev: pd.DataFrame,
    df_curr: pd.DataFrame,
    scale: Scale | None = None,
    max_changed_pct: float = 15.0,
    significance: float = 0.05,
) -> pd.DataFrame:
    """Per item, how much ratings moved between two rounds.

    Pairs are panellists with a rating on the scale for the item in both rounds ("unable to
    rate" and unanswered are not paired). Columns: ``n_paired``, ``n_changed_band`` /
    ``pct_changed_band`` (panellists whose band changed, per cent of ``n_paired``),
    ``n_changed_rating``, ``wilcoxon_stat`` and ``p_value`` (two-sided Wilcoxon
    signed-rank test on the paired ratings, zero differences dropped — Wilcox's method — exact
    up to 50 changed pairs even with ties, normal approximation above: see
    ``signed_rank_test``), ``stable`` and
    ``verdict``.

    Verdict: stable when at most ``max_changed_pct`` % changed band (15 % by default, the
    usual Delphi stability threshold) and the Wilcoxon test finds no shift at
    ``significance``. Defined answers: no pairs → ``stable`` None, figures None, verdict "not
    rated in both rounds"; no panellist changed rating → statistic 0, p-value 1 (nothing
    moved, so the test has nothing to reject). Items are those of either round, current round
    first. Raises ScoringInputError for invalid ratings, a table holding several rounds or
    criteria, or two rounds of different criteria.
    """
    scale = scale or Scale()
    prev = validate_ratings(df_prev, scale)
    curr = validate_ratings(df_curr, scale)
    single_round(prev, "stability (previous round)")
    single_criterion(prev, "stability (previous round)")
    single_round(curr, "stability (current round)")
    single_criterion(curr, "stability (current round)")
    named = [set(t["criterion"].unique()) for t in (prev, curr) if "criterion" in t and len(t)]
    if len(named) == 2 and named[0] != named[1]:
        raise ScoringInputError(
            f"stability compares one criterion across rounds; the previous round holds "
            f"{sorted(named[0])} and the current round {sorted(named[1])}"
        )
    paired = curr.loc[curr["rating"].notna(), ["panellist", "item", "rating"]].merge(
        prev.loc[prev["rating"].notna(), ["panellist", "item", "rating"]],
        on=["panellist", "item"],
        suffixes=("_curr", "_prev"),
    )
    items = list(pd.unique(pd.concat([curr["item"], prev["item"]], ignore_index=True)))
    groups = dict(tuple(paired.groupby("item", sort=False)))
    rows: list[dict[str, Any]] = []
    for item in items:
        group = groups.get(item)
        if group is None or group.empty:
            rows.append(
                {
                    "n_paired": 0,
                    "n_changed_band": 0,
                    "pct_changed_band": None,
                    "n_changed_rating": 0,
                    "wilcoxon_stat": None,
                    "p_value": None,
                    "stable": None,
                    "verdict": "not rated in both rounds",
                }
            )
            continue
        before = group["rating_prev"].to_numpy(dtype=float)
        after = group["rating_curr"].to_numpy(dtype=float)
        n = len(before)
        changed_band = int((_bands(before, scale) != _bands(after, scale)).sum())
        changed = int((before != after).sum())
        if changed == 0:
            statistic, p_value = 0.0, 1.0
        else:
            statistic, p_value = signed_rank_test(after - before)
        pct = 100.0 * changed_band / n
        shifted = p_value < significance
        moved = pct > max_changed_pct
        stable = not shifted and not moved
        if stable:
            verdict = f"stable: {pct:.0f}% changed band, no shift (p = {p_value:.3g})"
        else:
            reasons = []
            if moved:
                reasons.append(f"{pct:.0f}% changed band (> {max_changed_pct:g}%)")
            if shifted:
                reasons.append(f"ratings shifted (Wilcoxon p = {p_value:.3g})")
            verdict = "not stable: " + "; ".join(reasons)
        rows.append(
            {
                "n_paired": n,
                "n_changed_band": changed_band,
                "pct_changed_band": pct,
                "n_changed_rating": changed,
                "wilcoxon_stat": statistic,
                "p_value": p_value,
                "stable": stable,
                "verdict": verdict,
            }
        )
    table = pd.DataFrame(rows, index=pd.Index(items, name="item"), columns=list(COLUMNS))
    for column in ("pct_changed_band", "wilcoxon_stat", "p_value", "stable"):
        table[column] = table[column].astype(object)
        table[column] = table[column].where(table[column].notna(), None)
    return table
