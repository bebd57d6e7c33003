"""Two tabs of one panellist's ballot: what a person sees when an older tab acts after a
newer one has saved, and that quick changes in one tab are never taken for another tab's."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Rating
from app.security import hash_password
from app.services.rounds import open_round
from tests.browser.conftest import SCREENSHOTS, sign_in_page
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser


def _shot(name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def _stored(vid: int) -> tuple[int | None, str] | None:
    db.session.expire_all()
    rating = db.session.scalar(select(Rating).where(Rating.item_version_id == vid))
    return (rating.score, rating.reason) if rating else None


@pytest.fixture
def tabs(app, live_server, new_page):
    panel = build_panel(partners=1, patients=1)
    partner = panel.partners[0]
    partner.user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    round1 = open_round(panel.study, actor=panel.facilitator)
    older = new_page(375, 800)
    sign_in_page(older, live_server, partner.user.email)
    newer = older.context.new_page()
    url = f"{live_server}/studies/test-study/rounds/1/ballot"
    older.goto(url)
    newer.goto(url)
    return older, newer, [ri.item_version_id for ri in round1.round_items]


def test_an_older_tab_shows_the_newer_answer_instead_of_setting_it_back(tabs):
    older, newer, vids = tabs
    vid = vids[0]
    older.locator(f"label[for='score-{vid}-5']").click()
    expect(older.locator(f"#status-{vid}")).to_have_text(re.compile("Saved"))
    newer.reload()
    newer.locator(f"label[for='score-{vid}-8']").click()
    expect(newer.locator(f"#status-{vid}")).to_have_text(re.compile("Saved"))

    # In the older tab, still showing 5, the panellist writes a reason.
    older.fill(f"#reason-{vid}", "Boards need this")
    older.locator(f"label[for='score-{vids[1]}-4']").click()  # leaving the box sends it
    status = older.locator(f"#status-{vid}")
    expect(status).to_have_text(re.compile(r"^Not saved\. .*We kept the newer answer, 8"))
    expect(older.locator(f"#score-{vid}-8")).to_be_checked()
    assert _stored(vid) == (8, "")
    older.locator(f"#item-{vid}").screenshot(path=str(_shot("ballot-newer-answer-375")))

    # Choosing there again is saved: the tab now holds the newer answer's version.
    older.locator(f"label[for='score-{vid}-6']").click()
    expect(status).to_have_text(re.compile("Saved"))
    assert _stored(vid)[0] == 6


def test_quick_changes_in_one_tab_all_save_in_order(tabs):
    older, _, vids = tabs
    vid = vids[0]
    for value in (2, 5, 9, 7):
        older.locator(f"label[for='score-{vid}-{value}']").click()
    expect(older.locator(f"#status-{vid}")).to_have_text(re.compile("Saved"))
    older.wait_for_load_state("networkidle")
    expect(older.locator(f"#status-{vid}")).to_have_text(re.compile("Saved"))
    assert _stored(vid)[0] == 7
    older.get_by_role("button", name="Save my answers").click()
    expect(older.locator(".nhsuk-notification-banner")).to_contain_text("Your answers are saved")
    assert _stored(vid)[0] == 7
