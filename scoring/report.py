"""One whole-round analysis as plain data, and its table / Markdown / JSON / CSV renderings
(for the CLI)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Hashable
from typing import Any, cast

import numpy as np
import pandas as pd

from scoring.coincidence import Level
from scoring.criteria import split_by_criterion
from scoring.items import group_summary, item_summary
from scoring.ratings import validate_ratings
from scoring.reliability import AlphaResult, CiMethod, alpha, alpha_by_group, alpha_trend
from scoring.rules import Rule
from scoring.scale import Scale
from scoring.stability import stability

ITEM_KEYS = (
    "n",
    "n_unable",
    "mean",
    "median",
    "q1",
    "q3",
    "iqr",
    "pct_bottom",
    "pct_middle",
    "pct_top",
    "counts",
    "ipr_low",
    "ipr_high",
    "ipr",
    "iprcp",
    "ipras",
    "di",
    "status",
)


def plain(value: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    # The plain Python types first: a specification holds tens of thousands of them.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def item_figures(row: pd.Series) -> dict[str, Any]:
    """One row of `item_summary` or `group_summary` as JSON-safe figures (`ITEM_KEYS`)."""
    return {k: plain(row[k]) for k in ITEM_KEYS}


def _items(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"item": plain(item), **item_figures(row)} for item, row in table.iterrows()]


def _figures(
    clean: pd.DataFrame,
    rounds: list[int],
    scale: Scale,
    rule: Rule,
    options: tuple[Level, Scale, int, int | None, CiMethod],
    require_all_groups: bool,
) -> dict[str, Any]:
    """alpha, items, groups, stability and alpha_trend of one validated table (one criterion
    or none); ``rounds`` are the rounds of the whole file, so every criterion is reported for
    the same latest round."""
    current = clean.loc[clean["round"] == rounds[-1]] if rounds else clean
    if rounds:
        current = current.drop(columns="round")
    result: dict[str, Any] = {}
    overall: AlphaResult = alpha(current, *options)
    result["alpha"] = overall.as_dict()
    result["items"] = _items(item_summary(current, scale, rule, require_all_groups))
    groups: dict[str, Any] = {}
    if "group" in current.columns:
        by_group = alpha_by_group(current, *options)
        per_group = group_summary(current, scale, rule)
        for name, res in by_group.items():
            groups[name] = {
                "alpha": res.as_dict(),
                "items": _items(cast(pd.DataFrame, per_group.xs(name, level="group"))),
            }
    result["groups"] = groups
    if len(rounds) >= 2:
        prev = clean.loc[clean["round"] == rounds[-2]].drop(columns="round")
        table = stability(prev, current, scale)
        result["stability"] = {
            "rounds": [rounds[-2], rounds[-1]],
            "items": [
                {"item": plain(item), **{k: plain(v) for k, v in row.items()}}
                for item, row in table.iterrows()
            ],
        }
    else:
        result["stability"] = None
    trend = alpha_trend(clean, *options)
    result["alpha_trend"] = [
        {"round": int(cast(Any, number)), **{k: plain(v) for k, v in row.items()}}
        for number, row in trend.iterrows()
    ]
    return result


def analyse_round(
    df: pd.DataFrame,
    scale: Scale,
    rule: Rule,
    level: Level = "ordinal",
    bootstrap: int = 1000,
    seed: int | None = None,
    ci_method: CiMethod = "units",
    require_all_groups: bool = False,
) -> dict[str, Any]:
    """Everything about the latest round, JSON-ready (no NaN, None where undefined).

    Keys: settings, round (latest round number or None), alpha, items, groups (per group:
    alpha and items; {} without a group column), stability (latest vs previous round, or None
    with fewer than two rounds), alpha_trend (one entry per round).

    With a ``criterion`` column each criterion is analysed on its own ratings and the report
    gains ``criteria``: criterion → the same five keys (alpha, items, groups, stability,
    alpha_trend), criteria in order of first appearance; ``settings`` gains the list of
    criteria. The top-level figures would pool different judgements, so they are left
    empty: alpha None, items [], groups {}, stability None, alpha_trend []. Without the
    column the report is exactly as it was before criteria existed.
    """
    clean = validate_ratings(df, scale)
    rounds = sorted(int(r) for r in clean["round"].unique()) if "round" in clean else []
    result: dict[str, Any] = {
        "settings": {
            "scale": scale.label(),
            "rule": rule.name,
            "rule_definition": rule.describe(),
            "level": level,
            "bootstrap": bootstrap,
            "ci_method": ci_method,
            "seed": seed,
            "require_all_groups": require_all_groups,
        },
        "round": rounds[-1] if rounds else None,
    }
    options = (level, scale, bootstrap, seed, ci_method)
    if "criterion" not in clean.columns:
        result.update(_figures(clean, rounds, scale, rule, options, require_all_groups))
        return plain(result)  # type: ignore[no-any-return]
    parts = split_by_criterion(clean, scale)
    result["settings"]["criteria"] = list(parts)
    result.update(alpha=None, items=[], groups={}, stability=None, alpha_trend=[])
    result["criteria"] = {
        name: _figures(part, rounds, scale, rule, options, require_all_groups)
        for name, part in parts.items()
    }
    return plain(result)  # type: ignore[no-any-return]


def to_json(report: dict[str, Any]) -> str:
    """Pretty JSON; ``allow_nan=False`` makes a stray NaN an error rather than invalid JSON."""
    return json.dumps(report, indent=2, allow_nan=False)


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def _alpha_line(label: str, a: dict[str, Any]) -> str:
    ci = a["ci"]
    text = f"{label}: alpha ({a['level']}) = {_fmt(a['value'], 3)}"
    if ci:
        text += f", {100 * a['confidence']:.0f}% CI [{ci[0]:.3f}, {ci[1]:.3f}]"
        text += f", P(alpha < {a['min_alpha']:.3f}) = {_fmt(a['p_below_min'], 3)}"
    text += f"  ({a['n_units']} items, {a['n_raters']} panellists)"
    if a["note"]:
        text += f"\n  note: {a['note']}"
    return text


ITEM_HEADER = ["item", "n", "unable", "median", "IQR", "%bottom", "%top", "DI", "status"]
STABILITY_HEADER = ["item", "paired", "%changed band", "Wilcoxon p", "verdict"]


def _item_rows(section: dict[str, Any]) -> list[list[str]]:
    return [
        [
            str(i["item"]),
            str(i["n"]),
            str(i["n_unable"]),
            _fmt(i["median"], 1),
            _fmt(i["iqr"], 1),
            _fmt(i["pct_bottom"], 0),
            _fmt(i["pct_top"], 0),
            _fmt(i["di"]),
            i["status"],
        ]
        for i in section["items"]
    ]


def _stability_rows(section: dict[str, Any]) -> list[list[str]]:
    return [
        [
            str(i["item"]),
            str(i["n_paired"]),
            _fmt(i["pct_changed_band"], 0),
            _fmt(i["p_value"], 3),
            i["verdict"],
        ]
        for i in section["stability"]["items"]
    ]


def _trend(section: dict[str, Any]) -> str | None:
    if len(section["alpha_trend"]) <= 1:
        return None
    trend = ", ".join(f"round {t['round']}: {_fmt(t['value'], 3)}" for t in section["alpha_trend"])
    return f"Alpha by round: {trend}"


def _sections(report: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """(criterion or None, figures): one section per criterion, or the report itself."""
    if "criteria" in report:
        return [(str(name), section) for name, section in report["criteria"].items()]
    return [(None, report)]


def _table_section(section: dict[str, Any]) -> list[str]:
    out = [_alpha_line("All panellists", section["alpha"])]
    for name, group in section["groups"].items():
        out.append(_alpha_line(f"Group {name}", group["alpha"]))
    out += ["", _grid(ITEM_HEADER, _item_rows(section))]
    if section["stability"]:
        a, b = section["stability"]["rounds"]
        out += [
            "",
            f"Stability, round {a} to {b}",
            _grid(STABILITY_HEADER, _stability_rows(section)),
        ]
    trend = _trend(section)
    if trend:
        out += ["", trend]
    return out


def to_table(report: dict[str, Any]) -> str:
    """Readable terminal report; with criteria, one titled section per criterion."""
    s = report["settings"]
    out = [f"Scale {s['scale']}; rule: {s['rule_definition']}"]
    if report["round"] is not None:
        out.append(f"Round {report['round']}")
    for criterion, section in _sections(report):
        if criterion is not None:
            title = f"Criterion: {criterion}"
            out += ["", title, "=" * len(title)]
        out += _table_section(section)
    return "\n".join(out) + "\n"


def _md(text: object) -> str:
    """A table cell or heading: user text escaped so it cannot break the Markdown."""
    escaped = str(text).replace("\\", "\\\\").replace("|", "\\|")
    for char in "*_`[]<>#":
        escaped = escaped.replace(char, "\\" + char)
    return " ".join(escaped.split())


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return lines


def to_markdown(report: dict[str, Any]) -> str:
    """The table report as Markdown (headings, bullet lists, pipe tables), for pasting into
    a document; with criteria, one section per criterion."""
    s = report["settings"]
    out = ["# Round analysis", "", f"Scale {_md(s['scale'])}; rule: {_md(s['rule_definition'])}"]
    if report["round"] is not None:
        out += ["", f"Round {report['round']}"]
    for criterion, section in _sections(report):
        level = "##"
        if criterion is not None:
            out += ["", f"## Criterion: {_md(criterion)}"]
            level = "###"
        out += ["", f"{level} Krippendorff's alpha", ""]
        lines = [_alpha_line("All panellists", section["alpha"])]
        lines += [_alpha_line(f"Group {n}", g["alpha"]) for n, g in section["groups"].items()]
        for line in lines:
            first, _, note = line.partition("\n  note: ")
            out.append(f"- {_md(first)}")
            if note:
                out.append(f"  - note: {_md(note)}")
        trend = _trend(section)
        if trend:
            out.append(f"- {trend}")
        out += ["", f"{level} Items", "", *_md_table(ITEM_HEADER, _item_rows(section))]
        if section["stability"]:
            a, b = section["stability"]["rounds"]
            out += ["", f"{level} Stability, round {a} to {b}", ""]
            out += _md_table(STABILITY_HEADER, _stability_rows(section))
    return "\n".join(out) + "\n"


def to_csv(report: dict[str, Any]) -> str:
    """Item figures as CSV: one row per item for all panellists (scope "all"), then per group.

    With criteria the first column is ``criterion`` and each criterion's rows follow in turn.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    by_criterion = "criteria" in report
    writer.writerow([*(["criterion"] if by_criterion else []), "scope", "item", *ITEM_KEYS])
    for criterion, section in _sections(report):
        scopes: list[tuple[str, list[dict[str, Hashable]]]] = [("all", section["items"])]
        scopes += [(name, g["items"]) for name, g in section["groups"].items()]
        for scope, items in scopes:
            for i in items:
                cells = [*([criterion] if by_criterion else []), scope, i["item"]]
                for key in ITEM_KEYS:
                    value = i[key]
                    if isinstance(value, list):
                        value = ";".join(str(v) for v in value)
                    cells.append("" if value is None else value)
                writer.writerow(cells)
    return buffer.getvalue()
