"""`flask export SLUG [--document specification|guide] --format FORMAT -o PATH`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from app.export.formats import FORMATS, ExportUnavailable
from app.extensions import db
from app.models import Study


def register(app: Flask) -> None:
    @app.cli.command("export")
    @click.argument("slug")
    @click.option(
        "--format",
        "fmt",
        type=click.Choice([*FORMATS, "all"]),
        default="html",
        show_default=True,
        help="html, md, docx, pdf, json, data (CSV and XLSX, zipped), or all (-o is then a "
        "folder).",
    )
    @click.option(
        "-o",
        "--output",
        "output",
        type=click.Path(path_type=Path),
        help="File to write (default: the suggested file name in the current folder); with "
        "--format all, the folder to write into.",
    )
    @click.option(
        "--document",
        type=click.Choice(["specification", "guide"]),
        default="specification",
        show_default=True,
        help="The specification (with its data), or the inspectors' brief guide (html, md, "
        "docx, pdf, json).",
    )
    @click.option("--names", is_flag=True, help="Include panellists' names (audited).")
    def export(slug: str, fmt: str, output: Path | None, names: bool, document: str) -> None:
        """Export a study's specification, its data, or the inspectors' brief guide."""
        from app.export.service import export_formats, formats_of

        study = db.session.scalar(select(Study).where(Study.slug == slug))
        if study is None:
            raise click.BadParameter(f"no study has the slug {slug!r}", param_hint="SLUG")
        formats = formats_of(document) if fmt == "all" else [fmt]
        if fmt not in (*formats_of(document), "all"):
            raise click.BadParameter(
                f"the {document} comes as {', '.join(formats_of(document))}",
                param_hint="--format",
            )
        try:
            # Run from the shell, the export is the system's doing in the audit log.
            files = export_formats(
                study, formats, actor=None, include_names=names, document=document
            )
        except ExportUnavailable as error:
            raise click.ClickException(str(error)) from error
        try:
            if fmt == "all":
                folder = output or Path(".")
                folder.mkdir(parents=True, exist_ok=True)
                targets = [folder / f.filename for f in files]
            else:
                targets = [output or Path(files[0].filename)]
            for exported, path in zip(files, targets, strict=True):
                path.write_bytes(exported.body)
                click.echo(f"Wrote {path} ({len(exported.body):,} bytes).")
        except OSError as error:
            where = error.filename or output
            raise click.ClickException(
                f"Could not write {where}: {error.strerror or error}. "
                "Check that the folder exists and that you may write to it."
            ) from error
