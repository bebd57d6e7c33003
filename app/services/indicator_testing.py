"""Indicator test data: trust-level numerators and denominators uploaded for an indicator,
analysed with a funnel plot (`scoring.funnel`), and the summary every page and export shows.

It is evidence shown to the panel, never a rating. Everything a page or an export needs (the
words, the plot's geometry, the per-trust rows) is built here once, as plain data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select

from app.extensions import db
from app.models import IndicatorTestData, Item, Study, User
from app.services import audit
from app.services.tabular import TableError, read_table
from app.services.transaction import transactional
from delphi import DomainError, ItemKind, StudyStatus
from delphi.rounds import check_record_open
from scoring.errors import ScoringInputError
from scoring.funnel import CQC_ORDER, METHODS, FunnelResult, analyse, assessment, curves

REQUIRED = ["code", "name", "numerator", "denominator"]
OPTIONAL = ["rating"]
NAME_MAX = 200
PERIOD_MAX = 200
SOURCE_MAX = 2000
PERS = (100, 1000)
SYNTHETIC_LABEL = "Synthetic, for illustration"
ASSESSMENT_WORDS = {
    "needs-improvement": "Needs improvement",
    "as-expected": "As expected",
    "good": "Good",
}
METHOD_WORDS = {
    "additive": "additive (random effects: a constant τ² added to each trust's variance)",
    "multiplicative": "multiplicative (each trust's variance scaled by φ)",
    "none": "no adjustment (chance alone)",
}


class IndicatorDataError(DomainError):
    """Test data that cannot be stored (not an indicator, a completed study)."""

    status_code = 422


# --- reading an upload -------------------------------------------------------------------


@dataclass
class Upload:
    """The rows of an upload, or line by line why none can be used."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def _count(text: str) -> float | None:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and value.is_integer() else None


def check_rows(lines: list[tuple[int, dict[str, str]]]) -> Upload:
    """Every problem of every row (line numbers as in the file), then the analysis's own
    objections (fewer than 3 trusts, nobody or everybody counted). All or nothing."""
    upload = Upload()
    seen: dict[str, int] = {}
    for line, row in lines:
        problems = []
        code = row.get("code", "").strip()
        name = row.get("name", "").strip()
        if not code:
            problems.append("the trust code is empty")
        elif len(code) > 20:
            problems.append("the trust code is longer than 20 characters")
        elif code.casefold() in seen:
            problems.append(f"trust code {code} is also on row {seen[code.casefold()]}")
        if not name:
            problems.append("the trust name is empty")
        elif len(name) > NAME_MAX:
            problems.append(f"the trust name is longer than {NAME_MAX} characters")
        counts = {}
        for column in ("numerator", "denominator"):
            text = row.get(column, "").strip()
            value = _count(text)
            if value is None:
                problems.append(f"the {column} must be a whole number (found “{text}”)")
            elif value < 0:
                problems.append(f"the {column} cannot be negative")
            counts[column] = value
        o, n = counts["numerator"], counts["denominator"]
        if n is not None and n == 0:
            problems.append("the denominator is 0")
        if o is not None and n is not None and o >= 0 and n > 0 and o > n:
            problems.append("the numerator is more than the denominator")
        rating = row.get("rating", "").strip()
        if rating and rating.casefold() not in {w.casefold() for w in CQC_ORDER}:
            try:
                float(rating)
            except ValueError:
                problems.append(
                    f"the rating “{rating}” is not one of " + ", ".join(CQC_ORDER) + " or a number"
                )
        if code:
            seen.setdefault(code.casefold(), line)
        if problems:
            upload.errors.append(f"Row {line}: " + "; ".join(problems) + ".")
            continue
        upload.rows.append(
            {
                "line": line,
                "code": code,
                "name": name,
                "numerator": int(o or 0),
                "denominator": int(n or 0),
                "rating": _rating_word(rating),
            }
        )
    if not upload.errors:
        try:
            analysis(upload.rows)
        except ScoringInputError as error:
            message = str(error)
            upload.errors.append(message[0].upper() + message[1:] + ".")
    if upload.errors:
        upload.rows = []
    return upload


def _rating_word(rating: str) -> str:
    for word in CQC_ORDER:
        if rating.casefold() == word.casefold():
            return word
    return rating


