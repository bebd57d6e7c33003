"""One entry point for every format: the web views and `flask export` both call `export_study`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from app.export.formats import (
    FORMATS,
    PdfJob,
    render_data_zip,
    render_html,
    render_json,
    render_markdown,
    render_pdf,
    start_pdf,
)
from app.models import Study, User
from app.services import audit
from app.services.export import build_specification
from app.services.export_data import data_tables, raw_ratings
from app.services.transaction import transactional


@dataclass(frozen=True)
class ExportFile:
    body: bytes
    filename: str
    mimetype: str


def render_spec(
    study: Study,
    spec: dict[str, Any],
    fmt: str,
    *,
    include_names: bool,
    raw: pd.DataFrame | None = None,
) -> bytes:
    """The bytes of one format, from an already built specification."""
    if fmt == "html":
        return render_html(spec, standalone=True).encode("utf-8")
    if fmt == "md":
        return render_markdown(spec).encode("utf-8")
    if fmt == "json":
        return render_json(spec).encode("utf-8")
    if fmt == "docx":
        from app.export.docx import render_docx

        return render_docx(spec)
    if fmt == "pdf":
        return render_pdf(spec)
    if fmt == "data":
        tables = data_tables(study, spec, include_names=include_names, raw=raw)
        return render_data_zip(tables, spec)
    raise KeyError(fmt)


DOCUMENTS = {"specification": "The specification", "guide": "The inspectors' brief guide"}
GUIDE_FORMATS = ("html", "md", "docx", "pdf", "json")  # the guide has no data of its own


class UnknownExport(KeyError):
    """A document or a format that does not exist (or not for that document)."""


def _filename(study: Study, spec: dict[str, Any], fmt: str, document: str) -> str:
    suffix = "-draft" if spec["status"] == "draft" else ""
    name = "data" if fmt == "data" else document
    return f"{study.slug}-{name}{suffix}.{FORMATS[fmt].extension}"


def _render_guide(guide: dict[str, Any], fmt: str) -> bytes:
    from app.export import guide as render

    if fmt == "html":
        return render.render_guide_html(guide).encode("utf-8")
    if fmt == "md":
        return render.render_guide_markdown(guide).encode("utf-8")
    if fmt == "json":
        return render.render_guide_json(guide).encode("utf-8")
    if fmt == "docx":
        return render.render_guide_docx(guide)
    if fmt == "pdf":
        return render.start_guide_pdf(guide).result()
    raise UnknownExport(fmt)


def _audit(
    study: Study, formats: list[str], include_names: bool, by: int | None, document: str
) -> None:
    for fmt in formats:
        extra = {} if document == "specification" else {"document": document}
        audit.record(study.id, "export.downloaded", by=by, format=fmt, names=include_names, **extra)
        if include_names:
            audit.record(study.id, "export.names_included", by=by, format=fmt)


def export_study(
    study: Study,
    fmt: str,
    *,
    actor: User | None,
    include_names: bool = False,
    document: str = "specification",
) -> ExportFile:
    """Build the specification once and render it; each download is audited, with names
    included or not, as done by `actor` (None: the system, e.g. `flask export`).

    Raises KeyError for an unknown format and `ExportUnavailable` when the server cannot
    produce it. One transaction: the audit events are committed with the export.
    """
    return export_formats(
        study, [fmt], actor=actor, include_names=include_names, document=document
    )[0]


def formats_of(document: str) -> list[str]:
    """The formats a document comes in."""
    return list(FORMATS) if document == "specification" else list(GUIDE_FORMATS)


@transactional
def export_formats(
    study: Study,
    formats: list[str],
    *,
    actor: User | None,
    include_names: bool = False,
    document: str = "specification",
) -> list[ExportFile]:
    """Several formats from one reading of the database (the ratings and the specification);
    `document` is "specification" or "guide" (the inspectors' brief guide, built from the
    same specification)."""
    return export_documents(study, {document: formats}, actor=actor, include_names=include_names)


@transactional
def export_documents(
    study: Study,
    requested: dict[str, list[str]],
    *,
    actor: User | None,
    include_names: bool = False,
) -> list[ExportFile]:
    """Formats of one or both documents from one reading of the database, in the order
    asked: e.g. `{"specification": [...], "guide": [...]}` (`make bench` exports both)."""
    for document, formats in requested.items():
        if document not in DOCUMENTS:
            raise UnknownExport(document)
        unknown = [f for f in formats if f not in formats_of(document)]
        if unknown:
            raise UnknownExport(unknown[0])
    raw = raw_ratings(study)
    spec = build_specification(study, include_names=include_names, raw=raw)
    guide = None
    if "guide" in requested:
        from app.services.guide import build_guide

        guide = build_guide(study, spec)
    jobs = [(d, f) for d, formats in requested.items() for f in formats]
    # Chromium prints each PDF in its own process while the other formats are rendered here.
    pdfs: dict[str, PdfJob] = {}
    if len(jobs) > 1:
        for document, fmt in jobs:
            if fmt == "pdf":
                if document == "guide" and guide is not None:
                    from app.export.guide import start_guide_pdf

                    pdfs[document] = start_guide_pdf(guide)
                else:
                    pdfs[document] = start_pdf(spec)

    def body(document: str, fmt: str) -> bytes:
        if fmt == "pdf" and document in pdfs:
            return pdfs[document].result()
        if document == "guide" and guide is not None:
            return _render_guide(guide, fmt)
        return render_spec(study, spec, fmt, include_names=include_names, raw=raw)

    # PDFs last, so that they print while everything else is rendered.
    bodies = {job: body(*job) for job in sorted(jobs, key=lambda job: job[1] == "pdf")}
    files = [
        ExportFile(bodies[job], _filename(study, spec, job[1], job[0]), FORMATS[job[1]].mimetype)
        for job in jobs
    ]
    for document, formats in requested.items():
        _audit(study, formats, include_names, audit.actor_id(actor), document)
    return files
