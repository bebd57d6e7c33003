"""Shared test data and an independent, plain-loop Krippendorff's alpha."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

Matrix = Sequence[Sequence[float | None]]

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section D: 4 observers
# (rows) × 12 units (columns), values 1-5, None = missing. Published alphas: nominal 0.743,
# ordinal 0.815, interval 0.849, ratio 0.797.
K2011: Matrix = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]

# Hayes & Krippendorff (2007), Table 1: 40 units (rows here) × 5 observers, values 0-3.
# Published ordinal alpha 0.7598.
_H2007 = """
1 1 2 . 2|1 1 0 1 .|2 3 3 3 .|. 0 0 . 0|0 0 0 . 0|0 0 0 . 0|1 0 2 . 1|1 . 2 0 .|2 2 2 . 2
2 1 1 1 .|. 1 0 0 .|0 0 0 0 .|1 2 2 2 .|3 3 2 2 3|1 1 1 . 1|1 1 1 . 1|2 1 2 . 2|1 2 3 3 .
1 1 0 1 .|0 0 0 . 0|0 0 1 1 .|0 0 . 0 0|2 3 3 3 .|0 0 0 0 .|1 2 . 2 2|0 1 1 1 .|0 0 0 1 0
1 2 1 2 .|1 1 2 2 .|1 1 2 . 2|1 1 0 . 0|2 1 2 1 .|2 2 . 2 2|3 2 2 2 .|2 2 2 . 2|2 2 3 . 2
2 2 2 . 2|2 2 . 1 2|2 2 2 2 .|1 1 1 . 1
"""
H2007_UNITS: list[list[float | None]] = [
    [None if v == "." else float(v) for v in unit.split()]
    for unit in _H2007.replace("\n", "|").split("|")
    if unit.strip()
]
H2007: Matrix = [list(col) for col in zip(*H2007_UNITS, strict=True)]  # observers × units


def long_from_matrix(matrix: Matrix, **extra: object) -> pd.DataFrame:
    """Raters × units matrix → long table (None cells become absent rows)."""
    rows = [
        {"panellist": f"p{r}", "item": f"u{u:03d}", "rating": float(v), **extra}
        for r, row in enumerate(matrix)
        for u, v in enumerate(row)
        if v is not None
    ]
    return pd.DataFrame(rows, columns=["panellist", "item", "rating", *extra])


def matrix_array(matrix: Matrix) -> np.ndarray:
    """Raters × units float array with NaN for missing."""
    return np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)


def reference_alpha(matrix: Matrix, level: str) -> float | None:
    """Krippendorff's alpha by the coincidence-matrix recipe of the 2011 paper, plain loops.

    Written independently of scoring.coincidence: ordered pairs of values from different
    observers in each unit, each weighted 1/(m_u - 1); None when undefined.
    """
    n_units = len(matrix[0])
    o: dict[tuple[float, float], float] = {}
    for u in range(n_units):
        values = [row[u] for row in matrix if row[u] is not None]
        m = len(values)
        if m < 2:
            continue
        for i in range(m):
            for j in range(m):
                if i != j:
                    key = (float(values[i]), float(values[j]))  # type: ignore[arg-type]
                    o[key] = o.get(key, 0.0) + 1.0 / (m - 1)
    domain = sorted({c for c, _ in o})
    n_c = {c: sum(o.get((c, k), 0.0) for k in domain) for c in domain}
    n = sum(n_c.values())
    if len(domain) < 2:
        return None

    def delta(c: float, k: float) -> float:
        if level == "nominal":
            return 0.0 if c == k else 1.0
        if level == "ordinal":
            lo, hi = min(c, k), max(c, k)
            between = sum(n_c[g] for g in domain if lo <= g <= hi)
            return (between - (n_c[c] + n_c[k]) / 2) ** 2
        if level == "interval":
            return (c - k) ** 2
        if level == "ratio":
            return 0.0 if c + k == 0 else ((c - k) / (c + k)) ** 2
        raise ValueError(level)

    observed = sum(o.get((c, k), 0.0) * delta(c, k) for c in domain for k in domain) / n
    expected = sum(n_c[c] * n_c[k] * delta(c, k) for c in domain for k in domain) / (n * (n - 1))
    return 1.0 - observed / expected
