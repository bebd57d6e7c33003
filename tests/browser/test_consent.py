"""Joining a panel in a real browser (issue 17): on a phone (375 px) a panellist is sent from
the ballot to the participant information, agrees, declares interests and then rates; the
consent page has no axe-core WCAG 2.2 AA violation and no sideways scrolling."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.security import hash_password
from app.services.consent import publish_information
from app.services.rounds import open_round
from tests.browser.conftest import screenshot, sign_in_page
from tests.browser.test_accessibility import axe_violations
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser


def test_a_panellist_agrees_on_a_phone_before_rating(app, live_server, new_page):
    panel = build_panel()
    partner = panel.partners[0]
    partner.user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    publish_information(
        panel.study,
        text="## What taking part means\n\nTwo or three rounds of **rating**.\n\n- one\n- two",
        statements="I have read the information.\nI agree to take part.",
        actor=panel.facilitator,
    )
    open_round(panel.study, actor=panel.facilitator)
    slug = panel.study.slug

    page = new_page(375, 800)
    sign_in_page(page, live_server, partner.user.email)
    page.goto(f"{live_server}/studies/{slug}/rounds/1/ballot")
    expect(page.locator("#consent-needed")).to_contain_text("agree to take part")
    page.get_by_role("link", name="Read the participant information and agree").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Participant information")
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.get_by_role("button", name="I agree to take part").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Tick every statement")
    assert axe_violations(page) == []
    page.get_by_label("I have read the information.").check()
    page.get_by_label("I agree to take part.").check()
    page.get_by_label("I have interests to declare").check()
    page.get_by_label("Your interests").fill("Trustee of a research charity")
    screenshot(page, "consent-375")
    page.get_by_role("button", name="I agree to take part").click()
    expect(page).to_have_url(re.compile(rf"/studies/{slug}$"))
    expect(page.locator("main")).to_contain_text("Trustee of a research charity")

    page.goto(f"{live_server}/studies/{slug}/rounds/1/ballot")
    expect(page.locator("#consent-needed")).to_have_count(0)
    expect(page.get_by_role("button", name="Save my answers")).to_be_visible()
