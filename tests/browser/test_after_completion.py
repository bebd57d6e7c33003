"""What a panellist sees once the study is completed, in a real browser at 375 and 1280 pixels:
the outcome on their study page (not "you will hear when the next round opens"), the last
round's feedback, the shared specification, and a discussion they can read but no longer
write to. Every page passes axe-core and fits the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import ItemDecision, Rating
from app.security import hash_password
from app.services.cycle import complete_study
from app.services.rounds import close_round, open_round, record_decisions
from delphi import Decision
from tests.browser.conftest import screenshot, sign_in_page
from tests.browser.test_accessibility import axe_violations, fits_width
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser

S = "/studies/test-study"


@pytest.fixture
def completed(app):
    panel = build_panel()
    panel.study.share_specification = True
    reader = panel.partners[0]
    reader.user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    round_ = open_round(panel.study, actor=panel.facilitator)
    for panellist in panel.raters:
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
    close_round(round_.id, actor=panel.facilitator)
    choices = {
        d.item_id: (Decision(d.suggested), "")
        for d in db.session.scalars(select(ItemDecision).where(ItemDecision.round_id == round_.id))
    }
    assert record_decisions(round_, choices, panel.facilitator) == []
    complete_study(panel.study, "Every item was decided.", actor=panel.facilitator)
    return panel, reader


@pytest.mark.parametrize("width", [375, 1280])
def test_a_panellist_sees_the_outcome_of_a_completed_study(completed, live_server, new_page, width):
    panel, reader = completed
    page = new_page(width, 900)
    sign_in_page(page, live_server, reader.user.email)
    page.goto(f"{live_server}{S}")
    main = page.locator("main")
    expect(page.locator(".app-study-outcome")).to_contain_text("The study is completed")
    expect(page.locator(".app-study-outcome")).to_contain_text("Every item was decided.")
    expect(main).to_contain_text("2 items agreed, 1 excluded, 1 with no consensus")
    expect(main).not_to_contain_text("you will hear when the next round opens")
    expect(page.locator(".app-outcome-agreed li")).to_have_text(
        ["P1 Prompt number 1?", "I1 Indicator 1"]
    )
    expect(page.locator(".app-outcome-excluded li")).to_have_text(["P2 Prompt number 2?"])
    expect(page.locator(".app-outcome-no_consensus li")).to_have_text(["P3 Prompt number 3?"])
    assert fits_width(page)
    assert axe_violations(page) == []
    screenshot(page, f"panellist-completed-{width}")

    page.get_by_role("link", name="The panel's feedback from round 1, the last round").click()
    expect(page.locator("h1")).to_have_text("What the panel thought in round 1")
    assert fits_width(page)

    page.goto(f"{live_server}{S}")
    page.get_by_role("link", name="Read the specification").click()
    expect(page.locator("main")).to_contain_text("Prompt number 1?")
    expect(page.locator("main")).not_to_contain_text(panel.partners[1].name)
    assert axe_violations(page) == []

    page.goto(f"{live_server}{S}/discussion")
    expect(page.locator(".app-compose__readonly").first).to_contain_text("part of the final record")
    expect(page.locator("main textarea")).to_have_count(0)
    assert fits_width(page)
    assert axe_violations(page) == []
    screenshot(page, f"panellist-completed-discussion-{width}")
