"""The specification's figures and tables as plain text, for every document format.

Each table is a header and rows of text; the Markdown and Word renderers (and the HTML
template's helpers) lay out the same rows, so the formats cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.text.dates import london
from app.text.numbers import DASH, fixed, num, p_value, pct, span
from delphi import ConsensusStatus, Decision

TextTable = tuple[list[str], list[list[Any]]]


# ---------------------------------------------------------------- figures


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
    text = fixed(alpha["value"])
    if alpha.get("ci"):
        low, high = alpha["ci"]
        text += f" (95% CI {fixed(low)} to {fixed(high)})"
    return text


def all_items(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item: agreed (by theme), excluded, no consensus."""
    return [i for t in spec["themes"] for i in t["items"]] + spec["excluded"] + spec["no_consensus"]


def top_band(spec: dict[str, Any]) -> str:
    bands = spec["study"]["scale"]["bands"]
    return bands["top"].split(":")[0]


# ---------------------------------------------------------------- the summary


def agreed_items(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for t in spec["themes"] for i in t["items"]]


def summary_table(spec: dict[str, Any]) -> TextTable:
    """The agreed prompts and indicators on one page: theme, ref, wording, kind, the round
    agreed and the share rating in the top band."""
    top = top_band(spec)
    rows = [
        [
            theme["name"],
            item["ref"],
            item["text"],
            item["kind"].capitalize(),
            num(item["consensus_round"] or (item["evidence"] or {}).get("round")),
            pct((item["evidence"] or {}).get("pct_top")),
        ]
        for theme in spec["themes"]
        for item in theme["items"]
    ]
    return ["Theme", "Ref", "Wording", "Kind", "Round agreed", f"% rating {top}"], rows


def refs_line(items: list[dict[str, Any]]) -> str:
    """Items named on one line by reference ("P3, P4 and I2"), or "none"."""
    refs = [i["ref"] for i in items]
    if not refs:
        return "none"
    return refs[0] if len(refs) == 1 else ", ".join(refs[:-1]) + " and " + refs[-1]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def panel_method_text(spec: dict[str, Any]) -> str:
    """The panel and the method in a short paragraph, for the summary."""
    m, c, study = spec["methods"], spec["consensus"], spec["study"]
    panellists = sum(p["panellists"] for p in spec["partners"])
    observers = sum(p.get("observers", 0) for p in spec["partners"])
    groups = [p for p in spec["partners"] if p["panellists"]]
    by_group = ", ".join(f"{p['group']} {p['panellists']}" for p in groups)
    scale = study["scale"]
    text = (
        f"{_plural(panellists, 'panellist')} from {_plural(len(groups), 'stakeholder group')} "
        f"({by_group})"
        + (f", with {_plural(observers, 'observer')} who read but did not rate," * bool(observers))
        + f" rated {_plural(m['items_total'], 'candidate item')} on a {scale['min']}-"
        f"{scale['max']} scale over {_plural(m['number_of_rounds'], 'round')}, "
        "anonymously, with feedback between rounds. "
        f"{c['label']}, fixed before round 1: {c['description']} {m['stopping']}"
    )
    return " ".join(text.split())


# ---------------------------------------------------------------- an agreed item


def _stable_since(item: dict[str, Any], spec: dict[str, Any], upto: int) -> int | None:
    """The earliest round from which the item was stable up to round `upto` (consecutive
    stable verdicts between closed rounds), or None when no pair of rounds says so."""
    verdicts = {
        (pair["from_round"], pair["to_round"]): row.get("stable")
        for pair in spec["methods"]["stability"]
        for row in pair["items"]
        if row["ref"] == item["ref"]
    }
    since = None
    to = upto
    while True:
        pair = next(((a, b) for (a, b) in verdicts if b == to), None)
        if pair is None or not verdicts[pair]:
            return since
        since, to = pair[0], pair[0]


