"""The inspectors' brief guide in every document format (the data: app/services/guide.py)."""

from __future__ import annotations

import json
from typing import Any

from flask import render_template

from app.export.docx import Writer, author_of
from app.export.formats import SPEC_CSS, PdfJob, md_text
from app.export.tables import DASH, date

NOT_RECORDED = "Not recorded for this study."


def render_guide_html(guide: dict[str, Any]) -> str:
    css = SPEC_CSS.read_text(encoding="utf-8")
    return render_template("export/guide.html", guide=guide, css=css, date=date)


def start_guide_pdf(guide: dict[str, Any]) -> PdfJob:
    return PdfJob(render_guide_html(guide))


def render_guide_json(guide: dict[str, Any]) -> str:
    return json.dumps(guide, ensure_ascii=False, indent=2)


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def _sources(text: str) -> list[str]:
    return [line.strip().lstrip("-* ") for line in text.splitlines() if line.strip()]


def render_guide_markdown(guide: dict[str, Any]) -> str:
    out: list[str] = []
    add = out.append
    add(f"# Inspectors' brief guide: {md_text(guide['study']['title'])}")
    add("")
    if guide["draft_note"]:
        add(f"> **DRAFT** \u2013 {md_text(guide['draft_note'])}")
        add("")
    if guide["study"]["owner_organisation"]:
        add(f"Published by {md_text(guide['study']['owner_organisation'])}.")
        add("")
    add("## Why this matters")
    add("")
    for para in _paragraphs(guide["context"]) or ["\u2013"]:
        add(md_text(para))
        add("")
    add("## Link to the assessment framework")
    add("")
    for para in _paragraphs(guide["framework"]["text"]) or [NOT_RECORDED]:
        add(md_text(para))
        add("")
    if guide["framework"]["url"]:
        add(f"<{guide['framework']['url']}>")
        add("")
    add("## Prompts and indicators")
    add("")
    if not guide["themes"]:
        add("No prompt or indicator has been agreed yet.")
        add("")
    for theme in guide["themes"]:
        add(f"### {md_text(theme['name'])}")
        add("")
        if theme["prompts"]:
            add("| Ref | Prompt | What to look for |")
            add("|---|---|---|")
            for p in theme["prompts"]:
                look_for = md_text(p["look_for"]) or DASH
                add(f"| {p['ref']} | {md_text(p['text'])} | {look_for} |")
            add("")
        for i in theme["indicators"]:
            add(f"#### Indicator {i['ref']}: {md_text(i['text'])}")
            add("")
            for f in i["fields"]:
                if f["value"]:
                    add(f"- **{f['label']}:** {md_text(f['value'])}")
            add("")
    add("## What to report and where")
    add("")
    for para in _paragraphs(guide["reporting"]) or [NOT_RECORDED]:
        add(md_text(para))
        add("")
    add("## Sources")
    add("")
    sources = _sources(guide["sources"])
    out.extend(f"- {md_text(s)}" for s in sources) if sources else add(NOT_RECORDED)
    add("")
    add("## How these were agreed")
    add("")
    spec = guide["specification"]
    add(f"{md_text(guide['how_agreed'])} See *{md_text(spec['title'])}* ({md_text(spec['file'])}).")
    add("")
    add(f"Generated {date(guide['generated_at'])}.")
    return "\n".join(out).rstrip() + "\n"


def render_guide_docx(guide: dict[str, Any]) -> bytes:
    draft = bool(guide["draft_note"])
    study = guide["study"]
    w = Writer(
        title=f"Inspectors' brief guide: {study['title']}" + (" (draft)" if draft else ""),
        author=author_of({"study": study}),
        subject="Inspectors' brief guide",
        draft=draft,
        draft_text="DRAFT \u2013 study not completed; prompts and indicators may change",
    )
    w.doc.add_heading(f"Inspectors' brief guide: {study['title']}", level=0)
    if draft:
        w.para(guide["draft_note"]).runs[0].bold = True
    if study["owner_organisation"]:
        w.para(f"Published by {study['owner_organisation']}.")
    w.heading("Why this matters", 1)
    for para in _paragraphs(guide["context"]) or ["\u2013"]:
        w.para(para)
    w.heading("Link to the assessment framework", 1)
    for para in _paragraphs(guide["framework"]["text"]) or [NOT_RECORDED]:
        w.para(para)
    if guide["framework"]["url"]:
        w.para(guide["framework"]["url"])
    w.heading("Prompts and indicators", 1)
    if not guide["themes"]:
        w.para("No prompt or indicator has been agreed yet.")
    for theme in guide["themes"]:
        w.heading(theme["name"], 2)
        if theme["prompts"]:
            w.table(
                (
                    ["Ref", "Prompt", "What to look for"],
                    [[p["ref"], p["text"], p["look_for"] or "\u2013"] for p in theme["prompts"]],
                )
            )
        for i in theme["indicators"]:
            w.heading(f"Indicator {i['ref']}: {i['text']}", 3)
            for f in i["fields"]:
                if f["value"]:
                    w.labelled(f["label"], f["value"])
    w.heading("What to report and where", 1)
    for para in _paragraphs(guide["reporting"]) or [NOT_RECORDED]:
        w.para(para)
    w.heading("Sources", 1)
    sources = _sources(guide["sources"])
    if sources:
        w.bullets(sources)
    else:
        w.para(NOT_RECORDED)
    w.heading("How these were agreed", 1)
    spec = guide["specification"]
    w.para(f"{guide['how_agreed']} See {spec['title']} ({spec['file']}).")
    w.para(f"Generated {date(guide['generated_at'])}.")
    return w.save()
