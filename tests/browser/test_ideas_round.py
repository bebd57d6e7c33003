"""The ideas round in a real browser (issue 16): on a phone (375 px) a panellist adds an idea
and comments on another, under pseudonyms; the facilitator merges two ideas into one new item.
Every page has no axe-core WCAG 2.2 AA violation, and the phone pages no sideways scrolling."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Item
from app.security import hash_password
from app.services import ideas
from tests.browser.conftest import screenshot, sign_in_page
from tests.browser.test_accessibility import axe_violations
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser


def test_a_panellist_adds_an_idea_on_a_phone_and_the_facilitator_merges_two(
    app, live_server, new_page
):
    panel = build_panel()
    partner, patient = panel.partners[0], panel.patients[0]
    for user in (partner.user, panel.facilitator):
        user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    question = ideas.add_question(
        panel.study, "What should inspectors ask a trust about research?", panel.facilitator
    )
    ideas.open_ideas_round(panel.study, panel.facilitator)
    first = ideas.add_idea(
        panel.study,
        patient,
        question=question,
        kind="",
        text="Ask patients whether anyone offered them a study.",
    )
    slug = panel.study.slug

    page = new_page(375, 800)
    sign_in_page(page, live_server, partner.user.email)
    page.goto(f"{live_server}/studies/{slug}")
    page.get_by_role("link", name="Add your ideas").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ideas round")
    expect(page.locator(f"#idea-{first.id}")).to_contain_text(patient.pseudonym)
    expect(page.locator("main")).not_to_contain_text(patient.user.name)
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.get_by_role("button", name="Add idea").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter your idea")
    assert axe_violations(page) == []
    page.get_by_label("What kind of idea?").select_option(f"q{question.id}")
    page.get_by_label("Your idea", exact=True).fill(
        "Ask how the board hears about patients offered research."
    )
    page.get_by_role("button", name="Add idea").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Your idea is on the board")
    page.locator(f"#idea-{first.id} summary").click()
    page.locator(f"#comment-{first.id}").fill("Yes, and whether it was in their language.")
    page.locator(f"#idea-{first.id}").get_by_role("button", name="Add comment").click()
    expect(page.locator(f"#idea-{first.id}")).to_contain_text("whether it was in their language")
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "ideas-375")

    desk = new_page(1280, 900)
    sign_in_page(desk, live_server, panel.facilitator.email)
    desk.goto(f"{live_server}/studies/{slug}/ideas/manage")
    desk.get_by_role("button", name="Close the ideas round").click()
    expect(desk.locator("#ideas-status")).to_have_text("Closed")
    desk.get_by_label(re.compile("Ask patients whether anyone")).check()
    desk.get_by_label(re.compile("Ask how the board hears")).check()
    desk.get_by_label("Make one new item from them").check()
    desk.get_by_label("Theme of the new item").fill("Offers research")
    desk.get_by_label("Wording of the new item").fill(
        "How does the board know which patients are offered research?"
    )
    assert axe_violations(desk) == []
    desk.get_by_role("button", name="Curate the ideas chosen").click()
    expect(desk.locator(".nhsuk-notification-banner")).to_contain_text("2 ideas became P4")
    expect(desk.locator("#items-from-ideas ~ .nhsuk-card").first).to_contain_text("From 2 ideas")
    assert axe_violations(desk) == []
    screenshot(desk, "ideas-curated")
    db.session.expire_all()
    item = db.session.scalar(db.select(Item).where(Item.ref == "P4"))
    assert item is not None and item.current.text.startswith("How does the board know")
