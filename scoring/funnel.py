"""Funnel plots for a proportion indicator on unit-level (trust-level) data.

The method regulators use to compare institutions (Spiegelhalter 2005, *Funnel plots for
comparing institutional performance*, Stat Med 24:1185, and *Handling over-dispersion of
performance indicators*, Qual Saf Health Care 14:347):

- value p_i = O_i / n_i; target θ0 = ΣO / Σn unless given;
- s_i = sqrt(θ0 (1 − θ0) / n_i), z_i = (p_i − θ0) / s_i;
- z winsorised at q (numpy's default quantiles, R's type 7); φ = mean of the squared
  winsorised z; over-dispersion when I·φ > I − 1;
- additive: τ² = max(0, (Iφ − (I − 1)) / (Σw − Σw²/Σw)), w_i = 1/s_i², sd_i = sqrt(s_i² + τ²);
  multiplicative: sd_i = s_i·sqrt(φ); none: sd_i = s_i (and sd_i = s_i for every method
  without over-dispersion);
- adjusted z = (p_i − θ0) / sd_i; limits θ0 ± k·sd_i (k = 1.959964, 3.090232), clipped to
  [0, 1]; bands from the adjusted z;
- reliability_i = τ²/(τ² + s_i²) from the additive τ² whatever the method;
- Spearman's rho between p_i and an ordered rating, when one is given.

Everything is vectorised: 10,000 units take a few milliseconds.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from scipy import stats

from scoring.errors import ScoringInputError
from scoring.loading import _read  # one reader for every file the package takes

Method = Literal["additive", "multiplicative", "none"]
METHODS: tuple[Method, ...] = ("additive", "multiplicative", "none")
Band = Literal["much-lower", "lower", "expected", "higher", "much-higher"]
BANDS: tuple[Band, ...] = ("much-lower", "lower", "expected", "higher", "much-higher")
Assessment = Literal["needs-improvement", "as-expected", "good"]

K95 = 1.959964
K998 = 3.090232
LIMIT_NAMES = ("95", "99.8")
DEFAULT_WINSORISE = 0.1
# The overall CQC rating, worst to best: the order used when a rating column holds these words.
CQC_ORDER = ("Inadequate", "Requires improvement", "Good", "Outstanding")


@dataclass(frozen=True)
class Association:
    """Spearman's rho between the units' values and their ordered quality rating."""

    spearman_rho: float | None
    p_value: float | None
    n: int

    def as_dict(self) -> dict[str, Any]:
        return {"spearman_rho": self.spearman_rho, "p_value": self.p_value, "n": self.n}


@dataclass(frozen=True)
class RatingGroup:
    """The units with one rating: how many, their pooled value and their median value."""

    rating: str
    n: int
    pooled_value: float
    median_value: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "rating": self.rating,
            "n": self.n,
            "pooled_value": self.pooled_value,
            "median_value": self.median_value,
        }


@dataclass(frozen=True)
class FunnelResult:
    """One indicator's analysis. ``units`` has one row per unit, in input order, with columns
    unit, numerator, denominator, value, s, sd, z, z_adjusted, band, lo95, hi95, lo998, hi998,
    reliability (and rating when a rating column was given)."""

    target: float
    phi: float
    tau2: float
    method: Method
    overdispersed: bool
    winsorise: float
    reliability: float
    lower_is_better: bool
    units: pd.DataFrame
    association: Association | None = None
    by_rating: tuple[RatingGroup, ...] | None = None
    target_given: bool = False

    def sd_at(self, denominator: np.ndarray) -> np.ndarray:
        """The standard deviation the limits use at any denominator (for the plot's curves)."""
        n = np.asarray(denominator, dtype=float)
        s2 = self.target * (1.0 - self.target) / n
        return _sd(s2, self.method, self.overdispersed, self.phi, self.tau2)

    def band_counts(self) -> dict[Band, int]:
        counts = self.units["band"].value_counts()
        return {band: int(counts.get(band, 0)) for band in BANDS}

    def assessment_counts(self) -> dict[Assessment, int]:
        counts = self.band_counts()
        low = counts["much-lower"] + counts["lower"]
        high = counts["higher"] + counts["much-higher"]
        return {
            "needs-improvement": high if self.lower_is_better else low,
            "as-expected": counts["expected"],
            "good": low if self.lower_is_better else high,
        }

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``python -m scoring.funnel --format json``."""
        u = self.units
        columns = {
            name: u[name].tolist()
            for name in UNIT_COLUMNS
        }
        units = [
            {
                "unit": columns["unit"][i],
                "numerator": _number(columns["numerator"][i]),
                "denominator": _number(columns["denominator"][i]),
                "value": columns["value"][i],
                "z": columns["z"][i],
                "z_adjusted": columns["z_adjusted"][i],
                "band": columns["band"][i],
                "limits": {
                    "95": [columns["lo95"][i], columns["hi95"][i]],
                    "99.8": [columns["lo998"][i], columns["hi998"][i]],
                },
                "reliability": columns["reliability"][i],
            }
            for i in range(len(u))
        ]
        return {
            "target": self.target,
            "phi": self.phi,
            "tau2": self.tau2,
            "overdispersion": self.method,
            "overdispersed": self.overdispersed,
            "winsorise": self.winsorise,
            "lower_is_better": self.lower_is_better,
            "reliability": self.reliability,
            "band_counts": dict(self.band_counts()),
            "association": self.association.as_dict() if self.association else None,
            "by_rating": (
                [g.as_dict() for g in self.by_rating] if self.by_rating is not None else None
            ),
            "units": units,
        }


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _sd(s2: np.ndarray, method: Method, overdispersed: bool, phi: float, tau2: float) -> np.ndarray:
    s2 = np.asarray(s2, dtype=float)
    if not overdispersed or method == "none":
        return np.asarray(np.sqrt(s2))
    if method == "additive":
        return np.asarray(np.sqrt(s2 + tau2))
    return np.asarray(np.sqrt(s2) * math.sqrt(phi))


def assessment(band: str, lower_is_better: bool = False) -> Assessment:
    """A band in the words of the indicator's direction."""
    if band == "expected":
        return "as-expected"
    low = band in ("much-lower", "lower")
    return "needs-improvement" if low != lower_is_better else "good"


def bands_of(z_adjusted: np.ndarray) -> np.ndarray:
    """much-lower < −3.090232 ≤ lower < −1.959964 ≤ expected ≤ 1.959964 < higher ≤ 3.090232 <
    much-higher: the same k as the control limits, so a unit outside a limit is in its band."""
    z = np.asarray(z_adjusted, dtype=float)
    return np.select(
        [z < -K998, z < -K95, z <= K95, z <= K998],
        ["much-lower", "lower", "expected", "higher"],
        default="much-higher",
    )


def _row(label: Hashable) -> str:
    return f"row {label}"


def _numbers(table: pd.DataFrame, column: str) -> np.ndarray:
    cells = table[column]
    if pd.api.types.is_numeric_dtype(cells.dtype) and not pd.api.types.is_bool_dtype(cells.dtype):
        fast = cells.to_numpy(dtype=float, na_value=np.nan)
        if np.isfinite(fast).all():
            return fast
    values = pd.to_numeric(cells, errors="coerce")
    bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        label = bad[bad].index[0]
        raw = table[column].loc[label]
        shown = "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else raw
        raise ScoringInputError(f"{_row(label)}: {column} {str(shown)!r} is not a number")
    return values.to_numpy(dtype=float)


def _first(mask: np.ndarray, index: pd.Index) -> Hashable:
    return cast(Hashable, index[int(np.argmax(mask))])


def _cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _units(table: pd.DataFrame, column: str) -> list[str]:
    names = [_cell(v) for v in table[column].to_numpy(dtype=object)]
    folded = [name.casefold() for name in names]
    if "" in folded or len(set(folded)) < len(folded):
        seen: dict[str, Hashable] = {}
        for label, name, key in zip(table.index, names, folded, strict=True):
            if not name:
                raise ScoringInputError(f"{_row(label)}: the {column} is empty")
            if key in seen:
                raise ScoringInputError(
                    f"{_row(label)}: {column} {name!r} appears twice (first on {_row(seen[key])})"
                )
            seen[key] = label
    return names


def rating_codes(
    ratings: pd.Series, order: Sequence[str] | None = None
) -> tuple[np.ndarray, list[tuple[str, float]]]:
    """Ratings as ordered numbers (NaN where blank) and the categories (name, code) in order.

    With ``order`` the words are matched case-insensitively to their place in it; without it
    numbers are used as they are, and the words of the CQC rating in their order."""
    # A rating takes few values: work on the distinct ones, then spread them back.
    positions, distinct = pd.factorize(ratings.to_numpy(dtype=object), use_na_sentinel=True)
    words = [_cell(v) for v in distinct]

    def spread(mapped: list[float]) -> np.ndarray:
        lookup = np.append(np.asarray(mapped, dtype=float), np.nan)  # -1 (blank) → NaN
        return np.asarray(lookup[positions])

    if order is None:
        numbers = [_float(w) for w in words]
        if all(w == "" or v is not None for w, v in zip(words, numbers, strict=True)):
            mapped = [np.nan if v is None else v for v in numbers]
            found = sorted({v for v in mapped if not math.isnan(v)})
            return spread(mapped), [(str(_number(v)), v) for v in found]
        order = CQC_ORDER
    places = {name.strip().casefold(): float(place) for place, name in enumerate(order)}
    for word in words:
        if word and word.casefold() not in places:
            slot = words.index(word)
            label = ratings.index[int(np.argmax(positions == slot))]
            raise ScoringInputError(
                f"{_row(label)}: rating {word!r} is not one of " + ", ".join(order)
            )
    mapped = [places.get(w.casefold(), np.nan) for w in words]
    return spread(mapped), [(str(name).strip(), float(place)) for place, name in enumerate(order)]


def _float(word: str) -> float | None:
    try:
        value = float(word)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def analyse(
    table: pd.DataFrame,
    *,
    unit: str = "unit",
    numerator: str = "numerator",
    denominator: str = "denominator",
    target: float | None = None,
    overdispersion: str = "additive",
    winsorise: float = DEFAULT_WINSORISE,
    rating: str | None = None,
    rating_order: Sequence[str] | None = None,
    lower_is_better: bool = False,
) -> FunnelResult:
    """Analyse one indicator. ``table``'s index labels name the rows in errors (the loader
    numbers them as a spreadsheet does). Raises ScoringInputError for bad input."""
    if overdispersion not in METHODS:
        raise ScoringInputError(
            f"unknown over-dispersion method {overdispersion!r}: use " + ", ".join(METHODS)
        )
    method: Method = overdispersion
    if not 0.0 <= winsorise < 0.5:
        raise ScoringInputError(f"winsorising fraction {winsorise} must be from 0 to below 0.5")
    for column in (unit, numerator, denominator, *([rating] if rating else [])):
        if column not in table.columns:
            raise ScoringInputError(
                f"no column {column!r}: the file has " + ", ".join(map(str, table.columns))
            )
    if len(table) < 3:
        raise ScoringInputError(f"{len(table)} units: a funnel plot needs at least 3")
    names = _units(table, unit)
    o = _numbers(table, numerator)
    n = _numbers(table, denominator)
    index = table.index
    if (o < 0).any():
        raise ScoringInputError(f"{_row(_first(o < 0, index))}: {numerator} is negative")
    if (n < 0).any():
        raise ScoringInputError(f"{_row(_first(n < 0, index))}: {denominator} is negative")
    if (n == 0).any():
        raise ScoringInputError(f"{_row(_first(n == 0, index))}: {denominator} is 0")
    if (o > n).any():
        raise ScoringInputError(
            f"{_row(_first(o > n, index))}: {numerator} is more than {denominator}"
        )
    if target is None:
        theta = float(o.sum() / n.sum())
        if theta in (0.0, 1.0):
            raise ScoringInputError(
                f"the overall proportion is {theta:g}: every unit has "
                + ("none" if theta == 0 else "all")
                + ", so there is no variation to compare"
            )
    else:
        theta = float(target)
        if not 0.0 < theta < 1.0:
            raise ScoringInputError(f"target {target} must be between 0 and 1 (exclusive)")

    units = len(o)
    p = o / n
    s2 = theta * (1.0 - theta) / n
    s = np.sqrt(s2)
    z = (p - theta) / s
    lo_q, hi_q = np.quantile(z, [winsorise, 1.0 - winsorise])
    phi = float(np.mean(np.clip(z, lo_q, hi_q) ** 2))
    overdispersed = units * phi > units - 1
    w = 1.0 / s2
    tau2 = max(0.0, float((units * phi - (units - 1)) / (w.sum() - (w**2).sum() / w.sum())))
    sd = _sd(s2, method, overdispersed, phi, tau2)
    z_adj = (p - theta) / sd
    reliability = tau2 / (tau2 + s2) if tau2 > 0 else np.zeros(units)
    frame = pd.DataFrame(
        {
            "unit": names,
            "numerator": o,
            "denominator": n,
            "value": p,
            "s": s,
            "sd": sd,
            "z": z,
            "z_adjusted": z_adj,
            "band": bands_of(z_adj),
            "lo95": np.clip(theta - K95 * sd, 0.0, 1.0),
            "hi95": np.clip(theta + K95 * sd, 0.0, 1.0),
            "lo998": np.clip(theta - K998 * sd, 0.0, 1.0),
            "hi998": np.clip(theta + K998 * sd, 0.0, 1.0),
            "reliability": reliability,
        },
        index=index,
    )
    association: Association | None = None
    by_rating: tuple[RatingGroup, ...] | None = None
    if rating:
        codes, categories = rating_codes(table[rating], rating_order)
        frame["rating"] = codes
        association = _association(p, codes)
        by_rating = _by_rating(o, n, p, codes, categories)
    return FunnelResult(
        target=theta,
        phi=phi,
        tau2=tau2,
        method=method,
        overdispersed=bool(overdispersed),
        winsorise=winsorise,
        reliability=float(np.mean(reliability)),
        lower_is_better=lower_is_better,
        units=frame,
        association=association,
        by_rating=by_rating,
        target_given=target is not None,
    )


def _association(p: np.ndarray, codes: np.ndarray) -> Association:
    rated = ~np.isnan(codes)
    count = int(rated.sum())
    if count < 3 or np.ptp(codes[rated]) == 0 or np.ptp(p[rated]) == 0:
        return Association(None, None, count)
    result = stats.spearmanr(p[rated], codes[rated])
    rho, pv = float(result.statistic), float(result.pvalue)
    return Association(
        rho if math.isfinite(rho) else None, pv if math.isfinite(pv) else None, count
    )


def _by_rating(
    o: np.ndarray,
    n: np.ndarray,
    p: np.ndarray,
    codes: np.ndarray,
    categories: list[tuple[str, float]],
) -> tuple[RatingGroup, ...]:
    groups = []
    for name, code in categories:
        mask = codes == code
        if mask.any():
            groups.append(
                RatingGroup(
                    name,
                    int(mask.sum()),
                    float(o[mask].sum() / n[mask].sum()),
                    float(np.median(p[mask])),
                )
            )
    return tuple(groups)


def curves(result: FunnelResult, points: int = 120) -> pd.DataFrame:
    """The control limits as curves over the range of denominators, for drawing the funnel:
    columns denominator, lo95, hi95, lo998, hi998 (clipped to [0, 1])."""
    n = result.units["denominator"].to_numpy(dtype=float)
    grid = np.geomspace(max(n.min(), 1e-9), n.max(), points)
    sd = result.sd_at(grid)
    t = result.target
    return pd.DataFrame(
        {
            "denominator": grid,
            "lo95": np.clip(t - K95 * sd, 0.0, 1.0),
            "hi95": np.clip(t + K95 * sd, 0.0, 1.0),
            "lo998": np.clip(t - K998 * sd, 0.0, 1.0),
            "hi998": np.clip(t + K998 * sd, 0.0, 1.0),
        }
    )


def read_table(path: str) -> pd.DataFrame:
    """A CSV or XLSX file as text cells, header lower-cased, rows numbered as in a
    spreadsheet (row 1 is the header)."""
    return _read(Path(path))


def to_json(result: FunnelResult) -> str:
    from scoring.report import plain

    return json.dumps(plain(result.as_dict()), indent=2)


UNIT_COLUMNS = (
    "unit",
    "numerator",
    "denominator",
    "value",
    "z",
    "z_adjusted",
    "band",
    "lo95",
    "hi95",
    "lo998",
    "hi998",
    "reliability",
)


def to_csv(result: FunnelResult) -> str:
    """One row per unit (the per-trust results); text cells that would run as spreadsheet
    formulas are the caller's concern (units are codes the file already held)."""
    out = io.StringIO()
    result.units.loc[:, list(UNIT_COLUMNS)].to_csv(out, index=False, lineterminator="\n")
    return out.getvalue()


def summary_lines(result: FunnelResult) -> list[str]:
    counts = result.assessment_counts()
    total = len(result.units)
    dispersion = "over-dispersed" if result.overdispersed else "no over-dispersion"
    lines = [
        f"units: {total}",
        f"target: {result.target:.6f}" + (" (given)" if result.target_given else " (overall)"),
        f"phi: {result.phi:.6f} ({dispersion})",
        f"tau2: {result.tau2:.6g}",
        f"method: {result.method} (winsorised at {result.winsorise:g})",
        f"reliability: {result.reliability:.3f}",
        f"needs improvement: {counts['needs-improvement']} of {total}",
        f"as expected: {counts['as-expected']} of {total}",
        f"good: {counts['good']} of {total}",
    ]
    if result.association is not None:
        a = result.association
        rho = "undefined" if a.spearman_rho is None else f"{a.spearman_rho:.3f}"
        pv = "" if a.p_value is None else f", p = {a.p_value:.3g}"
        lines.append(f"spearman rho with rating: {rho}{pv} (n = {a.n})")
    return lines


def to_table(result: FunnelResult) -> str:
    u = result.units
    width = max(4, *(len(str(v)) for v in u["unit"]))
    rows = [f"{'unit':<{width}}  {'O':>8} {'n':>9} {'value':>8} {'z adj':>8}  band"]
    for name, o, n, p, z, band in zip(
        u["unit"],
        u["numerator"],
        u["denominator"],
        u["value"],
        u["z_adjusted"],
        u["band"],
        strict=True,
    ):
        rows.append(f"{name:<{width}}  {o:>8g} {n:>9g} {p:>8.4f} {z:>8.3f}  {band}")
    return "\n".join([*summary_lines(result), "", *rows]) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scoring.funnel",
        description="Funnel plot figures with over-dispersion for a proportion indicator.",
    )
    parser.add_argument("file", help="CSV or XLSX, one row per unit")
    parser.add_argument("--unit", default="unit")
    parser.add_argument("--numerator", default="numerator")
    parser.add_argument("--denominator", default="denominator")
    parser.add_argument("--target", type=float, default=None, help="default: ΣO / Σn")
    parser.add_argument("--overdispersion", choices=METHODS, default="additive")
    parser.add_argument("--winsorise", type=float, default=DEFAULT_WINSORISE)
    parser.add_argument("--rating", default=None, help="column of an ordered quality rating")
    parser.add_argument(
        "--rating-order",
        default=None,
        help='worst to best, comma-separated (default numbers, or "Inadequate,Requires '
        'improvement,Good,Outstanding")',
    )
    parser.add_argument("--lower-is-better", action="store_true")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        table = read_table(args.file)
        order = (
            [w.strip() for w in args.rating_order.split(",") if w.strip()]
            if args.rating_order
            else None
        )
        result = analyse(
            table,
            unit=args.unit.strip().lower(),
            numerator=args.numerator.strip().lower(),
            denominator=args.denominator.strip().lower(),
            target=args.target,
            overdispersion=args.overdispersion,
            winsorise=args.winsorise,
            rating=args.rating.strip().lower() if args.rating else None,
            rating_order=order,
            lower_is_better=args.lower_is_better,
        )
    except ScoringInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    render = {"json": to_json, "csv": to_csv, "table": to_table}[args.format]
    text = render(result)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
