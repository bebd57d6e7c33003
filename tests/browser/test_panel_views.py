"""What a panellist sees in a real browser (issue 13, points 6, 8 and 9): the facilitators'
decisions with what the rule found and their reason, every field of an item and every change
to it, and the way to proposals."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.security import hash_password
from app.services.cycle import revise_item
from app.services.rounds import open_round, record_decisions
from delphi import Decision
from tests.browser.conftest import screenshot, sign_in_page
from tests.browser.test_accessibility import axe_violations
from tests.conftest import PASSWORD, build_panel
from tests.web.test_panel_views import rate_and_close

pytestmark = pytest.mark.browser

SCORES = [
    [8, 9, 7, 8, 9],  # P1 consensus in: left out by the facilitators
    [1, 2, 2, 3, 1],  # P2 consensus out
    [5, 4, 6, 5, 5],  # P3 no consensus
    [5, 6, 5, 4, 6],  # I1 no consensus; its threshold and theme revised
]
REASON = "Inspectors already ask this under the governance prompt"


def test_a_panellist_sees_the_override_its_reason_and_every_change_to_an_indicator(
    app, live_server, new_page
):
    panel = build_panel(partners=3, patients=2)
    partner = panel.partners[0]
    partner.user.password_hash = hash_password(PASSWORD)
    indicator = panel.study.items[-1]
    indicator.current.threshold = "Good: at least 5 in 100"
    indicator.current.reporting_frequency = "Quarterly"
    indicator.current.notes = "Ask how the board tracks it"
    db.session.commit()
    round1 = open_round(panel.study, actor=panel.facilitator)
    rate_and_close(panel, round1, SCORES)
    ids = {ri.item_version.item.ref: ri.item_version.item_id for ri in round1.round_items}
    record_decisions(
        round1,
        {
            ids["P1"]: (Decision.EXCLUDE, REASON),
            ids["P2"]: (Decision.EXCLUDE, ""),
            ids["P3"]: (Decision.CARRY_FORWARD, ""),
            ids["I1"]: (Decision.CARRY_FORWARD, ""),
        },
        panel.facilitator,
    )
    revise_item(
        indicator,
        {"threshold": "Good: at least 8 in 100", "theme": "Equity across specialties"},
        "Threshold raised after the discussion",
        panel.facilitator,
    )
    open_round(panel.study, actor=panel.facilitator)

    page = new_page(1280, 900)
    sign_in_page(page, live_server, partner.user.email)
    page.goto(f"{live_server}/studies/test-study")
    row = page.locator("#decision-1-P1")
    expect(row).to_contain_text("Consensus in, so the rule suggested to accept it.")
    expect(row).to_contain_text("Left out by the facilitators")
    expect(row).to_contain_text(REASON)
    expect(row).not_to_contain_text("Agreed")
    assert axe_violations(page) == []

    page.get_by_role("link", name="What the panel thought in round 1").click()
    decision = page.locator(f"#fb-{ids['P1']}-decision")
    expect(decision).to_contain_text("What the rule found")
    expect(decision).to_contain_text(REASON)

    page.goto(f"{live_server}/studies/test-study/rounds/2/ballot")
    card = page.locator(".app-item", has_text="Indicator 1")
    fields = card.locator("dl.app-indicator")
    expect(fields).to_contain_text("Reporting frequency")
    expect(fields).to_contain_text("Quarterly")
    expect(fields).to_contain_text("Good: at least 8 in 100")
    expect(fields).to_contain_text("Ask how the board tracks it")
    changes = card.locator(".app-changes")
    expect(changes).to_contain_text(re.compile(r"Theme\s*Before: Conduct\s*Now: Equity across"))
    expect(changes).to_contain_text("Before: Good: at least 5 in 100")
    expect(changes).to_contain_text("Now: Good: at least 8 in 100")
    screenshot(page, "ballot-changed-fields-1280")
    assert axe_violations(page) == []


def test_a_panellist_finds_proposals_from_the_study_page_and_each_ballot_item(
    app, live_server, new_page
):
    panel = build_panel(partners=1, patients=1)
    panel.study.proposals_open = True
    partner = panel.partners[0]
    partner.user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    open_round(panel.study, actor=panel.facilitator)
    page = new_page(375, 800)
    sign_in_page(page, live_server, partner.user.email)
    page.goto(f"{live_server}/studies/test-study")
    page.get_by_role("link", name="Propose a new item or better wording").click()
    expect(page.locator("h1")).to_have_text("Propose a new item or better wording")
    page.goto(f"{live_server}/studies/test-study/rounds/1/ballot")
    page.get_by_role("link", name="Suggest better wording for P2").click()
    expect(page.locator("input[name='kind'][value='rewording']")).to_be_checked()
    expect(page.locator("select[name='item']")).to_have_value("P2")
    page.fill("textarea[name='text']", "Does the board see research offered in every specialty?")
    page.fill("textarea[name='reason']", "Plainer for patients")
    page.get_by_role("button", name="Send proposal").click()
    expect(page.locator("body")).to_contain_text("Thank you. The facilitators will look")
