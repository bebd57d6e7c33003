"""Alpha against published worked examples."""

from __future__ import annotations

import pytest

from scoring import Scale, alpha
from tests.unit.scoring.data import H2007, K2011, long_from_matrix, reference_alpha


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_example(level: str, published: float) -> None:
    result = alpha(long_from_matrix(K2011), level=level, scale=Scale(1, 5), bootstrap=0)  # type: ignore[arg-type]
    assert result.value == pytest.approx(published, abs=0.0005)
    # 12 units but unit 12 has a single value: 11 pairable units, 40 pairable values.
    assert (result.n_units, result.n_raters, result.n_pairable) == (11, 4, 40)


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_independent_loops_reproduce_the_paper(level: str, published: float) -> None:
    # Guards the reference implementation the property tests rely on.
    assert reference_alpha(K2011, level) == pytest.approx(published, abs=0.0005)


def test_hayes_krippendorff_2007_ordinal_example() -> None:
    ratings = long_from_matrix(H2007)
    result = alpha(ratings, level="ordinal", scale=Scale(0, 3), bootstrap=0)
    assert result.value == pytest.approx(0.7598, abs=0.00005)
    assert result.n_units == 40