def evidence_line(item: dict[str, Any], spec: dict[str, Any]) -> str:
    """The evidence of agreement in one line: "92% rated 7-9 in round 2; median 8 (IQR
    7–9); 22 ratings; stable since round 1"."""
    ev = item["evidence"]
    if not ev:
        return "No figures: the item was not rated in a closed round."
    if len(ev.get("criteria") or []) > 1:
        # Several criteria: each one's agreement; the item is agreed only when all are in.
        parts = [
            f"in round {ev['round']}, on each criterion: "
            + "; ".join(
                f"{c['criterion']} {pct(c['pct_top'])} rated {top_band(spec)}, median "
                f"{num(c['median'])} (IQR {span(c['q1'], c['q3'])}), {num(c['n'])} ratings"
                for c in ev["criteria"]
            )
        ]
    else:
        parts = [
            f"{pct(ev['pct_top'])} rated {top_band(spec)} in round {ev['round']}",
            f"median {num(ev['median'])} (IQR {span(ev['q1'], ev['q3'])})",
            f"{num(ev['n'])} ratings"
            + (f", {num(ev['n_unable'])} unable to rate" if ev.get("n_unable") else ""),
        ]
    since = _stable_since(item, spec, ev["round"])
    if since is not None:
        parts.append(f"stable since round {since}")
    return "; ".join(parts)


def group_line(evidence: dict[str, Any] | None) -> str:
    """Each stakeholder group's median and agreement in one line; groups of fewer than 3
    raters (`delphi.disclosure`) are named apart, with no figure."""
    if not evidence or not evidence.get("groups"):
        return ""
    shown = [g for g in evidence["groups"] if not g.get("withheld") and g.get("n")]
    hidden = [g["group"] for g in evidence["groups"] if g.get("withheld") or not g.get("n")]
    text = "; ".join(f"{g['group']} {num(g['median'])} ({pct(g['pct_top'])})" for g in shown)
    if hidden:
        note = next((g.get("note") for g in evidence["groups"] if g.get("note")), None)
        text += ("; " if text else "") + f"{note or 'too few ratings'}: {', '.join(hidden)}"
    return f"By group, median (% in the top band): {text}."


def revision_lines(item: dict[str, Any]) -> list[str]:
    """What changed in each revision, field by field, before and after; none for an item
    that was never revised."""
    lines = []
    for h in item["history"][1:]:
        rounds = ", ".join(map(str, h["rounds"]))
        changes = (
            "; ".join(
                f"{c['label']}: “{c['before'] or DASH}” became “{c['after'] or DASH}”"
                for c in h.get("changed_fields", [])
            )
            or "no field changed"
        )
        note = f" ({h['change_note']})" if h["change_note"] else ""
        where = f", rated in round {rounds}" if rounds else ""
        lines.append(f"Version {h['version']}{where}: {changes}{note}.")
    return lines


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


def _what_changed(h: dict[str, Any]) -> str:
    text = "; ".join(
        f"{c['label']}: \u201c{c['before'] or DASH}\u201d \u2192 \u201c{c['after'] or DASH}\u201d"
        for c in h.get("changed_fields", [])
    ) or "; ".join(h["changes"])
    return text + (f" ({h['change_note']})" if h["change_note"] else "")


def history_table(item: dict[str, Any]) -> TextTable:
    """An item's versions: what each said, the rounds it was rated in, what changed (each
    changed field whole, before and after)."""
    rows = [
        [h["version"], ", ".join(map(str, h["rounds"])) or DASH, h["text"], _what_changed(h)]
        for h in item["history"]
    ]
    return ["Version", "Rounds", "Wording", "What changed"], rows


# ---------------------------------------------------------------- appendices


def _reason(item: dict[str, Any]) -> str:
    return next((r["reason"] for r in reversed(item["rounds"]) if r["reason"]), "")


def _appendix_row(item: dict[str, Any], with_reason: bool) -> list[str]:
    ev = item["evidence"] or {}
    row = [
        item["ref"],
        item["text"],
        num(ev.get("round")),
        num(ev.get("n")),
        num(ev.get("median")),
        span(ev.get("q1"), ev.get("q3")),
        pct(ev.get("pct_top")),
    ]
    return [*row, _reason(item)] if with_reason else row


def appendix_table(items: list[dict[str, Any]], top: str) -> TextTable:
    """Excluded items, or items without consensus, with their last figures and reason."""
    with_reason = any(_reason(i) for i in items)
    header = ["Ref", "Wording", "Round", "n", "Median", "IQR", f"% {top}"]
    header += ["Reason"] if with_reason else []
    return header, [_appendix_row(i, with_reason) for i in items]


def _quotes(quotes: list[dict[str, Any]]) -> str:
    return "; ".join(f"\u201c{q['text']}\u201d ({q['group']})" for q in quotes)


