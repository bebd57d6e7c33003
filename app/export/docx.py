"""The specification and the guide as Word documents (python-docx).

What Word readers expect and python-docx does not give by default: A4 paper (its template
is US Letter), the document's own title and author in File > Info (not "python-docx"),
Word's built-in heading styles (so the navigation pane lists them), a contents list that is
written out rather than a field that says "right-click to update", page numbers in the
footer, and tables whose header row repeats on each page and is never left alone at the
foot of one.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from app.export import tables
from app.export.formats import ACCORD_INTRO, PANELLISTS_NOTE
from app.export.indicator_testing import docx_section
from app.export.tables import TextTable, date, top_band
from delphi import MIN_GROUP_RATERS


class _Styles:
    """Style ids looked up once: python-docx's lookup by name is slow in long documents."""

    def __init__(self, doc: Any) -> None:
        ids = {style.name: style.style_id for style in doc.styles}
        self.grid = ids["Table Grid"]
        self.caption = ids["Caption"]
        self.headings = {level: ids[f"Heading {level}"] for level in (1, 2, 3)}


class Writer:
    """A Word document being written: headings are remembered for the contents list."""

    def __init__(
        self,
        *,
        title: str,
        author: str,
        subject: str,
        draft: bool,
        draft_text: str = "DRAFT \u2013 study not completed; figures may change",
    ) -> None:
        self.draft_text = draft_text
        doc = Document()
        self.doc = doc
        self.styles = _Styles(doc)
        self.headings: list[tuple[int, str]] = []
        props = doc.core_properties
        props.title = title
        props.author = author
        props.last_modified_by = author
        props.subject = subject
        props.comments = ""
        props.keywords = "Delphi consensus; prompts; indicators"
        now = datetime.now(UTC).replace(tzinfo=None)
        props.created = props.modified = now
        props.revision = 1
        # Arial, as the PDF: Word has it, LibreOffice maps it to Liberation Sans.
        doc.styles["Normal"].font.name = "Arial"
        doc.styles["Normal"].font.size = Pt(10)
        for section in doc.sections:
            # A4 with 2 cm margins: python-docx's template is US Letter.
            section.page_width, section.page_height = Mm(210), Mm(297)
            section.left_margin = section.right_margin = Mm(20)
            section.top_margin = section.bottom_margin = Mm(18)
            self._footer(section, draft)

    def _footer(self, section: Any, draft: bool) -> None:
        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        footer.add_run("Page ")
        _field(footer, "PAGE", "1")
        footer.add_run(" of ")
        _field(footer, "NUMPAGES", "1")
        if draft:
            header = section.header.paragraphs[0]
            header.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = header.add_run(self.draft_text)
            run.bold = True
            run.font.color.rgb = RGBColor(0xD5, 0x28, 0x1B)

    # ---------------------------------------------------------------- blocks

    def heading(self, text: str, level: int) -> None:
        paragraph = self.doc.add_paragraph(text)
        paragraph._p.style = self.styles.headings[level]
        paragraph.paragraph_format.keep_with_next = True
        self.headings.append((level, text))

    def para(self, text: str = "", *, bold_lead: str = "", keep: bool = False) -> Any:
        paragraph = self.doc.add_paragraph()
        if bold_lead:
            paragraph.add_run(bold_lead).bold = True
        if text:
            paragraph.add_run(text)
        if keep:
            paragraph.paragraph_format.keep_with_next = True
        paragraph.paragraph_format.space_after = Pt(4)
        return paragraph

    def labelled(self, label: str, value: str) -> None:
        self.para(value or "\u2013", bold_lead=f"{label}: ")

    def bullets(self, lines: list[str]) -> None:
        for line in lines:
            self.doc.add_paragraph(line, style="List Bullet")

    def table(self, table_rows: TextTable, caption: str = "") -> Table:
        header, rows = table_rows
        if caption:
            para = self.doc.add_paragraph(caption)
            para._p.style = self.styles.caption
            para.paragraph_format.keep_with_next = True
        table = self.doc.add_table(rows=1 + len(rows), cols=len(header))
        table._tbl.tblPr.style = self.styles.grid
        widths = _column_widths(header, rows)
        for grid_col, width in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
            grid_col.set(qn("w:w"), str(width))
        layout = OxmlElement("w:tblLayout")
        layout.set(qn("w:type"), "fixed")
        table._tbl.tblPr.append(layout)
        trs = table._tbl.tr_lst
        for tr in trs:
            for tc, width in zip(tr.tc_lst, widths, strict=True):
                tc_w = tc.get_or_add_tcPr().get_or_add_tcW()
                tc_w.set(qn("w:type"), "dxa")
                tc_w.set(qn("w:w"), str(width))
        for index, tr in enumerate(trs):
            tr_pr = tr.get_or_add_trPr()
            cant_split = OxmlElement("w:cantSplit")
            tr_pr.append(cant_split)
            if index == 0:
                # Repeat the header row on every page; it is also the header for screen readers.
                marker = OxmlElement("w:tblHeader")
                marker.set(qn("w:val"), "true")
                tr_pr.append(marker)
        for tc, text in zip(trs[0].tc_lst, header, strict=True):
            _cell_text(tc, text, bold=True, keep=True)
        last = len(rows) - 1
        for index, (tr, values) in enumerate(zip(trs[1:], rows, strict=True)):
            # Keep the header with the first rows (and a short table whole): Word keeps a row
            # with the next while its paragraphs say "keep with next".
            keep = index < 2 or len(rows) <= 8
            for tc, value in zip(tr.tc_lst, values, strict=True):
                _cell_text(tc, value, keep=keep and index < last)
        spacer = self.doc.add_paragraph()
        spacer.paragraph_format.space_after = Pt(2)
        return table

    @contextmanager
    def contents(self) -> Iterator[None]:
        """Reserve the place of the contents list; it is written out, once every heading is
        known, when the block ends (no field for Word to update)."""
        self.heading("Contents", 1)
        anchor = self.doc.add_paragraph()
        yield
        body = anchor._p
        for level, text in reversed([h for h in self.headings if h[1] != "Contents"]):
            if level > 2:
                continue
            entry = OxmlElement("w:p")
            body.addnext(entry)
            paragraph = Paragraph(entry, anchor._parent)
            paragraph.add_run(text)
            paragraph.paragraph_format.left_indent = Mm(6 * (level - 1))
            paragraph.paragraph_format.space_after = Pt(0)

    def page_break(self) -> None:
        self.doc.add_page_break()

    def save(self) -> bytes:
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()


