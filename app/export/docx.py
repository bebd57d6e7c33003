"""The specification as a Word document (python-docx): real headings, tables, a contents field."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.table import Table

from app.export import tables
from app.export.indicator_testing import docx_section
from app.export.tables import TextTable, date, num, pct, top_band


class _Styles:
    """Style ids looked up once: python-docx's lookup by name is slow in long documents."""

    def __init__(self, doc: Any) -> None:
        ids = {style.name: style.style_id for style in doc.styles}
        self.grid = ids["Table Grid"]
        self.caption = ids["Caption"]
        self.headings = {level: ids[f"Heading {level}"] for level in (1, 2, 3)}


def _heading(doc: Any, text: str, level: int) -> None:
    paragraph = doc.add_paragraph(text)
    paragraph._p.style = doc._styles_cache.headings[level]


def _cell_text(tc: Any, value: Any, bold: bool = False) -> None:
    run = tc.p_lst[0].add_r()
    if bold:
        run.get_or_add_rPr().append(OxmlElement("w:b"))
    run.text = "" if value is None else str(value)


def _table(doc: Any, table_rows: TextTable, caption: str = "") -> Table:
    header, rows = table_rows
    styles = doc._styles_cache
    if caption:
        para = doc.add_paragraph(caption)
        para._p.style = styles.caption
        para.paragraph_format.keep_with_next = True
    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table._tbl.tblPr.style = styles.grid
    trs = table._tbl.tr_lst
    # Repeat the header row on every page, and mark it as a header for screen readers.
    tr_pr = trs[0].get_or_add_trPr()
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    tr_pr.append(marker)
    for tc, text in zip(trs[0].tc_lst, header, strict=True):
        _cell_text(tc, text, bold=True)
    for tr, values in zip(trs[1:], rows, strict=True):
        for tc, value in zip(tr.tc_lst, values, strict=True):
            _cell_text(tc, value)
    doc.add_paragraph()
    return table


def _toc(doc: Any) -> None:
    """A table of contents field; Word fills it in when the document is opened."""
    paragraph = doc.add_paragraph()
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = 'TOC \\o "1-3" \\h \\z \\u'
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    placeholder = OxmlElement("w:t")
    placeholder.text = "Right-click and choose Update field to show the contents."
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, instr, separate, placeholder, end):
        run._r.append(element)
    settings = doc.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings.append(update)


def _labelled(doc: Any, label: str, value: str) -> None:
    para = doc.add_paragraph()
    para.add_run(f"{label}: ").bold = True
    para.add_run(value or "\u2013")


