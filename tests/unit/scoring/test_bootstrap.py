"""The vectorised bootstraps against the naive ones they replace."""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pytest
from scipy import stats

from scoring import Scale, alpha
from scoring.coincidence import bootstrap_kalpha, bootstrap_units, unit_coincidences
from scoring.reliability import value_counts
from tests.unit.scoring.data import H2007, K2011, long_from_matrix, matrix_array

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def _naive(data: np.ndarray, indices: np.ndarray, domain: list[int], level: str) -> np.ndarray:
    """One plain krippendorff.alpha call per resample of units (columns)."""
    out = []
    for row in indices:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # resamples without variation give NaN
            try:
                out.append(
                    krippendorff.alpha(
                        data[:, row], value_domain=domain, level_of_measurement=level
                    )
                )
            except ValueError:
                out.append(np.nan)
    return np.array(out, dtype=float)


@pytest.mark.parametrize("level", LEVELS)
def test_same_resample_indices_give_identical_alphas(level: str) -> None:
    data = matrix_array(H2007)  # every unit has >= 2 values
    counts, _ = value_counts(long_from_matrix(H2007), Scale(0, 3))
    points = np.arange(0, 4, dtype=float)
    indices = np.random.default_rng(5).integers(0, data.shape[1], size=(300, data.shape[1]))
    fast = bootstrap_units(unit_coincidences(counts), points, level, indices)  # type: ignore[arg-type]
    slow = _naive(data, indices, [0, 1, 2, 3], level)
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_public_interval_equals_naive_percentiles() -> None:
    df = long_from_matrix(H2007)
    result = alpha(df, scale=Scale(0, 3), bootstrap=400, seed=11)
    data = matrix_array(H2007)
    # Same generator and draw as the implementation: 400 resamples of the 40 units.
    indices = np.random.default_rng(11).integers(0, 40, size=(400, 40))
    slow = _naive(data, indices, [0, 1, 2, 3], "ordinal")
    slow = slow[~np.isnan(slow)]
    assert result.ci == pytest.approx(tuple(np.quantile(slow, [0.025, 0.975])))
    assert result.p_below_min == pytest.approx(np.mean(slow < 0.667))


def test_each_unit_contributes_its_pairable_values() -> None:
    # Paper: the coincidences of unit u sum to m_u, so a resample of units (not raters)
    # carries whole units' values.
    counts, _ = value_counts(long_from_matrix(K2011), Scale(1, 5))
    usable = counts[counts.sum(axis=1) >= 2]
    per_unit = unit_coincidences(usable)
    # Each unit's coincidences sum to its number of pairable values m_u (paper, eq. n_u).
    np.testing.assert_allclose(per_unit.sum(axis=(1, 2)), usable.sum(axis=1))


def test_kalpha_distribution_matches_its_theory() -> None:
    # KALPHA draws M pairs i.i.d. from o/n, so alpha* = 1 - mean(delta)/De has mean alpha and
    # standard deviation sd(delta) / (sqrt(M) De). Checked with the plain formulas.
    counts, _ = value_counts(long_from_matrix(H2007), Scale(0, 3))
    o = unit_coincidences(counts).sum(axis=0)
    n_v = o.sum(axis=0)
    n = n_v.sum()
    points = np.arange(4.0)
    d = np.zeros((4, 4))
    for c in range(4):
        for k in range(4):
            lo, hi = min(c, k), max(c, k)
            d[c, k] = (n_v[lo : hi + 1].sum() - (n_v[c] + n_v[k]) / 2) ** 2
    de = (n_v @ d @ n_v) / (n * (n - 1))
    p = o / n
    mean_delta = (p * d).sum()
    sd_delta = np.sqrt((p * d**2).sum() - mean_delta**2)
    m = 239  # pairs of judgements in Hayes & Krippendorff's example, as their paper says
    draws = bootstrap_kalpha(o, points, "ordinal", m, 20_000, np.random.default_rng(0))
    assert draws.mean() == pytest.approx(1 - mean_delta / de, abs=0.002)
    assert 1 - mean_delta / de == pytest.approx(0.7598, abs=0.0001)
    assert draws.std() == pytest.approx(sd_delta / (np.sqrt(m) * de), rel=0.03)


def test_kalpha_uses_the_number_of_pairs_of_judgements() -> None:
    # Hayes & Krippendorff (2007) resample 239 pairs for their Table 1 data: the public API
    # must use that M, which shows in the spread of the distribution.
    df = long_from_matrix(H2007)
    wide = alpha(df, scale=Scale(0, 3), bootstrap=4000, seed=2, ci_method="kalpha")
    assert wide.ci is not None
    counts, _ = value_counts(df, Scale(0, 3))
    o = unit_coincidences(counts).sum(axis=0)
    draws = bootstrap_kalpha(o, np.arange(4.0), "ordinal", 239, 4000, np.random.default_rng(2))
    assert wide.ci == pytest.approx(tuple(np.quantile(draws, [0.025, 0.975])))


def test_units_and_naive_distributions_agree_by_ks() -> None:
    # Independent random streams: distributions, not draws, must agree.
    data = matrix_array(H2007)
    indices = np.random.default_rng(99).integers(0, 40, size=(1000, 40))
    slow = _naive(data, indices, [0, 1, 2, 3], "ordinal")
    counts, _ = value_counts(long_from_matrix(H2007), Scale(0, 3))
    again = bootstrap_units(
        unit_coincidences(counts),
        np.arange(4.0),
        "ordinal",
        np.random.default_rng(1).integers(0, 40, size=(1000, 40)),
    )
    assert stats.ks_2samp(again, slow).pvalue > 0.001