TEXT_WIDTH = 9638  # twentieths of a point: A4 less 2 cm margins, 170 mm


def _column_widths(header: list[str], rows: list[list[Any]]) -> list[int]:
    """Column widths that follow the text (python-docx otherwise divides the page equally):
    no column narrower than its longest word, and the room left shared by the columns with
    most to say (a wording column, not a figure). The first rows are enough to judge."""
    per_char, margins = 115, 260  # twips per character at 8.5 pt, and a cell's two margins
    least, wanted = [], []
    for index, title in enumerate(header):
        cells = [str(row[index]) for row in rows[:60]]
        words = [w for text in [str(title), *cells] for w in text.split()]
        longest_word = max((len(w) for w in words), default=1)
        longest = max([len(c) for c in cells] + [len(str(title))])
        least.append(longest_word * per_char + margins)
        wanted.append(max(min(longest, 60) * per_char + margins, least[-1]))
    if sum(wanted) <= TEXT_WIDTH:
        scale = TEXT_WIDTH / sum(wanted)
        return [int(w * scale) for w in wanted]
    if sum(least) >= TEXT_WIDTH:
        return [int(w * TEXT_WIDTH / sum(least)) for w in least]
    spare = TEXT_WIDTH - sum(least)
    extra = [w - m for w, m in zip(wanted, least, strict=True)]
    return [int(m + spare * e / sum(extra)) for m, e in zip(least, extra, strict=True)]