def read_upload(filename: str, data: bytes) -> Upload:
    """An uploaded CSV or XLSX: columns code, name, numerator, denominator[, rating]."""
    try:
        lines = read_table(filename, data, REQUIRED)
    except TableError as error:
        return Upload(errors=[str(error)])
    return check_rows(lines)


def rows_from_json(rows: Any) -> Upload:
    """The rows a preview page carried back (re-checked: the page could have been altered)."""
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return Upload(errors=["The preview was damaged: upload the file again."])
    lines = [
        (
            int(r["line"]) if isinstance(r.get("line"), int) else i + 2,
            {k: str(r.get(k) if r.get(k) is not None else "") for k in (*REQUIRED, *OPTIONAL)},
        )
        for i, r in enumerate(rows)
    ]
    return check_rows(lines)


# --- the analysis ------------------------------------------------------------------------


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "unit": [r["code"] for r in rows],
            "numerator": [r["numerator"] for r in rows],
            "denominator": [r["denominator"] for r in rows],
            "rating": [r.get("rating") or "" for r in rows],
        }
    )
    frame.index = pd.Index([r.get("line", i + 2) for i, r in enumerate(rows)])
    return frame


def _has_rating(rows: list[dict[str, Any]]) -> bool:
    return any(r.get("rating") for r in rows)


def analysis(
    rows: list[dict[str, Any]], *, method: str = "additive", lower_is_better: bool = False
) -> FunnelResult:
    frame = _frame(rows)
    return analyse(
        frame,
        overdispersion=method,
        rating="rating" if _has_rating(rows) else None,
        lower_is_better=lower_is_better,
    )


# --- what pages and exports show ---------------------------------------------------------


@dataclass(frozen=True)
class TrustRow:
    code: str
    name: str
    numerator: int
    denominator: int
    value: str
    z: float
    assessment: str
    words: str
    limits95: str
    limits998: str
    reliability: float
    rating: str


@dataclass(frozen=True)
class Plot:
    """The funnel plot's geometry in SVG units, shared by the page's SVG and the PNG the
    Word document embeds."""

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    target_y: float
    curves: dict[str, str]  # "lo95" → SVG points "x,y x,y ..."
    curve_points: dict[str, list[tuple[float, float]]]
    points: list[tuple[float, float, str, str]]  # x, y, assessment, code
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    x_label: str
    y_label: str


@dataclass(frozen=True)
class Summary:
    """One indicator's test data as people read it."""

    ref: str
    indicator: str
    period: str
    source: str
    filename: str
    synthetic: bool
    shown_to_panel: bool
    lower_is_better: bool
    method: str
    method_words: str
    per: int
    units: int
    target: str
    counts: dict[str, int]
    count_sentences: list[str]
    flagged: list[TrustRow]
    dispersion_sentence: str
    phi: float
    tau2: float
    overdispersed: bool
    reliability: float
    reliability_sentence: str
    association: dict[str, Any] | None
    association_sentence: str | None
    by_rating: list[dict[str, Any]]
    trusts: list[TrustRow]
    plot: Plot
    result: FunnelResult


def shown_value(value: float, per: int) -> str:
    if per == 100:
        return f"{value * 100:.1f}%"
    return f"{value * per:.1f} per {per:,}"


def _span(low: float, high: float, per: int) -> str:
    return f"{shown_value(low, per)} to {shown_value(high, per)}"


def _count_sentence(n: int, total: int, what: str) -> str:
    trusts = "trust" if total == 1 else "trusts"
    return f"{n} of {total} {trusts} would be flagged as {what}"


def _plain_number(value: float) -> str:
    """Two significant figures without an exponent (0.0000064, not 6.4e-06)."""
    if value == 0:
        return "0"
    digits = max(0, 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{digits}f}"


def _dispersion_sentence(result: FunnelResult) -> str:
    if result.overdispersed:
        how = {
            "additive": f"widened by adding τ² = {_plain_number(result.tau2)} to each trust's "
            "variance",
            "multiplicative": f"widened by a factor √φ = {math.sqrt(result.phi):.2f}",
            "none": "not widened (the chosen method ignores it), so more trusts are flagged",
        }[result.method]
        return (
            "Trusts differ more than chance alone explains: the spread of their values is "
            f"{result.phi:.1f} times what chance would give (φ = {result.phi:.2f}). "
            f"The control limits were {how}."
        )
    return (
        "Trusts differ about as much as chance alone explains "
        f"(φ = {result.phi:.2f}): the control limits are not widened."
    )


