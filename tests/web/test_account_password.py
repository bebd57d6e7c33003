"""Setting or changing one's own password on the account page: a first password for an
account that so far signed in only with emailed links, a change that needs the current one,
the one password rule, CSRF, and every other session ending while this one carries on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app import create_app
from app.extensions import db
from app.models import AuditEvent, LoginAttempt, User, UserSession, utcnow
from app.security import check_password, hash_password
from app.services import sessions
from tests.conftest import PASSWORD, Panel, sign_in
from tests.web.helpers import error_summary, get_page, page, post_form, text_of

NEW = "a brand new passphrase"


def _fields(response) -> dict[str, dict[str, str]]:
    return {
        i["name"]: dict(i.attrs)
        for i in page(response).select("form[action='/account/password'] input")
    }


def _user(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def _signed_in(client) -> bool:
    return client.get("/studies").status_code == 200


@pytest.fixture
def with_password(panel: Panel) -> User:
    panel.facilitator.password_hash = hash_password(PASSWORD)
    db.session.commit()
    return panel.facilitator


def test_a_link_only_account_sets_a_first_password_and_then_signs_in_with_it(app, panel):
    user = panel.partners[0].user
    assert user.password_hash is None
    client = app.test_client()
    token = sessions.issue_sign_in_link(user, 15)
    assert client.post(f"/sign-in/{token}").status_code == 303
    shown = get_page(client, "/account")
    fields = _fields(shown)
    # No current password to ask for: there is none.
    assert "password-current" not in fields
    assert fields["password-new"]["autocomplete"] == "new-password"
    assert fields["password-new"]["type"] == "password"
    assert fields["password-confirm"]["autocomplete"] == "new-password"
    labels = {label["for"] for label in page(shown).select("form label")}
    assert {"password-new", "password-confirm"} <= labels
    done = post_form(
        client, "/account/password", {"password-new": NEW, "password-confirm": NEW}, status=303
    )
    assert done.location.endswith("/account#password")
    shown = text_of(get_page(client, "/account"))
    assert "Your password is set" in shown and "signed out" in shown
    assert _signed_in(client)
    assert check_password(_user(user.id).password_hash, NEW)
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.user_id == user.id))
    assert "account.password_set" in list(events)
    # Signed out, the new password signs in.
    client.post("/logout")
    fresh = app.test_client()
    response = fresh.post("/login", data={"email": user.email, "password": NEW})
    assert response.status_code == 303
    assert _signed_in(fresh)


def test_a_first_password_needs_a_recent_sign_in(app, client, panel):
    user = panel.partners[0].user
    sign_in(client, user)
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(created_at=utcnow() - timedelta(hours=2))
    )
    db.session.commit()
    assert "password-new" not in _fields(get_page(client, "/account"))
    refused = post_form(
        client, "/account/password", {"password-new": NEW, "password-confirm": NEW}, status=403
    )
    assert "sign in again with an emailed link" in " ".join(error_summary(refused))
    assert _user(user.id).password_hash is None


def test_changing_with_the_right_current_password(app, client, with_password):
    sign_in(client, with_password)
    fields = _fields(get_page(client, "/account"))
    assert fields["password-current"]["autocomplete"] == "current-password"
    post_form(
        client,
        "/account/password",
        {"password-current": PASSWORD, "password-new": NEW, "password-confirm": NEW},
        status=303,
    )
    assert "Your password is changed" in text_of(get_page(client, "/account"))
    user = _user(with_password.id)
    assert check_password(user.password_hash, NEW)
    assert not check_password(user.password_hash, PASSWORD)
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "account.password_changed" in actions


def test_a_wrong_current_password_is_refused_and_counted_like_a_sign_in(app, client, with_password):
    sign_in(client, with_password)
    version = with_password.session_version
    refused = post_form(
        client,
        "/account/password",
        {"password-current": "not it at all", "password-new": NEW, "password-confirm": NEW},
        status=422,
    )
    assert error_summary(refused) == ["Your current password is not right"]
    shown = page(refused)
    assert shown.select_one("#password-current-error") is not None
    assert "nhsuk-form-group--error" in shown.select_one("#password-current").parent["class"]
    # The password fields are never echoed back.
    assert NEW not in refused.get_data(as_text=True)
    assert "not it at all" not in refused.get_data(as_text=True)
    user = _user(with_password.id)
    assert check_password(user.password_hash, PASSWORD)
    assert user.session_version == version
    assert _signed_in(client)
    keys = set(db.session.scalars(select(LoginAttempt.key)))
    assert f"email:{with_password.email}" in keys


def test_guessing_the_current_password_is_throttled_like_sign_in(app, client, with_password):
    sign_in(client, with_password)
    data = {"password-current": "wrong guess", "password-new": NEW, "password-confirm": NEW}
    statuses = [client.post("/account/password", data=data).status_code for _ in range(12)]
    assert statuses[0] == 422
    assert 429 in statuses
    throttled = client.post("/account/password", data=data)
    assert throttled.status_code == 429
    assert "Too many sign-in attempts" in " ".join(error_summary(throttled))
    assert check_password(_user(with_password.id).password_hash, PASSWORD)


@pytest.mark.parametrize(
    "new,confirm,message",
    [
        (NEW, NEW + "x", "The passwords do not match"),
        ("short", "short", "Your password must be at least 10 characters"),
        ("", "", "Enter a new password"),
        ("x" * 201, "x" * 201, "Your password must be 200 characters or fewer"),
    ],
)
def test_a_bad_new_password_is_refused_with_a_field_error(
    app, client, with_password, new, confirm, message
):
    sign_in(client, with_password)
    refused = post_form(
        client,
        "/account/password",
        {"password-current": PASSWORD, "password-new": new, "password-confirm": confirm},
        status=422,
    )
    assert message in error_summary(refused)
    assert check_password(_user(with_password.id).password_hash, PASSWORD)
    assert _signed_in(client)


def test_an_error_keeps_the_rest_of_the_page(app, client, with_password):
    sign_in(client, with_password)
    refused = post_form(
        client,
        "/account/password",
        {"password-current": PASSWORD, "password-new": "short", "password-confirm": "short"},
        status=422,
    )
    shown = page(refused)
    # The other forms of the account page are still there, and their choices as saved.
    assert shown.select_one("form[action='/account/notifications']") is not None
    assert shown.select_one("a[href='/account/two-step']") is not None
    assert "value" not in _fields(refused)["password-current"]


def test_other_sessions_end_and_this_one_carries_on(app, with_password):
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, with_password)
    sign_in(elsewhere, with_password)
    assert _signed_in(here) and _signed_in(elsewhere)
    post_form(
        here,
        "/account/password",
        {"password-current": PASSWORD, "password-new": NEW, "password-confirm": NEW},
        status=303,
    )
    assert _signed_in(here)
    assert not _signed_in(elsewhere)
    live = db.session.scalar(
        select(func.count(UserSession.id)).where(
            UserSession.user_id == with_password.id, UserSession.ended_at.is_(None)
        )
    )
    assert live == 1


def test_not_signed_in_goes_to_sign_in(app, client, with_password):
    response = client.post(
        "/account/password",
        data={"password-current": PASSWORD, "password-new": NEW, "password-confirm": NEW},
    )
    assert response.status_code == 302
    assert "/login" in response.location
    assert check_password(_user(with_password.id).password_hash, PASSWORD)


def test_without_a_csrf_token_nothing_changes(app, with_password):
    strict = create_app({**app.config, "WTF_CSRF_ENABLED": True})
    client = strict.test_client()
    sign_in(client, with_password)
    data = {"password-current": PASSWORD, "password-new": NEW, "password-confirm": NEW}
    refused = client.post("/account/password", data=data)
    assert refused.status_code == 400
    assert check_password(_user(with_password.id).password_hash, PASSWORD)
    # With the page's token it goes through.
    token = page(client.get("/account")).select_one(
        "form[action='/account/password'] input[name$=csrf_token]"
    )
    done = client.post("/account/password", data={**data, token["name"]: token["value"]})
    assert done.status_code == 303
    assert check_password(_user(with_password.id).password_hash, NEW)
