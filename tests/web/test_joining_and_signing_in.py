"""Invitation links, passwords and sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Invitation, User, utcnow
from app.security import hash_password
from app.services.panel import add_panellist, issue_invitation
from delphi import PanelRole
from tests.conftest import PASSWORD, Panel, sign_in
from tests.web.helpers import error_summary, get_page, post_form, text_of


@pytest.fixture
def invited(panel: Panel, app):
    with app.test_request_context():
        newcomer = add_panellist(
            panel.study,
            name="Nina Newcomer",
            email="nina@example.test",
            group=panel.study.groups[1],
            role=PanelRole.PATIENT_REP,
        )
        token = issue_invitation(newcomer)
    db.session.commit()
    return newcomer, token


def test_following_an_invitation_joins_the_panel_and_lands_on_the_study(client, invited):
    newcomer, token = invited
    shown = text_of(get_page(client, f"/invitation/{token}"))
    assert "Patient representative 3" in shown and "Nina Newcomer" in shown
    response = client.post(f"/invitation/{token}", data={"password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/studies")
    assert "You take part as Patient representative 3" in text_of(get_page(client, "/studies"))
    db.session.refresh(newcomer)
    assert newcomer.joined_at is not None
    assert "You take part as Patient representative 3" in text_of(
        get_page(client, "/studies/test-study")
    )


def test_an_invitation_works_only_once(client, invited, app):
    _, token = invited
    assert client.post(f"/invitation/{token}", data={}).status_code == 303
    second = app.test_client().get(f"/invitation/{token}")
    assert second.status_code == 410
    shown = text_of(second)
    assert "This link no longer works" in shown and "already been used" in shown
    assert "Page not found" not in shown


def test_a_tampered_invitation_token_is_refused_clearly(client, invited):
    _, token = invited
    response = client.get(f"/invitation/{token[:-2]}xx")
    assert response.status_code == 404
    assert "This invitation link is not valid" in text_of(response)


def test_an_expired_invitation_is_refused_and_says_what_to_do(client, invited):
    newcomer, token = invited
    invitation = db.session.scalar(select(Invitation).where(Invitation.panellist_id == newcomer.id))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.post(f"/invitation/{token}", data={})
    assert response.status_code == 410
    assert "has expired. Ask the study's facilitator for a new one" in text_of(response)
    db.session.refresh(newcomer)
    assert newcomer.joined_at is None


def test_a_new_invitation_link_cancels_the_old_one(client, invited, app):
    newcomer, old = invited
    with app.test_request_context():
        new = issue_invitation(newcomer)
    db.session.commit()
    assert client.get(f"/invitation/{old}").status_code == 410
    get_page(client, f"/invitation/{new}")


def test_mismatched_passwords_are_a_field_error(client, invited):
    _, token = invited
    response = post_form(
        client,
        f"/invitation/{token}",
        data={"password": PASSWORD, "confirm": "something else"},
        status=422,
    )
    assert "The passwords do not match" in error_summary(response)


def test_signing_in_with_email_and_password(client, panel: Panel):
    panel.facilitator.password_hash = hash_password(PASSWORD)
    db.session.commit()
    response = client.post(
        "/login", data={"email": "FAC-test-study@example.test", "password": PASSWORD}
    )
    assert response.status_code == 303
    assert "Test study" in text_of(get_page(client, "/studies"))


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, panel: Panel):
    panel.facilitator.password_hash = hash_password(PASSWORD)
    db.session.commit()
    response = post_form(
        client,
        "/login",
        data={"email": "fac-test-study@example.test", "password": "wrong password"},
        status=422,
    )
    assert "Email address or password is not right" in error_summary(response)


def test_passwords_are_stored_with_argon2(panel: Panel):
    assert hash_password(PASSWORD).startswith("$argon2id$")


def test_after_sign_in_people_are_sent_only_to_pages_on_this_site(client, panel: Panel):
    panel.facilitator.password_hash = hash_password(PASSWORD)
    db.session.commit()
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": "fac-test-study@example.test", "password": PASSWORD},
    )
    assert response.headers["Location"].endswith("/studies")


def test_signing_out_ends_the_session(client, panel: Panel):
    sign_in(client, panel.facilitator)
    get_page(client, "/studies")
    client.post("/logout")
    assert client.get("/studies").status_code == 302


def test_a_password_change_ends_other_sessions(client, panel: Panel):
    sign_in(client, panel.facilitator)
    user = db.session.get(User, panel.facilitator.id)
    user.session_version += 1
    db.session.commit()
    assert client.get("/studies").status_code == 302
