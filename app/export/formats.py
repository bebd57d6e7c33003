"""Renderers: each takes the specification dictionary and returns one format.

All of them read the same `spec` (see `app.services.export.build_specification`), so the
HTML, Markdown, DOCX, PDF and JSON say the same thing; the data zip adds the raw tables.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, render_template

from app.export import tables
from app.export.indicator_testing import markdown_section, testing_view
from app.export.tables import (
    TextTable,
    alpha_groups,
    alpha_table,
    appendix_table,
    date,
    history_table,
    panel_names_table,
    rounds_table,
    stability_table,
    top_band,
)
from app.inputs import clean_text
from delphi import MIN_GROUP_RATERS

ROOT = Path(__file__).resolve().parents[2]
SPEC_CSS = ROOT / "static" / "css" / "specification.css"


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    extension: str
    mimetype: str


FORMATS: dict[str, Format] = {
    f.name: f
    for f in [
        Format("html", "Web page (HTML, print-ready)", "html", "text/html; charset=utf-8"),
        Format("md", "Markdown", "md", "text/markdown; charset=utf-8"),
        Format(
            "docx",
            "Word document (DOCX)",
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        Format("pdf", "PDF", "pdf", "application/pdf"),
        Format("json", "JSON (machine-readable)", "json", "application/json"),
        Format(
            "data", "Data: ratings, items, results (CSV and XLSX, zipped)", "zip", "application/zip"
        ),
    ]
}


class ExportUnavailable(Exception):
    """A format cannot be produced on this server (a missing system library, say)."""


# What the HTML template lays out: the same rows and lines every other format uses.
PANELLISTS_NOTE = (
    "Panellists are partners and patient representatives who joined; observers read but do "
    "not rate and are not counted as panellists."
)

ACCORD_INTRO = (
    "The ACCORD reporting items (ACcurate COnsensus Reporting Document; Gattrell et al., "
    "PLoS Med 2024), each with where this document reports it, or why it does not."
)

HELPERS: dict[str, Callable[..., Any]] = {
    name: getattr(tables, name)
    for name in (
        "num", "pct", "span", "date", "alpha_text", "top_band", "all_items", "revised_items",
        "summary_table", "refs_line", "panel_method_text", "evidence_line", "group_line",
        "revision_lines", "history_table", "appendix_table", "round_figures_table",
        "arguments_table",
        "group_matrix", "panel_table", "participation_table", "panel_participation_table",
        "rounds_table", "alpha_table",
        "stability_table", "panel_names_table", "attrition_line", "attrition_table",
        "conduct_lines", "accord_table", "declared_interests",
        "declared_interests_table", "declared_interests_text", "ideas_round_text",
        "declared_interests_table", "declared_interests_text", "who_took_part",
        "who_took_part_table", "who_took_part_withheld", "who_took_part_note",
    )
} | {"testing_view": testing_view}  # fmt: skip


# ---------------------------------------------------------------- HTML, PDF, JSON


def render_html(spec: dict[str, Any], *, standalone: bool = True, **context: Any) -> str:
    """The specification as one HTML page: standalone (CSS inlined) or inside the app."""
    template = "export/standalone.html" if standalone else "export/specification.html"
    css = SPEC_CSS.read_text(encoding="utf-8") if standalone else ""
    return render_template(template, spec=spec, css=css, **HELPERS, **context)


def render_json(spec: dict[str, Any]) -> str:
    return json.dumps(spec, ensure_ascii=False, indent=2)


CHROMIUM_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-pdf-header-footer",
]


def _chromium() -> str | None:
    configured = current_app.config.get("PDF_CHROMIUM")
    if configured is not None:  # a path, or "" to never use Chromium
        return shutil.which(configured) if configured else None
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


class PdfJob:
    """A PDF being printed by Chromium in its own process, so that the caller can render other
    formats meanwhile; `result()` waits for it (or falls back to WeasyPrint)."""

    def __init__(self, html: str) -> None:
        self.html = html
        self.engine = current_app.config.get("PDF_ENGINE", "auto")
        self.timeout = current_app.config.get("PDF_TIMEOUT", 120)
        self.logger = current_app.logger
        self.process: subprocess.Popen[bytes] | None = None
        self.tmp: tempfile.TemporaryDirectory[str] | None = None
        executable = _chromium() if self.engine in ("auto", "chromium") else None
        if executable:
            self.tmp = tempfile.TemporaryDirectory(prefix="delphi-pdf-")
            page = Path(self.tmp.name) / "specification.html"
            self.target = Path(self.tmp.name) / "specification.pdf"
            page.write_text(html, encoding="utf-8")
            command = [
                executable,
                *CHROMIUM_ARGS,
                f"--user-data-dir={Path(self.tmp.name) / 'profile'}",
                f"--print-to-pdf={self.target}",
                page.as_uri(),
            ]
            try:
                self.process = subprocess.Popen(
                    command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            except OSError as error:
                self.logger.warning("Chromium could not start: %s", error)

    def _chromium_result(self) -> bytes | None:
        if self.process is None:
            return None
        try:
            code = self.process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            self.logger.warning("Chromium took too long to print the PDF")
            return None
        if code != 0 or not self.target.exists() or self.target.stat().st_size == 0:
            self.logger.warning("Chromium could not print the PDF (exit status %s)", code)
            return None
        return self.target.read_bytes()

    def result(self) -> bytes:
        try:
            pdf = self._chromium_result()
        finally:
            if self.tmp is not None:
                self.tmp.cleanup()
        if pdf is not None:
            return pdf
        if self.engine == "chromium":
            raise ExportUnavailable(
                "PDF export is set to use Chromium, which could not run on the server."
            )
        return _pdf_with_weasyprint(self.html)


def _pdf_with_weasyprint(html: str) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as error:  # OSError: the Pango library is missing
        raise ExportUnavailable(
            "PDF export needs Chromium or WeasyPrint (with the Pango library) on the server. "
            "Download the Word or web page version and print it to PDF instead."
        ) from error
    return bytes(HTML(string=html, base_url=str(ROOT)).write_pdf())


def start_pdf(spec: dict[str, Any]) -> PdfJob:
    """Start printing the standalone HTML to PDF: by Chromium when the server has it (fast,
    in its own process), else by WeasyPrint (pure Python with Pango; much slower on a large
    study) when `result()` is called.

    Set PDF_ENGINE to "chromium" or "weasyprint" to force one, and PDF_CHROMIUM to the
    browser's path ("" to never use it).
    """
    return PdfJob(render_html(spec, standalone=True, for_pdf=True))


def render_pdf(spec: dict[str, Any]) -> bytes:
    return start_pdf(spec).result()


# ---------------------------------------------------------------- Markdown


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")
_MD_BLOCK_MARK = re.compile(r"^([-+=])(?=\s|$)|^(\d{1,9})([.)])(?=\s|$)")


def md_text(value: Any) -> str:
    """Any text from the study (names, item texts, themes, notes) as Markdown that shows it
    exactly and does nothing else, on a line, in a heading or in a table cell.

    HTML's <, > and & become entities, so no tag or entity in the text is live; Markdown's
    marks (\\ ` * _ [ ] | ~ #) are backslash-escaped, so no emphasis, link, code, strike,
    heading or table column appears; line breaks become spaces; a leading list or
    heading mark is escaped; control characters go.
    """
    text = " ".join(clean_text(str(value)).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_BLOCK_MARK.sub(
        lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\{m.group(3)}", text
    )


def _md_table(table: TextTable) -> list[str]:
    header, rows = table
    lines = ["| " + " | ".join(md_text(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in rows]
    return lines + [""]


def render_markdown(spec: dict[str, Any]) -> str:
    s, study, top, m = spec, spec["study"], top_band(spec), spec["methods"]
    out: list[str] = []
    add = out.append
    add(f"# Specification: {md_text(study['title'])}")
    add("")
    if s["status"] == "draft":
        add("> **DRAFT** \u2013 the study is not completed; figures and decisions may change.")
        add("")
    add(f"- **Purpose:** {md_text(study['purpose']) or chr(8211)}")
    partners = ", ".join(f"{p['group']} ({p['panellists']})" for p in s["partners"])
    add(f"- **Partners (stakeholder groups, panellists):** {md_text(partners) or chr(8211)}")
    add(
        f"- **Dates:** created {date(study['created_at'])}; round 1 opened "
        f"{date(study['first_round_opened_at'])}; last round closed "
        f"{date(study['last_round_closed_at'])}; completed {date(study['completed_at'])}"
    )
    status = f"{study['status']} ({s['status']})"
    if m.get("completion_reason"):
        status += f". Reason given on completion: {md_text(m['completion_reason'])}"
    add(f"- **Status:** {status}")
    add(f"- **Generated:** {date(s['generated_at'])}")
    add("")
    add("## Summary")
    add("")
    summary = tables.summary_table(s)
    if summary[1]:
        add("Agreed prompts and indicators by theme:")
        add("")
        out.extend(_md_table(summary))
    else:
        add("No item has reached consensus yet.")
        add("")
    add(f"**Excluded ({len(s['excluded'])}):** {tables.refs_line(s['excluded'])}.")
    add("")
    add(f"**No consensus ({len(s['no_consensus'])}):** {tables.refs_line(s['no_consensus'])}.")
    add("")
    add(f"**Panel and method.** {md_text(tables.panel_method_text(s))}")
    add("")
    add("## Agreed prompts and indicators")
    add("")
    if not summary[1]:
        add("No item has reached consensus yet.")
        add("")
    for theme in s["themes"]:
        if not theme["items"]:
            continue
        add(f"### {md_text(theme['name'])}")
        add("")
        for item in theme["items"]:
            add(f"#### {item['ref']}: {md_text(item['text'])}")
            add("")
            add(f"*{item['kind'].capitalize()}*, version {item['version']}.")
            add("")
            shown = [f for f in item["fields"] if f["value"]]
            for field in shown:
                add(f"- **{field['label']}:** {md_text(field['value'])}")
            if shown:
                add("")
            add(f"**Agreement:** {md_text(tables.evidence_line(item, s))}.")
            add("")
            by_group = tables.group_line(item["evidence"])
            if by_group:
                add(md_text(by_group))
                add("")
            revisions = tables.revision_lines(item)
            if revisions:
                add("**Revised:**")
                add("")
                out.extend(f"- {md_text(line)}" for line in revisions)
                add("")
            if item["discussion_summary"]:
                add(f"*Discussion summary:* {md_text(item['discussion_summary']['summary'])}")
                add("")
    out.extend(markdown_section(s))
    _md_methods(s, out)
    add("## Appendix A: figures per item and round")
    add("")
    figures = tables.round_figures_table(s)
    out.extend(_md_table(figures) if figures[1] else ["No round has closed yet.", ""])
    add("## Appendix B: agreed items by stakeholder group")
    add("")
    matrix = tables.group_matrix(s)
    if matrix[1]:
        add(
            f"Median (% rating {top}) by group in the round each item was agreed; no figure "
            f"is shown for a group of fewer than {MIN_GROUP_RATERS} raters."
        )
        add("")
        out.extend(_md_table(matrix))
    else:
        add("No item has reached consensus yet.")
        add("")
    add("## Appendix C: excluded items and items with no consensus")
    add("")
    for title, key in (("Excluded items", "excluded"), ("Items with no consensus", "no_consensus")):
        add(f"{title}:" if s[key] else f"{title}: none.")
        add("")
        if s[key]:
            out.extend(_md_table(appendix_table(s[key], top)))
    if tables.arguments_table(s)[1]:
        add("Main arguments on each side of the items with no consensus:")
        add("")
        out.extend(_md_table(tables.arguments_table(s)))
    add("## Appendix D: revision history")
    add("")
    revised = tables.revised_items(s)
    if not revised:
        add("No item was revised: every item was rated as first written.")
        add("")
    for item in revised:
        add(f"{item['ref']}:")
        add("")
        out.extend(_md_table(history_table(item)))
    return "\n".join(out).rstrip() + "\n"


def _md_methods(s: dict[str, Any], out: list[str]) -> None:
    m, add = s["methods"], out.append
    add("## Methods and participation")
    add("")
    add("### Panel and participation")
    add("")
    add(f"{m['participation_note']} {PANELLISTS_NOTE}")
    add("")
    out.extend(_md_table(tables.panel_participation_table(m)))
    if tables.declared_interests(m):
        add("### Declared interests")
        add("")
        add(tables.declared_interests_text(m))
        add("")
        if tables.declared_interests_table(m)[1]:
            out.extend(_md_table(tables.declared_interests_table(m)))
    if tables.ideas_round_text(m):
        add("### Ideas round")
        add("")
        add(md_text(tables.ideas_round_text(m)))
        add("")
    if tables.who_took_part(m):
        add("### Who took part")
        add("")
        add(tables.WHO_TOOK_PART_NOTE)
        add("")
        for question in tables.who_took_part(m):
            add(f"**{md_text(question['text'])}**")
            add("")
            out.extend(_md_table(tables.who_took_part_table(question)))
            if tables.who_took_part_withheld(question):
                add(md_text(tables.who_took_part_withheld(question)))
                add("")
    c = s["consensus"]
    add("### Consensus rule")
    add("")
    add(f"{c['label']}. {md_text(c['description'])}")
    add("")
    add(
        f"{c['fixed_note']} Round 1 opened {date(c['fixed_at'])}. At most {c['max_rounds']} rounds."
    )
    add("")
    add("### Rounds")
    add("")
    add(f"{m['number_of_rounds']} rounds. {md_text(m['stopping'])}")
    add("")
    out.extend(_md_table(rounds_table(m, with_alpha=True)))
    add(m["merging_note"])
    add("")
    if m.get("item_order"):
        add(m["item_order"])
        add("")
    if alpha_groups(m):
        add("Krippendorff's alpha by stakeholder group:")
        add("")
        out.extend(_md_table(alpha_table(m, whole_panel=False)))
    add("### Stability between rounds")
    add("")
    if not m["stability"]:
        add("Stability needs two closed rounds.")
        add("")
    for pair in m["stability"]:
        add(
            f"Round {pair['from_round']} to round {pair['to_round']}: "
            f"{pair['stable_items']} of {len(pair['items'])} items stable."
        )
        add("")
        out.extend(_md_table(stability_table(pair)))
    add("### Attrition-bias check")
    add("")
    add(m["attrition_note"])
    add("")
    if not m["attrition_bias"]:
        add("The check needs two closed rounds.")
        add("")
    for pair in m["attrition_bias"]:
        add(tables.attrition_line(pair))
        add("")
        out.extend(_md_table(tables.attrition_table(pair)))
    add("### Study conduct")
    add("")
    for label, text in tables.conduct_lines(m):
        add(f"- **{label}:** {md_text(text)}")
    add("")
    add("### Anonymity")
    add("")
    add(m["anonymity"])
    add("")
    add("### Discussion summaries")
    add("")
    if not m["discussion"]:
        add("No discussion summary was written.")
    for d in m["discussion"]:
        when = f" (round {d['round']})" if d.get("round") else ""
        add(f"- **{d['ref']}**{when}: {md_text(d['summary'])}")
    add("")
    if s.get("panel_names"):
        add("### Panel members")
        add("")
        out.extend(_md_table(panel_names_table(s)))
    add("### ACCORD reporting checklist")
    add("")
    add(ACCORD_INTRO)
    add("")
    out.extend(_md_table(tables.accord_table(s)))


# ---------------------------------------------------------------- data zip


def render_data_zip(tables: dict[str, Any], spec: dict[str, Any]) -> bytes:
    """CSV per table, one XLSX with a sheet per table, and a README explaining the columns."""
    from app.export.xlsx import write_xlsx
    from app.services.export_data import COLUMNS, NAME_COLUMN

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, frame in tables.items():
            zf.writestr(f"{name}.csv", frame.to_csv(index=False))
        xlsx = io.BytesIO()
        write_xlsx(tables, xlsx)
        zf.writestr("data.xlsx", xlsx.getvalue())
        readme = [
            f"# Data: {md_text(spec['study']['title'])}",
            "",
            f"Exported {spec['generated_at']} (UTC). Status: {spec['status']}.",
            "",
            "Each table is a CSV file (UTF-8, comma-separated, header row) and a sheet of "
            "data.xlsx. Panellists appear by pseudonym only"
            + (
                ", except the 'name' column of panel, which the facilitator chose to include."
                if "panel" in tables and NAME_COLUMN in tables["panel"].columns
                else "."
            )
            + " Text cells that begin with =, +, -, @ (or a tab or carriage return) start with "
            "a single quote so that spreadsheets show them as text, not formulas. Times are UTC "
            "(ISO 8601). Figures in results are the frozen snapshot stored when each round "
            "closed.",
            "",
        ]
        for name, columns in COLUMNS.items():
            if name not in tables:
                continue
            readme += [f"## {name}.csv ({len(tables[name])} rows)", ""]
            readme += [f"- `{column}`: {text}" for column, text in columns.items()]
            if name == "panel" and NAME_COLUMN in tables[name].columns:
                readme.append(f"- `{NAME_COLUMN}`: The panellist's name (included on request).")
            readme.append("")
        zf.writestr("README.md", "\n".join(readme))
    return buffer.getvalue()