def render_docx(spec: dict[str, Any]) -> bytes:
    study, top = spec["study"], top_band(spec)
    doc = Document()
    doc._styles_cache = _Styles(doc)
    doc.core_properties.title = f"Specification: {study['title']}"
    doc.core_properties.subject = "Delphi consensus specification"
    doc.styles["Normal"].font.size = Pt(10.5)
    draft = spec["status"] == "draft"
    if draft:
        header = doc.sections[0].header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = header.add_run("DRAFT \u2013 study not completed; figures may change")
        run.bold = True
        run.font.color.rgb = RGBColor(0xD5, 0x28, 0x1B)

    doc.add_heading(f"Specification: {study['title']}", level=0)
    if draft:
        para = doc.add_paragraph()
        run = para.add_run("DRAFT. The study is not completed; figures and decisions may change.")
        run.bold = True
    _labelled(doc, "Purpose", study["purpose"])
    _labelled(
        doc,
        "Partners (stakeholder groups)",
        "; ".join(f"{p['group']} ({p['panellists']} panellists)" for p in spec["partners"]),
    )
    _labelled(
        doc,
        "Dates",
        f"created {date(study['created_at'])}; round 1 opened "
        f"{date(study['first_round_opened_at'])}; last round closed "
        f"{date(study['last_round_closed_at'])}; completed {date(study['completed_at'])}",
    )
    _labelled(doc, "Status", f"{study['status']} ({spec['status']})")
    _labelled(doc, "Generated", date(spec["generated_at"]))
    _heading(doc, "Contents", 1)
    _toc(doc)
    doc.add_page_break()

    _heading(doc, "Agreed prompts and indicators", 1)
    if not any(t["items"] for t in spec["themes"]):
        doc.add_paragraph("No item has reached consensus yet.")
    for theme in spec["themes"]:
        if not theme["items"]:
            continue
        _heading(doc, theme["name"], 2)
        for item in theme["items"]:
            _heading(doc, f"{item['ref']}: {item['text']}", 3)
            doc.add_paragraph(f"{item['kind'].capitalize()}, version {item['version']}.")
            for field in item["fields"]:
                if field["value"]:
                    _labelled(doc, field["label"], field["value"])
            ev = item["evidence"]
            if ev:
                doc.add_paragraph(
                    f"Consensus reached in round {item['consensus_round'] or ev['round']}."
                )
                _table(
                    doc,
                    (
                        ["Figure", "Value"],
                        [
                            [f"% rating {top}", pct(ev["pct_top"])],
                            ["Median", num(ev["median"])],
                            [
                                "IQR (Q1\u2013Q3)",
                                f"{num(ev['iqr'])} ({num(ev['q1'])}\u2013{num(ev['q3'])})",
                            ],
                            ["Ratings (n)", num(ev["n"])],
                            ["Unable to rate", num(ev["n_unable"])],
                        ],
                    ),
                    caption=f"Evidence of agreement for {item['ref']}",
                )
                _table(
                    doc, tables.groups_table(ev, top), caption=f"{item['ref']} by stakeholder group"
                )
            _table(doc, tables.history_table(item), caption=f"Revision history of {item['ref']}")

    for title, key in (
        ("Appendix A: excluded items", "excluded"),
        ("Appendix B: items with no consensus", "no_consensus"),
    ):
        _heading(doc, title, 1)
        if not spec[key]:
            doc.add_paragraph("None.")
            continue
        _table(doc, tables.appendix_table(spec[key], top))
    docx_section(doc, spec, _heading, _table)
    _methods(doc, spec)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _methods(doc: Any, spec: dict[str, Any]) -> None:
    m, c = spec["methods"], spec["consensus"]
    _heading(doc, "Methods and participation", 1)
    _heading(doc, "Panel composition", 2)
    _table(doc, tables.panel_table(m))
    _heading(doc, "Participation flow", 2)
    doc.add_paragraph(m["participation_note"])
    _table(doc, tables.participation_table(m))
    _heading(doc, "Consensus rule", 2)
    doc.add_paragraph(f"{c['label']}. {c['description']}")
    doc.add_paragraph(
        f"{c['fixed_note']} Round 1 opened {date(c['fixed_at'])}. At most {c['max_rounds']} rounds."
    )
    _heading(doc, "Rounds", 2)
    doc.add_paragraph(f"{m['number_of_rounds']} rounds. {m['stopping']}")
    _table(doc, tables.rounds_table(m, with_alpha=False))
    doc.add_paragraph(m["merging_note"])
    _heading(doc, "Agreement between panellists (Krippendorff's alpha)", 2)
    _table(doc, tables.alpha_table(m, whole_panel=True))
    _heading(doc, "Stability between rounds", 2)
    if not m["stability"]:
        doc.add_paragraph("Stability needs two closed rounds.")
    for pair in m["stability"]:
        doc.add_paragraph(
            f"Round {pair['from_round']} to round {pair['to_round']}: "
            f"{pair['stable_items']} of {len(pair['items'])} items stable."
        )
        _table(doc, tables.stability_table(pair))
    _heading(doc, "Anonymity", 2)
    doc.add_paragraph(m["anonymity"])
    _heading(doc, "Discussion summaries", 2)
    if not m["discussion"]:
        doc.add_paragraph("No discussion summary was written.")
    for d in m["discussion"]:
        para = doc.add_paragraph(style="List Bullet")
        para.add_run(f"{d['ref']}: ").bold = True
        para.add_run(d["summary"])
    if spec.get("panel_names"):
        _heading(doc, "Panel members", 2)
        _table(doc, tables.panel_names_table(spec))
