"""Edge cases have defined answers: never a crash, never a silent NaN."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from scoring import (
    PercentageRule,
    RandRule,
    Scale,
    ScoringInputError,
    alpha,
    alpha_by_group,
    item_summary,
    validate_ratings,
)
from scoring.report import analyse_round, to_json


def frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["panellist", "item", "rating"])


def no_nan(value: object) -> bool:
    text = json.dumps(value, allow_nan=False)  # raises on NaN/inf
    return "NaN" not in text


def test_one_rater() -> None:
    df = frame([("p1", "q1", 8), ("p1", "q2", 3), ("p1", "q3", 5)])
    result = alpha(df)
    assert result.value is None and result.ci is None
    assert result.note is not None and "one panellist" in result.note
    items = item_summary(df, Scale(), PercentageRule())
    assert list(items["n"]) == [1, 1, 1]
    assert items.loc["q1", "iqr"] == 0 and items.loc["q1", "di"] == 0


def test_one_item() -> None:
    df = frame([("p1", "q1", 8), ("p2", "q1", 3), ("p3", "q1", 5)])
    result = alpha(df, bootstrap=100, seed=1)
    assert result.value is not None  # alpha is defined on one unit with variation
    # Three different values in one unit: o_ck = 1/2 for each ordered pair and n_c = 1, so
    # alpha = 1 - (n - 1) sum(o d) / sum(n_c n_k d) = 1 - 2 × 1/2 = 0 whatever the metric.
    assert result.value == pytest.approx(0.0, abs=1e-12)
    assert result.ci is None
    assert result.note is not None and "at least two items" in result.note


def test_all_ratings_identical() -> None:
    df = frame([(f"p{i}", f"q{j}", 8) for i in range(5) for j in range(4)])
    result = alpha(df)
    assert result.value is None and result.ci is None and result.p_below_min is None
    assert result.note == (
        "Alpha is undefined: every rating is the same (no variation), so agreement cannot be "
        "told apart from chance."
    )
    assert set(item_summary(df, Scale(), PercentageRule())["status"]) == {"consensus_in"}


def test_everything_missing() -> None:
    df = frame([("p1", "q1", np.nan), ("p2", "q1", np.nan), ("p2", "q2", np.nan)])
    result = alpha(df)
    assert result.value is None and result.note == "Alpha is undefined: there are no ratings."
    items = item_summary(df, Scale(), RandRule())
    assert list(items["status"]) == ["not_rated", "not_rated"]
    assert list(items["n_unable"]) == [2, 1]
    assert items.loc["q1", "median"] is None and items.loc["q1", "di"] is None
    assert no_nan(analyse_round(df, Scale(), PercentageRule(), bootstrap=10))


def test_empty_table() -> None:
    df = frame([])
    assert alpha(df).value is None
    assert item_summary(df, Scale(), PercentageRule()).empty


def test_single_value_observed() -> None:
    df = frame([("p1", "q1", 6), ("p2", "q2", np.nan)])
    row = item_summary(df, Scale(), RandRule()).loc["q1"]
    assert (row["n"], row["median"], row["iqr"], row["ipr"], row["di"]) == (1, 6, 0, 0, 0)
    assert row["status"] == "no_consensus"  # median 6 is in the middle band
    assert alpha(df).value is None


def test_no_item_rated_twice() -> None:
    df = frame([("p1", "q1", 6), ("p2", "q2", 7)])
    result = alpha(df)
    assert result.value is None
    assert result.note == "Alpha is undefined: no item was rated by two or more panellists."


@pytest.mark.parametrize(
    ("rating", "message"),
    [
        (10, "row 1: rating 10 is outside the scale 1-9"),
        (0, "row 1: rating 0 is outside the scale 1-9"),
        (7.5, "row 1: rating 7.5 is not a point on the scale 1-9"),
        ("high", "row 1: rating 'high' is not a number"),
    ],
)
def test_bad_ratings_rejected_naming_the_row(rating: object, message: str) -> None:
    df = pd.DataFrame({"panellist": ["a", "b"], "item": ["q1", "q1"], "rating": [8, rating]})
    for call in (
        lambda: alpha(df),
        lambda: item_summary(df, Scale(), PercentageRule()),
        lambda: validate_ratings(df, Scale()),
    ):
        with pytest.raises(ScoringInputError) as info:
            call()
        assert str(info.value).startswith(message)


def test_other_invalid_tables() -> None:
    with pytest.raises(ScoringInputError, match="missing column 'rating'"):
        alpha(pd.DataFrame({"panellist": ["a"], "item": ["q"]}))
    twice = frame([("a", "q1", 8), ("a", "q1", 7)])
    with pytest.raises(ScoringInputError, match="row 1: panellist 'a' rated item 'q1' more"):
        alpha(twice)
    two_rounds = frame([("a", "q1", 8), ("a", "q1", 7)]).assign(round=[1, 2])
    with pytest.raises(ScoringInputError, match="one round"):
        item_summary(two_rounds, Scale(), PercentageRule())
    with pytest.raises(ScoringInputError, match="unknown level"):
        alpha(frame([("a", "q1", 8)]), level="fuzzy")  # type: ignore[arg-type]


def test_top_band_paradox_is_explained() -> None:
    # Nearly every rating 7-9, scattered at random within the band: the panel agrees that
    # every item matters, yet alpha is near 0.
    rng = np.random.default_rng(3)
    rows = [
        (f"p{p}", f"q{q}", float(rng.choice([7, 8, 9]) if rng.random() > 0.03 else 5))
        for p in range(30)
        for q in range(20)
    ]
    df = frame(rows)
    result = alpha(df, bootstrap=200, seed=1)
    assert result.value is not None and abs(result.value) < 0.15
    assert result.note is not None
    assert "top band (7-9)" in result.note and "per-item rule" in result.note
    statuses = item_summary(df, Scale(), PercentageRule())["status"]
    assert (statuses == "consensus_in").all()


def test_group_of_one_is_defined() -> None:
    df = frame([("a", "q1", 8), ("b", "q1", 2), ("c", "q1", 9), ("c", "q2", 8), ("a", "q2", 7)])
    df["group"] = ["g1", "g1", "g2", "g2", "g1"]
    results = alpha_by_group(df, bootstrap=0)
    assert results["g2"].value is None and "one panellist" in (results["g2"].note or "")
    assert results["g1"].value is not None and math.isfinite(results["g1"].value)


def test_json_report_never_contains_nan() -> None:
    df = frame([("p1", "q1", 8), ("p2", "q1", 8), ("p1", "q2", np.nan), ("p3", "q3", 2)])
    df["group"] = ["a", "a", "a", "b"]
    report = analyse_round(df, Scale(), RandRule(), bootstrap=50, seed=0)
    text = to_json(report)
    assert "NaN" not in text
    parsed = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert parsed["alpha"]["value"] is None
    assert {i["item"]: i["status"] for i in parsed["items"]} == {
        "q1": "consensus_in",
        "q2": "not_rated",
        "q3": "consensus_out",
    }
