"""Several criteria in a real browser: a facilitator defines them (the page passes axe), and a
partner rates an indicator on Importance, Validity and Feasibility with the keyboard alone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Criterion, Rating
from app.security import hash_password
from app.services.rounds import open_round
from tests.browser.conftest import screenshot, sign_in_page
from tests.browser.test_accessibility import _focused, _tab_to, axe_violations
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser

S = "/studies/test-study"


def test_a_facilitator_defines_criteria_and_a_partner_rates_an_indicator_on_three_by_keyboard(
    app, live_server, new_page
):
    panel = build_panel(partners=3, patients=1)
    panel.facilitator.password_hash = hash_password(PASSWORD)
    partner = panel.partners[0]
    partner.user.password_hash = hash_password(PASSWORD)
    db.session.commit()

    facilitator = new_page()
    sign_in_page(facilitator, live_server, panel.facilitator.email)
    facilitator.goto(f"{live_server}{S}/criteria")
    assert axe_violations(facilitator) == []
    for name, question in (
        ("Validity", "Does it measure what it claims to?"),
        ("Feasibility", "Can trusts and CQC collect it reliably from existing data?"),
    ):
        facilitator.fill("#name", name)
        facilitator.fill("#question", question)
        facilitator.check("#kinds-indicator")
        facilitator.get_by_role("button", name="Add the criterion").click()
        expect(facilitator.locator("#criteria")).to_contain_text(name)
    # A mistake shows the error summary; the page with errors passes axe too.
    facilitator.get_by_role("button", name="Add the criterion").click()
    expect(facilitator.locator(".nhsuk-error-summary")).to_contain_text("Enter the criterion")
    assert axe_violations(facilitator) == []
    feasibility = db.session.scalar(select(Criterion).where(Criterion.name == "Feasibility"))
    facilitator.goto(f"{live_server}{S}/criteria/{feasibility.id}")
    assert axe_violations(facilitator) == []

    db.session.expire_all()
    round1 = open_round(panel.study, actor=panel.facilitator)
    vid = next(
        ri.item_version_id for ri in round1.round_items if ri.item_version.item.ref == "I1"
    )
    importance, validity, feasibility = (
        db.session.scalars(select(Criterion).order_by(Criterion.position)).all()
    )
    page = new_page(375, 800)
    sign_in_page(page, live_server, partner.user.email)
    page.goto(f"{live_server}{S}/rounds/1/ballot")
    expect(page).to_have_title(re.compile(r"^Round 1 ballot"))
    assert page.inner_text("#progress") == "0 of 6 rated"  # 3 prompts, one indicator x 3
    assert axe_violations(page) == []

    rows = [
        ("", 8),  # Importance: the plain field names
        (f"-c{validity.id}", 7),
        (f"-c{feasibility.id}", None),  # unable to rate
    ]
    for number, (sfx, score) in enumerate(rows, start=1):
        name = f"score-{vid}{sfx}"
        focused = _tab_to(page, lambda f, name=name: f["name"] == name)
        assert focused["id"] == f"{name}-1"
        page.keyboard.press("Space")
        if score is None:
            # The last radio of the group is "unable to rate": one step back from the first.
            page.keyboard.press("ArrowLeft")
            expect(page.locator(f"#{name}-unable")).to_be_checked()
        else:
            for _ in range(score - 1):
                page.keyboard.press("ArrowRight")
            expect(page.locator(f"#{name}-{score}")).to_be_checked()
        assert _focused(page)["name"] == name
        page.locator(f"#status-{vid}{sfx}").filter(has_text="Saved").wait_for()
        page.locator("#progress").filter(has_text=f"{number} of 6 rated").wait_for()
    screenshot(page, "ballot-three-criteria-375")

    db.session.expire_all()
    stored = {
        r.criterion_id: (r.score, r.unable)
        for r in db.session.scalars(
            select(Rating).where(Rating.panellist_id == partner.id, Rating.item_version_id == vid)
        )
    }
    assert stored == {
        importance.id: (8, False),
        validity.id: (7, False),
        feasibility.id: (None, True),
    }
    page.reload()
    expect(page.locator(f"#score-{vid}-c{validity.id}-7")).to_be_checked()
    expect(page.locator(f"#score-{vid}-c{feasibility.id}-unable")).to_be_checked()
