"""Sign-in rate limits, tokens, sessions, cookies, CSRF and security headers."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Invitation, LoginAttempt, SignInLink, User, utcnow
from app.security import hash_password, new_token, token_hash
from app.services import login_limits
from app.services.panel import issue_invitation
from tests.conftest import PASSWORD, Panel, sign_in
from tests.web.helpers import text_of


@pytest.fixture
def facilitator_with_password(panel: Panel) -> User:
    panel.facilitator.password_hash = hash_password(PASSWORD)
    db.session.commit()
    return panel.facilitator


def _login(client, email: str, password: str, **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


# --- rate limits -------------------------------------------------------------------------


def test_after_five_wrong_passwords_the_same_address_waits_even_with_the_right_one(
    app, facilitator_with_password
):
    client = app.test_client()
    email = facilitator_with_password.email
    for _ in range(5):
        assert _login(client, email, "wrong password").status_code == 422
    blocked = _login(client, email, PASSWORD)
    assert blocked.status_code == 429
    assert "Too many sign-in attempts. Wait 1 second" in text_of(blocked)
    assert "_user_id" not in (
        client.get_cookie("session").value if client.get_cookie("session") else ""
    )


def test_failed_attempts_are_stored_in_the_database_so_every_worker_sees_them(
    app, facilitator_with_password
):
    for _ in range(5):
        _login(app.test_client(), facilitator_with_password.email, "nope nope nope")
    other_worker = create_app(
        {**app.config, "SERVER_NAME": "localhost", "WTF_CSRF_ENABLED": False}
    ).test_client()
    assert _login(other_worker, facilitator_with_password.email, PASSWORD).status_code == 429


def test_attempts_older_than_the_window_no_longer_count(app, facilitator_with_password):
    for _ in range(8):
        _login(app.test_client(), facilitator_with_password.email, "wrong password")
    for attempt in db.session.scalars(select(LoginAttempt)):
        attempt.created_at = utcnow() - login_limits.WINDOW - timedelta(minutes=1)
    db.session.commit()
    assert _login(app.test_client(), facilitator_with_password.email, PASSWORD).status_code == 303


def test_one_address_trying_many_accounts_is_limited_too(app, panel: Panel):
    app.config["LOGIN_MAX_PER_ADDRESS"] = 8
    try:
        client = app.test_client()
        for n in range(8):
            _login(client, f"someone{n}@example.test", "guess guess")
        assert _login(client, "another@example.test", "guess guess").status_code == 429
    finally:
        app.config["LOGIN_MAX_PER_ADDRESS"] = 30


def test_guessing_sign_in_link_tokens_is_rate_limited(app, panel: Panel):
    app.config["LOGIN_MAX_PER_ADDRESS"] = 3
    try:
        client = app.test_client()
        for n in range(3):
            assert client.post(f"/sign-in/guess{n}").status_code == 410
        response = client.post("/sign-in/guess-again")
        assert response.status_code == 429
        assert "Too many sign-in attempts" in text_of(response)
    finally:
        app.config["LOGIN_MAX_PER_ADDRESS"] = 30


# --- tokens --------------------------------------------------------------------------------


def test_tokens_carry_at_least_128_bits_and_only_their_hash_is_stored(app, panel: Panel):
    token, digest = new_token()
    assert len(token) >= 43  # 32 random bytes, URL-safe base64: 256 bits
    assert digest == token_hash(token) and token not in digest and len(digest) == 64
    with app.test_request_context():
        invite_token = issue_invitation(panel.partners[0])
    db.session.commit()
    stored = db.session.scalars(select(Invitation.token_hash)).all()
    assert token_hash(invite_token) in stored and invite_token not in stored


def test_a_sign_in_link_works_once_and_not_after_it_expires(app, panel: Panel):
    user = panel.partners[0].user
    token, digest = new_token()
    db.session.add(
        SignInLink(user_id=user.id, token_hash=digest, expires_at=utcnow() + timedelta(minutes=30))
    )
    expired, expired_digest = new_token()
    db.session.add(
        SignInLink(
            user_id=user.id, token_hash=expired_digest, expires_at=utcnow() - timedelta(seconds=1)
        )
    )
    db.session.commit()
    client = app.test_client()
    assert client.post(f"/sign-in/{token}").status_code == 303
    again = app.test_client().post(f"/sign-in/{token}")
    assert again.status_code == 410 and "expired or has been used" in text_of(again)
    assert app.test_client().post(f"/sign-in/{expired}").status_code == 410


# --- sessions and cookies -------------------------------------------------------------------


def test_signing_in_replaces_the_session_so_a_planted_one_is_useless(
    app, facilitator_with_password
):
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    assert _login(client, facilitator_with_password.email, PASSWORD).status_code == 303
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].startswith(facilitator_with_password.get_id() + ":")


def test_session_cookies_are_httponly_samesite_lax_and_secure_in_production(tmp_path, monkeypatch):
    monkeypatch.delenv("APP_ENV", raising=False)
    production = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["REMEMBER_COOKIE_SECURE"] is True
    assert production.config["SESSION_COOKIE_HTTPONLY"] is True
    assert production.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_the_session_cookie_is_sent_with_httponly_and_samesite(app, facilitator_with_password):
    response = _login(app.test_client(), facilitator_with_password.email, PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- CSRF --------------------------------------------------------------------------------


@pytest.fixture
def csrf_app(app):
    strict = create_app({**app.config, "WTF_CSRF_ENABLED": True})
    return strict


@pytest.mark.parametrize(
    "path,headers",
    [
        ("/login", {}),
        ("/logout", {}),
        ("/studies/new", {}),
        ("/studies/test-study/rounds/open", {}),
        ("/studies/test-study/rounds/1/items/1/rating", {"HX-Request": "true"}),
        ("/studies/test-study/discussion/channel/messages", {"HX-Request": "true"}),
    ],
)
def test_a_post_without_a_csrf_token_is_refused_with_a_message(csrf_app, panel, path, headers):
    client = csrf_app.test_client()
    sign_in(client, panel.facilitator)
    before = db.session.scalar(select(func.count()).select_from(LoginAttempt))
    response = client.post(path, data={"email": "x@example.test"}, headers=headers)
    assert response.status_code == 400
    if headers:  # htmx: nothing is swapped into the page, which is told what went wrong
        assert response.headers["HX-Reswap"] == "none"
        told = json.loads(response.headers["HX-Trigger"])["app:failed"]
        assert told == {"message": "This page has expired. Reload it and try again.", "status": 400}
    else:
        assert "Your form expired or came from another site" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == before


def test_htmx_requests_carry_the_csrf_token_from_the_page(csrf_app, panel):
    client = csrf_app.test_client()
    sign_in(client, panel.facilitator)
    html = client.get("/studies/test-study").get_data(as_text=True)
    token = re.search(r"X-CSRFToken&#34;: &#34;([^&]+)&#34;|X-CSRFToken\": \"([^\"]+)\"", html)
    assert token, "the page's hx-headers must carry the CSRF token"
    value = token.group(1) or token.group(2)
    response = client.post(
        "/studies/test-study/rounds/open", headers={"X-CSRFToken": value, "HX-Request": "true"}
    )
    assert response.status_code != 400


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/healthz", "/studies", "/no-such-page"])
def test_every_answer_carries_the_security_headers(client, panel, path):
    sign_in(client, panel.facilitator)
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer", "strict-origin"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-Id"]


def test_pages_have_no_inline_scripts_without_the_nonce(client, panel):
    sign_in(client, panel.facilitator)
    response = client.get("/studies/test-study")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    for script in re.findall(r"<script\b[^>]*>", response.get_data(as_text=True)):
        assert "src=" in script or f'nonce="{nonce}"' in script, script


def test_behind_a_proxy_the_forwarded_address_and_scheme_are_trusted_only_when_asked(app):
    proxied = create_app({**app.config, "PROXY_FIX": 1})
    seen = {}

    @proxied.get("/_probe")
    def probe():
        from flask import request

        seen.update(addr=request.remote_addr, scheme=request.scheme)
        return "ok"

    proxied.test_client().get(
        "/_probe", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    )
    assert seen == {"addr": "203.0.113.9", "scheme": "https"}
    plain = create_app({**app.config, "PROXY_FIX": 0})
    plain.add_url_rule("/_probe", view_func=probe)
    plain.test_client().get("/_probe", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen["addr"] == "127.0.0.1"


def test_every_request_is_logged_on_one_line_with_its_request_id(app, caplog):
    caplog.set_level("INFO", logger=app.logger.name)
    app.test_client().get("/healthz", headers={"X-Request-Id": "abc123"})
    lines = [r.getMessage() for r in caplog.records if "request id=abc123" in r.getMessage()]
    assert lines == [
        "request id=abc123 method=GET path=/healthz status=200 ms=" + lines[0].split("ms=")[1]
    ]


def _request_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("request id=")]


@pytest.mark.parametrize(
    "url,logged",
    [
        ("/invitation/{token}", "path=/invitation/*** "),
        ("/sign-in/{token}", "path=/sign-in/*** "),
        ("/login?next=/invitation/{token}", "path=/login?next=/invitation/*** "),
        ("/login?next=%2Fsign-in%2F{token}%3Fx%3D1", "path=/login?next=/sign-in/***"),
        ("/healthz?token={token}", "path=/healthz?token=*** "),
    ],
)
def test_the_request_log_never_holds_an_invitation_or_sign_in_token(
    app, panel, caplog, url, logged
):
    token = issue_invitation(panel.partners[0])
    db.session.commit()
    caplog.set_level("INFO", logger=app.logger.name)
    response = app.test_client().get(url.format(token=token))
    assert response.status_code < 500
    lines = _request_lines(caplog)
    assert len(lines) == 1 and logged in lines[0], lines
    assert all(token not in r.getMessage() for r in caplog.records)


def test_the_request_log_shows_control_characters_in_a_path_escaped_on_its_one_line(app, caplog):
    caplog.set_level("INFO", logger=app.logger.name)
    app.test_client().get("/nothing%0Arequest id=forged method=GET path=/ status=200")
    lines = _request_lines(caplog)
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "/nothing%0Arequest" in lines[0]


def test_the_development_server_log_masks_tokens_too(app, caplog):
    caplog.set_level("INFO", logger="werkzeug")
    logging.getLogger("werkzeug").info(
        '%s - - [%s] "%s" %s -', "127.0.0.1", "now", "GET /sign-in/s3cretT0ken HTTP/1.1", "200"
    )
    assert [r.getMessage() for r in caplog.records] == [
        '127.0.0.1 - - [now] "GET /sign-in/*** HTTP/1.1" 200 -'
    ]


@pytest.mark.parametrize(
    "forged",
    [
        "abc\nrequest id=forged method=GET path=/admin status=200 ms=1.0",
        "abc\r\nX-Injected: 1",
        "x" * 65,
        "has space",
        "semi;colon",
    ],
)
def test_a_request_id_that_is_not_short_and_plain_is_replaced_by_a_new_one(app, caplog, forged):
    caplog.set_level("INFO", logger=app.logger.name)
    response = app.test_client().get("/healthz", environ_overrides={"HTTP_X_REQUEST_ID": forged})
    assert response.status_code == 200
    lines = _request_lines(caplog)
    assert len(lines) == 1 and "forged" not in lines[0] and forged not in lines[0]
    new_id = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{16}", new_id) and lines[0].startswith(f"request id={new_id} ")


def test_a_short_plain_request_id_from_the_proxy_is_kept(app, caplog):
    caplog.set_level("INFO", logger=app.logger.name)
    plain = "7f3a-9c.e_1" + "0" * 53
    response = app.test_client().get("/healthz", headers={"X-Request-Id": plain})
    assert response.headers["X-Request-Id"] == plain
    assert _request_lines(caplog)[0].startswith(f"request id={plain} ")


# --- htmx requests that fail ------------------------------------------------------------

BALLOT = "/studies/test-study/rounds/1/ballot"


def test_an_htmx_save_after_the_session_ended_sends_the_page_to_sign_in_and_back(client, panel):
    response = client.post(
        "/studies/test-study/rounds/1/items/1/rating",
        data={"score-1": "7"},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://localhost{BALLOT}?show=x"},
    )
    assert response.status_code == 401
    target = urlsplit(response.headers["HX-Redirect"])
    assert target.path == "/login"
    assert parse_qs(target.query) == {"next": [f"{BALLOT}?show=x"]}
    login = client.get(response.headers["HX-Redirect"])
    assert "You were signed out, so your last change was not saved" in text_of(login)


def test_the_same_with_csrf_on_where_the_ended_session_has_no_token_either(csrf_app, panel):
    response = csrf_app.test_client().post(
        "/studies/test-study/rounds/1/items/1/rating",
        data={"score-1": "7"},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://localhost{BALLOT}"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_a_page_without_htmx_still_redirects_to_sign_in_with_next(client, panel):
    response = client.get(BALLOT)
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/login" and parse_qs(target.query)["next"][0].endswith(BALLOT)


def test_an_htmx_request_refused_by_the_server_swaps_nothing_and_says_why(client, panel):
    sign_in(client, panel.partners[0].user)
    response = client.post(
        "/studies/no-such-study/rounds/1/items/1/rating",
        data={"score-1": "7"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 404
    assert response.headers["HX-Reswap"] == "none"
    told = json.loads(response.headers["HX-Trigger"])["app:failed"]
    assert told["status"] == 404 and told["message"].startswith("This is no longer available")
    assert "<html" not in response.get_data(as_text=True)


def test_a_background_refresh_after_the_session_ended_changes_nothing_on_the_page(client, panel):
    response = client.get("/studies/test-study/rounds/1", headers={"HX-Request": "true"})
    assert response.status_code == 204 and "HX-Redirect" not in response.headers


def test_a_message_sent_after_the_session_ended_is_refused_without_leaving_the_page(client, panel):
    response = client.post(
        "/studies/test-study/discussion/channel/messages",
        data={"body": "My careful point"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 401 and "HX-Redirect" not in response.headers
    told = json.loads(response.headers["HX-Trigger"])["app:failed"]
    assert told["message"].startswith("You were signed out, so this was not sent")