def arguments_text(item: dict[str, Any], spec: dict[str, Any]) -> str:
    """The main arguments on each side of an item without consensus, as one paragraph: the
    facilitators' summary, or reasons quoted with the stakeholder group that gave them."""
    args = item.get("arguments") or {}
    if args.get("summary"):
        return f"Summary of the arguments: {args['summary']}"
    bands = spec["study"]["scale"]["bands"]
    parts = []
    if args.get("for"):
        parts.append(f"For (rated {bands['top'].split(':')[0]}): {_quotes(args['for'])}.")
    if args.get("against"):
        parts.append(
            f"Against (rated {bands['bottom'].split(':')[0]}): {_quotes(args['against'])}."
        )
    return " ".join(parts)


def arguments_table(spec: dict[str, Any]) -> TextTable:
    """Items without consensus with the main arguments on each side (appendix C); items
    with neither a summary nor a reason quoted are left out (no rows: no table)."""
    rows = [
        [i["ref"], arguments_text(i, spec)]
        for i in spec["no_consensus"]
        if any((i.get("arguments") or {}).get(key) for key in ("summary", "for", "against"))
    ]
    return ["Ref", "Main arguments on each side"], rows


def round_figures_table(spec: dict[str, Any]) -> TextTable:
    """Every item's figures in every round it was rated: the full statistics."""
    top = top_band(spec)
    bottom = spec["study"]["scale"]["bands"]["bottom"].split(":")[0]
    rows = []
    for item in all_items(spec):
        # An open round has no figures yet: its rows would be dashes only.
        for r in (r for r in item["rounds"] if r["closed"]):
            decision = Decision(r["decision"]).past_label if r.get("decision") else DASH
            rows.append(
                [
                    item["ref"],
                    r["round"],
                    r["version"],
                    num(r.get("n")),
                    num(r.get("n_unable")),
                    num(r.get("median")),
                    span(r.get("q1"), r.get("q3")),
                    pct(r.get("pct_top")),
                    pct(r.get("pct_bottom")),
                    _status_label(r.get("status")),
                    decision,
                ]
            )
    header = [
        "Ref", "Round", "Version", "n", "Unable", "Median", "IQR", f"% {top}", f"% {bottom}",
        "Status", "Decision",
    ]  # fmt: skip
    return header, rows


def _status_label(status: str | None) -> str:
    if not status:
        return DASH
    try:
        return ConsensusStatus.of(status).label
    except (ValueError, KeyError):
        return status


def group_matrix(spec: dict[str, Any]) -> TextTable:
    """Each agreed item's figures by stakeholder group (median, % in the top band) in the
    round it was agreed; a group of fewer than 3 raters shows no figure."""
    groups = [p["group"] for p in spec["partners"]]
    rows = []
    for item in agreed_items(spec):
        ev = item["evidence"] or {}
        by_name = {g["group"]: g for g in ev.get("groups", [])}
        cells = []
        for name in groups:
            g = by_name.get(name)
            if g is None:
                cells.append(DASH)
            elif g.get("withheld"):
                cells.append(str(g.get("note") or "not shown"))
            else:
                cells.append(f"{num(g['median'])} ({pct(g['pct_top'])})")
        rows.append([item["ref"], num(ev.get("round")), *cells])
    return ["Ref", "Round", *groups], rows


# ---------------------------------------------------------------- methods and participation


