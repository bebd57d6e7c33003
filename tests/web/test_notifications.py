"""Notifications by email, each a real SMTP message caught by a loopback server: a round
opens, the reminder before the deadline, a round closes, the daily discussion digest; each
kind can be turned off, and every mail has a one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEvent,
    DiscussionMessage,
    NotificationSettings,
    Rating,
    Reminder,
    Round,
    utcnow,
)
from app.services.cycle import send_reminders
from app.services.notifications import send_digests, settings_of, unsubscribe_token
from app.services.rounds import close_due_rounds, close_round, open_round
from app.text.dates import LONDON
from delphi import RoundStatus
from delphi.notifications import NotificationKind
from tests.conftest import Panel, build_panel, sign_in
from tests.web.conftest import free_port
from tests.web.discussion_helpers import post
from tests.web.helpers import get_page, text_of
from tests.web.helpers import page as soup


def body_of(message) -> str:
    return message.get_payload(decode=True).decode()


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def unsubscribe_link(message) -> str:
    header = message["List-Unsubscribe"]
    assert header.startswith("<") and header.endswith(">"), header
    return header[1:-1]


def assert_one_click_headers(message) -> None:
    assert re.fullmatch(r"<https?://\S+/unsubscribe/\S+>", message["List-Unsubscribe"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The same link is in the text, for people whose mail program shows no button.
    assert unsubscribe_link(message) in body_of(message)


def to(messages) -> list[str]:
    return sorted(m["To"] for m in messages)


@pytest.fixture
def unreachable_mail(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    yield
    app.config.update(MAIL_SERVER="")


# ---------------------------------------------------------------- a round opens


def test_opening_a_round_emails_each_invited_rater_the_link_and_the_deadline(
    client, panel: Panel, smtp
):
    sign_in(client, panel.facilitator)
    closes_on = (utcnow().astimezone(LONDON) + timedelta(days=10)).date()
    response = client.post(
        "/studies/test-study/rounds/open",
        data={"closes_on": closes_on.isoformat(), "invite_rule": "everyone"},
    )
    assert response.status_code == 303
    said = text_of(get_page(client, response.location))
    assert f"Emailed {len(panel.raters)} panellists that the round is open." in said
    # Observers do not rate, so they are not asked to.
    assert to(smtp.messages) == sorted(p.user.email for p in panel.raters)
    message = smtp.messages[0]
    assert message["Subject"] == "Round 1 of Test study is open"
    assert_one_click_headers(message)
    body = body_of(message)
    assert f"It closes on {closes_on.day} {closes_on:%B %Y} at 23:59 (UK time)." in body
    link = re.search(r"https?://\S+/studies/test-study/rounds/1/ballot", body).group(0)
    rater = next(p for p in panel.raters if p.user.email == message["To"])
    other = client.application.test_client()
    sign_in(other, rater.user)
    assert other.get(path_of(link)).status_code == 200


def test_a_round_without_a_deadline_says_so(client, panel: Panel, smtp):
    sign_in(client, panel.facilitator)
    client.post("/studies/test-study/rounds/open", data={"invite_rule": "everyone"})
    assert "It has no deadline" in body_of(smtp.messages[0])


def test_someone_who_turned_round_emails_off_is_not_emailed(client, panel: Panel, smtp):
    quiet = panel.raters[0]
    own = client.application.test_client()
    sign_in(own, quiet.user)
    # Only "reminder" and "digest" stay ticked; an unticked box is an email turned off.
    assert (
        own.post("/account/notifications", data={"reminder": "y", "discussion": "y"}).status_code
        == 303
    )
    page = soup(get_page(own, "/account"))
    assert page.select_one("#round_opened").get("checked") is None
    assert page.select_one("#reminder").get("checked") is not None
    sign_in(client, panel.facilitator)
    client.post("/studies/test-study/rounds/open", data={"invite_rule": "everyone"})
    assert quiet.user.email not in to(smtp.messages)
    assert len(smtp.messages) == len(panel.raters) - 1


# ---------------------------------------------------------------- a round closes


def test_closing_a_round_tells_the_panel_its_feedback_is_ready(client, panel: Panel, smtp):
    round_ = open_round(panel.study, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    response = client.post("/studies/test-study/rounds/1/close", data={"confirm": "yes"})
    assert response.status_code == 303
    assert db.session.get(Round, round_.id).status == RoundStatus.CLOSED.value
    everyone = [*panel.raters, panel.observer]
    assert to(smtp.messages) == sorted(p.user.email for p in everyone)
    message = smtp.messages[0]
    assert "has closed: feedback is ready" in message["Subject"]
    assert_one_click_headers(message)
    link = re.search(r"https?://\S+/studies/test-study/rounds/1/feedback", body_of(message))
    reader = client.application.test_client()
    sign_in(reader, panel.observer.user)
    assert reader.get(path_of(link.group(0))).status_code == 200


def test_a_round_closed_by_its_deadline_also_tells_the_panel(app, panel: Panel, smtp):
    open_round(panel.study, actor=panel.facilitator, closes_at=utcnow() + timedelta(hours=1))
    assert close_due_rounds(now=utcnow() + timedelta(hours=2))
    assert len(smtp.messages) == len(panel.raters) + 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "round.close_emailed"))
    assert event.user_id is None and event.detail["sent"] == len(panel.raters) + 1


# ---------------------------------------------------------------- one-click unsubscribe


def test_one_click_unsubscribe_turns_off_that_kind_only(app, client, panel: Panel, smtp):
    sign_in(client, panel.facilitator)
    client.post("/studies/test-study/rounds/open", data={"invite_rule": "everyone"})
    message = smtp.messages[0]
    person = next(p for p in panel.raters if p.user.email == message["To"])
    path = path_of(unsubscribe_link(message))
    stranger = app.test_client()  # not signed in: the token is the proof
    question = stranger.get(path)
    assert question.status_code == 200 and "Stop these emails?" in text_of(question)
    assert db.session.get(NotificationSettings, person.user_id) is None  # a GET changes nothing
    # What a mail program sends (RFC 8058), with CSRF protection on as in production.
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        done = stranger.post(path, data={"List-Unsubscribe": "One-Click"})
        refused = stranger.post("/account/notifications", data={"round_opened": "y"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert done.status_code == 200 and "Emails stopped" in text_of(done)
    assert refused.status_code in (302, 400)  # the account form still needs its token
    db.session.expire_all()
    chosen = db.session.get(NotificationSettings, person.user_id)
    assert chosen.round_opened is False
    assert chosen.reminder and chosen.round_closed and chosen.discussion
    others = [p for p in panel.raters if p is not person]
    assert db.session.scalar(select(func.count()).select_from(NotificationSettings)) == 1, others


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: "x" + t,  # payload changed
        lambda t: t.split(".")[0],  # signature cut off
        lambda t: "not-a-token",
    ],
)
def test_a_tampered_unsubscribe_link_is_refused(app, panel: Panel, tamper):
    token = unsubscribe_token(panel.raters[0].user_id, NotificationKind.REMINDER)
    client = app.test_client()
    for method in ("GET", "POST"):
        response = client.open(f"/unsubscribe/{tamper(token)}", method=method)
        assert response.status_code == 404
        assert "This unsubscribe link is not valid" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(NotificationSettings)) == 0


def test_an_unsubscribe_token_names_a_real_person_and_kind_under_this_key_and_purpose(
    app, panel: Panel
):
    from itsdangerous import URLSafeSerializer

    key = app.config["SECRET_KEY"]
    forged = [
        URLSafeSerializer(key, salt="another.purpose").dumps({"u": 1, "k": "reminder"}),
        URLSafeSerializer("another-key", salt="notifications.unsubscribe").dumps(
            {"u": 1, "k": "reminder"}
        ),
        URLSafeSerializer(key, salt="notifications.unsubscribe").dumps(
            {"u": 99999, "k": "reminder"}
        ),
        URLSafeSerializer(key, salt="notifications.unsubscribe").dumps({"u": 1, "k": "everything"}),
        URLSafeSerializer(key, salt="notifications.unsubscribe").dumps(["u", 1]),
    ]
    client = app.test_client()
    for token in forged:
        assert client.post(f"/unsubscribe/{token}").status_code == 404
    good = unsubscribe_token(panel.raters[0].user_id, NotificationKind.REMINDER)
    assert client.post(f"/unsubscribe/{good}").status_code == 200


# ---------------------------------------------------------------- the reminder


def _rate_everything(round_: Round, panellist) -> None:
    for round_item in round_.round_items:
        db.session.add(
            Rating(
                round_id=round_.id,
                panellist_id=panellist.id,
                item_version_id=round_item.item_version_id,
                score=7,
            )
        )
    db.session.commit()


def test_the_automatic_reminder_goes_once_only_inside_two_days_of_the_deadline(
    app, panel: Panel, smtp
):
    deadline = utcnow() + timedelta(days=5)
    round_ = open_round(panel.study, actor=panel.facilitator, closes_at=deadline)
    _rate_everything(round_, panel.raters[0])
    link = "http://localhost/studies/test-study/rounds/1/ballot"
    early = send_reminders(round_, None, ballot_url=link, automatic_at=deadline - timedelta(days=3))
    assert early.sent == 0 and smtp.messages == []
    inside = deadline - timedelta(days=1, hours=12)
    first = send_reminders(round_, None, ballot_url=link, automatic_at=inside)
    unfinished = panel.raters[1:]
    assert first.sent == len(unfinished)
    assert to(smtp.messages) == sorted(p.user.email for p in unfinished)
    message = smtp.messages[0]
    assert_one_click_headers(message)
    assert "closes on" in body_of(message) and link in body_of(message)
    later = send_reminders(round_, None, ballot_url=link, automatic_at=inside + timedelta(hours=6))
    assert later.sent == 0 and len(smtp.messages) == len(unfinished)
    assert db.session.scalar(select(func.count(Reminder.id))) == len(unfinished)
    # An hourly run with no one to remind leaves the audit log alone.
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "round.reminded")
        )
        == 1
    )


def test_the_facilitator_can_still_remind_by_hand_and_choices_are_honoured(
    client, panel: Panel, smtp
):
    from app.services.notifications import set_preferences

    round_ = open_round(
        panel.study, actor=panel.facilitator, closes_at=utcnow() + timedelta(days=1)
    )
    set_preferences(panel.raters[0].user_id, {NotificationKind.REMINDER: False})
    send_reminders(round_, None, ballot_url="http://localhost/b", automatic_at=utcnow())
    assert len(smtp.messages) == len(panel.raters) - 1
    sign_in(client, panel.facilitator)
    response = client.post("/studies/test-study/rounds/1/remind")
    said = text_of(get_page(client, response.location))
    assert f"Reminders sent to {len(panel.raters) - 1} panellists." in said
    assert "1 panellist turned reminders off" in said
    assert panel.raters[0].user.email not in to(smtp.messages)


def test_the_reminder_command_skips_rounds_far_from_their_deadline(app, panel: Panel, smtp):
    open_round(panel.study, actor=panel.facilitator, closes_at=utcnow() + timedelta(days=4))
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "No open round is within two days of its deadline." in result.output
    assert smtp.messages == []


# ---------------------------------------------------------------- the digest


@pytest.fixture
def conversation(app, panel: Panel):
    """Partner 1 writes about P1; partner 2 replies to it; patient 1 writes on P2 naming
    #P1; partner 3's reply is hidden; in another study someone writes about its P1."""
    first, second, third = panel.partners
    patient = panel.patients[0]
    clients = {}
    for p in [first, second, third, patient]:
        clients[p.id] = app.test_client()
        sign_in(clients[p.id], p.user)
    assert post(clients[first.id], "P1", "Is this clear enough?").status_code == 303
    opening = db.session.scalar(
        select(DiscussionMessage.id).where(DiscussionMessage.author_user_id == first.user_id)
    )
    assert (
        post(clients[second.id], "P1", "Yes, I think so.", parent_id=str(opening)).status_code
        == 303
    )
    assert post(clients[patient.id], "P2", "This overlaps with #P1.").status_code == 303
    assert (
        post(clients[third.id], "P1", "Something rude.", parent_id=str(opening)).status_code == 303
    )
    rude = db.session.scalar(
        select(DiscussionMessage).where(DiscussionMessage.author_user_id == third.user_id)
    )
    rude.hidden_at = utcnow()
    other = build_panel(slug="other-study", title="Other study")
    other.partners[0].user.email = "other@example.test"
    db.session.add(
        DiscussionMessage(
            thread=_thread(other.study.id, other.study.items[0].id),
            kind="message",
            author_user_id=other.partners[0].user_id,
            author_panellist_id=other.partners[0].id,
            body="About the other study",
            hidden_reason="",
        )
    )
    db.session.commit()
    return panel


