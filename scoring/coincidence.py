"""Krippendorff's alpha from coincidence matrices, vectorised over bootstrap resamples.

Notation follows Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": a unit u
(here an item) with m_u >= 2 pairable values contributes o_ck(u) = (number of c-k pairs of
values in u) / (m_u - 1) to the coincidence matrix o; n_c = sum_k o_ck; n = sum_c n_c;
alpha = 1 - (n - 1) * sum_ck o_ck d_ck / sum_ck n_c n_k d_ck  (d_cc = 0 for every metric).

Because o is a sum of per-unit matrices, a bootstrap that resamples units only needs the
per-unit matrices once and a weighted sum per resample (a matrix product): that is what makes
1,000 resamples cost about as much as a handful of plain alpha calls.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from scoring.percentiles import FloatArray, IntArray

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")


def unit_coincidences(value_counts: IntArray) -> FloatArray:
    """Per-unit coincidence matrices, shape (units, V, V), for units with >= 2 values.

    ``value_counts[u, c]`` is how many raters gave value c to unit u. Units with fewer than
    two values have no pairs; they get a zero matrix, exactly as in the paper.
    """
    m = value_counts.sum(axis=1).astype(float)
    outer = value_counts[:, :, None] * value_counts[:, None, :]
    pairs = outer - np.einsum("uc,ck->uck", value_counts, np.eye(value_counts.shape[1]))
    weight = np.divide(1.0, m - 1, out=np.zeros_like(m), where=m >= 2)
    return np.asarray(pairs * weight[:, None, None], dtype=float)


def fixed_distances(points: FloatArray, level: Level) -> FloatArray | None:
    """Squared difference d_ck for nominal, interval and ratio; None for ordinal.

    Ordinal distances depend on the marginal frequencies n_c, so they are computed per
    resample by ``ordinal_distances``.
    """
    c, k = points[:, None], points[None, :]
    if level == "nominal":
        return np.asarray(c != k, dtype=float)
    if level == "interval":
        return np.asarray((c - k) ** 2, dtype=float)
    if level == "ratio":
        total = c + k
        ratio = np.divide(c - k, total, out=np.zeros((len(points), len(points))), where=total != 0)
        return np.asarray(ratio**2, dtype=float)
    return None


def ordinal_distances(n_v: FloatArray) -> FloatArray:
    """Ordinal d_ck = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 for each row of ``n_v`` (B, V).

    Returns shape (B, V, V). Written with cumulative sums: for c <= k the inner sum is
    cum_k - cum_c + n_c, so d_ck = (cum_k - cum_c + (n_c - n_k) / 2)^2, symmetric in c, k.
    Unobserved scale points have n_g = 0 and therefore add nothing: the ordinal metric of the
    paper, whatever the value domain.
    """
    cum = np.cumsum(n_v, axis=1)
    inner = cum[:, None, :] - cum[:, :, None] + (n_v[:, :, None] - n_v[:, None, :]) / 2
    return np.asarray(inner**2, dtype=float)


def alpha_from_coincidences(o: FloatArray, points: FloatArray, level: Level) -> FloatArray:
    """Alpha for each coincidence matrix in ``o`` (B, V, V); NaN where it is undefined.

    Undefined means no pairable values (n < 2) or no expected disagreement (every pairable
    value the same). Callers turn NaN into None with an explanation.
    """
    n_v = o.sum(axis=1)
    n = n_v.sum(axis=1)
    fixed = fixed_distances(points, level)
    if fixed is None:
        d = ordinal_distances(n_v)
        observed = np.einsum("bck,bck->b", o, d)
        expected = np.einsum("bc,bck,bk->b", n_v, d, n_v)
    else:
        observed = np.einsum("bck,ck->b", o, fixed)
        expected = np.einsum("bc,ck,bk->b", n_v, fixed, n_v)
    # n_c counts pairable values, so it is a whole number: "at least two distinct values"
    # decides definedness exactly, where testing expected > 0 would trip on rounding residues.
    defined = (n >= 2) & ((n_v > 0.5).sum(axis=1) >= 2)
    safe = np.where(defined, expected, 1.0)
    return np.where(defined, 1.0 - (n - 1) * observed / safe, np.nan)


def resample_weights(indices: IntArray, n_units: int) -> FloatArray:
    """How often each unit occurs in each resample: (B, n_units) from indices (B, n_units)."""
    b = indices.shape[0]
    offsets = (np.arange(b)[:, None] * n_units + indices).ravel()
    return np.bincount(offsets, minlength=b * n_units).reshape(b, n_units).astype(float)


def bootstrap_units(
    per_unit: FloatArray, points: FloatArray, level: Level, indices: IntArray
) -> FloatArray:
    """Alpha of each resample of units; row i of ``indices`` lists the units of resample i.

    Equivalent to calling alpha on the data with the units ``indices[i]`` (repeats allowed)
    for every i, but computed as one matrix product of resample weights × per-unit
    coincidences. Processed in chunks to bound memory.
    """
    units, v, _ = per_unit.shape
    flat = per_unit.reshape(units, v * v)
    out = np.empty(indices.shape[0])
    chunk = max(1, 2_000_000 // max(units, 1))
    for start in range(0, indices.shape[0], chunk):
        part = indices[start : start + chunk]
        o = (resample_weights(part, units) @ flat).reshape(len(part), v, v)
        out[start : start + chunk] = alpha_from_coincidences(o, points, level)
    return out


def bootstrap_kalpha(
    o: FloatArray,
    points: FloatArray,
    level: Level,
    n_pairs: int,
    n_resamples: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Hayes & Krippendorff's KALPHA bootstrap (Krippendorff, "Bootstrapping distributions
    for Krippendorff's alpha"), vectorised.

    The expected disagreement De and the distances come from the full data and stay fixed.
    Each resample draws ``n_pairs`` (M = sum over units of m_u (m_u - 1) / 2, the number of
    pairs of judgements) pairs of values with probabilities o_ck / n (the cell c < k taking
    both orders), and alpha* = 1 - (sum of the drawn d_ck) / (M De). As in KALPHA, alpha* is
    floored at -1, and a resample whose pairs all match on one value (no variation) counts as
    alpha* = 0. Drawing M pairs from these cells is a multinomial draw, done in one call.
    """
    n_v = o.sum(axis=0)
    n = n_v.sum()
    fixed = fixed_distances(points, level)
    d = ordinal_distances(n_v[None, :])[0] if fixed is None else fixed
    expected = float(n_v @ d @ n_v) / (n * (n - 1))
    upper = np.triu_indices(len(points))
    weights = np.where(upper[0] == upper[1], 1.0, 2.0)
    p = np.clip(o[upper] * weights / n, 0.0, None)
    p = p / p.sum()
    draws = rng.multinomial(n_pairs, p, size=n_resamples)
    total = draws @ d[upper]
    alphas = 1.0 - total / (n_pairs * expected)
    alphas = np.maximum(alphas, -1.0)
    diagonal = upper[0] == upper[1]
    one_value = (draws[:, diagonal] == n_pairs).any(axis=1)
    return np.asarray(np.where(one_value, 0.0, alphas), dtype=float)


def as_int(array: npt.ArrayLike) -> IntArray:
    """Helper for typed integer arrays."""
    return np.asarray(array, dtype=np.int64)
