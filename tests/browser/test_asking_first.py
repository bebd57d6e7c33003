"""What a facilitator sees when an action asks first or keeps what was typed: the links to
pass on (with a working copy button), closing and reopening a round, a refused decision and
completing the study. Every page passes axe-core and reads at 375 and 1280 pixels."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Rating, Round
from app.security import hash_password
from app.services.rounds import open_round
from tests.browser.conftest import screenshot, sign_in_page
from tests.browser.test_accessibility import axe_violations
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser

S = "/studies/test-study"


@pytest.fixture
def facilitator(app, live_server, new_page):
    panel = build_panel(partners=3, patients=2)
    panel.facilitator.password_hash = hash_password(PASSWORD)
    db.session.commit()

    def page_at(width: int):
        page = new_page(width, 900)
        sign_in_page(page, live_server, panel.facilitator.email)
        return page

    return panel, page_at


def _rate_all_but_one(round_: Round, panel) -> None:
    for panellist in panel.raters[:-1]:
        for ri, score in zip(round_.round_items, [8, 2, 5, 8], strict=True):
            db.session.add(
                Rating(
                    round_id=round_.id,
                    panellist_id=panellist.id,
                    item_version_id=ri.item_version_id,
                    score=score,
                )
            )
    db.session.commit()


@pytest.mark.parametrize("width", [375, 1280])
def test_an_invitation_lands_on_the_panel_page_with_a_link_to_copy(
    facilitator, live_server, width
):
    panel, page_at = facilitator
    page = page_at(width)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page.goto(f"{live_server}{S}/panel")
    page.fill("#name", "Rae Reviewer")
    page.fill("#email", f"rae{width}@example.test")
    page.get_by_role("button", name="Send invitation").click()
    expect(page).to_have_url(re.compile(r"/panel$"))
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Rae Reviewer is invited")
    link = page.locator("code.app-invite-link")
    expect(link).to_have_count(1)
    url = link.inner_text().strip()
    page.get_by_role("button", name="Copy link for Rae Reviewer").click()
    expect(page.locator(".app-copy__status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == url
    assert axe_violations(page) == []
    screenshot(page, f"panel-links-{width}")
    page.reload()  # nothing is sent again; the link is still there
    expect(page.locator("code.app-invite-link")).to_have_text(url)


@pytest.mark.parametrize("width", [375, 1280])
def test_closing_asks_first_and_a_closed_round_can_reopen(facilitator, live_server, width):
    panel, page_at = facilitator
    round_ = open_round(panel.study, actor=panel.facilitator)
    _rate_all_but_one(round_, panel)
    page = page_at(width)
    page.goto(f"{live_server}{S}/rounds/1")
    page.get_by_role("link", name="Close round 1").click()
    expect(page).to_have_title(re.compile(r"^Close round 1\?"))
    assert "1 of 5 panellists has not finished" in page.inner_text("main")
    assert axe_violations(page) == []
    screenshot(page, f"close-round-{width}")
    page.get_by_role("button", name="Close round 1").click()
    expect(page).to_have_title(re.compile(r"^Round 1 results"))

    # A decision that differs from the suggestion, without a reason.
    page.select_option(f"#decision-{round_.round_items[0].item_version.item_id}", "exclude")
    page.get_by_role("button", name="Confirm decisions").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Give a reason for excluding P1")
    expect(page.locator(f"#decision-{round_.round_items[0].item_version.item_id}")).to_have_value(
        "exclude"
    )
    assert axe_violations(page) == []
    screenshot(page, f"decisions-error-{width}")
    summary.get_by_role("link").click()
    expect(page.locator(f"#reason-{round_.round_items[0].item_version.item_id}")).to_be_focused()

    page.goto(f"{live_server}{S}/rounds/1")
    page.get_by_role("button", name="Reopen round 1").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Give the reason for reopening")
    assert axe_violations(page) == []
    screenshot(page, f"reopen-error-{width}")
    page.fill("#reason", "A patient representative was in hospital")
    page.get_by_role("button", name="Reopen round 1").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Round 1 is open again")
    db.session.expire_all()
    assert db.session.scalar(select(Round.status).where(Round.id == round_.id)) == "open"


@pytest.mark.parametrize("width", [375, 1280])
def test_completing_the_study_asks_first(facilitator, live_server, width):
    from app.services.rounds import close_round

    panel, page_at = facilitator
    round_ = open_round(panel.study, actor=panel.facilitator)
    _rate_all_but_one(round_, panel)
    close_round(round_.id, actor=panel.facilitator)
    page = page_at(width)
    page.goto(f"{live_server}{S}/rounds/1/results")
    page.get_by_role("button", name="Confirm decisions").click()
    page.goto(f"{live_server}{S}/complete")
    page.fill("#reason", "Every item has a decision.")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile(r"^Complete the study\?"))
    assert "The record becomes final" in page.inner_text("main")
    assert axe_violations(page) == []
    screenshot(page, f"complete-confirm-{width}")
    page.get_by_role("button", name="Complete the study").click()
    # (a second banner says whether the panel was emailed the outcome)
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text(
        "The study is completed"
    )