def revised_items(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Items with more than one version."""
    return [i for i in all_items(spec) if len(i["history"]) > 1]


def panel_table(methods: dict[str, Any]) -> TextTable:
    header = [
        "Group", "Invited", "Joined", "Panellists", "Partners", "Patient representatives",
        "Observers",
    ]  # fmt: skip
    rows = [
        [
            p["group"],
            p["invited"],
            p["joined"],
            p["panellists"],
            p["partners"],
            p["patient_representatives"],
            p["observers"],
        ]
        for p in methods["panel"]
    ]
    return header, rows


def participation_table(methods: dict[str, Any]) -> TextTable:
    """Per group, per round: responded of invited, and how many of them also rated round 1."""
    rounds = sorted({p["round"] for p in methods["participation"]})
    cells = {(p["group"], p["round"]): p for p in methods["participation"]}
    groups = list(dict.fromkeys(p["group"] for p in methods["participation"]))
    rows = []
    for group in groups:
        row: list[Any] = [group]
        for number in rounds:
            p = cells.get((group, number))
            if p is None:
                row.append(DASH)
                continue
            text = f"{p['responded']} of {p['invited']}"
            if number > 1:
                text += f" ({p['retained']} retained)"
            if p.get("withdrew"):
                text += f", {p['withdrew']} withdrew"
            row.append(text)
        rows.append(row)
    return ["Group", *(f"Round {n}: responded of invited" for n in rounds)], rows


def panel_participation_table(methods: dict[str, Any]) -> TextTable:
    """The panel by stakeholder group and who responded in each round, in one table:
    invited, joined, panellists (who rate), observers (who do not), then per round
    "responded of invited" (observers excluded) and, after round 1, how many were retained."""
    header, rows = participation_table(methods)
    by_group = {row[0]: row[1:] for row in rows}
    out = [
        [
            p["group"],
            p["invited"],
            p["joined"],
            p["panellists"],
            p["observers"],
            *by_group.get(p["group"], [DASH] * (len(header) - 1)),
        ]
        for p in methods["panel"]
    ]
    rounds = [h.replace(": responded of invited", "") for h in header[1:]]
    columns = ["Group", "Invited", "Joined", "Panellists", "Observers"]
    return [*columns, *(f"{r}: responded" for r in rounds)], out


DECLARED_INTERESTS_NOTE = (
    "Each panellist who rates declares their interests when agreeing to take part, and may "
    "update them later; they were never shown beside ratings."
)


def declared_interests(methods: dict[str, Any]) -> list[dict[str, Any]]:
    """The groups' declarations, or none when nobody has declared anything yet."""
    rows = methods.get("declared_interests") or []
    return rows if any(r["declared"] for r in rows) else []


def declared_interests_text(methods: dict[str, Any]) -> str:
    """How many declared and how many declared none, in one sentence after the note."""
    rows = declared_interests(methods)
    declared = sum(r["declared"] for r in rows)
    panellists = sum(r["panellists"] for r in rows)
    none = sum(r["none_declared"] for r in rows)
    return (
        f"{DECLARED_INTERESTS_NOTE} {declared} of {panellists} panellists declared: "
        f"{none} with no interests, {declared - none} with the interests below, by "
        "stakeholder group."
    )


def declared_interests_table(methods: dict[str, Any]) -> TextTable:
    """The interests declared, one row per group that declared any."""
    rows = []
    for g in declared_interests(methods):
        texts = [f"{i['name']}: {i['text']}" if i["name"] else i["text"] for i in g["interests"]]
        if texts:
            rows.append([g["group"], "; ".join(texts)])
    return ["Group", "Interests declared"], rows


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _were(n: int) -> str:
    return "was" if n == 1 else "were"


def ideas_round_text(methods: dict[str, Any]) -> str:
    """The ideas round in a paragraph: questions, ideas, groups and outcomes; "" if none."""
    ideas = methods.get("ideas_round")
    if not ideas:
        return ""
    outcomes = ideas["outcomes"]
    made, merged_into = ideas["items_made"], ideas["items_merged_into"]
    fates = [
        f"{outcomes['accepted']} became {_plural(len(made), 'new item')}"
        + (f" ({', '.join(made)})" if made else ""),
        f"{outcomes['merged']} {_were(outcomes['merged'])} merged into existing items"
        + (f" ({', '.join(merged_into)})" if merged_into else ""),
        f"{outcomes['declined']} {_were(outcomes['declined'])} declined with a reason given "
        "to their author",
    ]
    if outcomes["pending"]:
        fates.append(f"{outcomes['pending']} had no answer from the facilitators")
    groups = [g for g in ideas["by_group"] if g["ideas"]]
    # In the sentence rather than a table: the methods stay short (the demo's PDF).
    from_groups = ", ".join(
        f"{g['group']} ({_plural(g['ideas'], 'idea')} from "
        f"{_plural(g['contributors'], 'panellist')})"
        for g in groups
    )
    return (
        "Before round 1, an open ideas round asked the panel "
        f"{_plural(ideas['questions'], 'open question')} and invited candidate prompts and "
        f"indicators. {_plural(ideas['contributors'], 'panellist')} contributed "
        f"{_plural(ideas['ideas'], 'idea')} and {_plural(ideas['comments'], 'comment')} on "
        f"each other's ideas, under pseudonyms, from {_plural(len(groups), 'stakeholder group')}"
        + (f": {from_groups}" if groups else "")
        + f". The facilitators curated them: {'; '.join(fates)}."
    )


WHO_TOOK_PART_NOTE = (
    "Panellists who rate answered these questions about themselves when they joined, and "
    "could choose \u201cPrefer not to say\u201d. Answers are counted by stakeholder group, never "
    "shown beside ratings; a group where fewer than 3 panellists answered is not shown on "
    "its own, and the whole panel is shown only when those groups cannot be worked out from it."
)


def who_took_part_note(methods: dict[str, Any]) -> str:
    return WHO_TOOK_PART_NOTE


def who_took_part(methods: dict[str, Any]) -> list[dict[str, Any]]:
    """The background questions with their counts, or none when none were asked."""
    return list(methods.get("who_took_part") or [])


def who_took_part_table(question: dict[str, Any]) -> TextTable:
    """One question: a row per answer, a column per group shown (then the smaller groups
    together and the whole panel, when they may be shown)."""
    columns = [g for g in question["groups"] if not g["withheld"]]
    if question.get("combined"):
        columns.append(question["combined"])
    header = ["Answer", *(f"{g['group']} (n={g['answered']})" for g in columns)]
    panel = question.get("panel")
    if panel is not None:
        header.append(f"Whole panel (n={question['answered']})")
    rows = []
    for option in question["options"]:
        row: list[Any] = [option, *(g["counts"][option] for g in columns)]
        if panel is not None:
            row.append(panel[option])
        rows.append(row)
    return header, rows


def who_took_part_withheld(question: dict[str, Any]) -> str:
    """The groups not shown on their own, in a sentence ("" when every group is shown)."""
    withheld = [g for g in question["groups"] if g["withheld"]]
    if not withheld:
        return ""
    names = ", ".join(g["group"] for g in withheld)
    return f"Not shown on their own ({withheld[0]['note']}): {names}."


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
            p_value(i["p_value"]),
            i["verdict"],
        ]
        for i in pair["items"]
    ]
    return ["Ref", "Paired", "% changed band", "Wilcoxon p", "Verdict"], rows