def _reliability_sentence(value: float) -> str:
    if value <= 0:
        return (
            "Reliability 0: on these data the differences between trusts are no bigger than "
            "chance, so the indicator cannot tell trusts apart."
        )
    if value >= 0.9:
        how = "very well"
    elif value >= 0.7:
        how = "well"
    elif value >= 0.5:
        how = "only moderately"
    else:
        how = "poorly"
    return (
        f"Reliability {value:.2f}: on average {value * 100:.0f}% of the difference between a "
        f"trust's value and the average is real rather than chance, so the indicator tells "
        f"trusts apart {how}."
    )


def _association_sentence(result: FunnelResult) -> str | None:
    a = result.association
    if a is None:
        return None
    if a.spearman_rho is None:
        return f"The link with quality ratings cannot be measured on these {a.n} trusts."
    rho = a.spearman_rho
    size = abs(rho)
    strength = (
        "no clear"
        if size < 0.1
        else "a weak"
        if size < 0.3
        else "a moderate"
        if size < 0.5
        else "a strong"
    )
    direction = "higher" if rho > 0 else "lower"
    p = "p < 0.001" if (a.p_value or 0) < 0.001 else f"p = {a.p_value:.3f}"
    tail = (
        ""
        if size < 0.1
        else f": trusts with better quality ratings tend to have {direction} values"
    )
    return (
        f"Spearman's rho = {rho:.2f} ({p}, {a.n} trusts with a rating): {strength} link with "
        f"quality{tail}."
    )


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + 1e-12:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _plot(result: FunnelResult, per: int, lower_is_better: bool) -> Plot:
    u = result.units
    c = curves(result, points=80)
    return plot_geometry(
        n=u["denominator"].tolist(),
        values=u["value"].tolist(),
        judged=[assessment(b, lower_is_better) for b in u["band"]],
        codes=u["unit"].tolist(),
        target=result.target,
        limit_curves={k: c[k].tolist() for k in c.columns},
        per=per,
    )


def plot_geometry(
    *,
    n: list[float],
    values: list[float],
    judged: list[str],
    codes: list[str],
    target: float,
    limit_curves: dict[str, list[float]],
    per: int,
) -> Plot:
    """Where everything goes on the funnel plot, from plain numbers (so the specification's
    renderers can draw it from the exported data alone)."""
    width, height, left, top, right, bottom = 640, 380, 64, 16, 16, 52
    x_max = max(n) * 1.05
    x_min = 0.0
    inner_lo = min(min(values), limit_curves["lo998"][-1], target)
    inner_hi = max(max(values), limit_curves["hi998"][-1], target)
    pad = (inner_hi - inner_lo) * 0.08 or 0.01
    y_min, y_max = max(0.0, inner_lo - pad), min(1.0, inner_hi + pad)
    pw, ph = width - left - right, height - top - bottom

    def x(v: float) -> float:
        return round(left + pw * (v - x_min) / (x_max - x_min), 1)

    def y(v: float) -> float:
        v = min(max(v, y_min), y_max)
        return round(top + ph * (y_max - v) / (y_max - y_min), 1)

    curve_points = {
        name: [
            (x(a), y(b))
            for a, b in zip(limit_curves["denominator"], limit_curves[name], strict=True)
        ]
        for name in ("lo95", "hi95", "lo998", "hi998")
    }
    points = [(x(a), y(b), j, code) for a, b, j, code in zip(n, values, judged, codes, strict=True)]
    per_words = "%" if per == 100 else f"per {per:,}"
    return Plot(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        target_y=y(target),
        curves={k: " ".join(f"{a},{b}" for a, b in v) for k, v in curve_points.items()},
        curve_points=curve_points,
        points=points,
        x_ticks=[(x(t), f"{t:,.0f}") for t in _nice_ticks(x_min, x_max)],
        y_ticks=[(y(t), f"{t * per:g}") for t in _nice_ticks(y_min, y_max)],
        x_label="Denominator (size of the trust's count)",
        y_label=f"Value ({per_words})",
    )


