"""Everything a user or contributor is pointed to exists: in the repository or as a page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.cli import route_table
from tests.conftest import Panel, sign_in
from tests.web.helpers import get_page, page, text_of

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Paths written in backticks, such as `docs/api.md`, or Markdown links to local files.
_PATH = re.compile(r"`((?:\.\./)*[\w.-][\w./-]*\.(?:md|json|py|html|sh|toml|conf\.py))`")
_LINK = re.compile(r"\]\((?!https?://|#|/)([^)#\s]+)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_file_a_document_points_to_is_in_the_repository(document: Path):
    text = document.read_text(encoding="utf-8")
    named = set(_PATH.findall(text)) | set(_LINK.findall(text))
    missing = [
        name
        for name in named
        if not (ROOT / name).exists() and not (document.parent / name).exists()
    ]
    assert not missing, f"{document.name} points to {missing}"
    assert "../shared" not in text


def test_the_api_tokens_page_links_to_the_api_guide_served_by_the_app(client, panel: Panel):
    sign_in(client, panel.facilitator)
    tokens = page(get_page(client, "/studies/test-study/api-tokens"))
    link = tokens.find("a", string="the API guide")
    assert link is not None and "docs/api.md" not in tokens.get_text()
    guide = get_page(client, link["href"])
    shown = text_of(guide)
    assert "JSON API (read-only)" in shown and "Authorization: Bearer TOKEN" in shown
    assert page(guide).select("table")  # the status table is a table, not pipes


def test_flask_urls_lists_every_route_with_the_file_that_answers_it(app):
    lines = route_table(app)
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    for rule in rules:
        assert any(f" {rule} " in line for line in lines), rule
    assert any("app/discussion/fastpoll.py" in line for line in lines)
    ballot = next(line for line in lines if "ballot.autosave" in line)
    assert re.search(r"app/ballot/routes\.py:\d+$", ballot)
    result = app.test_cli_runner().invoke(args=["urls"])
    assert result.exit_code == 0 and "help.api_guide" in result.output
