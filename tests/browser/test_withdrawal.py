"""Background questions and withdrawal in a real browser (issue 17), on a phone (375 px): a
panellist answers the questions about them, then withdraws keeping their answers; both
pages have no axe-core WCAG 2.2 AA violation and no sideways scrolling, errors included."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.security import hash_password
from app.services.background import add_presets
from app.services.rounds import open_round
from tests.browser.conftest import screenshot, sign_in_page
from tests.browser.test_accessibility import axe_violations
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser


def _fits(page) -> None:
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_panellist_answers_about_themselves_then_withdraws_on_a_phone(app, live_server, new_page):
    panel = build_panel()
    patient = panel.patients[0]
    patient.user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    add_presets(panel.study, ["role", "experience", "lived_experience"], actor=panel.facilitator)
    open_round(panel.study, actor=panel.facilitator)
    slug = panel.study.slug

    page = new_page(375, 800)
    sign_in_page(page, live_server, patient.user.email)
    page.goto(f"{live_server}/studies/{slug}")
    page.get_by_role("link", name="Answer the questions about you").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("About you")
    _fits(page)
    page.get_by_role("button", name="Save my answers").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Which best describes")
    _fits(page)
    page.get_by_role("group", name="Which best describes your role?").get_by_label(
        "Patient or public contributor"
    ).check()
    page.get_by_role("group", name=re.compile("How many years")).get_by_label(
        "Prefer not to say"
    ).check()
    page.get_by_role("group", name=re.compile("lived experience")).get_by_label(
        "Yes, as a carer"
    ).check()
    screenshot(page, "background-375")
    page.get_by_role("button", name="Save my answers").click()
    expect(page).to_have_url(re.compile(rf"/studies/{slug}$"))

    page.get_by_role("link", name="Withdraw from the study").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Withdraw from the study")
    expect(page.locator("#closed-rounds")).to_contain_text("not rewritten")
    _fits(page)
    page.get_by_role("button", name="Withdraw from the study").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Choose whether")
    _fits(page)
    page.get_by_label("Keep my answers so far, under my pseudonym").check()
    screenshot(page, "withdraw-375")
    page.get_by_role("button", name="Withdraw from the study").click()
    expect(page.locator("#withdrawn")).to_contain_text("You withdrew from this study")
    _fits(page)
    page.goto(f"{live_server}/studies/{slug}/rounds/1/ballot")
    expect(page.locator("#withdrawn")).to_contain_text("can no longer answer")
    expect(page.get_by_role("button", name="Save my answers")).to_have_count(0)


def test_a_facilitator_chooses_background_questions_and_records_a_withdrawal_on_a_phone(
    app, live_server, new_page
):
    panel = build_panel()
    panel.facilitator.password_hash = hash_password(PASSWORD)
    db.session.commit()
    open_round(panel.study, actor=panel.facilitator)
    slug = panel.study.slug

    page = new_page(375, 800)
    sign_in_page(page, live_server, panel.facilitator.email)
    page.goto(f"{live_server}/studies/{slug}/background-questions")
    _fits(page)
    page.get_by_label("Where do you mainly work or live?").check()
    page.get_by_role("button", name="Add these questions").click()
    expect(page.locator("#asked")).to_contain_text("Where do you mainly work or live?")
    page.get_by_label("Your question").fill("Which board do you sit on?")
    page.get_by_label("Options").fill("Only one")
    page.get_by_role("button", name="Add the question").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("at least two options")
    _fits(page)

    partner = panel.partners[0]
    page.goto(f"{live_server}/studies/{slug}/panel")
    page.get_by_role("link", name=f"Record a withdrawal for {partner.name}").click()
    _fits(page)
    page.get_by_label("Remove their answers so far").check()
    page.get_by_role("button", name="Record the withdrawal").click()
    expect(page.locator(f"#panellist-{partner.id}")).to_contain_text("answers removed")
    _fits(page)
