"""Autosaves that fail say so where the answer was chosen, and nothing is lost silently: a
phone that loses its signal (sent again when back online), a server error (tried again), a
session that ended (sign in and come back) and a refusal (the server's reason, in place)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Panellist, Rating, Round
from app.security import hash_password
from app.services.rounds import open_round
from tests.browser.conftest import sign_in_page
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser


def _stored(panellist_id: int) -> dict[int, int | None]:
    db.session.expire_all()
    rows = db.session.scalars(select(Rating).where(Rating.panellist_id == panellist_id))
    return {r.item_version_id: r.score for r in rows}


@dataclass
class Ballot:
    page: Page
    panellist: Panellist
    round: Round
    versions: list[int]


@pytest.fixture
def ballot(app, live_server, new_page) -> Ballot:
    """A partner signed in on a phone-sized page of round 1's ballot."""
    panel = build_panel(partners=1, patients=1)
    partner = panel.partners[0]
    partner.user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    round1 = open_round(panel.study, actor=panel.facilitator)
    page = new_page(375, 800)
    sign_in_page(page, live_server, partner.user.email)
    page.goto(f"{live_server}/studies/test-study/rounds/1/ballot")
    expect(page).to_have_title(re.compile(r"^Round 1 ballot"))
    return Ballot(page, partner, round1, [ri.item_version_id for ri in round1.round_items])


def test_an_answer_chosen_offline_is_flagged_then_sent_when_back_online(ballot):
    page, partner = ballot.page, ballot.panellist
    first, second = ballot.versions[:2]

    page.locator(f"label[for='score-{first}-7']").click()
    expect(page.locator(f"#status-{first}")).to_have_text(re.compile("Saved"))

    page.context.set_offline(True)
    page.locator(f"label[for='score-{second}-3']").click()
    status = page.locator(f"#status-{second}")
    expect(status).to_have_text(re.compile(r"^Not saved: no connection"))
    expect(status).to_have_class(re.compile("app-save-status--error"))
    expect(page.locator(f"#score-{second}-3")).to_be_checked()  # the choice stays on screen
    assert _stored(partner.id) == {first: 7}

    page.context.set_offline(False)  # the browser fires "online": the answer is sent again
    expect(status).to_have_text(re.compile("Saved"), timeout=15_000)
    expect(page.locator("#progress")).to_have_text(re.compile(r"^2 of \d+ rated"))
    assert _stored(partner.id) == {first: 7, second: 3}


def test_an_answer_the_server_failed_to_store_is_tried_again(ballot):
    page, partner, vid = ballot.page, ballot.panellist, ballot.versions[0]
    failures = []

    def fail_once(route):
        failures.append(route.request.url)
        route.fulfill(status=503, body="Service Unavailable")

    page.route(re.compile(r".*/items/\d+/rating$"), fail_once)
    page.locator(f"label[for='score-{vid}-9']").click()
    status = page.locator(f"#status-{vid}")
    expect(status).to_have_text(re.compile(r"^Not saved: the server had a problem"))
    assert _stored(partner.id) == {}
    page.unroute(re.compile(r".*/items/\d+/rating$"))
    expect(status).to_have_text(re.compile("Saved"), timeout=15_000)  # the 10 s retry
    assert len(failures) == 1 and _stored(partner.id) == {vid: 9}


def test_a_save_after_the_session_ended_goes_to_sign_in_and_back_to_the_ballot(ballot):
    page, partner, vid = ballot.page, ballot.panellist, ballot.versions[0]
    page.context.clear_cookies()  # the session ends while the page is open

    page.locator(f"label[for='score-{vid}-6']").click()
    expect(page).to_have_title(re.compile(r"^Sign in"))  # the whole page, not a fragment
    expect(page.locator("main")).to_contain_text("You were signed out")
    assert _stored(partner.id) == {}
    page.fill("#email", partner.user.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_title(re.compile(r"^Round 1 ballot"))
    page.locator(f"label[for='score-{vid}-6']").click()
    expect(page.locator(f"#status-{vid}")).to_have_text(re.compile("Saved"))
    assert _stored(partner.id) == {vid: 6}


def test_a_save_the_server_refuses_shows_its_reason_in_place(ballot):
    page, partner, vid = ballot.page, ballot.panellist, ballot.versions[0]
    partner.joined_at = None  # the facilitator takes them off the panel meanwhile
    db.session.commit()

    page.locator(f"label[for='score-{vid}-4']").click()
    status = page.locator(f"#status-{vid}")
    expect(status).to_have_text(
        "Not saved. This is no longer available to you. Reload the page to see where things stand."
    )
    expect(page).to_have_title(re.compile(r"^Round 1 ballot"))  # nothing swapped in
    assert page.locator("main h1").count() == 1
    assert _stored(partner.id) == {}


def test_a_message_sent_after_the_session_ended_stays_on_the_page_with_a_warning(
    ballot, live_server
):
    page, item = ballot.page, ballot.round.round_items[0].item_version.item
    dom = f"item-{item.id}"
    page.goto(f"{live_server}/studies/test-study/discussion/{item.ref}")
    page.fill(f"#{dom}-body", "A long and careful point about the wording")
    page.context.clear_cookies()

    page.get_by_role("button", name="Send message").click()
    summary = page.locator("#app-failure")
    expect(summary).to_contain_text("You were signed out, so this was not sent")
    expect(summary).to_be_focused()
    expect(page.locator(f"#{dom}-body")).to_have_value("A long and careful point about the wording")
    page.wait_for_timeout(3500)  # a background refresh meanwhile neither redirects nor alerts
    assert page.url.endswith(f"/discussion/{item.ref}")
    expect(summary).to_be_focused()


def test_a_message_sent_offline_stays_on_the_page_and_the_page_says_so(ballot, live_server):
    page, item = ballot.page, ballot.round.round_items[0].item_version.item
    dom = f"item-{item.id}"
    page.goto(f"{live_server}/studies/test-study/discussion/{item.ref}")
    page.fill(f"#{dom}-body", "Written on a train")
    page.context.set_offline(True)
    page.get_by_role("button", name="Send message").click()
    summary = page.locator("#app-failure")
    expect(summary).to_contain_text("No connection, so this was not sent")
    expect(summary).to_be_focused()
    expect(page.locator(f"#{dom}-body")).to_have_value("Written on a train")
    page.wait_for_timeout(3500)  # the failing 3-second poll adds nothing and moves no focus
    expect(summary).to_be_focused()
    page.context.set_offline(False)
    page.get_by_role("button", name="Send message").click()
    expect(page.locator(f"#messages-{dom} li.app-message", has_text="on a train")).to_be_visible()
