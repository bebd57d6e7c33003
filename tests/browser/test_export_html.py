"""The specification page, its download and the inspectors' guide in chromium: axe-core
finds no WCAG 2.2 AA violation."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Rating
from app.security import hash_password
from app.services.rounds import close_round, open_round
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target)}))",
        TAGS,
    )


def test_the_specification_page_and_its_download_pass_axe(app, live_server, browser, tmp_path):
    panel = build_panel(slug="axe-export", partners=3, patients=2)
    panel.facilitator.password_hash = hash_password(PASSWORD)
    db.session.commit()
    round1 = open_round(panel.study, actor=panel.facilitator)
    for n, panellist in enumerate(panel.raters):
        for ri in round1.round_items:
            db.session.add(
                Rating(
                    round_id=round1.id,
                    panellist_id=panellist.id,
                    item_version_id=ri.item_version_id,
                    score=8 if ri.position == 1 else 2 + n,
                )
            )
    db.session.commit()
    close_round(round1.id, actor=panel.facilitator)

    # The app's Content-Security-Policy forbids inline scripts, axe-core's injection included.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server}/login")
    page.fill("#email", panel.facilitator.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/studies/axe-export/export")
    assert page.locator("h1").inner_text() == "Test study"
    expect(page.get_by_role("heading", name="Agreed prompts and indicators")).to_be_visible()
    assert _axe_violations(page) == []
    screenshot(page, "specification")

    # The standalone HTML download, as a board member would open it.
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    assert info.value.suggested_filename == "axe-export-specification-draft.html"
    downloaded = tmp_path / info.value.suggested_filename
    info.value.save_as(downloaded)
    assert "Agreed prompts and indicators" in downloaded.read_text(encoding="utf-8")
    page.goto(downloaded.as_uri())
    assert _axe_violations(page) == []

    # The inspectors' brief guide, offered on the same page (issue 15).
    page.goto(f"{live_server}/studies/axe-export/export")
    page.get_by_label("The inspectors' brief guide").check()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    assert info.value.suggested_filename == "axe-export-guide-draft.html"
    guide = tmp_path / info.value.suggested_filename
    info.value.save_as(guide)
    page.goto(guide.as_uri())
    expect(page.get_by_role("heading", name="Prompts and indicators")).to_be_visible()
    expect(page.get_by_text("Draft: the study is not completed")).to_be_visible()
    assert _axe_violations(page) == []
    screenshot(page, "inspectors-guide")
    context.close()