def _field(paragraph: Any, instruction: str, shown: str) -> None:
    """A simple field (PAGE, NUMPAGES) that Word and LibreOffice compute as they lay out."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = shown
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _cell_text(tc: Any, value: Any, bold: bool = False, keep: bool = False) -> None:
    p = tc.p_lst[0]
    if keep:
        p_pr = p.get_or_add_pPr()
        p_pr.append(OxmlElement("w:keepNext"))
    run = p.add_r()
    r_pr = run.get_or_add_rPr()
    if bold:
        r_pr.append(OxmlElement("w:b"))
    # The size on each run: a table style's size is not honoured by every word processor.
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "17")
    r_pr.append(size)
    run.text = "" if value is None else str(value)


def author_of(spec: dict[str, Any]) -> str:
    study = spec["study"]
    return study.get("owner_organisation") or study.get("facilitator") or "Delphi panel"


# ---------------------------------------------------------------- the specification


def render_docx(spec: dict[str, Any]) -> bytes:
    study, top, m = spec["study"], top_band(spec), spec["methods"]
    draft = spec["status"] == "draft"
    w = Writer(
        title=f"Specification: {study['title']}" + (" (draft)" if draft else ""),
        author=author_of(spec),
        subject="Delphi consensus specification",
        draft=draft,
    )
    doc = w.doc
    doc.add_heading(f"Specification: {study['title']}", level=0)
    if draft:
        w.para("DRAFT. The study is not completed; figures and decisions may change.").runs[
            0
        ].bold = True
    w.labelled("Purpose", study["purpose"])
    w.labelled(
        "Partners (stakeholder groups)",
        "; ".join(f"{p['group']} ({p['panellists']} panellists)" for p in spec["partners"]),
    )
    w.labelled(
        "Dates",
        f"created {date(study['created_at'])}; round 1 opened "
        f"{date(study['first_round_opened_at'])}; last round closed "
        f"{date(study['last_round_closed_at'])}; completed {date(study['completed_at'])}",
    )
    status = f"{study['status']} ({spec['status']})"
    if m.get("completion_reason"):
        status += f". Reason given on completion: {m['completion_reason']}"
    w.labelled("Status", status)
    w.labelled("Generated", date(spec["generated_at"]))
    with w.contents():
        _summary(w, spec)
        _agreed(w, spec)
        docx_section(
            w.doc,
            spec,
            lambda _doc, text, level: w.heading(text, level),
            lambda _doc, rows, caption="": w.table(rows, caption=caption),
        )
        _methods(w, spec)
        _appendices(w, spec, top)
    return w.save()


def _summary(w: Writer, spec: dict[str, Any]) -> None:
    w.heading("Summary", 1)
    summary = tables.summary_table(spec)
    if summary[1]:
        w.table(summary, caption="Agreed prompts and indicators by theme")
    else:
        w.para("No item has reached consensus yet.")
    w.para(
        f"{tables.refs_line(spec['excluded'])}.", bold_lead=f"Excluded ({len(spec['excluded'])}): "
    )
    w.para(
        f"{tables.refs_line(spec['no_consensus'])}.",
        bold_lead=f"No consensus ({len(spec['no_consensus'])}): ",
    )
    w.para(tables.panel_method_text(spec), bold_lead="Panel and method. ")


def _agreed(w: Writer, spec: dict[str, Any]) -> None:
    w.heading("Agreed prompts and indicators", 1)
    if not any(t["items"] for t in spec["themes"]):
        w.para("No item has reached consensus yet.")
    for theme in spec["themes"]:
        if not theme["items"]:
            continue
        w.heading(theme["name"], 2)
        for item in theme["items"]:
            w.heading(f"{item['ref']}: {item['text']}", 3)
            for field in item["fields"]:
                if field["value"]:
                    w.labelled(field["label"], field["value"])
            w.para(
                f"{item['kind'].capitalize()}, version {item['version']}. "
                f"{tables.evidence_line(item, spec)}.",
                bold_lead="Agreement: ",
            )
            by_group = tables.group_line(item["evidence"])
            if by_group:
                w.para(by_group)
            revisions = tables.revision_lines(item)
            if revisions:
                w.para(bold_lead="Revised:", keep=True)
                w.bullets(revisions)
            if item["discussion_summary"]:
                w.para(item["discussion_summary"]["summary"], bold_lead="Discussion summary: ")


def _methods(w: Writer, spec: dict[str, Any]) -> None:
    m, c = spec["methods"], spec["consensus"]
    w.heading("Methods and participation", 1)
    w.heading("Panel and participation", 2)
    w.para(f"{m['participation_note']} {PANELLISTS_NOTE}")
    w.table(tables.panel_participation_table(m))
    if tables.declared_interests(m):
        w.heading("Declared interests", 2)
        w.para(tables.declared_interests_text(m))
        if tables.declared_interests_table(m)[1]:
            w.table(tables.declared_interests_table(m))
    if tables.ideas_round_text(m):
        w.heading("Ideas round", 2)
        w.para(tables.ideas_round_text(m))
    if tables.who_took_part(m):
        w.heading("Who took part", 2)
        w.para(tables.WHO_TOOK_PART_NOTE)
        for question in tables.who_took_part(m):
            w.para(question["text"], keep=True)
            w.table(tables.who_took_part_table(question))
            if tables.who_took_part_withheld(question):
                w.para(tables.who_took_part_withheld(question))
    w.heading("Consensus rule", 2)
    w.para(f"{c['label']}. {c['description']}")
    w.para(
        f"{c['fixed_note']} Round 1 opened {date(c['fixed_at'])}. At most {c['max_rounds']} rounds."
    )
    w.heading("Rounds", 2)
    w.para(f"{m['number_of_rounds']} rounds. {m['stopping']}")
    if m["rounds"]:
        w.table(tables.rounds_table(m, with_alpha=False))
    w.para(m["merging_note"])
    if m.get("item_order"):
        w.para(m["item_order"])
    w.heading("Agreement between panellists (Krippendorff's alpha)", 2)
    alpha = tables.alpha_table(m, whole_panel=True)
    if alpha[1]:
        w.table(alpha)
    else:
        w.para("Alpha is reported once a round has closed.")
    w.heading("Stability between rounds", 2)
    if not m["stability"]:
        w.para("Stability needs two closed rounds.")
    for pair in m["stability"]:
        w.para(
            f"Round {pair['from_round']} to round {pair['to_round']}: "
            f"{pair['stable_items']} of {len(pair['items'])} items stable.",
            keep=True,
        )
        w.table(tables.stability_table(pair))
    w.heading("Attrition-bias check", 2)
    w.para(m["attrition_note"])
    if not m["attrition_bias"]:
        w.para("The check needs two closed rounds.")
    for pair in m["attrition_bias"]:
        w.para(tables.attrition_line(pair), keep=True)
        w.table(tables.attrition_table(pair))
    w.heading("Study conduct", 2)
    w.bullets([f"{label}: {text}" for label, text in tables.conduct_lines(m)])
    w.heading("Anonymity", 2)
    w.para(m["anonymity"])
    w.heading("Discussion summaries", 2)
    if not m["discussion"]:
        w.para("No discussion summary was written.")
    w.bullets([f"{d['ref']}: {d['summary']}" for d in m["discussion"]])
    if spec.get("panel_names"):
        w.heading("Panel members", 2)
        w.table(tables.panel_names_table(spec))
    w.heading("ACCORD reporting checklist", 2)
    w.para(ACCORD_INTRO)
    w.table(tables.accord_table(spec))


def _appendices(w: Writer, spec: dict[str, Any], top: str) -> None:
    w.heading("Appendix A: figures per item and round", 1)
    figures = tables.round_figures_table(spec)
    if figures[1]:
        w.table(figures, caption="Every item in every closed round it was rated in")
    else:
        w.para("No round has closed yet.")
    w.heading("Appendix B: agreed items by stakeholder group", 1)
    matrix = tables.group_matrix(spec)
    if matrix[1]:
        w.table(
            matrix,
            caption=f"Median (% rating {top}) by group in the round each item was agreed; "
            f"no figure is shown for a group of fewer than {MIN_GROUP_RATERS} raters",
        )
    else:
        w.para("No item has reached consensus yet.")
    w.heading("Appendix C: excluded items and items with no consensus", 1)
    revised = tables.revised_items(spec)
    if not revised:
        w.para("No item was revised: every item was rated as first written.")
    for title, key in (("Excluded items", "excluded"), ("Items with no consensus", "no_consensus")):
        if spec[key]:
            w.table(tables.appendix_table(spec[key], top), caption=title)
        else:
            w.para(f"{title}: none.")
    if tables.arguments_table(spec)[1]:
        w.table(
            tables.arguments_table(spec),
            caption="Main arguments on each side of the items with no consensus",
        )
    if revised:
        w.heading("Appendix D: revision history", 1)
        for item in revised:
            w.table(tables.history_table(item), caption=f"Revision history of {item['ref']}")
