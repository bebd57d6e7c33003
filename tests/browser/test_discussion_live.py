"""Two panellists in two browsers see each other's messages appear without reloading."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.security import hash_password
from app.services.rounds import open_round
from tests.browser.conftest import screenshot
from tests.browser.conftest import sign_in_page as sign_in
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser


def test_two_panellists_see_each_others_messages_appear_live(app, live_server, new_page):
    panel = build_panel(partners=1, patients=1, observer=False)
    partner, patient = panel.partners[0], panel.patients[0]
    for person in (partner, patient):
        person.user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    round1 = open_round(panel.study, actor=panel.facilitator)
    first_item = round1.round_items[0].item_version.item

    alice = new_page()
    bob = new_page()
    sign_in(alice, live_server, partner.user.email)
    sign_in(bob, live_server, patient.user.email)
    thread_url = f"{live_server}/studies/{panel.study.slug}/discussion/{first_item.ref}"
    alice.goto(thread_url)
    bob.goto(f"{live_server}/studies/{panel.study.slug}/rounds/1/ballot")
    dom = f"item-{first_item.id}"
    alice_loads = []
    alice.on("load", lambda: alice_loads.append(1))

    # Alice writes on the item page; Bob's open ballot shows it without a reload.
    alice.fill(f"#{dom}-body", "The wording needs to be *shorter*")
    assert "characters remaining" in alice.inner_text(f"#{dom}-body-count")
    alice.get_by_role("button", name="Send message").click()
    alice.locator(f"#messages-{dom} li.app-message", has_text="shorter").wait_for()
    expect(alice.locator(f"#{dom}-body")).to_have_value("")
    # The thread is folded away on the ballot, not loaded: its count says a message came.
    expect(bob.locator(f"#unread-{dom}")).to_contain_text("1 unread", timeout=8000)
    assert partner.user.name not in bob.content()

    # Bob opens it (the messages load then) and replies from the ballot; Alice sees the reply
    # with its quote, still without reload.
    bob.locator(f"#discussion-{dom} summary").click()
    bob.locator(f"#messages-{dom} li.app-message", has_text="shorter").wait_for()
    bob.get_by_role("link", name="Reply to CQC partner 1").click()
    bob.locator(f"#compose-{dom} .app-compose__reply").wait_for()
    bob.fill(f"#{dom}-body", "Agreed, patients lose interest in long questions")
    bob.get_by_role("button", name="Send reply").click()
    reply = alice.locator(f"#messages-{dom} li.app-message", has_text="patients lose interest")
    reply.wait_for(timeout=8000)
    assert "CQC partner 1 wrote" in reply.inner_text()
    assert "Patient voice" in reply.inner_text()
    assert alice_loads == []  # no reload happened on Alice's page
    screenshot(alice, "discussion-live")
