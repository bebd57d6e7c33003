"""The specification's figures and tables as plain text, for every document format.

Each table is a header and rows of text; the Markdown and Word renderers (and the HTML
template's helpers) lay out the same rows, so the formats cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.text.dates import london
from delphi import Decision

TextTable = tuple[list[str], list[list[Any]]]

DASH = "\u2013"


# ---------------------------------------------------------------- figures


def num(value: Any, digits: int = 1) -> str:
    """A figure for people: whole numbers without decimals, None as a dash."""
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e12:
            return str(int(value))
        return f"{value:.{digits}f}"
    return str(value)


def pct(value: Any) -> str:
    return DASH if value is None else f"{num(value)}%"


def date(value: str | None) -> str:
    if not value:
        return DASH
    return london(datetime.fromisoformat(value), "%-d %B %Y")


def alpha_text(alpha: dict[str, Any] | None) -> str:
    if alpha and alpha.get("withheld"):
        return f"not shown: {alpha.get('note')}"
    if not alpha or alpha.get("value") is None:
        note = (alpha or {}).get("note")
        return f"not defined ({note})" if note else "not defined"
    text = f"{alpha['value']:.3f}"
    if alpha.get("ci"):
        low, high = alpha["ci"]
        text += f" (95% CI {low:.3f} to {high:.3f})"
    return text


def top_band(spec: dict[str, Any]) -> str:
    bands = spec["study"]["scale"]["bands"]
    return bands["top"].split(":")[0]


# ---------------------------------------------------------------- an agreed item


GROUP_COLUMNS = ["Group", "n", "Median"]


def group_row(group: dict[str, Any]) -> list[str]:
    """One row of an item's table by stakeholder group: name, n, median, % agreement; a group
    withheld by `delphi.disclosure` says so in place of every figure."""
    if group.get("withheld"):
        return [group["group"], str(group.get("note")), "not shown", "not shown"]
    return [group["group"], num(group["n"]), num(group["median"]), pct(group["pct_top"])]


def groups_table(evidence: dict[str, Any], top: str) -> TextTable:
    """The evidence of agreement by stakeholder group."""
    return [*GROUP_COLUMNS, f"% agreement ({top})"], [group_row(g) for g in evidence["groups"]]


def history_table(item: dict[str, Any]) -> TextTable:
    """An item's versions: what each said, the rounds it was rated in, what changed."""
    rows = [
        [
            h["version"],
            ", ".join(map(str, h["rounds"])) or DASH,
            h["text"],
            "; ".join(h["changes"]) + (f" ({h['change_note']})" if h["change_note"] else ""),
        ]
        for h in item["history"]
    ]
    return ["Version", "Rounds", "Wording", "What changed"], rows


# ---------------------------------------------------------------- appendices


def _appendix_row(item: dict[str, Any]) -> list[str]:
    ev = item["evidence"] or {}
    reason = next((r["reason"] for r in reversed(item["rounds"]) if r["reason"]), "")
    return [
        item["ref"],
        item["theme"],
        item["text"],
        num(ev.get("round")),
        num(ev.get("n")),
        num(ev.get("median")),
        num(ev.get("iqr")),
        pct(ev.get("pct_top")),
        reason,
    ]


def appendix_table(items: list[dict[str, Any]], top: str) -> TextTable:
    """Excluded items, or items without consensus, with their last figures and reason."""
    header = ["Ref", "Theme", "Wording", "Round", "n", "Median", "IQR", f"% {top}", "Reason"]
    return header, [_appendix_row(i) for i in items]


# ---------------------------------------------------------------- methods and participation


def panel_table(methods: dict[str, Any]) -> TextTable:
    header = ["Group", "Invited", "Joined", "Partners", "Patient representatives", "Observers"]
    rows = [
        [
            p["group"],
            p["invited"],
            p["joined"],
            p["partners"],
            p["patient_representatives"],
            p["observers"],
        ]
        for p in methods["panel"]
    ]
    return header, rows


def participation_table(methods: dict[str, Any]) -> TextTable:
    rows = [
        [p["round"], p["group"], p["invited"], p["responded"], p["retained"]]
        for p in methods["participation"]
    ]
    return ["Round", "Group", "Invited", "Responded", "Retained"], rows


ROUND_COLUMNS = ["Round", "Opened", "Closed", "Rated", "Added", "Revised"] + [
    decision.past_label for decision in Decision
]


def rounds_table(methods: dict[str, Any], *, with_alpha: bool) -> TextTable:
    """The rounds of the method section as a header and rows, for every document format."""
    header = ROUND_COLUMNS + (["Krippendorff's alpha"] if with_alpha else [])
    rows = []
    for r in methods["rounds"]:
        row = [
            r["round"],
            date(r["opened_at"]),
            date(r["closed_at"]),
            r["items_rated"],
            r["items_added"],
            r["items_revised"],
            r["items_accepted"],
            r["items_excluded"],
            r["items_carried_forward"],
        ]
        rows.append(row + [alpha_text(r["alpha"])] if with_alpha else row)
    return header, rows


def alpha_groups(methods: dict[str, Any]) -> list[str]:
    """The stakeholder groups with an alpha in any round, in order."""
    return sorted({g for r in methods["rounds"] for g in r["alpha_groups"]})


def alpha_table(methods: dict[str, Any], *, whole_panel: bool) -> TextTable:
    """Krippendorff's alpha per round by stakeholder group, with the whole panel's first
    (`whole_panel`) or without it (for a document whose rounds table shows it already)."""
    groups = alpha_groups(methods)
    header = ["Round", *(["Whole panel"] if whole_panel else []), *groups]
    rows = [
        [
            r["round"],
            *([alpha_text(r["alpha"])] if whole_panel else []),
            *[alpha_text(r["alpha_groups"].get(g)) for g in groups],
        ]
        for r in methods["rounds"]
        if (r["alpha"] if whole_panel else r["alpha_groups"])
    ]
    return header, rows


def stability_table(pair: dict[str, Any]) -> TextTable:
    """Stability of each item between two rounds."""
    rows = [
        [
            i["ref"],
            num(i["n_paired"]),
            pct(i["pct_changed_band"]),
            num(i["p_value"], 3),
            i["verdict"],
        ]
        for i in pair["items"]
    ]
    return ["Ref", "Paired", "% changed band", "Wilcoxon p", "Verdict"], rows


def panel_names_table(spec: dict[str, Any]) -> TextTable:
    """Who the pseudonyms are (only in an export the facilitator asked names for)."""
    rows = [[p["pseudonym"], p["name"], p["group"], p["role"]] for p in spec["panel_names"]]
    return ["Pseudonym", "Name", "Group", "Role"], rows
