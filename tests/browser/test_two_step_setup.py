"""Two-step sign-in in a real browser on a phone (375 px): a facilitator of a study that
requires it is sent to set it up, scans (here: reads) the key, confirms with a first code,
sees the recovery codes, and later signs in with a code. Each page has no axe-core WCAG 2.2
AA violation and no sideways scrolling (issue 17)."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.security import hash_password
from tests.browser.conftest import screenshot, sign_in_page
from tests.browser.test_accessibility import axe_violations
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser


def _fits(page) -> None:
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_facilitator_sets_up_two_step_sign_in_on_a_phone(app, live_server, new_page):
    panel = build_panel()
    panel.facilitator.password_hash = hash_password(PASSWORD)
    panel.study.require_two_step = True
    db.session.commit()
    slug = panel.study.slug

    page = new_page(375, 800)
    sign_in_page(page, live_server, panel.facilitator.email)
    page.goto(f"{live_server}/studies/{slug}/panel")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")
    expect(page.locator(".app-qr-code svg")).to_be_visible()
    _fits(page)
    screenshot(page, "two-step-setup-375")

    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("The code is not right")
    _fits(page)

    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-step sign-in is on")
    expect(page.locator(".app-recovery-codes li")).to_have_count(10)
    _fits(page)
    page.get_by_role("link", name="I have saved my codes, continue").click()
    expect(page).to_have_url(re.compile(rf"/studies/{slug}/panel$"))

    # Signing in again asks for the next code after the password.
    page.get_by_role("button", name="Sign out").click()
    sign_in_page(page, live_server, panel.facilitator.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    _fits(page)
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My studies")
    page.goto(f"{live_server}/studies/{slug}/facilitators")
    expect(page.get_by_role("heading", level=1)).to_have_text("Facilitators")
    _fits(page)
