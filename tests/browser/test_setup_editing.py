"""Editing setup on a phone (375 px): moving items by keyboard, deleting with a question
first, renaming a group and moving a panellist, each page accessible and no wider than
the screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.security import hash_password
from tests.browser.conftest import screenshot, sign_in_page
from tests.browser.test_accessibility import axe_violations
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser

S = "/studies/test-study"
WIDTH = 375


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"the page is {width} px wide at {WIDTH} px"
    assert axe_violations(page) == []


def test_setup_can_be_edited_on_a_phone_by_keyboard(app, live_server, new_page):
    panel = build_panel()
    panel.facilitator.password_hash = hash_password(PASSWORD)
    db.session.commit()
    page = new_page(WIDTH, 800)
    sign_in_page(page, live_server, panel.facilitator.email)

    # Move P2 above P1 with the keyboard alone.
    page.goto(f"{live_server}{S}/items")
    up = page.get_by_role("button", name="Move up P2")
    up.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/items#item-P2$"))
    rows = page.locator("tr[id^=item-]")
    expect(rows.first).to_have_id("item-P2")
    _fits(page)
    screenshot(page, "setup-items-375")

    # Deleting asks first; keeping it changes nothing, deleting removes it.
    page.get_by_role("link", name="Delete P3").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete P3?")
    _fits(page)
    page.get_by_role("button", name="Delete P3").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("P3 deleted")
    expect(page.locator("#item-P3")).to_have_count(0)

    # Rename a group from the study page.
    page.goto(f"{live_server}{S}")
    page.get_by_role("link", name="Change the group CQC").click()
    _fits(page)
    page.fill("#name", "Care Quality Commission")
    page.get_by_role("button", name="Save the name").click()
    expect(page.locator("#groups + ul")).to_contain_text("Care Quality Commission")

    # Move a partner to the patient representatives.
    page.goto(f"{live_server}{S}/panel")
    person = panel.partners[0]
    page.get_by_role("link", name=f"Change or remove {person.name}").click()
    _fits(page)
    screenshot(page, "setup-panellist-375")
    page.select_option("#group", label="Patient representatives")
    page.get_by_label("Patient representative", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "is now shown as Patient representative 3"
    )