def panel_names_table(spec: dict[str, Any]) -> TextTable:
    """Who the pseudonyms are (only in an export the facilitator asked names for)."""
    rows = [[p["pseudonym"], p["name"], p["group"], p["role"]] for p in spec["panel_names"]]
    return ["Pseudonym", "Name", "Group", "Role"], rows


# ---------------------------------------------------------------- reporting

FEWER = "fewer than 3"


def _side(count: Any, withheld: bool) -> str:
    return FEWER if withheld else num(count)


def attrition_line(pair: dict[str, Any]) -> str:
    """One sentence on a pair of rounds: who stayed and left, and what was flagged."""
    stayed = _side(pair["stayed"], pair["stayed_withheld"])
    left = _side(pair["left"], pair["left_withheld"])
    flagged = pair["flagged_items"]
    return (
        f"Round {pair['from_round']} to round {pair['to_round']}: {stayed} stayed and {left} "
        f"left. {pair['tested_items']} item{'' if pair['tested_items'] == 1 else 's'} tested; "
        f"{flagged} flagged as rated differently by those who left."
    )


def attrition_table(pair: dict[str, Any]) -> TextTable:
    """Per item: each side's count and median (or "fewer than 3"), the p-value and verdict."""
    rows = [
        [
            i["ref"],
            _side(i["n_stayed"], i["stayed_withheld"]),
            FEWER if i["stayed_withheld"] else num(i["median_stayed"]),
            _side(i["n_left"], i["left_withheld"]),
            FEWER if i["left_withheld"] else num(i["median_left"]),
            p_value(i["p_value"]),
            ("Flagged: " if i["flagged"] else "") + i["verdict"],
        ]
        for i in pair["items"]
    ]
    header = ["Ref", "Stayed", "Median (stayed)", "Left", "Median (left)", "Mann-Whitney p"]
    return [*header, "Verdict"], rows


def conduct_lines(m: dict[str, Any]) -> list[tuple[str, str]]:
    """The study's reporting settings, each stated or "Not stated"."""
    return [(c["label"], c["text"] or "Not stated.") for c in m["conduct"]]


def accord_table(spec: dict[str, Any]) -> TextTable:
    """The ACCORD checklist: item, section, topic and where this document reports it."""
    rows = [
        [str(a["item"]), a["section"], a["topic"], a["reported_in"]]
        for a in spec["reporting"]["accord"]
    ]
    return ["Item", "Section", "Topic", "Reported in"], rows
