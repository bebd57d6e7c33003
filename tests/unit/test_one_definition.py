"""What `delphi` and `scoring` must agree on, though neither may import the other: the bands
of a scale (one definition, `scale_bands`) and the names of the consensus statuses."""

from __future__ import annotations

from typing import get_args

import pytest

import delphi
import scoring
from scoring.rules import Status


def documented_bands(low: int, high: int) -> tuple[int, int]:
    """scoring/README.md: round(n_points / 3) points in each outer band."""
    side = max(round((high - low + 1) / 3), 1)
    return low + side - 1, high - side + 1


SCALES = [(low, low + n - 1) for n in range(2, 12) for low in (0, 1)]


@pytest.mark.parametrize("low,high", SCALES, ids=lambda v: str(v))
def test_the_domain_and_the_statistics_band_every_scale_alike(low, high):
    domain, stats = delphi.Scale(low, high), scoring.Scale(low, high)
    assert (domain.bottom_max, domain.top_min) == documented_bands(low, high)
    assert (stats.bottom, stats.top) == documented_bands(low, high)
    halves = [p / 2 for p in range(2 * low, 2 * high + 1)]
    assert [domain.band(v) for v in halves] == [stats.band(v) for v in halves]


@pytest.mark.parametrize(
    "high,expected",
    [(9, ["1-3", "4-6", "7-9"]), (5, ["1-2", "3-3", "4-5"]), (7, ["1-2", "3-5", "6-7"])],
)
def test_the_readme_examples(high, expected):
    assert [b.range for b in delphi.Scale(1, high).named_bands] == expected
    assert scoring.Scale(1, high).label().startswith(f"1-{high} (bottom {expected[0]}")


def test_a_two_point_scale_names_no_empty_middle_band():
    assert [b.band for b in delphi.Scale(1, 2).named_bands] == ["bottom", "top"]


def test_the_domain_labels_every_status_the_statistics_return():
    assert {s.value for s in delphi.ConsensusStatus} == set(get_args(Status))
