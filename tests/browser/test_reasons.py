"""The panel's reasons in a real browser at 375 pixels (issue 16): a panellist opens an item's
reasons on the feedback page (loaded when opened) and filters patient voices; a facilitator
opens the review page, an item's reasons and the hide form. axe-core finds no WCAG 2.2 AA
violation on any of them, and nothing is wider than the phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Rating
from app.security import hash_password
from app.services.rounds import close_round, open_round
from tests.browser.conftest import screenshot, sign_in_page
from tests.browser.test_accessibility import axe_violations, fits_width
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser

S = "/studies/test-study"
REASONS = [
    "Boards must own this.",
    "Inspectors already ask.",
    "<b>Not</b> for inspectors.",
    "Patients are rarely asked about studies, and they would like to be.",
    "Patients want to hear what changed.",
]


@pytest.fixture
def closed_round(app, live_server, new_page):
    panel = build_panel(partners=3, patients=2)
    for user in [panel.facilitator] + [p.user for p in panel.raters]:
        user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    round_ = open_round(panel.study, actor=panel.facilitator)
    for index, panellist in enumerate(panel.raters):
        for position, round_item in enumerate(round_.round_items):
            db.session.add(
                Rating(
                    round_id=round_.id,
                    panellist_id=panellist.id,
                    item_version_id=round_item.item_version_id,
                    score=[9, 8, 2, 5, 7][index],
                    reason=REASONS[index] if position == 0 else "",
                )
            )
    db.session.commit()
    close_round(round_.id, actor=panel.facilitator)

    def page_at(user):
        page = new_page(375, 800)
        sign_in_page(page, live_server, user.email)
        return page

    return panel, page_at


def test_a_panellist_reads_an_items_reasons_on_the_feedback_at_375_pixels(
    live_server, closed_round
):
    panel, page_at = closed_round
    page = page_at(panel.partners[1].user)
    page.goto(f"{live_server}{S}/rounds/1/feedback")
    section = page.locator("details.app-given-reasons").first
    section.locator("summary").click()
    expect(section.locator(".app-given-reason").first).to_be_visible()
    expect(section.get_by_text("Rated 7-9 (critical, include): 3 reasons")).to_be_visible()
    expect(section.get_by_text("<b>Not</b> for inspectors.")).to_be_visible()
    section.get_by_role("link", name="patient voices only").click()
    expect(section.locator(".app-given-reason")).to_have_count(2)
    assert fits_width(page)
    screenshot(page, "partner-feedback-reasons-375")
    assert axe_violations(page) == []


def test_a_facilitator_reviews_the_reasons_at_375_pixels(live_server, closed_round):
    panel, page_at = closed_round
    page = page_at(panel.facilitator)
    page.goto(f"{live_server}{S}/rounds/1/reasons")
    section = page.locator("details.app-given-reasons").first
    section.locator("summary").click()
    expect(section.locator(".app-given-reason").first).to_be_visible()
    section.get_by_role("link", name="by stakeholder group").click()
    expect(section.get_by_role("heading", name="Patient representatives")).to_be_visible()
    assert fits_width(page)
    screenshot(page, "facilitator-reasons-review-375")
    assert axe_violations(page) == []

    section.locator("a", has_text="Hide").first.click()
    expect(page.get_by_role("heading", name="Hide a reason")).to_be_visible()
    page.get_by_role("button", name="Hide the reason").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert axe_violations(page) == []
    page.fill("textarea", "Names a person.")
    page.get_by_role("button", name="Hide the reason").click()
    expect(page.get_by_text("The reason is hidden from the panel")).to_be_visible()
    assert "/rounds/1/reasons" in page.url
    assert fits_width(page)