def summarise(data: IndicatorTestData, item: Item) -> Summary:
    """Everything pages and exports say about one indicator's test data."""
    rows = data.rows
    result = analysis(rows, method=data.method, lower_is_better=data.lower_is_better)
    u = result.units
    per = data.per if data.per in PERS else 100
    names = {r["code"]: r["name"] for r in rows}
    ratings = {r["code"]: r.get("rating") or "" for r in rows}
    trusts = []
    for row in u.itertuples(index=False):
        judged = assessment(str(row.band), data.lower_is_better)
        trusts.append(
            TrustRow(
                code=str(row.unit),
                name=names.get(str(row.unit), ""),
                numerator=int(row.numerator),
                denominator=int(row.denominator),
                value=shown_value(float(row.value), per),
                z=float(row.z_adjusted),
                assessment=judged,
                words=ASSESSMENT_WORDS[judged]
                + (" (beyond 99.8% limit)" if row.band.startswith("much") else ""),
                limits95=_span(float(row.lo95), float(row.hi95), per),
                limits998=_span(float(row.lo998), float(row.hi998), per),
                reliability=float(row.reliability),
                rating=ratings.get(str(row.unit), ""),
            )
        )
    counts = result.assessment_counts()
    total = len(trusts)
    by_rating = [
        {
            "rating": g.rating,
            "n": g.n,
            "pooled_value": g.pooled_value,
            "shown": shown_value(g.pooled_value, per),
            "median": shown_value(g.median_value, per),
        }
        for g in (result.by_rating or ())
    ]
    return Summary(
        ref=item.ref,
        indicator=item.current.text,
        period=data.period,
        source=data.source,
        filename=data.filename,
        synthetic=data.synthetic,
        shown_to_panel=data.shown_to_panel,
        lower_is_better=data.lower_is_better,
        method=data.method,
        method_words=METHOD_WORDS.get(data.method, data.method),
        per=per,
        units=total,
        target=shown_value(result.target, per),
        counts=dict(counts),
        count_sentences=[
            _count_sentence(counts["needs-improvement"], total, "needing improvement"),
            _count_sentence(counts["good"], total, "good"),
            f"{counts['as-expected']} of {total} are as expected",
        ],
        flagged=[t for t in trusts if t.assessment != "as-expected"],
        dispersion_sentence=_dispersion_sentence(result),
        phi=result.phi,
        tau2=result.tau2,
        overdispersed=result.overdispersed,
        reliability=result.reliability,
        reliability_sentence=_reliability_sentence(result.reliability),
        association=result.association.as_dict() if result.association else None,
        association_sentence=_association_sentence(result),
        by_rating=by_rating,
        trusts=trusts,
        plot=_plot(result, per, data.lower_is_better),
        result=result,
    )


# --- reading and writing -----------------------------------------------------------------


def test_data_for(item: Item) -> IndicatorTestData | None:
    return db.session.scalar(select(IndicatorTestData).where(IndicatorTestData.item_id == item.id))


def test_data_by_item(study: Study) -> dict[int, IndicatorTestData]:
    found = db.session.scalars(
        select(IndicatorTestData)
        .join(Item, Item.id == IndicatorTestData.item_id)
        .where(Item.study_id == study.id)
    )
    return {d.item_id: d for d in found}


def summaries_shown_to_panel(study: Study) -> dict[int, Summary]:
    """item id → summary, for the indicators whose facilitators chose to show it."""
    items = {i.id: i for i in study.items}
    return {
        item_id: summarise(data, items[item_id])
        for item_id, data in test_data_by_item(study).items()
        if data.shown_to_panel and item_id in items
    }


@dataclass(frozen=True)
class Settings:
    period: str
    source: str
    lower_is_better: bool = False
    method: str = "additive"
    per: int = 100


def _check(item: Item, action: str) -> None:
    check_record_open(StudyStatus(item.study.status), action=action)
    if item.item_kind is not ItemKind.INDICATOR:
        raise IndicatorDataError(f"{item.ref} is a prompt: only indicators take test data.")


