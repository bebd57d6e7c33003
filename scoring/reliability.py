"""Krippendorff's alpha for a round: point estimate, bootstrap interval, explanatory note."""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import krippendorff
import numpy as np
import pandas as pd

from scale_bands import Band
from scoring.coincidence import (
    LEVELS,
    Level,
    bootstrap_kalpha,
    bootstrap_units,
    unit_coincidences,
)
from scoring.errors import ScoringInputError
from scoring.percentiles import FloatArray, IntArray
from scoring.ratings import single_criterion, single_round, validate_ratings
from scoring.scale import Scale

CiMethod = Literal["units", "kalpha"]
# Share of pairable ratings in one band above which alpha is explained as deflated by the
# lack of variation rather than read as disagreement.
ONE_BAND_SHARE = 0.8
RELIABLE, TENTATIVE = 0.800, 0.667


@dataclass(frozen=True)
class AlphaResult:
    """Krippendorff's alpha for one set of ratings.

    ``value`` is None when alpha is undefined (``note`` says why). ``ci`` is the percentile
    bootstrap interval (None when not computed or not computable), ``p_below_min`` the share
    of bootstrap resamples below ``min_alpha``. ``n_units`` counts items rated by at least two
    panellists (the only ones alpha can use), ``n_raters`` panellists with at least one rating,
    ``n_pairable`` the ratings on those items. ``n_undefined_resamples`` counts unit resamples
    without variation, left out of ``ci`` and ``p_below_min``.
    """

    value: float | None
    ci: tuple[float, float] | None
    level: Level
    n_units: int
    n_raters: int
    n_pairable: int
    p_below_min: float | None
    note: str | None
    min_alpha: float = TENTATIVE
    confidence: float = 0.95
    bootstrap: int = 0
    ci_method: CiMethod = "units"
    n_undefined_resamples: int = 0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready dict (tuples become lists; no NaN anywhere)."""
        return {
            "value": self.value,
            "ci": list(self.ci) if self.ci is not None else None,
            "level": self.level,
            "n_units": self.n_units,
            "n_raters": self.n_raters,
            "n_pairable": self.n_pairable,
            "p_below_min": self.p_below_min,
            "min_alpha": self.min_alpha,
            "confidence": self.confidence,
            "bootstrap": self.bootstrap,
            "ci_method": self.ci_method,
            "n_undefined_resamples": self.n_undefined_resamples,
            "note": self.note,
        }


def value_counts(df: pd.DataFrame, scale: Scale) -> tuple[IntArray, list[Hashable]]:
    """Units × scale points: how many panellists gave each value to each item.

    Built straight from the long table, so units are items and raters panellists by
    construction; there is no raters × units matrix to transpose by mistake. Items are
    returned sorted (first-appearance order if the ids cannot be sorted).
    """
    rated = df.loc[df["rating"].notna()]
    items = list(pd.unique(rated["item"]))
    try:
        # Sorted units make a seeded interval independent of the row order of the table.
        items = sorted(items)
    except TypeError:  # mixed, unorderable item ids: keep first appearance
        pass
    codes = pd.Index(items).get_indexer(rated["item"])
    v = scale.n_points
    flat = codes * v + (rated["rating"].to_numpy(dtype=float) - scale.low).astype(np.int64)
    counts = np.bincount(flat, minlength=len(items) * v).reshape(len(items), v)
    return counts.astype(np.int64), items


def _check_options(level: str, ci_method: str, bootstrap: int, confidence: float) -> None:
    if level not in LEVELS:
        raise ScoringInputError(f"unknown level {level!r}: use nominal, ordinal, interval or ratio")
    if ci_method not in ("units", "kalpha"):
        raise ScoringInputError(f"unknown ci_method {ci_method!r}: use units or kalpha")
    if bootstrap < 0:
        raise ScoringInputError("bootstrap must be 0 (no interval) or a positive number")
    if not 0 < confidence < 1:
        raise ScoringInputError("confidence must be between 0 and 1, e.g. 0.95")


def _package_alpha(counts: IntArray, points: FloatArray, level: Level) -> float:
    """The point estimate from the ``krippendorff`` package.

    Units are rows of ``value_counts``, the value domain is the whole scale (so off-scale
    values would be refused and the level's distances use the real scale values), and the
    level is passed explicitly because the package defaults to interval.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NaN with a warning must never pass silently
        return float(
            krippendorff.alpha(value_counts=counts, value_domain=points, level_of_measurement=level)
        )


def _band_note(counts: IntArray, scale: Scale, value: float) -> str | None:
    totals = counts.sum(axis=0)
    points = np.asarray(scale.points)
    shares = {
        "top": totals[points >= scale.top].sum(),
        "bottom": totals[points <= scale.bottom].sum(),
        "middle": totals[(points > scale.bottom) & (points < scale.top)].sum(),
    }
    band, count = max(shares.items(), key=lambda kv: kv[1])
    share = count / max(totals.sum(), 1)
    if share < ONE_BAND_SHARE or value >= RELIABLE:
        return None
    lo, hi = scale.bands.range_of(Band(band))
    return (
        f"{100 * share:.0f}% of the ratings are in the {band} band ({lo}-{hi}). With so little "
        "spread, alpha compares small differences within that band with chance and falls "
        "towards 0 even when the panel agrees. Judge consensus by the per-item rule; read "
        "alpha as how consistently panellists tell items apart."
    )


def alpha(
    df: pd.DataFrame,
    level: Level = "ordinal",
    scale: Scale | None = None,
    bootstrap: int = 1000,
    seed: int | None = None,
    ci_method: CiMethod = "units",
    min_alpha: float = TENTATIVE,
    confidence: float = 0.95,
) -> AlphaResult:
    """Krippendorff's alpha for one round: items are the units, panellists the raters.

    "Unable to rate" and unanswered items are missing values. The point estimate comes from
    the ``krippendorff`` package. With ``bootstrap`` > 0 it adds a percentile interval at
    ``confidence`` and ``p_below_min``: ``ci_method="units"`` (default) resamples the items
    rated by two or more panellists with replacement, ``"kalpha"`` reproduces Hayes &
    Krippendorff's KALPHA pair resampling for comparison with published output. ``seed``
    makes the interval reproducible.

    Defined answers instead of errors: no ratings, a single panellist, or no item rated by two
    panellists → value None and a note; every pairable rating the same → value None, note
    "Alpha is undefined: every rating is the same..."; a single usable item → value, no
    interval (note says why); most ratings in one band and alpha below 0.8 → value plus a note
    on why alpha is low although the panel agrees. Raises ScoringInputError for invalid
    ratings, several rounds, or unknown options.
    """
    scale = scale or Scale()
    _check_options(level, ci_method, bootstrap, confidence)
    clean = validate_ratings(df, scale)
    single_round(clean, "alpha")
    single_criterion(clean, "alpha")
    return _alpha_validated(clean, level, scale, bootstrap, seed, ci_method, min_alpha, confidence)


def _alpha_validated(
    clean: pd.DataFrame,
    level: Level,
    scale: Scale,
    bootstrap: int,
    seed: int | None,
    ci_method: CiMethod,
    min_alpha: float,
    confidence: float,
) -> AlphaResult:
    """``alpha`` on a table already checked by ``validate_ratings`` (one round)."""
    counts, _ = value_counts(clean, scale)
    rated = clean.loc[clean["rating"].notna()]
    n_raters = int(rated["panellist"].nunique())
    pairable = counts.sum(axis=1) >= 2
    usable = counts[pairable]
    n_pairable = int(usable.sum())

    def result(
        value: float | None,
        note: str | None,
        ci: tuple[float, float] | None = None,
        p_below: float | None = None,
        undefined: int = 0,
    ) -> AlphaResult:
        return AlphaResult(
            value=value,
            ci=ci,
            level=level,
            n_units=int(pairable.sum()),
            n_raters=n_raters,
            n_pairable=n_pairable,
            p_below_min=p_below,
            note=note,
            min_alpha=min_alpha,
            confidence=confidence,
            bootstrap=bootstrap,
            ci_method=ci_method,
            n_undefined_resamples=undefined,
        )

    if rated.empty:
        return result(None, "Alpha is undefined: there are no ratings.")
    if n_raters < 2:
        return result(None, "Alpha is undefined: only one panellist gave ratings.")
    if not pairable.any():
        return result(None, "Alpha is undefined: no item was rated by two or more panellists.")
    if (usable.sum(axis=0) > 0).sum() < 2:
        return result(
            None,
            "Alpha is undefined: every rating is the same (no variation), so agreement "
            "cannot be told apart from chance.",
        )
    points = np.asarray(scale.points, dtype=float)
    value = _package_alpha(usable, points, level)
    note = _band_note(usable, scale, value)
    if bootstrap == 0:
        return result(value, note)
    if len(usable) < 2 and ci_method == "units":
        extra = "No interval: resampling items needs at least two items rated by two panellists."
        return result(value, f"{note} {extra}" if note else extra)
    rng = np.random.default_rng(seed)
    per_unit = unit_coincidences(usable)
    if ci_method == "units":
        indices = rng.integers(0, len(usable), size=(bootstrap, len(usable)))
        draws = bootstrap_units(per_unit, points, level, indices)
    else:
        m = usable.sum(axis=1)
        n_pairs = int((m * (m - 1) // 2).sum())
        draws = bootstrap_kalpha(per_unit.sum(axis=0), points, level, n_pairs, bootstrap, rng)
    defined = draws[~np.isnan(draws)]
    undefined = int(len(draws) - len(defined))
    if len(defined) == 0:
        extra = "No interval: no resample had any variation."
        return result(value, f"{note} {extra}" if note else extra, undefined=undefined)
    tail = (1 - confidence) / 2
    lo, hi = np.quantile(defined, [tail, 1 - tail])
    p_below = float(np.mean(defined < min_alpha))
    return result(value, note, (float(lo), float(hi)), p_below, undefined)


def alpha_by_group(
    df: pd.DataFrame,
    level: Level = "ordinal",
    scale: Scale | None = None,
    bootstrap: int = 1000,
    seed: int | None = None,
    ci_method: CiMethod = "units",
    min_alpha: float = TENTATIVE,
    confidence: float = 0.95,
) -> dict[str, AlphaResult]:
    """``alpha`` within each stakeholder group (keys sorted), same options and edge cases.

    A group with one member gets value None and the one-panellist note. Raises
    ScoringInputError if there is no ``group`` column.
    """
    scale = scale or Scale()
    _check_options(level, ci_method, bootstrap, confidence)
    clean = validate_ratings(df, scale)
    single_round(clean, "alpha_by_group")
    single_criterion(clean, "alpha_by_group")
    if "group" not in clean.columns:
        raise ScoringInputError("alpha_by_group needs a 'group' column in the ratings")
    return _alpha_by_group_validated(
        clean, level, scale, bootstrap, seed, ci_method, min_alpha, confidence
    )


def _alpha_by_group_validated(
    clean: pd.DataFrame,
    level: Level,
    scale: Scale,
    bootstrap: int,
    seed: int | None,
    ci_method: CiMethod,
    min_alpha: float,
    confidence: float,
) -> dict[str, AlphaResult]:
    """``alpha_by_group`` on a validated one-round table with a ``group`` column."""
    return {
        str(group): _alpha_validated(
            part, level, scale, bootstrap, seed, ci_method, min_alpha, confidence
        )
        for group, part in clean.groupby("group", sort=True)
    }


def alpha_trend(
    df: pd.DataFrame,
    level: Level = "ordinal",
    scale: Scale | None = None,
    bootstrap: int = 1000,
    seed: int | None = None,
    ci_method: CiMethod = "units",
    min_alpha: float = TENTATIVE,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Alpha per round, for a trend: one row per round (sorted), index ``round``.

    Columns: value, ci_low, ci_high, p_below_min, n_units, n_raters, note (None where
    undefined, never NaN). Without a ``round`` column the whole table is round 1.
    """
    scale = scale or Scale()
    _check_options(level, ci_method, bootstrap, confidence)
    clean = validate_ratings(df, scale)
    single_criterion(clean, "alpha_trend")
    if "round" not in clean.columns:
        clean = clean.assign(round=1)
    rows = []
    for number in sorted(clean["round"].unique()):
        res = _alpha_validated(
            clean.loc[clean["round"] == number],
            level,
            scale,
            bootstrap,
            seed,
            ci_method,
            min_alpha,
            confidence,
        )
        rows.append(
            {
                "round": int(number),
                "value": res.value,
                "ci_low": res.ci[0] if res.ci else None,
                "ci_high": res.ci[1] if res.ci else None,
                "p_below_min": res.p_below_min,
                "n_units": res.n_units,
                "n_raters": res.n_raters,
                "note": res.note,
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "round",
            "value",
            "ci_low",
            "ci_high",
            "p_below_min",
            "n_units",
            "n_raters",
            "note",
        ],
    ).astype(object)
    return table.set_index("round")
