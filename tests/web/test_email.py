"""Invitations and sign-in links go out through a real SMTP client to a loopback server."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Invitation, Panellist, User
from tests.conftest import Panel, sign_in
from tests.web.conftest import free_port
from tests.web.helpers import get_page, page, post_form, text_of


def test_an_invitation_is_emailed_and_its_link_lets_the_person_join(client, panel: Panel, smtp):
    sign_in(client, panel.facilitator)
    response = post_form(
        client,
        "/studies/test-study/panel/invite",
        data={
            "name": "Mo Mailed",
            "email": "mo@example.test",
            "group": panel.study.groups[0].id,
            "role": "partner",
        },
        status=303,
    )
    shown = get_page(client, response.location)
    assert "Invitation emailed to Mo Mailed." in text_of(shown)
    assert page(shown).select(".app-invite-link") == []
    (message,) = smtp.messages
    assert message["To"] == "mo@example.test"
    body = message.get_payload(decode=True).decode()
    assert "Dear Mo Mailed" in body and "CQC partner 4" in body
    url = re.search(r"http://\S+/invitation/\S+", body).group(0)
    invitation = db.session.scalar(
        select(Invitation).join(Panellist).join(User).where(User.email == "mo@example.test")
    )
    assert invitation.sent_at is not None
    joiner = client.application.test_client()
    assert joiner.post(url.replace("http://localhost", ""), data={}).status_code == 303


def test_an_unreachable_mail_server_falls_back_to_links_and_says_so(client, panel: Panel, app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    try:
        sign_in(client, panel.facilitator)
        response = client.post(
            "/studies/test-study/panel/invite",
            data={
                "name": "Ned",
                "email": "ned@example.test",
                "group": panel.study.groups[0].id,
                "role": "partner",
            },
        )
        assert response.status_code == 303
        shown = client.get(response.location)
    finally:
        app.config.update(MAIL_SERVER="")
    assert "Could not send email to ned@example.test" in text_of(shown)
    assert len(page(shown).select(".app-invite-link")) == 1


def test_an_emailed_sign_in_link_works_once(client, panel: Panel, smtp, app):
    response = client.post("/sign-in-link", data={"email": "partner1-test-study@example.test"})
    assert "If that address belongs to a panel member" in text_of(response)
    (message,) = smtp.messages
    url = re.search(r"http://\S+/sign-in/\S+", message.get_payload(decode=True).decode()).group(0)
    path = url.replace("http://localhost", "")
    assert client.post(path).status_code == 303
    assert "Test study" in text_of(get_page(client, "/studies"))
    other = app.test_client()
    assert other.post(path).status_code == 410


def test_asking_for_a_link_for_an_unknown_address_looks_the_same_and_sends_nothing(
    client, panel: Panel, smtp
):
    response = client.post("/sign-in-link", data={"email": "nobody@example.test"})
    assert "If that address belongs to a panel member" in text_of(response)
    assert smtp.messages == []


def test_reminders_go_to_those_who_have_not_finished_and_are_recorded(client, panel, smtp, app):
    from app.models import Rating, Reminder
    from app.services.rounds import open_round

    round_ = open_round(panel.study, actor=panel.facilitator)
    done = panel.raters[0]
    for round_item in round_.round_items:
        db.session.add(
            Rating(
                round_id=round_.id,
                panellist_id=done.id,
                item_version_id=round_item.item_version_id,
                score=7,
            )
        )
    db.session.commit()
    sign_in(client, panel.facilitator)
    listed = text_of(get_page(client, "/studies/test-study/rounds/1/responders"))
    assert done.user.name not in listed and panel.raters[1].user.name in listed
    response = client.post("/studies/test-study/rounds/1/remind")
    assert response.status_code == 303
    recipients = sorted(m["To"] for m in smtp.messages)
    assert recipients == sorted(p.user.email for p in panel.raters[1:])
    body = smtp.messages[0].get_payload(decode=True).decode()
    assert "/studies/test-study/rounds/1/ballot" in body
    assert db.session.scalar(select(func.count(Reminder.id))) == len(panel.raters) - 1
    assert "Last reminded" in text_of(get_page(client, "/studies/test-study/rounds/1/responders"))


def test_send_reminders_command_emails_non_responders_once_before_the_deadline(
    app, panel, smtp
):
    from datetime import timedelta

    from app.models import utcnow
    from app.services.rounds import open_round

    open_round(panel.study, actor=panel.facilitator, closes_at=utcnow() + timedelta(days=1))
    result = app.test_cli_runner().invoke(args=["send-reminders", "test-study"])
    assert result.exit_code == 0, result.output
    assert f"test-study round 1: {len(panel.raters)} reminders sent" in result.output
    assert len(smtp.messages) == len(panel.raters)
    again = app.test_cli_runner().invoke(args=["send-reminders", "test-study"])
    assert "test-study round 1: 0 reminders sent" in again.output
    assert len(smtp.messages) == len(panel.raters)


def test_reminders_without_a_mail_server_say_why(client, panel):
    from app.services.rounds import open_round

    open_round(panel.study, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    response = client.post("/studies/test-study/rounds/1/remind")
    shown = text_of(get_page(client, response.headers["Location"]))
    assert "Email is not set up (MAIL_SERVER), so reminders cannot be sent." in shown


@pytest.fixture
def unreachable_mail(app):
    """MAIL_SERVER set to a port where nothing listens."""
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    yield
    app.config.update(MAIL_SERVER="")


def test_a_panel_file_with_mail_unreachable_keeps_every_link_and_says_once_that_mail_failed(
    client, panel: Panel, unreachable_mail
):
    sign_in(client, panel.facilitator)
    rows = "".join(f"Person {n},person{n}@example.test,CQC,partner\n" for n in range(1, 6))
    response = client.post(
        "/studies/test-study/panel/import",
        data={"file": (io.BytesIO(("name,email,group,role\n" + rows).encode()), "panel.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    shown = get_page(client, response.location)
    said = text_of(shown)
    assert "5 panellists invited. Copy each link below and send it to them." in said
    # One failure, not five: the others were not tried against a server that is not there.
    assert said.count("did not answer") == 1
    assert "Copy the link below and send it to them yourself." in said
    assert len(page(shown).select(".app-invite-link")) == 5
    # Nothing half-done: everyone is on the panel, no invitation is marked as emailed.
    invitations = db.session.scalars(select(Invitation)).all()
    assert len(invitations) == 5 and all(i.sent_at is None for i in invitations)


def test_reminders_with_mail_unreachable_say_so_record_nothing_and_offer_the_link(
    client, panel: Panel, unreachable_mail
):
    from app.models import Reminder
    from app.services.rounds import open_round

    open_round(panel.study, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    response = client.post("/studies/test-study/rounds/1/remind")
    assert response.status_code == 303
    shown = get_page(client, response.headers["Location"])
    said = text_of(shown)
    assert "Reminders sent to" not in said
    assert f"Email failed, so {len(panel.raters)} panellists were not reminded" in said
    assert "did not answer" in said
    assert "Copy the ballot link below and send it to them yourself." in said
    link = page(shown).select_one("code#ballot-link").get_text(strip=True)
    assert link.endswith("/studies/test-study/rounds/1/ballot")
    assert db.session.scalar(select(func.count(Reminder.id))) == 0
    assert "Last reminded" in said and "Not yet" in said


def test_reminders_stop_at_the_first_unreachable_server(app, panel: Panel, unreachable_mail):
    from app.services.cycle import send_reminders
    from app.services.rounds import open_round

    round_ = open_round(panel.study, actor=panel.facilitator)
    outcome = send_reminders(round_, None, ballot_url="http://localhost/ballot")
    assert outcome.sent == 0 and outcome.not_sent == len(panel.raters)
    assert len(outcome.failed) == 1
