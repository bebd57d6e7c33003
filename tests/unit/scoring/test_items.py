"""Per-item figures, percentiles, RAND/UCLA disagreement and the consensus rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import (
    MedianIQRRule,
    PercentageRule,
    RandRule,
    Scale,
    ScoringInputError,
    group_summary,
    item_summary,
    rand_disagreement,
)
from scoring.percentiles import percentile_from_counts


def one_item(ratings: list[float], item: str = "q1", **extra: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "panellist": [f"p{i}" for i in range(len(ratings))],
            "item": item,
            "rating": ratings,
            **extra,
        }
    )


def test_scale_bands() -> None:
    nine, five, seven = Scale(1, 9), Scale(1, 5), Scale(1, 7)
    assert (nine.bottom, nine.top) == (3, 7)
    assert (five.bottom, five.top) == (2, 4)
    assert (seven.bottom, seven.top) == (2, 6)
    assert (Scale(0, 10).bottom, Scale(0, 10).top) == (3, 7)
    assert Scale(1, 9, bottom_max=2, top_min=8).band(7) == "middle"
    assert [nine.band(v) for v in (3, 3.5, 6.5, 7)] == ["bottom", "middle", "middle", "top"]
    with pytest.raises(ScoringInputError):
        Scale(5, 5)
    with pytest.raises(ScoringInputError):
        Scale(1, 9, bottom_max=7, top_min=7)


def test_figures_worked_by_hand() -> None:
    # Sorted: 1 2 2 3 7 8 8 9 9 (n = 9), plus one "unable to rate".
    df = one_item([8, 2, 9, 1, np.nan, 7, 3, 9, 2, 8])
    row = item_summary(df, Scale(), PercentageRule()).loc["q1"]
    assert (row["n"], row["n_unable"]) == (9, 1)
    assert row["mean"] == pytest.approx(49 / 9)
    assert row["median"] == 7
    # Type 7: h = 8 p. Q1: h = 2 → x[2] = 2. Q3: h = 6 → x[6] = 8.
    assert (row["q1"], row["q3"], row["iqr"]) == (2, 8, 6)
    assert row["counts"] == [1, 2, 1, 0, 0, 0, 1, 2, 2]
    assert row["pct_bottom"] == pytest.approx(400 / 9)
    assert row["pct_middle"] == 0
    assert row["pct_top"] == pytest.approx(500 / 9)
    # P30: h = 2.4 → 2 + 0.4 (3 - 2) = 2.4. P70: h = 5.6 → 8 + 0.6 (8 - 8) = 8.
    assert (row["ipr_low"], row["ipr_high"]) == (2.4, 8.0)
    assert row["ipr"] == pytest.approx(5.6)
    assert row["iprcp"] == pytest.approx(5.2)
    assert row["ipras"] == pytest.approx(2.35 + 1.5 * 0.2)
    assert row["di"] == pytest.approx(5.6 / 2.65)
    assert row["disagreement"] is True
    assert row["status"] == "no_consensus"


@pytest.mark.parametrize(
    ("ratings", "p30", "p70", "ipras", "di", "status"),
    [
        # Strongly appropriate: IPR 0.6, IPRCP 8.3, IPRAS = 2.35 + 1.5 × 3.3 = 7.3.
        ([7, 7, 8, 8, 8, 8, 9, 9, 9], 8.0, 8.6, 7.3, 0.6 / 7.3, "consensus_in"),
        # Symmetric about 5: IPRAS is the bare 2.35; median 5 is uncertain.
        ([3, 4, 4, 5, 5, 5, 6, 6, 7], 4.4, 5.6, 2.35, 1.2 / 2.35, "no_consensus"),
        # Inappropriate: P30 = 1, P70 = 2.6, IPRCP 1.8, IPRAS = 2.35 + 1.5 × 3.2 = 7.15.
        ([1, 1, 1, 1, 2, 2, 3, 4, 9], 1.0, 2.6, 7.15, 1.6 / 7.15, "consensus_out"),
        # Polarised, median 8 but disagreement: P30 = 1 + 0.4 × (8 − 1) = 3.8, P70 = 9,
        # IPRCP 6.4, IPRAS = 2.35 + 1.5 × 1.4 = 4.45, DI = 5.2 / 4.45 > 1.
        ([1, 1, 1, 8, 8, 9, 9, 9, 9], 3.8, 9.0, 4.45, 5.2 / 4.45, "no_consensus"),
    ],
)
def test_rand_ucla_disagreement_index(
    ratings: list[float], p30: float, p70: float, ipras: float, di: float, status: str
) -> None:
    row = item_summary(one_item(ratings), Scale(), RandRule()).loc["q1"]
    assert row["ipr_low"] == pytest.approx(p30)
    assert row["ipr_high"] == pytest.approx(p70)
    assert row["ipras"] == pytest.approx(ipras)
    assert row["di"] == pytest.approx(di)
    assert row["status"] == status


def test_rand_formula_on_other_scales_is_the_rescaled_one_9_formula() -> None:
    # 1-5 ratings mapped onto 1-9 by x → 2x − 1 must give the same DI.
    five = [1, 2, 4, 4, 5, 5, 5]
    on_five = item_summary(one_item(five), Scale(1, 5), RandRule()).loc["q1"]
    on_nine = item_summary(one_item([2 * v - 1 for v in five]), Scale(), RandRule()).loc["q1"]
    assert on_five["di"] == pytest.approx(on_nine["di"])
    _, _, ipras, _ = rand_disagreement(np.array([1.0]), np.array([9.0]), Scale())
    assert ipras[0] == pytest.approx(2.35)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(1, 9), min_size=1, max_size=40),
    pct=st.sampled_from([0, 10, 25, 30, 50, 70, 75, 90, 100]),
)
def test_percentiles_match_numpy_linear(values: list[int], pct: int) -> None:
    counts = np.bincount(np.array(values) - 1, minlength=9)[None, :].astype(np.int64)
    ours = percentile_from_counts(counts, np.arange(1, 10, dtype=np.int64), pct)[0]
    assert ours == pytest.approx(np.quantile(values, pct / 100, method="linear"), abs=1e-12)


@pytest.mark.parametrize(
    ("top", "bottom", "n", "status"),
    [
        (7, 1, 10, "consensus_in"),  # exactly 70 % top, 10 % bottom
        (7, 2, 10, "no_consensus"),  # 20 % bottom is too many
        (14, 3, 20, "consensus_in"),  # exactly 15 % bottom is allowed
        (6, 0, 10, "no_consensus"),  # 60 % top is too few
        (1, 7, 10, "consensus_out"),
    ],
)
def test_percentage_rule_thresholds_are_inclusive(
    top: int, bottom: int, n: int, status: str
) -> None:
    ratings = [8.0] * top + [2.0] * bottom + [5.0] * (n - top - bottom)
    assert item_summary(one_item(ratings), Scale(), PercentageRule()).loc["q1", "status"] == status


def test_percentage_rule_thresholds_are_parameters() -> None:
    ratings = [8.0] * 6 + [5.0] * 4
    assert (
        item_summary(one_item(ratings), Scale(), PercentageRule(in_min_pct=60)).loc["q1", "status"]
        == "consensus_in"
    )


def test_median_iqr_rule() -> None:
    tight = [7, 7, 8, 8, 8, 9, 9]  # median 8, Q1 7.5, Q3 8.5: IQR 1
    wide = [1, 1, 2, 7, 8, 8, 8, 9, 9]  # median 8, Q1 2, Q3 8: IQR 6
    low = [1, 2, 2, 2, 3]  # median 2, IQR 0
    rule = MedianIQRRule(max_iqr=2)
    assert item_summary(one_item(tight), Scale(), rule).loc["q1", "status"] == "consensus_in"
    assert item_summary(one_item(wide), Scale(), rule).loc["q1", "status"] == "no_consensus"
    assert item_summary(one_item(low), Scale(), rule).loc["q1", "status"] == "consensus_out"
    assert (
        item_summary(one_item(tight), Scale(), MedianIQRRule(max_iqr=0.5)).loc["q1", "status"]
        == "no_consensus"
    )


def test_not_rated_item_has_none_not_nan() -> None:
    df = pd.concat([one_item([8, 8, 9]), one_item([np.nan, np.nan], item="q2")])
    table = item_summary(df, Scale(), PercentageRule())
    row = table.loc["q2"]
    assert (row["n"], row["n_unable"], row["status"]) == (0, 2, "not_rated")
    for column in ("mean", "median", "iqr", "pct_top", "ipr", "ipras", "di"):
        assert row[column] is None
    assert table.loc["q1", "status"] == "consensus_in"


def test_every_group_must_meet_the_rule_when_required() -> None:
    # q1: 8 of 10 rate top, 1 bottom (consensus overall) but only 2 of 4 patients rate top.
    df = pd.DataFrame(
        {
            "panellist": [f"p{i}" for i in range(10)],
            "item": "q1",
            "rating": [8, 8, 8, 8, 8, 8, 9, 9, 2, 5],
            "group": ["clin"] * 6 + ["pat"] * 4,
        }
    )
    plain = item_summary(df, Scale(), PercentageRule())
    strict = item_summary(df, Scale(), PercentageRule(), require_all_groups=True)
    assert plain.loc["q1", "status"] == "consensus_in"
    assert strict.loc["q1", "status"] == "no_consensus"
    assert strict.loc["q1", "groups_agree"] is False
    groups = group_summary(df, Scale(), PercentageRule())
    assert groups.loc[("clin", "q1"), "status"] == "consensus_in"
    assert groups.loc[("pat", "q1"), "pct_top"] == 50
    with pytest.raises(ScoringInputError, match="group"):
        item_summary(df.drop(columns="group"), Scale(), PercentageRule(), require_all_groups=True)


def test_group_summary_lists_every_group_item_pair() -> None:
    df = pd.DataFrame(
        {
            "panellist": ["a", "b", "c"],
            "item": ["q1", "q2", "q1"],
            "rating": [8, 3, 9],
            "group": ["g1", "g1", "g2"],
        }
    )
    groups = group_summary(df, Scale(), PercentageRule())
    assert list(groups.index) == [("g1", "q1"), ("g1", "q2"), ("g2", "q1"), ("g2", "q2")]
    assert groups.loc[("g2", "q2"), "status"] == "not_rated"
    assert groups.loc[("g2", "q2"), "median"] is None
