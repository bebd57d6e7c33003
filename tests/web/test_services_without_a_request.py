"""Services take who acts from their caller: they run, and audit the right person or the
system, with only an application context, as CLI jobs and scheduled closes do."""

from __future__ import annotations

from datetime import timedelta

from flask import has_request_context
from sqlalchemy import select

from app.access import item_of
from app.extensions import db
from app.models import AuditEvent, DiscussionMessage, Round, utcnow
from app.services import audit
from app.services.discussion import Viewer
from app.services.discussion_writes import hide_message, post_message
from app.services.rounds import close_due_rounds, close_round, open_round
from tests.conftest import Panel, sign_in


def _actors(action: str) -> list[int | None]:
    return list(
        db.session.scalars(
            select(AuditEvent.user_id).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _channel_notices() -> list[str]:
    return list(
        db.session.scalars(
            select(DiscussionMessage.body)
            .where(DiscussionMessage.kind == "system")
            .order_by(DiscussionMessage.id)
        )
    )


def test_opening_and_closing_a_round_audit_the_actor_given_without_a_request(panel: Panel):
    assert not has_request_context()
    round_ = open_round(panel.study, actor=panel.facilitator)
    close_round(round_.id, actor=None)
    assert _actors("round.opened") == [panel.facilitator.id]
    assert _actors("round.closed") == [None]  # the system, e.g. a deadline passing


def test_the_round_service_posts_its_notices_in_the_study_channel(panel: Panel):
    round_ = open_round(
        panel.study, actor=panel.facilitator, closes_at=utcnow() + timedelta(days=3)
    )
    close_round(round_.id, actor=panel.facilitator)
    notices = _channel_notices()
    assert notices[0].startswith("Round 1 opened. It closes on ")
    assert notices[1:] == ["Round 1 closed."]


def test_hiding_a_message_records_the_facilitator_who_hid_it(panel: Panel):
    open_round(panel.study, actor=panel.facilitator)
    author = panel.partners[0]
    item = item_of(panel.study, "P1")
    message = post_message(
        panel.study, item, Viewer(author.user_id, author, False), "A thought worth hiding."
    )
    host = Viewer(panel.facilitator.id, None, True)
    hide_message(message, host, "Off topic")
    db.session.refresh(message)
    assert message.hidden_by_id == panel.facilitator.id
    assert _actors("discussion.message_hidden") == [panel.facilitator.id]


def test_an_audit_event_of_its_own_is_committed_with_its_actor(panel: Panel):
    audit.log(panel.study.id, "audit.exported", by=panel.facilitator.id, format="csv")
    db.session.rollback()  # nothing pending: it was committed by the call
    assert _actors("audit.exported") == [panel.facilitator.id]


def test_rounds_past_their_deadline_are_closed_by_the_system(panel: Panel):
    round_ = open_round(
        panel.study, actor=panel.facilitator, closes_at=utcnow() + timedelta(hours=1)
    )
    assert close_due_rounds(now=utcnow()) == []
    closed = close_due_rounds(now=utcnow() + timedelta(hours=2))
    assert [r.id for r in closed] == [round_.id]
    assert _actors("round.closed") == [None]


def test_a_page_view_that_closes_a_due_round_does_not_make_the_viewer_its_closer(
    client, panel: Panel
):
    round_ = open_round(
        panel.study, actor=panel.facilitator, closes_at=utcnow() + timedelta(hours=1)
    )
    db.session.execute(
        Round.__table__.update()
        .where(Round.id == round_.id)
        .values(closes_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    sign_in(client, panel.partners[0].user)
    assert client.get("/studies/test-study").status_code == 200
    db.session.expire_all()
    assert db.session.get(Round, round_.id).status == "closed"
    assert _actors("round.closed") == [None]
