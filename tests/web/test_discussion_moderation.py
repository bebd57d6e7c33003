"""Facilitators moderate: hide with a reason, pin a summary, lock, export; observers read."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, DiscussionMessage, DiscussionThread, Round
from app.services.rounds import close_round, open_round, record_decisions
from delphi import Decision
from tests.conftest import Panel, sign_in
from tests.web.discussion_helpers import BASE, HX, dom, post
from tests.web.helpers import error_summary, get_page, page, post_form, text_of


@pytest.fixture
def round1(panel: Panel) -> Round:
    return open_round(panel.study, actor=panel.facilitator)


def last_message() -> DiscussionMessage:
    return db.session.scalars(
        select(DiscussionMessage)
        .where(DiscussionMessage.kind == "message")
        .order_by(DiscussionMessage.id.desc())
    ).first()


@pytest.fixture
def hidden(client, panel, round1) -> DiscussionMessage:
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Something rude about a named trust")
    message = last_message()
    sign_in(client, panel.facilitator)
    response = client.post(
        f"{BASE}/messages/{message.id}/hide", data={"reason": "Names an organisation"}
    )
    assert response.status_code == 303
    return message


def test_a_hidden_message_is_replaced_for_other_panellists(client, panel, hidden):
    sign_in(client, panel.partners[1].user)
    shown = client.get(f"{BASE}/P1")
    assert "This message was hidden by a facilitator." in text_of(shown)
    assert "named trust" not in shown.get_data(as_text=True)
    assert "Names an organisation" not in shown.get_data(as_text=True)


@pytest.mark.parametrize("who", ["author", "facilitator"])
def test_the_author_and_facilitators_still_see_a_hidden_message_and_the_reason(
    client, panel, hidden, who
):
    sign_in(client, panel.partners[0].user if who == "author" else panel.facilitator)
    text = text_of(get_page(client, f"{BASE}/P1"))
    assert "Something rude about a named trust" in text
    assert "Hidden by a facilitator : Names an organisation" in text or (
        "Hidden by a facilitator: Names an organisation" in text
    )


def test_hiding_is_recorded_in_the_audit_log(client, panel, hidden):
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "discussion.message_hidden")
    )
    assert event.user_id == panel.facilitator.id
    assert event.detail == {
        "message": hidden.id,
        "thread": "P1",
        "reason": "Names an organisation",
    }


def test_hiding_needs_a_reason(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Fine message")
    message = last_message()
    sign_in(client, panel.facilitator)
    response = post_form(
        client, f"{BASE}/messages/{message.id}/hide", data={"reason": " "}, status=422
    )
    assert error_summary(response) == ["Enter a reason for hiding the message"]


def test_a_hidden_message_reaches_open_pages_as_a_replacement(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "To be hidden")
    message = last_message()
    sign_in(client, panel.partners[1].user)
    cursor = page(get_page(client, f"{BASE}/P1")).select_one("#discussion-live input[name=after]")[
        "value"
    ]
    sign_in(client, panel.facilitator)
    client.post(f"{BASE}/messages/{message.id}/hide", data={"reason": "Off topic"})
    sign_in(client, panel.partners[1].user)
    poll = page(
        get_page(client, f"{BASE}/poll?after={cursor}&scope=item:{dom('P1')[5:]}", headers=HX)
    )
    replaced = poll.select_one(f"#message-{message.id}")
    assert replaced["hx-swap-oob"] == "true"
    assert "hidden by a facilitator" in replaced.get_text()
    assert "To be hidden" not in replaced.get_text()


def test_facilitators_can_show_a_hidden_message_again(client, panel, hidden):
    assert client.post(f"{BASE}/messages/{hidden.id}/unhide").status_code == 303
    sign_in(client, panel.partners[1].user)
    assert "Something rude about a named trust" in text_of(get_page(client, f"{BASE}/P1"))


def facilitator_only(message_id: int) -> list[tuple[str, str]]:
    return [
        ("GET", f"{BASE}/messages/{message_id}/hide"),
        ("POST", f"{BASE}/messages/{message_id}/hide"),
        ("POST", f"{BASE}/messages/{message_id}/unhide"),
        ("POST", f"{BASE}/P1/summary"),
        ("POST", f"{BASE}/P1/lock"),
        ("POST", f"{BASE}/P1/unlock"),
        ("POST", f"{BASE}/rounds/1/lock"),
        ("GET", f"{BASE}/P1/export.csv"),
        ("GET", f"{BASE}/P1/export.json"),
    ]


@pytest.mark.parametrize("who", ["partner", "patient", "observer"])
def test_only_facilitators_moderate(client, panel, round1, who):
    sign_in(client, panel.partners[1].user)
    post(client, "P1", "A message")
    message = last_message()
    person = {
        "partner": panel.partners[0],
        "patient": panel.patients[0],
        "observer": panel.observer,
    }[who]
    sign_in(client, person.user)
    for method, url in facilitator_only(message.id):
        response = client.open(url, method=method, data={"reason": "x", "summary": "x"})
        assert response.status_code == 403, (method, url)
    assert last_message().hidden_at is None


def test_a_pinned_summary_shows_on_the_item_and_as_next_rounds_feedback(client, panel, round1):
    sign_in(client, panel.facilitator)
    response = client.post(f"{BASE}/P1/summary", data={"summary": "Most want *shorter* wording."})
    assert response.status_code == 303
    sign_in(client, panel.partners[0].user)
    shown = page(get_page(client, f"{BASE}/P1"))
    summary = shown.select_one(".app-summary")
    assert "Facilitator's summary of the discussion (round 1)" in summary.get_text(" ")
    assert summary.select_one("em").get_text() == "shorter"
    close_round(round1.id, actor=panel.facilitator)
    record_decisions(
        round1,
        {ri.item_version.item_id: (Decision.CARRY_FORWARD, "More") for ri in round1.round_items},
        panel.facilitator,
    )
    open_round(panel.study, actor=panel.facilitator)
    ballot = page(get_page(client, "/studies/test-study/rounds/2/ballot"))
    card = ballot.select_one(f"#meta-{dom('P1')}")
    assert card.select_one("p").get_text() == "Most want shorter wording."
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "discussion.summary_pinned")
    )


def test_posting_to_a_locked_thread_is_refused_with_a_message(client, panel, round1):
    sign_in(client, panel.facilitator)
    assert client.post(f"{BASE}/P1/lock").status_code == 303
    sign_in(client, panel.partners[0].user)
    shown = client.get(f"{BASE}/P1")
    assert "This discussion is locked." in text_of(shown)
    for headers in ({}, HX):
        response = post(client, "P1", "Too late?", headers=headers)
        assert response.status_code == 409
        assert "This discussion is locked" in text_of(response)
    assert last_message() is None
    sign_in(client, panel.facilitator)
    client.post(f"{BASE}/P1/unlock")
    sign_in(client, panel.partners[0].user)
    assert post(client, "P1", "Open again").status_code == 303


def test_closing_a_round_lets_facilitators_lock_every_item_thread(client, panel, round1):
    sign_in(client, panel.facilitator)
    assert client.post(f"{BASE}/rounds/1/lock").status_code == 409  # still open
    close_round(round1.id, actor=panel.facilitator)
    response = client.post(f"{BASE}/rounds/1/lock")
    assert response.status_code == 303
    threads = db.session.scalars(
        select(DiscussionThread).where(DiscussionThread.item_id.is_not(None))
    ).all()
    assert len(threads) == 4 and all(t.locked_at for t in threads)


def test_observers_read_but_cannot_post(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Visible to observers")
    sign_in(client, panel.observer.user)
    shown = client.get(f"{BASE}/P1")
    assert "Visible to observers" in text_of(shown)
    assert "you can read the discussion but not post" in text_of(shown)
    assert not page(shown).select("textarea")
    response = post(client, "P1", "Let me in")
    assert response.status_code == 403
    assert "Observers can read the discussion but cannot post messages." in text_of(response)
    ballot = page(get_page(client, "/studies/test-study/rounds/1/ballot"))
    assert not ballot.select(".app-compose textarea")


def test_a_flood_of_messages_is_stopped_by_a_rate_limit(app, client, panel, round1, monkeypatch):
    monkeypatch.setitem(app.config, "DISCUSSION_RATE_LIMIT", (3, 60))
    sign_in(client, panel.partners[0].user)
    for n in range(3):
        assert post(client, "P1", f"Message {n}").status_code == 303
    response = post(client, "P1", "One too many")
    assert response.status_code == 429
    assert "Wait a minute" in text_of(response)
    # The limit is per person and read from the database, not a worker's memory.
    sign_in(client, panel.partners[1].user)
    assert post(client, "P1", "Someone else").status_code == 303


def test_facilitators_see_message_counts_per_category(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "a", category="wording")
    post(client, "P1", "b", category="wording")
    post(client, "P1", "c", category="feasibility")
    sign_in(client, panel.facilitator)
    counts = [
        li.get_text(" ", strip=True)
        for li in page(get_page(client, f"{BASE}/P1")).select(".app-category-counts li")
    ]
    assert counts == [
        "Wording: 2",
        "Evidence: 0",
        "Feasibility: 1",
        "Patient perspective: 0",
        "Other: 0",
        "No topic: 0",
    ]
    sign_in(client, panel.partners[0].user)
    assert not page(get_page(client, f"{BASE}/P1")).select(".app-category-counts")


def test_facilitators_export_a_thread_with_names(client, panel, hidden):
    response = get_page(client, f"{BASE}/P1/export.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0]["name"] == panel.partners[0].user.name
    assert rows[0]["author"] == "CQC partner 1"
    assert rows[0]["hidden"] == "True" and rows[0]["hidden_reason"] == "Names an organisation"
    as_json = json.loads(client.get(f"{BASE}/P1/export.json").get_data(as_text=True))
    assert as_json["messages"][0]["text"] == "Something rude about a named trust"


def test_the_export_for_panellists_has_pseudonyms_only_and_no_hidden_messages(
    client, panel, hidden
):
    sign_in(client, panel.patients[0].user)
    post(client, "P1", "Patient view")
    sign_in(client, panel.facilitator)
    for fmt in ("csv", "json"):
        response = client.get(f"{BASE}/P1/export.{fmt}?for=panellists")
        body = response.get_data(as_text=True)
        for person in panel.partners + panel.patients:
            assert person.user.name not in body
        assert "named trust" not in body
        assert "Patient representative 1" in body and "Patient view" in body


def test_exported_cells_cannot_run_as_spreadsheet_formulas(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", '=HYPERLINK("http://evil.example")')
    sign_in(client, panel.facilitator)
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"{BASE}/P1/export.csv").get_data(as_text=True)))
    )
    assert rows[0]["text"].startswith("'=")
