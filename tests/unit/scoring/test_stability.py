"""Stability between rounds, with hand-computed exact Wilcoxon p-values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scoring import Scale, ScoringInputError, alpha_trend, stability
from scoring.stability import signed_rank_test


def rnd(ratings: list[float], item: str = "q1") -> pd.DataFrame:
    return pd.DataFrame(
        {"panellist": [f"p{i}" for i in range(len(ratings))], "item": item, "rating": ratings}
    )


def test_consistent_upward_shift_is_not_stable() -> None:
    # Differences 1..6, all positive, no ties: exact two-sided p = 2 / 2^6 = 0.03125.
    table = stability(rnd([1, 1, 1, 1, 1, 1]), rnd([2, 3, 4, 5, 6, 7]), Scale())
    row = table.loc["q1"]
    assert row["n_paired"] == 6
    assert row["wilcoxon_stat"] == 0
    assert row["p_value"] == pytest.approx(2 / 64)
    # Bands 1 → 2, 3 stay bottom; 4, 5, 6 middle and 7 top changed: 4 of 6.
    assert row["n_changed_band"] == 4
    assert row["pct_changed_band"] == pytest.approx(400 / 6)
    assert row["stable"] is False
    assert "changed band" in row["verdict"] and "shifted" in row["verdict"]


def test_small_moves_within_bands_are_stable() -> None:
    # Differences +1, -1, +1, -1, 0 (within bands); 0 dropped, ranks tie: no shift.
    prev = [7, 8, 7, 8, 9]
    curr = [8, 7, 8, 7, 9]
    row = stability(rnd(prev), rnd(curr), Scale()).loc["q1"]
    assert row["pct_changed_band"] == 0
    assert row["p_value"] > 0.5
    assert row["stable"] is True and row["verdict"].startswith("stable")


def test_five_moved_all_up_is_not_significant() -> None:
    # n = 5 all positive: exact p = 2 / 32 = 0.0625 > 0.05; within-band moves: stable.
    prev = [1, 4, 4, 7, 7]
    curr = [2, 5, 6, 8, 9]
    row = stability(rnd(prev), rnd(curr), Scale()).loc["q1"]
    assert row["p_value"] == pytest.approx(2 / 32)
    assert row["stable"] is True


def test_no_change_and_no_pairs_are_defined() -> None:
    same = stability(rnd([3, 8, 8]), rnd([3, 8, 8]), Scale()).loc["q1"]
    assert (same["wilcoxon_stat"], same["p_value"], same["stable"]) == (0.0, 1.0, True)
    prev = rnd([8, 8], item="q1")
    curr = pd.concat([rnd([np.nan, np.nan], item="q1"), rnd([5], item="q2")])
    table = stability(prev, curr, Scale())
    for item in ("q1", "q2"):
        assert table.loc[item, "n_paired"] == 0
        assert table.loc[item, "p_value"] is None and table.loc[item, "stable"] is None
        assert table.loc[item, "verdict"] == "not rated in both rounds"


def test_band_change_threshold_is_a_parameter() -> None:
    prev = [5, 8, 8, 8, 8, 8]
    curr = [7, 8, 8, 8, 8, 8]  # one of six (17 %) changed band
    assert stability(rnd(prev), rnd(curr), Scale()).loc["q1", "stable"] is False
    assert stability(rnd(prev), rnd(curr), Scale(), max_changed_pct=20).loc["q1", "stable"]


def test_alpha_trend_per_round() -> None:
    r1 = rnd([1, 5, 9], "q1").assign(round=1)
    r1b = rnd([2, 6, 8], "q2").assign(round=1)
    r2 = rnd([8, 8, 9], "q1").assign(round=2)
    r2b = rnd([2, 2, 3], "q2").assign(round=2)
    trend = alpha_trend(pd.concat([r1, r1b, r2, r2b]), bootstrap=0)
    assert list(trend.index) == [1, 2]
    assert trend.loc[1, "value"] < 0.2 < 0.7 < trend.loc[2, "value"]
    with pytest.raises(ScoringInputError, match="one round"):
        stability(pd.concat([r1, r2]), r2, Scale())


def test_signed_rank_p_values_match_scipy_exact_without_ties() -> None:
    rng = np.random.default_rng(7)
    for n in (3, 6, 9, 14):
        d = rng.permutation(np.arange(1, n + 1)) * rng.choice([-1, 1], n)
        stat, p = signed_rank_test(d.astype(float))
        ref = stats.wilcoxon(d, method="exact")
        assert (stat, p) == (pytest.approx(ref.statistic), pytest.approx(ref.pvalue))


def test_signed_rank_p_values_with_ties_match_a_full_permutation_test() -> None:
    # SciPy's permutation method enumerates every sign assignment when 2^n <= n_resamples:
    # an independent, slow computation of the same exact p-value.
    rng = np.random.default_rng(11)
    for n in (4, 7, 10):
        d = rng.integers(-3, 4, n).astype(float)
        d[d == 0] = 2.0
        stat, p = signed_rank_test(d)
        ref = stats.wilcoxon(d, method=stats.PermutationMethod(n_resamples=2**n))
        assert p == pytest.approx(ref.pvalue)
        assert stat == pytest.approx(ref.statistic)


def test_signed_rank_above_the_exact_limit_uses_the_normal_approximation() -> None:
    d = np.tile([1.0, -2.0, 3.0, 1.0, 2.0], 12)  # 60 differences
    stat, p = signed_rank_test(d)
    ref = stats.wilcoxon(d, method="approx")
    assert (stat, p) == (pytest.approx(ref.statistic), pytest.approx(ref.pvalue))