@transactional
def save_test_data(
    item: Item,
    rows: list[dict[str, Any]],
    settings: Settings,
    *,
    filename: str,
    actor: User | None,
    synthetic: bool = False,
) -> IndicatorTestData:
    """Store (or replace, whole) an indicator's test data; rows come from `check_rows`."""
    _check(item, "changing an indicator's test data")
    if settings.method not in METHODS:
        raise IndicatorDataError(f"Unknown method {settings.method}.")
    if settings.per not in PERS:
        raise IndicatorDataError("Show values per 100 or per 1,000.")
    data = test_data_for(item)
    if data is None:
        data = IndicatorTestData(item_id=item.id, shown_to_panel=False)
        db.session.add(data)
    data.rows = [dict(r) for r in rows]
    data.period = settings.period[:PERIOD_MAX]
    data.source = settings.source[:SOURCE_MAX]
    data.filename = filename[:255]
    data.lower_is_better = settings.lower_is_better
    data.method = settings.method
    data.per = settings.per
    data.synthetic = synthetic
    data.uploaded_by_id = actor.id if actor else None
    audit.record(
        item.study_id,
        "indicator.test_data_saved",
        by=actor.id if actor else None,
        item=item.ref,
        trusts=len(rows),
        filename=filename,
    )
    return data


@transactional
def set_shown_to_panel(item: Item, shown: bool, *, actor: User | None) -> None:
    _check(item, "changing what panellists see of an indicator's test data")
    data = test_data_for(item)
    if data is None:
        raise IndicatorDataError(f"{item.ref} has no test data to show.")
    data.shown_to_panel = shown
    audit.record(
        item.study_id,
        "indicator.test_data_shown" if shown else "indicator.test_data_hidden",
        by=actor.id if actor else None,
        item=item.ref,
    )


def shown_summary(item: Item | None) -> Summary | None:
    """The summary panellists see beside `item`, if its facilitators chose to show it."""
    if item is None or item.item_kind is not ItemKind.INDICATOR:
        return None
    data = test_data_for(item)
    if data is None or not data.shown_to_panel:
        return None
    return summarise(data, item)


# --- the specification's "Indicator testing" section ------------------------------------


def section_of(s: Summary) -> dict[str, Any]:
    """One indicator's testing as JSON-ready data: what the export says and draws."""
    r = s.result
    c = curves(r, points=80)
    u = r.units
    names = {t.code: t for t in s.trusts}
    trusts = [
        {
            "code": str(row.unit),
            "name": names[str(row.unit)].name,
            "numerator": int(row.numerator),
            "denominator": int(row.denominator),
            "rating": names[str(row.unit)].rating or None,
            "value": float(row.value),
            "z": float(row.z),
            "z_adjusted": float(row.z_adjusted),
            "band": str(row.band),
            "judgement": names[str(row.unit)].assessment,
            "limits": {
                "95": [float(row.lo95), float(row.hi95)],
                "99.8": [float(row.lo998), float(row.hi998)],
            },
            "reliability": float(row.reliability),
        }
        for row in u.itertuples(index=False)
    ]
    return {
        "ref": s.ref,
        "indicator": s.indicator,
        "synthetic": s.synthetic,
        "label": SYNTHETIC_LABEL if s.synthetic else None,
        "source": s.source,
        "period": s.period,
        "filename": s.filename,
        "shown_to_panel": s.shown_to_panel,
        "method": {
            "overdispersion": s.method,
            "description": s.method_words,
            "winsorise": r.winsorise,
            "limits": ["95", "99.8"],
            "higher_is_better": not s.lower_is_better,
            "per": s.per,
            "reference": "Spiegelhalter 2005, Stat Med 24:1185; Qual Saf Health Care 14:347",
        },
        "target": r.target,
        "target_shown": s.target,
        "units": s.units,
        "phi": r.phi,
        "tau2": r.tau2,
        "overdispersed": r.overdispersed,
        "reliability": r.reliability,
        "counts": s.counts,
        "sentences": {
            "counts": s.count_sentences,
            "dispersion": s.dispersion_sentence,
            "reliability": s.reliability_sentence,
            "association": s.association_sentence,
        },
        "flagged": [
            {"code": t.code, "name": t.name, "value": t.value, "judgement": t.words}
            for t in s.flagged
        ],
        "association": s.association,
        "by_rating": s.by_rating,
        "trusts": trusts,
        "curves": {k: c[k].tolist() for k in c.columns},
    }


