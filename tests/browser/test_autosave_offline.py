"""A panellist on a phone loses the signal mid-ballot: the page says the answer is not saved,
keeps it on screen, and sends it once the connection is back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Rating
from app.security import hash_password
from app.services.rounds import open_round
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser


def _stored(panellist_id: int) -> dict[int, int | None]:
    db.session.expire_all()
    rows = db.session.scalars(select(Rating).where(Rating.panellist_id == panellist_id))
    return {r.item_version_id: r.score for r in rows}


def test_an_answer_chosen_offline_is_flagged_then_sent_when_back_online(app, live_server, new_page):
    panel = build_panel(partners=1, patients=1)
    patient = panel.patients[0]
    patient.user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    round1 = open_round(panel.study)
    first, second = (ri.item_version_id for ri in round1.round_items[:2])

    page = new_page(375, 800)
    page.goto(f"{live_server}/login")
    page.fill("#email", patient.user.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/studies/test-study/rounds/1/ballot")
    expect(page).to_have_title(re.compile(r"^Round 1 ballot"))

    page.locator(f"label[for='score-{first}-7']").click()
    expect(page.locator(f"#status-{first}")).to_have_text(re.compile("Saved"))

    page.context.set_offline(True)
    page.locator(f"label[for='score-{second}-3']").click()
    status = page.locator(f"#status-{second}")
    expect(status).to_have_text(re.compile(r"^Not saved: no connection"))
    expect(status).to_have_class(re.compile("app-save-status--error"))
    expect(page.locator(f"#score-{second}-3")).to_be_checked()  # the choice stays on screen
    assert _stored(patient.id) == {first: 7}

    page.context.set_offline(False)  # the browser fires "online": the answer is sent again
    expect(status).to_have_text(re.compile("Saved"), timeout=15_000)
    expect(page.locator("#progress")).to_have_text(re.compile(r"^2 of \d+ rated"))
    assert _stored(patient.id) == {first: 7, second: 3}


def test_an_answer_the_server_failed_to_store_is_tried_again(app, live_server, new_page):
    panel = build_panel(partners=1, patients=1)
    partner = panel.partners[0]
    partner.user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    round1 = open_round(panel.study)
    vid = round1.round_items[0].item_version_id

    page = new_page()
    page.goto(f"{live_server}/login")
    page.fill("#email", partner.user.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/studies/test-study/rounds/1/ballot")
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
