"""Invitation → rating every item with autosave → the facilitator closes → results show."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Rating
from app.security import hash_password
from app.services.panel import add_panellist, issue_invitation
from app.services.rounds import open_round
from delphi import PanelRole
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser


def test_a_panellist_joins_rates_everything_and_the_facilitator_sees_results(
    app, live_server, new_page
):
    panel = build_panel(partners=2, patients=1)
    panel.facilitator.password_hash = hash_password(PASSWORD)
    with app.test_request_context():
        newcomer = add_panellist(
            panel.study,
            name="Bea Browser",
            email="bea@example.test",
            group=panel.study.groups[1],
            role=PanelRole.PATIENT_REP,
        )
        token = issue_invitation(newcomer)
    db.session.commit()
    round1 = open_round(panel.study, actor=panel.facilitator)
    item_count = len(round1.round_items)

    page = new_page(375, 800)
    page.goto(f"{live_server}/invitation/{token}")
    assert "Patient representative 2" in page.inner_text("main")
    page.get_by_role("button", name="Join the panel").click()
    expect(page).to_have_title(re.compile(r"^My studies"))
    page.get_by_role("link", name="Rate the items").click()
    expect(page).to_have_title(re.compile(r"^Round 1 ballot"))
    progress = page.locator("#progress")
    assert progress.inner_text() == f"0 of {item_count} rated"
    # The points of each band of the scale sit on one line (the NHS.UK radios' own top margin
    # put each band's first point 6 px above the others).
    first_vid = round1.round_items[0].item_version_id
    for band in page.locator(f"#item-{first_vid} .app-scale__points").all():
        tops = {round(box["y"]) for box in (r.bounding_box() for r in band.locator("input").all())}
        assert len(tops) == 1, tops

    for number, round_item in enumerate(round1.round_items, start=1):
        vid = round_item.item_version_id
        page.locator(f"label[for='score-{vid}-8']").click()
        status = page.locator(f"#status-{vid}")
        status.filter(has_text="Saved").wait_for()
        assert progress.inner_text() == f"{number} of {item_count} rated"
    # A reason typed after the score is saved too.
    first = round1.round_items[0].item_version_id
    page.fill(f"#reason-{first}", "Patients should always be asked")
    page.locator(f"#reason-{first}").blur()
    page.locator(f"#status-{first}").filter(has_text="Saved").wait_for()
    screenshot(page, "ballot-375")

    db.session.expire_all()
    saved = db.session.scalars(select(Rating).where(Rating.panellist_id == newcomer.id)).all()
    assert sorted(r.score for r in saved) == [8] * item_count
    assert any(r.reason == "Patients should always be asked" for r in saved)
    # Reloading shows the saved answers: nothing was lost.
    page.reload()
    expect(page.locator(f"#score-{first}-8")).to_be_checked()

    facilitator = new_page()
    facilitator.goto(f"{live_server}/login")
    facilitator.fill("#email", panel.facilitator.email)
    facilitator.fill("#password", PASSWORD)
    facilitator.get_by_role("button", name="Sign in").click()
    facilitator.goto(f"{live_server}/studies/test-study/rounds/1")
    assert "Patient representatives" in facilitator.inner_text("#participation")
    facilitator.get_by_role("link", name="Close round 1").click()
    expect(facilitator).to_have_title(re.compile(r"^Close round 1\?"))
    assert "have not finished" in facilitator.inner_text("main")
    facilitator.get_by_role("button", name="Close round 1").click()
    expect(facilitator).to_have_title(re.compile(r"^Round 1 results"))
    rows = facilitator.locator("table.app-results tbody tr:not(.app-results__theme)")
    expect(rows).to_have_count(item_count)  # waits for the page to finish, unlike count()
    assert "Consensus" in rows.first.inner_text() or "No consensus" in rows.first.inner_text()
    assert re.search(r"\b1\b", rows.first.locator("td").nth(1).inner_text())
    screenshot(facilitator, "results-1280")

    # The closed round refuses late answers, and the page says why.
    page.reload()
    assert "This round has closed" in page.inner_text("main")
    assert db.session.scalar(select(func.count(Rating.id))) == item_count
