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
        "export.indicator_testing": export_indicator_testing(),
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


SPEC_FORMATS = ("html", "md", "docx", "pdf", "json")
EXTRA_GOAL_S = 1.0  # "well under a second of extra time per indicator"


def export_indicator_testing() -> dict[str, Any]:
    """The demo specification in every format with its funnel plots against the same
    specification with the indicator testing section left out, in the same run."""
    import tempfile
    import time
    from pathlib import Path

    from app import create_app
    from app.demo import seed_demo
    from app.export.service import render_spec
    from app.extensions import db
    from app.services.export import build_specification

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'demo.sqlite3'}",
                "SECRET_KEY": "bench",
                "BOOTSTRAP_RESAMPLES": 200,
                "TESTING": True,
                "SERVER_NAME": "localhost",
            }
        )
        with app.app_context(), app.test_request_context():
            db.create_all()
            study = seed_demo()
            spec = build_specification(study)
            tested = len(spec["indicator_testing"])
            without = {**spec, "indicator_testing": []}

            def every_format(document: dict[str, Any]) -> float:
                start = time.perf_counter()
                for fmt in SPEC_FORMATS:
                    render_spec(study, document, fmt, include_names=False)
                return time.perf_counter() - start

            every_format(spec)  # warm: Chromium, templates, fonts
            plain = min(every_format(without) for _ in range(2))
            full = min(every_format(spec) for _ in range(2))
    extra = (full - plain) / max(tested, 1)
    return {
        "value": full,
        "unit": "s",
        "baseline": plain,
        "ratio": full / plain,
        "note": (
            f"demo specification in {', '.join(SPEC_FORMATS)} with the indicator testing of "
            f"{tested} indicators (value) and without it (baseline): {extra:.2f} s extra per "
            f"indicator; goal under {EXTRA_GOAL_S:g} s "
            f"({'met' if extra < EXTRA_GOAL_S else 'MISSED'})"
        ),
    }
