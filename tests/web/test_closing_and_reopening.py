"""Closing a round and completing the study ask first and say what will happen; a closed
round reopens (facilitators only, with a reason, audited) until a later round opens, and its
results and decisions are made again when it closes again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEvent,
    DiscussionMessage,
    Item,
    ItemDecision,
    Rating,
    Round,
    RoundSnapshot,
    utcnow,
)
from app.services.rounds import close_round, open_round, record_decisions
from delphi import Decision
from tests.conftest import Panel, sign_in
from tests.web.helpers import error_summary, page, text_of

S = "/studies/test-study"
HX = {"HX-Request": "true"}


def rate(round_: Round, panellist, scores: list[int]) -> None:
    for ri, score in zip(round_.round_items, scores, strict=False):
        db.session.add(
            Rating(
                round_id=round_.id,
                panellist_id=panellist.id,
                item_version_id=ri.item_version_id,
                score=score,
            )
        )
    db.session.commit()


def closed_and_decided(panel: Panel) -> Round:
    """Round 1 rated by all but the last patient, closed, its suggestions confirmed."""
    round_ = open_round(panel.study, actor=panel.facilitator)
    for panellist in panel.raters[:-1]:
        rate(round_, panellist, [8, 2, 5, 8])
    close_round(round_.id, actor=panel.facilitator)
    choices = {
        ri.item_version.item_id: (Decision(d.suggested), "")
        for ri in round_.round_items
        for d in db.session.scalars(
            select(ItemDecision).where(ItemDecision.item_id == ri.item_version.item_id)
        )
    }
    assert record_decisions(round_, choices, panel.facilitator) == []
    return round_


def test_closing_a_round_asks_first_and_says_who_has_not_finished(client, panel):
    round_ = open_round(panel.study, actor=panel.facilitator)
    for panellist in panel.raters[:2]:
        rate(round_, panellist, [7, 7, 7, 7])
    rate(round_, panel.raters[2], [5])
    sign_in(client, panel.facilitator)

    # The round page's button leads to a question, not to the close.
    button = page(client.get(f"{S}/rounds/1")).find("a", string="Close round 1")
    assert button["href"] == f"{S}/rounds/1/close"
    question = client.get(button["href"])
    assert question.status_code == 200
    shown = text_of(question)
    assert "Close round 1?" in shown
    assert "3 of 5 panellists have not finished: 2 have rated nothing, 1 has rated some" in shown
    assert "Late ratings will be refused" in shown
    assert "You can reopen the round" in shown
    assert db.session.get(Round, round_.id).status == "open"

    # A close sent without the answer to the question only asks it.
    unasked = client.post(f"{S}/rounds/1/close")
    assert unasked.status_code == 303 and unasked.headers["Location"].endswith("/rounds/1/close")
    db.session.expire_all()
    assert db.session.get(Round, round_.id).status == "open"

    closed = client.post(f"{S}/rounds/1/close", data={"confirm": "yes"})
    assert closed.status_code == 303
    db.session.expire_all()
    assert db.session.get(Round, round_.id).status == "closed"


def test_the_question_before_closing_says_when_everyone_has_finished(client, panel):
    round_ = open_round(panel.study, actor=panel.facilitator)
    for panellist in panel.raters:
        rate(round_, panellist, [7, 7, 7, 7])
    sign_in(client, panel.facilitator)
    assert "Every invited panellist has rated every item." in text_of(
        client.get(f"{S}/rounds/1/close")
    )


def test_completing_the_study_asks_first_and_says_what_will_happen(client, panel):
    closed_and_decided(panel)
    sign_in(client, panel.facilitator)
    reason = "Every item reached a decision we can defend."
    question = client.post(f"{S}/complete", data={"reason": reason})
    assert question.status_code == 200
    shown = text_of(question)
    assert "Complete the study?" in shown and reason in shown
    assert "read-only" in shown and "The record becomes final" in shown
    assert "2 items agreed, 1 excluded, 1 with no consensus" in shown
    db.session.expire_all()
    assert panel.study.status != "completed"

    # Going back keeps the reason typed.
    back = client.post(f"{S}/complete", data={"reason": reason, "change": "yes"})
    assert page(back).select_one("#reason").get_text() == reason
    assert panel.study.status != "completed"

    done = client.post(f"{S}/complete", data={"reason": reason, "confirm": "yes"})
    assert done.status_code == 303
    db.session.expire_all()
    assert panel.study.status == "completed" and panel.study.stop_reason == reason


def test_the_question_before_completing_is_not_asked_when_the_study_cannot_complete(client, panel):
    open_round(panel.study, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    refused = client.post(f"{S}/complete", data={"reason": "Enough"})
    assert refused.status_code == 422
    assert "Close the open round before completing the study." in error_summary(refused)[0]


def test_a_closed_round_reopens_with_a_reason_and_its_results_are_made_again_on_closing(
    app, client, panel
):
    round_ = closed_and_decided(panel)
    first_close = round_.closed_at
    decided_items = {i.ref: i.decision for i in db.session.scalars(select(Item))}
    assert decided_items["P1"] == "accept" and decided_items["P2"] == "exclude"
    sign_in(client, panel.facilitator)

    round_page = page(client.get(f"{S}/rounds/1"))
    assert round_page.select_one("form[action$='/rounds/1/reopen']") is not None
    assert "decisions on 4 items will be cleared" in round_page.get_text(" ")

    response = client.post(f"{S}/rounds/1/reopen", data={"reason": "  "})
    assert response.status_code == 422
    assert error_summary(response) == ["Give the reason for reopening the round"]
    db.session.expire_all()
    assert db.session.get(Round, round_.id).status == "closed"

    response = client.post(
        f"{S}/rounds/1/reopen", data={"reason": "A patient representative was in hospital"}
    )
    assert response.status_code == 303
    assert "Round 1 is open again" in text_of(client.get(response.headers["Location"]))
    db.session.expire_all()
    reopened = db.session.get(Round, round_.id)
    assert (reopened.status, reopened.closed_at, reopened.closes_at) == ("open", None, None)
    assert db.session.scalar(select(func.count(RoundSnapshot.id))) == 0
    assert db.session.scalar(select(func.count(ItemDecision.id))) == 0
    assert {i.decision for i in db.session.scalars(select(Item))} == {None}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "round.reopened"))
    assert event.detail["reason"] == "A patient representative was in hospital"
    assert event.detail["closed_at"] == first_close.isoformat()
    assert (
        event.detail["decisions_cleared"]
        == "P1 accepted, P2 excluded, P3 carried forward, I1 accepted"
    )
    assert event.user_id == panel.facilitator.id
    assert "Reopened a round" in text_of(client.get(f"{S}/audit"))
    notices = db.session.scalars(
        select(DiscussionMessage.body)
        .where(DiscussionMessage.kind == "system")
        .order_by(DiscussionMessage.id)
    ).all()
    assert notices[-1] == "Round 1 reopened."

    # The panellist who had not rated now can; the results are computed again on closing.
    late = app.test_client()
    sign_in(late, panel.raters[-1].user)
    vid = round_.round_items[0].item_version_id
    saved = late.post(f"{S}/rounds/1/items/{vid}/rating", data={f"score-{vid}": "9"}, headers=HX)
    assert saved.status_code == 200
    assert client.post(f"{S}/rounds/1/close", data={"confirm": "yes"}).status_code == 303
    snapshot = db.session.scalar(select(RoundSnapshot)).payload
    assert snapshot["items"][str(vid)]["n"] == 5
    fresh = db.session.scalars(select(ItemDecision)).all()
    assert len(fresh) == 4 and all(d.decided_at is None for d in fresh)


def test_a_reopened_round_takes_a_new_closing_date_and_refuses_one_in_the_past(client, panel):
    round_ = closed_and_decided(panel)
    round_.closes_at = utcnow() - timedelta(days=1)
    db.session.commit()
    sign_in(client, panel.facilitator)
    yesterday = (utcnow() - timedelta(days=2)).date()
    refused = client.post(
        f"{S}/rounds/1/reopen",
        data={"reason": "Late", "closes_on": yesterday.isoformat()},
    )
    assert refused.status_code == 422
    assert error_summary(refused) == ["The closing date must be today or later"]
    later = (utcnow() + timedelta(days=7)).date()
    response = client.post(
        f"{S}/rounds/1/reopen", data={"reason": "Late", "closes_on": later.isoformat()}
    )
    assert response.status_code == 303
    db.session.expire_all()
    reopened = db.session.get(Round, round_.id)
    assert reopened.status == "open" and reopened.closes_at > utcnow() + timedelta(days=6)
    # A page view does not close it again at once.
    client.get(f"{S}/rounds/1")
    db.session.expire_all()
    assert db.session.get(Round, round_.id).status == "open"


def test_a_round_cannot_reopen_once_the_next_round_has_opened(client, panel):
    closed_and_decided(panel)
    open_round(panel.study, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    round_page = page(client.get(f"{S}/rounds/1"))
    assert round_page.select_one("form[action$='/rounds/1/reopen']") is None
    assert "Round 2 has opened, so round 1 can no longer reopen" in round_page.get_text(" ")
    refused = client.post(f"{S}/rounds/1/reopen", data={"reason": "Try"})
    assert refused.status_code == 409
    assert "Round 2 has opened, so round 1 can no longer reopen" in text_of(refused)
