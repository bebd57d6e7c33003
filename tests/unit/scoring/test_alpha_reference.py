"""Alpha against an independent plain-loop implementation, on arbitrary data."""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scoring import Scale, alpha
from tests.unit.scoring.data import long_from_matrix, matrix_array, reference_alpha

LEVELS = ("nominal", "ordinal", "interval", "ratio")


@st.composite
def matrices(draw: st.DrawFn, low: int = 1, high: int = 5) -> list[list[float | None]]:
    raters = draw(st.integers(2, 6))
    units = draw(st.integers(1, 8))
    cell = st.one_of(st.none(), st.integers(low, high).map(float))
    return [[draw(cell) for _ in range(units)] for _ in range(raters)]


@settings(max_examples=150, deadline=None)
@given(matrix=matrices(), level=st.sampled_from(LEVELS))
def test_matches_independent_implementation(matrix: list[list[float | None]], level: str) -> None:
    expected = reference_alpha(matrix, level)
    result = alpha(long_from_matrix(matrix), level=level, scale=Scale(1, 5), bootstrap=0)  # type: ignore[arg-type]
    if expected is None:
        assert result.value is None
        assert result.note
    else:
        assert result.value == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(matrix=matrices(), level=st.sampled_from(LEVELS))
def test_matches_package_on_raters_by_units(matrix: list[list[float | None]], level: str) -> None:
    # The package wants raters × units; feeding it the matrix that way must agree with our
    # long-table route (which never builds that matrix), and the transposed call must not.
    expected = reference_alpha(matrix, level)
    assume(expected is not None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        package = krippendorff.alpha(
            matrix_array(matrix), value_domain=[1, 2, 3, 4, 5], level_of_measurement=level
        )
    result = alpha(long_from_matrix(matrix), level=level, scale=Scale(1, 5), bootstrap=0)  # type: ignore[arg-type]
    assert result.value == pytest.approx(package, rel=1e-9, abs=1e-12)


def test_ordinal_ignores_unobserved_scale_points() -> None:
    # Documented behaviour: with the full 1-9 domain, unobserved points have zero marginal
    # frequency and change nothing in the ordinal metric.
    data = matrix_array([[1, 2, 9, 9, 2], [1, 3, 9, 8, 2], [2, 2, 8, 9, None]])
    full = krippendorff.alpha(data, value_domain=list(range(1, 10)), level_of_measurement="ordinal")
    observed = krippendorff.alpha(data, level_of_measurement="ordinal")
    assert full == pytest.approx(observed)


def test_transposed_input_gives_a_different_number() -> None:
    # The trap the long-table route avoids: raters and units swapped is silently wrong.
    data = matrix_array([[1, 2, 3, 3, 2, 1], [1, 2, 3, 3, 2, 2], [2, 3, 3, 3, 2, 3]])
    right = krippendorff.alpha(data, level_of_measurement="ordinal")
    wrong = krippendorff.alpha(data.T, level_of_measurement="ordinal")
    assert not np.isclose(right, wrong)
    rows = [[None if np.isnan(v) else float(v) for v in row] for row in data]
    ours = alpha(long_from_matrix(rows), scale=Scale(1, 5), bootstrap=0).value
    assert ours == pytest.approx(right)
