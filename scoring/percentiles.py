"""Percentiles of ratings held as counts per scale point, in exact arithmetic.

Method: linear interpolation between order statistics, Hyndman & Fan (1996) type 7 — the
definition of numpy's default ``np.quantile``, R's default ``quantile``, and Excel's
``PERCENTILE``/``PERCENTILE.INC``. For sorted ratings x[0..n-1] and probability p, with
h = (n - 1) p: P = x[floor(h)] + (h - floor(h)) (x[floor(h) + 1] - x[floor(h)]).
The same method gives the median, the quartiles and the RAND/UCLA 30th/70th percentiles.

Ratings are whole scale points and p is a whole percentage, so 100 × P is a whole number:
it is computed in integers ("centi" units) and only divided by 100 at the end, so an IPR of
8.1 − 7.9 is exactly 0.2, not 0.1999999999999993, and DI thresholds are not decided by
rounding noise.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def percentile_centi(counts: IntArray, points: IntArray, pct: int) -> IntArray:
    """100 × the type-7 ``pct``-th percentile of each row of ``counts`` (rows × scale points).

    Rows with no ratings give 0; callers must mask them (see ``n == 0``).
    """
    if not 0 <= pct <= 100:
        raise ValueError("pct must be between 0 and 100")
    n = counts.sum(axis=1)
    cumulative = np.cumsum(counts, axis=1)
    h_centi = (np.maximum(n, 1) - 1) * pct  # 100 × h, exact
    below = h_centi // 100
    fraction_centi = h_centi % 100
    above = np.minimum(below + 1, np.maximum(n - 1, 0))
    # The value at 0-based rank r is the first point whose cumulative count exceeds r.
    last = len(points) - 1
    x_below = points[np.minimum((cumulative <= below[:, None]).sum(axis=1), last)]
    x_above = points[np.minimum((cumulative <= above[:, None]).sum(axis=1), last)]
    result = 100 * x_below + fraction_centi * (x_above - x_below)
    return np.where(n > 0, result, 0).astype(np.int64)


def percentile_from_counts(counts: IntArray, points: IntArray, pct: int) -> FloatArray:
    """The type-7 ``pct``-th percentile of each row of ``counts``; NaN for rows without ratings."""
    n = counts.sum(axis=1)
    return np.where(n > 0, percentile_centi(counts, points, pct) / 100, np.nan)