def _thread(study_id, item_id):
    from app.services.discussion_writes import ensure_thread

    return ensure_thread(study_id, item_id)


def test_the_digest_groups_replies_followed_items_and_mentions_by_pseudonym(
    app, conversation: Panel, smtp
):
    first, second, third = conversation.partners
    run = send_digests()
    by_person = {m["To"]: m for m in smtp.messages}
    # Partner 1: a reply and a mention of P1, which they follow; nothing hidden.
    mail = by_person[first.user.email]
    body = body_of(mail)
    assert_one_click_headers(mail)
    assert mail["Subject"] == "Discussion digest: 2 new messages for you"
    assert "== Test study ==" in body
    replies = body.index("Replies to you (1):")
    mentions = body.index("Items you follow mentioned elsewhere (1):")
    assert replies < body.index("Yes, I think so.") < mentions < body.index("overlaps with #P1")
    assert second.pseudonym in body and conversation.patients[0].pseudonym in body
    assert "Something rude" not in body and "About the other study" not in body
    for person in conversation.raters[1:]:
        assert person.user.name not in body
    assert "/studies/test-study/discussion/P1" in body
    # Partner 2 follows P1 (they wrote there): partner 1's message, the mention.
    assert "Is this clear enough?" in body_of(by_person[second.user.email])
    # Partner 3 wrote on P1 too, but their own message is never news to them.
    assert "Something rude" not in body_of(by_person[third.user.email])
    # The patient follows P2, where nobody else wrote; the other study's people follow nothing.
    assert conversation.patients[0].user.email not in by_person
    assert "other@example.test" not in by_person
    assert run.sent == 3 and run.sent == len(smtp.messages)


