"""The attrition-bias check: a published example, an exact permutation worked out here, and
SciPy's large-sample test, each computed independently of `scoring.attrition`."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scoring import ScoringInputError
from scoring.attrition import EXACT_MAX_N, attrition_bias, mann_whitney


def _permutation_p(x: list[float], y: list[float]) -> tuple[float, float]:
    """U of x and the two-sided exact p-value by enumerating every split of the pooled
    ratings (mid-ranks for ties): twice the smaller tail of x's rank sum."""
    pooled = x + y
    ranks = stats.rankdata(pooled)
    observed = ranks[: len(x)].sum()
    sums = [sum(ranks[i] for i in chosen) for chosen in combinations(range(len(pooled)), len(x))]
    lower = sum(s <= observed + 1e-9 for s in sums) / len(sums)
    upper = sum(s >= observed - 1e-9 for s in sums) / len(sums)
    u = observed - len(x) * (len(x) + 1) / 2
    return u, min(1.0, 2 * min(lower, upper))


def test_published_example_without_ties() -> None:
    # SciPy's documented example (after Conover): ages of male and female workers;
    # U = 17 and the exact two-sided p = 0.1111 (= 14 of the 126 splits, twice).
    u, p = mann_whitney([19, 22, 16, 29, 24], [20, 11, 17, 12])
    assert u == 17
    assert p == pytest.approx(0.111111, abs=1e-6)
    assert p == pytest.approx(stats.mannwhitneyu([19, 22, 16, 29, 24], [20, 11, 17, 12]).pvalue)


def test_hand_worked_example_with_ties() -> None:
    # Stayed 7, 8, 9 against left 1, 2, 3: every stayed rating is higher, U = 9, and only
    # 1 of the C(6, 3) = 20 splits is as extreme on each side: p = 2 / 20 = 0.1.
    u, p = mann_whitney([7, 8, 9], [1, 2, 3])
    assert (u, p) == (9, pytest.approx(0.1))


@pytest.mark.parametrize(
    ("stayed", "left"),
    [
        ([7, 7, 8, 9, 9, 8], [4, 5, 7, 6]),
        ([5, 5, 5, 6], [5, 5, 6, 6, 7]),
        ([1, 2, 2, 9, 9], [2, 2, 3]),
        ([8, 8, 8], [8, 8, 8]),
    ],
)
def test_exact_p_value_matches_a_full_permutation_under_ties(
    stayed: list[float], left: list[float]
) -> None:
    u, p = mann_whitney(stayed, left)
    expected_u, expected_p = _permutation_p(stayed, left)
    assert u == pytest.approx(expected_u)
    assert p == pytest.approx(expected_p)
    # SciPy's U agrees (its p-value with ties is approximate, so it is not compared here).
    assert u == pytest.approx(stats.mannwhitneyu(stayed, left).statistic)


def test_large_samples_use_scipys_normal_approximation() -> None:
    rng = np.random.default_rng(7)
    stayed = rng.integers(1, 10, 40).tolist()
    left = rng.integers(3, 10, 30).tolist()
    assert len(stayed) + len(left) > EXACT_MAX_N
    u, p = mann_whitney(stayed, left)
    test = stats.mannwhitneyu(stayed, left, alternative="two-sided", method="asymptotic")
    assert (u, p) == (pytest.approx(test.statistic), pytest.approx(test.pvalue))


def test_each_side_needs_a_rating() -> None:
    with pytest.raises(ValueError):
        mann_whitney([], [1, 2])


def _round(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["panellist", "item", "rating"])


def test_attrition_bias_splits_each_item_by_who_stayed() -> None:
    ratings = _round(
        [(f"s{i}", "P1", 9.0) for i in range(5)]
        + [(f"l{i}", "P1", 2.0) for i in range(4)]
        + [(f"s{i}", "P2", 7.0 + i % 2) for i in range(5)]
        + [(f"l{i}", "P2", 7.0 + i % 2) for i in range(4)]
        + [("l0", "P3", float("nan"))]
    )
    table = attrition_bias(ratings, stayed={f"s{i}" for i in range(5)})
    p1 = table.loc["P1"]
    assert (p1["n_stayed"], p1["n_left"]) == (5, 4)
    assert (p1["median_stayed"], p1["median_left"]) == (9.0, 2.0)
    assert p1["u_statistic"] == 20
    assert p1["p_value"] == pytest.approx(_permutation_p([9.0] * 5, [2.0] * 4)[1])
    assert bool(p1["flagged"]) is True
    p2 = table.loc["P2"]
    assert p2["p_value"] > 0.5 and not p2["flagged"]
    # "Unable to rate" is no rating: nobody to compare, no test.
    p3 = table.loc["P3"]
    assert (p3["n_stayed"], p3["n_left"]) == (0, 0)
    assert pd.isna(p3["p_value"]) and pd.isna(p3["median_left"]) and not p3["flagged"]


def test_attrition_bias_refuses_two_rounds_mixed() -> None:
    ratings = _round([("a", "P1", 5.0), ("b", "P1", 6.0)])
    ratings["round"] = [1, 2]
    with pytest.raises(ScoringInputError):
        attrition_bias(ratings, stayed={"a"})
