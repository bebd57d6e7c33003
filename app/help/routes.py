"""Guides served by the app, so that nobody is pointed at a file they cannot open."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app
from markdown_it import MarkdownIt
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.htmx import render

bp = Blueprint("help", __name__, url_prefix="/help")

# Our own documents, but rendered with raw HTML switched off all the same.
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def _guide(name: str) -> Markup:
    path = Path(current_app.root_path).parent / "docs" / name
    return Markup(_markdown.render(path.read_text(encoding="utf-8")))  # noqa: S704


@bp.get("/api")
def api_guide() -> Response:
    """The JSON API guide (docs/api.md) as a page."""
    return render("help/guide.html", title="The JSON API", body=_guide("api.md"))


@bp.get("/indicators")
def indicators_guide() -> Response:
    """How indicators are tested on trust data, and how to read a funnel plot
    (docs/indicators.md) as a page."""
    return render(
        "help/guide.html", title="Testing an indicator on trust data", body=_guide("indicators.md")
    )