def test_no_digest_when_nothing_is_new_and_each_message_is_told_once(
    app, conversation: Panel, smtp
):
    send_digests()
    count = len(smtp.messages)
    assert count > 0
    again = send_digests()
    assert again.sent == 0 and len(smtp.messages) == count
    second = conversation.partners[1]
    replier = app.test_client()
    sign_in(replier, second.user)
    post(replier, "P1", "One more thing.")
    send_digests()
    new = smtp.messages[count:]
    assert new and all("One more thing." in body_of(m) for m in new)
    assert all("Is this clear enough?" not in body_of(m) for m in new)


def test_the_digest_can_be_turned_off(app, conversation: Panel, smtp):
    from app.services.notifications import set_preferences

    first = conversation.partners[0]
    set_preferences(first.user_id, {NotificationKind.DISCUSSION: False})
    send_digests()
    assert first.user.email not in to(smtp.messages)
    assert smtp.messages  # the others still get theirs


def test_send_digest_command(app, conversation: Panel, smtp):
    result = app.test_cli_runner().invoke(args=["send-digest"])
    assert result.exit_code == 0, result.output
    assert "3 digests sent" in result.output


# ---------------------------------------------------------------- mail server unreachable


def test_with_mail_unreachable_a_round_still_opens_and_the_facilitator_gets_the_link(
    client, panel: Panel, unreachable_mail
):
    sign_in(client, panel.facilitator)
    response = client.post("/studies/test-study/rounds/open", data={"invite_rule": "everyone"})
    assert response.status_code == 303
    said = text_of(get_page(client, response.location))
    assert db.session.scalar(select(Round.status)) == RoundStatus.OPEN.value
    assert (
        f"Email failed, so {len(panel.raters)} panellists were not told that the round is open"
        in said
    )
    assert "did not answer" in said
    assert re.search(
        r"send it to them yourself: https?://\S+/studies/test-study/rounds/1/ballot", said
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "round.open_emailed"))
    assert event.detail == {"round": 1, "sent": 0, "failed": len(panel.raters)}


