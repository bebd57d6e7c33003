"""Synthetic trust-level test data for two of the demo study's indicators, from a seeded
generator: 150 made-up trusts, labelled "Synthetic, for illustration" wherever they appear.

Numbers only have to behave like the real thing (trusts differ more than chance, a few stand
out, quality ratings are loosely linked), so that a newcomer sees the funnel plot working.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.models import Item, Study, User
from app.services.indicator_testing import Settings, save_test_data, set_shown_to_panel

TRUSTS = 150
RATINGS = ("Inadequate", "Requires improvement", "Good", "Outstanding")
CUTS = (0.05, 0.25, 0.9)  # shares below each rating boundary, roughly as CQC's


def _ratings(rng: np.random.Generator, signal: np.ndarray) -> list[str]:
    latent = 0.6 * (signal - signal.mean()) / signal.std() + rng.normal(0, 0.8, signal.size)
    bounds = np.quantile(latent, CUTS)
    return [RATINGS[int(np.searchsorted(bounds, v))] for v in latent]


def _trusts(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    codes = [f"S{i:03d}" for i in range(1, TRUSTS + 1)]
    return codes, [f"Synthetic trust {i:03d}" for i in range(1, TRUSTS + 1)]


def recruits_per_admissions(seed: int) -> list[dict[str, Any]]:
    """Recruits to research per 1,000 admissions: over-dispersed around 12 per 1,000."""
    rng = np.random.default_rng(seed)
    codes, names = _trusts(rng)
    admissions = np.round(np.exp(rng.normal(np.log(60_000), 0.7, TRUSTS))).astype(int)
    admissions = np.clip(admissions, 5_000, 300_000)
    rate = 0.012 * np.exp(rng.normal(0, 0.3, TRUSTS))
    rate[rng.choice(TRUSTS, 4, replace=False)] *= 0.35  # a few trusts with little research
    recruits = rng.binomial(admissions, np.clip(rate, 0, 1))
    return _rows(codes, names, recruits, admissions, _ratings(rng, rate))


def specialties_recruiting(seed: int) -> list[dict[str, Any]]:
    """Share of specialties recruiting to at least one study: around 60%, small counts."""
    rng = np.random.default_rng(seed)
    codes, names = _trusts(rng)
    specialties = rng.integers(12, 61, TRUSTS)
    share = 1 / (1 + np.exp(-rng.normal(0.4, 0.45, TRUSTS)))
    recruiting = rng.binomial(specialties, share)
    return _rows(codes, names, recruiting, specialties, _ratings(rng, share))


def _rows(
    codes: list[str], names: list[str], o: np.ndarray, n: np.ndarray, ratings: list[str]
) -> list[dict[str, Any]]:
    return [
        {
            "line": i + 2,
            "code": code,
            "name": name,
            "numerator": int(a),
            "denominator": int(b),
            "rating": rating,
        }
        for i, (code, name, a, b, rating) in enumerate(
            zip(codes, names, o, n, ratings, strict=True)
        )
    ]


def seed_indicator_test_data(study: Study, facilitator: User, seed: int = 2026) -> None:
    """Synthetic test data for the first two indicators, shown to the panel."""
    indicators = [i for i in sorted(study.items, key=lambda i: i.position) if i.kind == "indicator"]
    plans: list[tuple[Item, list[dict[str, Any]], int]] = [
        (indicators[0], recruits_per_admissions(seed), 1000),
        (indicators[1], specialties_recruiting(seed + 1), 100),
    ]
    for item, rows, per in plans:
        save_test_data(
            item,
            rows,
            Settings(
                period="April 2024 to March 2025 (synthetic)",
                source=(
                    "Synthetic, for illustration: 150 made-up trusts from the demo's seeded "
                    "generator (app/demo_indicators.py), not real data"
                ),
                per=per,
            ),
            filename="synthetic.csv",
            actor=facilitator,
            synthetic=True,
        )
        set_shown_to_panel(item, True, actor=facilitator)
