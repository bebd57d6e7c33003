"""Changing one's password on the account page in a real browser on a phone (375 px): a
mismatch is refused with the error by its field, then the change goes through and the
person stays signed in. The page has no axe-core WCAG 2.2 AA violation and no sideways
scrolling."""

from __future__ import annotations

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


def test_a_facilitator_changes_their_password_on_a_phone(app, live_server, new_page):
    panel = build_panel()
    panel.facilitator.password_hash = hash_password(PASSWORD)
    db.session.commit()

    page = new_page(375, 800)
    sign_in_page(page, live_server, panel.facilitator.email)
    page.goto(f"{live_server}/account")
    expect(page.get_by_role("heading", name="Password")).to_be_visible()
    _fits(page)

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a new passphrase here")
    page.get_by_label("Type the new password again").fill("something else entirely")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("The passwords do not match")
    expect(page.get_by_label("Current password")).to_have_value("")
    _fits(page)
    screenshot(page, "account-password-375")

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a new passphrase here")
    page.get_by_label("Type the new password again").fill("a new passphrase here")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("main")).to_contain_text("Your password is changed")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    _fits(page)
