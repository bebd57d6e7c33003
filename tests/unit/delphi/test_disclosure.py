"""The disclosure rule: no figure for a stakeholder group of fewer than 3 raters."""

from __future__ import annotations

import pytest

from delphi import (
    MIN_GROUP_RATERS,
    WITHHELD_NOTE,
    disclose_group,
    disclose_group_alpha,
    disclose_round_results,
    group_figures_visible,
)


def figures(n: int | None, median: float | None = 2.0) -> dict:
    return {
        "n": n,
        "n_unable": 1,
        "median": median,
        "q1": median,
        "q3": median,
        "iqr": 0.0,
        "pct_top": 0.0,
        "counts": [0, 1, 0],
        "status": "consensus_out",
    }


def test_the_minimum_is_three_and_the_note_says_so():
    assert MIN_GROUP_RATERS == 3
    assert WITHHELD_NOTE == "fewer than 3 ratings"


@pytest.mark.parametrize(
    ("n", "visible"), [(0, False), (1, False), (2, False), (3, True), (4, True), (250, True)]
)
def test_group_figures_are_visible_from_three_raters(n, visible):
    assert group_figures_visible(n) is visible


@pytest.mark.parametrize("n", [None, True, False, 2.5, 3.5, "3", -3])
def test_anything_but_a_whole_count_of_three_or_more_fails_closed(n):
    assert group_figures_visible(n) is False


def test_a_whole_float_count_from_stored_json_counts():
    assert group_figures_visible(3.0) is True
    assert group_figures_visible(2.0) is False


@pytest.mark.parametrize("n", [0, 1, 2, None])
def test_below_three_every_figure_and_the_count_are_withheld(n):
    shown = disclose_group(figures(n))
    assert shown["withheld"] is True
    assert shown["note"] == "fewer than 3 ratings"
    assert set(shown) == set(figures(n)) | {"withheld", "note"}
    assert all(v is None for k, v in shown.items() if k not in ("withheld", "note"))


def test_from_three_the_figures_are_shown_unchanged():
    original = figures(3)
    shown = disclose_group(original)
    assert shown == original | {"withheld": False, "note": None}
    assert original == figures(3)  # the input is not modified


def test_disclosing_twice_changes_nothing():
    for n in (1, 3):
        once = disclose_group(figures(n))
        assert disclose_group(once) == once


def test_a_view_already_marked_withheld_stays_withheld():
    marked = figures(5) | {"withheld": True}
    assert disclose_group(marked)["median"] is None


@pytest.mark.parametrize(("raters", "visible"), [(0, False), (1, False), (2, False), (3, True)])
def test_a_groups_alpha_needs_three_raters(raters, visible):
    alpha = {
        "value": 0.9,
        "ci": [0.8, 0.95],
        "level": "ordinal",
        "n_units": 4,
        "n_raters": raters,
        "p_below_min": 0.0,
        "note": None,
    }
    shown = disclose_group_alpha(alpha)
    assert shown["withheld"] is not visible
    if visible:
        assert shown["value"] == 0.9 and shown["ci"] == [0.8, 0.95]
    else:
        assert shown["value"] is None and shown["ci"] is None and shown["n_raters"] is None
        assert shown["n_units"] is None and shown["note"] == "fewer than 3 raters"
        assert shown["level"] == "ordinal"


def test_a_rounds_results_are_disclosed_group_by_group_and_the_panel_is_untouched():
    results = {
        "round": 1,
        "items": {
            "7": {
                "n": 6,
                "median": 8.0,
                "groups": {"A": figures(1), "B": figures(2), "C": figures(3)},
            }
        },
        "alpha": {"value": 0.5, "n_raters": 6},
        "alpha_groups": {"A": {"value": 0.1, "n_raters": 1}, "C": {"value": 0.7, "n_raters": 3}},
    }
    shown = disclose_round_results(results)
    item = shown["items"]["7"]
    assert (item["n"], item["median"]) == (6, 8.0)
    assert item["groups"]["A"]["median"] is None and item["groups"]["B"]["median"] is None
    assert item["groups"]["C"]["median"] == 2.0
    assert shown["alpha"] == {"value": 0.5, "n_raters": 6}
    assert shown["alpha_groups"]["A"]["value"] is None
    assert shown["alpha_groups"]["C"]["value"] == 0.7
    assert results["items"]["7"]["groups"]["A"]["median"] == 2.0  # input not modified