def specification_section(study: Study) -> list[dict[str, Any]]:
    """Every indicator of the study that has test data, in item order."""
    found = test_data_by_item(study)
    return [
        section_of(summarise(found[item.id], item))
        for item in sorted(study.items, key=lambda i: i.position)
        if item.id in found
    ]


@dataclass(frozen=True)
class SectionView:
    """What the plot macro reads, rebuilt from an exported section."""

    ref: str
    synthetic: bool
    units: int
    target: str
    count_sentences: list[str]
    plot: Plot


def view_of_section(t: dict[str, Any]) -> SectionView:
    trusts = t["trusts"]
    return SectionView(
        ref=t["ref"],
        synthetic=bool(t["synthetic"]),
        units=int(t["units"]),
        target=t["target_shown"],
        count_sentences=list(t["sentences"]["counts"]),
        plot=plot_geometry(
            n=[float(x["denominator"]) for x in trusts],
            values=[float(x["value"]) for x in trusts],
            judged=[x["judgement"] for x in trusts],
            codes=[x["code"] for x in trusts],
            target=float(t["target"]),
            limit_curves=t["curves"],
            per=int(t["method"]["per"]),
        ),
    )


# --- the data zip ------------------------------------------------------------------------

TESTING_COLUMNS: dict[str, dict[str, str]] = {
    "indicator_test_data": {
        "item": "The indicator's reference (I1 ...).",
        "code": "The trust code, as uploaded.",
        "name": "The trust's name, as uploaded.",
        "numerator": "As uploaded.",
        "denominator": "As uploaded.",
        "rating": "The trust's quality rating, as uploaded (empty if none).",
        "period": "The period the data cover.",
        "source": "Where the data come from.",
        "synthetic": "True for made-up data (the demo study): synthetic, for illustration.",
    },
    "indicator_results": {
        "item": "The indicator's reference.",
        "code": "The trust code.",
        "value": "numerator / denominator.",
        "z": "(value - target) / binomial standard error.",
        "z_adjusted": "z with the over-dispersion adjustment of the chosen method.",
        "band": "much-lower, lower, expected, higher or much-higher (from z_adjusted).",
        "judgement": "needs-improvement, as-expected or good (with the indicator's direction).",
        "lo95": "Lower 95% control limit at this trust's denominator.",
        "hi95": "Upper 95% control limit.",
        "lo998": "Lower 99.8% control limit.",
        "hi998": "Upper 99.8% control limit.",
        "reliability": "tau2 / (tau2 + s^2): the share of the trust's difference that is real.",
        "synthetic": "True for made-up data: synthetic, for illustration.",
    },
}


def testing_tables(spec: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The uploaded rows and the per-trust results of every tested indicator."""
    found = spec.get("indicator_testing") or []
    uploaded, results = [], []
    for t in found:
        for x in t["trusts"]:
            uploaded.append(
                {
                    "item": t["ref"],
                    "code": x["code"],
                    "name": x["name"],
                    "numerator": x["numerator"],
                    "denominator": x["denominator"],
                    "rating": x["rating"] or "",
                    "period": t["period"],
                    "source": t["source"],
                    "synthetic": t["synthetic"],
                }
            )
            results.append(
                {
                    "item": t["ref"],
                    "code": x["code"],
                    "value": x["value"],
                    "z": x["z"],
                    "z_adjusted": x["z_adjusted"],
                    "band": x["band"],
                    "judgement": x["judgement"],
                    "lo95": x["limits"]["95"][0],
                    "hi95": x["limits"]["95"][1],
                    "lo998": x["limits"]["99.8"][0],
                    "hi998": x["limits"]["99.8"][1],
                    "reliability": x["reliability"],
                    "synthetic": t["synthetic"],
                }
            )
    return {
        "indicator_test_data": pd.DataFrame(
            uploaded, columns=list(TESTING_COLUMNS["indicator_test_data"])
        ),
        "indicator_results": pd.DataFrame(
            results, columns=list(TESTING_COLUMNS["indicator_results"])
        ),
    }
