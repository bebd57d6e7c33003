"""Funnel plot speed: the full analysis of 10,000 units with a rating column."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bench.bench_scoring import best_of
from scoring.funnel import analyse, curves

UNITS = 10_000
GOAL_RATIO = 20.0


def indicator(seed: int = 0, units: int = UNITS) -> pd.DataFrame:
    """``units`` trusts with over-dispersed proportions and a CQC-style rating."""
    rng = np.random.default_rng(seed)
    n = rng.integers(50, 5000, size=units)
    true = np.clip(rng.normal(0.3, 0.05, size=units), 0.01, 0.99)
    o = rng.binomial(n, true)
    words = np.array(["Inadequate", "Requires improvement", "Good", "Outstanding"])
    rating = words[
        np.clip(np.round((true - 0.3) / 0.04 + 2 + rng.normal(0, 1, units)), 0, 3).astype(int)
    ]
    return pd.DataFrame(
        {
            "unit": [f"R{i:05d}" for i in range(units)],
            "numerator": o,
            "denominator": n,
            "rating": rating,
        }
    )


def run() -> dict[str, dict[str, Any]]:
    """Measure and return this module's entries."""
    data = indicator()
    values = (data["numerator"] / data["denominator"]).to_numpy()
    codes = (
        data["rating"]
        .map({"Inadequate": 0, "Requires improvement": 1, "Good": 2, "Outstanding": 3})
        .to_numpy()
    )

    def baseline() -> None:
        stats.spearmanr(values, codes)

    def full() -> None:
        result = analyse(data, rating="rating")
        curves(result)

    one = best_of(7, baseline)
    whole = best_of(5, full)
    ratio = whole / one
    return {
        "scoring.funnel_10000_units": {
            "value": whole,
            "unit": "s",
            "baseline": one,
            "ratio": ratio,
            "note": (
                f"{UNITS} units: limits, over-dispersion, bands, reliability, Spearman and "
                f"values by rating, plot curves; goal ratio {GOAL_RATIO:g} "
                f"({'met' if ratio <= GOAL_RATIO else 'MISSED'}); "
                "baseline = one scipy.stats.spearmanr on the same data"
            ),
        },
    }
