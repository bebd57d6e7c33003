"""A 200-item ballot with 3,000 messages in a browser: split by theme with a contents list,
threads loaded when opened with their latest 50 messages and "Show earlier messages"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.security import hash_password
from tests.browser.conftest import SCREENSHOTS, sign_in_page
from tests.conftest import PASSWORD
from tests.web.big_study import build_big_study

pytestmark = pytest.mark.browser


def screenshot(page, name: str) -> None:
    """The viewport only: a whole 67-item page is too tall to capture in time."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@pytest.mark.parametrize("width", [1280, 375])
def test_a_long_ballot_jumps_by_theme_and_opens_threads_on_demand(
    app, live_server, new_page, width
):
    big = build_big_study()
    big.panellist.user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    page = new_page(width, 900)
    sign_in_page(page, live_server, big.panellist.user.email)
    page.goto(f"{live_server}/studies/big/rounds/2/ballot")
    contents = page.locator("#contents")
    expect(contents.locator("li")).to_have_count(3)
    expect(contents.locator("a[aria-current=page]")).to_have_text("Offers research opportunities")
    assert page.locator(".app-item").count() == 67
    # The chart axis is drawn once and every chart shows it.
    assert (
        page.locator("svg.app-chart__svg--mini use").count()
        == page.locator("svg.app-chart__svg--mini").count()
    )
    box = page.locator("svg.app-chart__svg--mini").first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 90
    screenshot(page, f"ballot-long-{width}")
    page.locator(".app-item").nth(1).screenshot(
        path=str(SCREENSHOTS / f"ballot-long-item-{width}.png")
    )

    # The busiest thread (600 messages) loads when opened, with its latest 50.
    dom = f"item-{big.busiest.id}"
    page.locator(f"#discussion-{dom} summary").click()
    messages = page.locator(f"#messages-{dom} li.app-message")
    expect(messages).to_have_count(50)
    earlier = page.locator(f"#earlier-{dom} a")
    expect(earlier).to_have_text("Show earlier messages (550 more)")
    earlier.click()
    expect(messages).to_have_count(100)
    expect(page.locator(f"#earlier-{dom} a")).to_have_text("Show earlier messages (500 more)")
    # Writing from the ballot still works: the form arrived with the thread.
    page.fill(f"#{dom}-body", "A new thought on the busiest item")
    page.locator(f"#compose-{dom}").get_by_role("button", name="Send message").click()
    page.locator(f"#messages-{dom} li.app-message", has_text="A new thought").wait_for()
    expect(messages).to_have_count(101)
    page.locator(f"#compose-{dom}").scroll_into_view_if_needed()
    screenshot(page, f"ballot-long-thread-{width}")

    # Jump to another theme's page from the contents list.
    contents.get_by_role("link", name="Enables equity").click()
    expect(page).to_have_url(re.compile(r"part=3"))
    expect(page.locator("#contents a[aria-current=page]")).to_have_text("Enables equity")