def test_with_mail_unreachable_a_round_still_closes_with_its_results(
    client, panel: Panel, unreachable_mail
):
    from app.models import RoundSnapshot

    open_round(panel.study, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    response = client.post("/studies/test-study/rounds/1/close", data={"confirm": "yes"})
    assert response.status_code == 303
    said = text_of(get_page(client, response.location))
    assert "Round 1 is closed and its results are stored." in said
    assert "were not told that its feedback is ready" in said
    assert "/studies/test-study/rounds/1/feedback" in said
    assert db.session.scalar(select(func.count(RoundSnapshot.id))) == 1


def test_with_mail_unreachable_no_digest_is_lost(app, conversation: Panel, unreachable_mail, smtp):
    # `smtp` runs second and points MAIL_SERVER at itself; undo that for the first run.
    working_port = app.config["MAIL_PORT"]
    app.config.update(MAIL_PORT=free_port())
    failed = send_digests()
    assert failed.sent == 0 and len(failed.failed) == 1
    # Nobody's "last digest" moved past messages they were not sent.
    assert all(settings_of(p.user_id).last_digest_at is None for p in conversation.partners)
    app.config.update(MAIL_PORT=working_port)
    send_digests()
    assert len(smtp.messages) == 3


def test_without_a_mail_server_opening_a_round_offers_the_link(client, panel: Panel):
    sign_in(client, panel.facilitator)
    response = client.post("/studies/test-study/rounds/open", data={"invite_rule": "everyone"})
    said = text_of(get_page(client, response.location))
    assert "Email is not set up, so the panel was not emailed." in said
    assert "/studies/test-study/rounds/1/ballot" in said


# ---------------------------------------------------------------- the account page


def test_the_account_page_lists_each_kind_of_email(client, panel: Panel):
    sign_in(client, panel.raters[0].user)
    page = soup(get_page(client, "/account"))
    labels = [label.get_text(strip=True) for label in page.select(".nhsuk-checkboxes__label")]
    assert labels == [kind.label for kind in NotificationKind]
    assert all(box.get("checked") is not None for box in page.select("input[type=checkbox]"))
    assert page.select_one("form input[name=csrf_token]") is not None


def test_turning_the_digest_back_on_does_not_bring_back_the_past(app, conversation: Panel, smtp):
    from app.services.notifications import set_preferences

    first = conversation.partners[0]
    set_preferences(first.user_id, {NotificationKind.DISCUSSION: False})
    set_preferences(first.user_id, {NotificationKind.DISCUSSION: True})
    send_digests()
    assert first.user.email not in to(smtp.messages)


def test_closing_by_the_service_sends_nothing_by_itself(app, panel: Panel, smtp):
    """The mail goes after the close commits (the view or cron sends it), never inside it."""
    round_ = open_round(panel.study, actor=panel.facilitator)
    close_round(round_.id, actor=panel.facilitator)
    assert smtp.messages == []


@pytest.mark.parametrize(
    "token",
    ["%00", "x" * 5000, "%C3%A9t%C3%A9", "..%2F..", "e30", "e30.", "W10.abc", "%FF%FE", "a.b.c"],
)
def test_hostile_unsubscribe_tokens_are_refused_without_a_500(app, panel: Panel, token):
    client = app.test_client()
    for method in ("GET", "POST"):
        response = client.open(f"/unsubscribe/{token}", method=method)
        assert 400 <= response.status_code < 500, (method, token, response.status_code)
    assert db.session.scalar(select(func.count()).select_from(NotificationSettings)) == 0
