"""Accounts stay their owners': invitations to existing accounts, sessions that really end,
a throttle that slows guessing without locking the owner out, and sign-in timing that does
not tell which addresses are registered (security probe, issue 12: findings 1, 4, 5, 6)."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import LoginAttempt, Panellist, SignInLink, User, utcnow
from app.security import check_password, hash_password, new_token
from app.services.login_limits import Throttle, wait_after
from tests.conftest import PASSWORD, Panel, build_panel, sign_in
from tests.web.helpers import get_page, page, post_form, text_of

ATTACKER = {"REMOTE_ADDR": "203.0.113.9"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


def _login(client, email: str, password: str, **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def _signed_in(client) -> bool:
    return client.get("/studies").status_code == 200


# --- finding 1: an invitation to an existing account --------------------------------------


@pytest.fixture
def victim(panel: Panel) -> User:
    """A facilitator of the first study, with a password and a stored real name."""
    panel.facilitator.password_hash = hash_password(PASSWORD)
    panel.facilitator.name = "Victoria Stored-Name"
    db.session.commit()
    return panel.facilitator


@pytest.fixture
def attacker_study(app, panel: Panel) -> Panel:
    other = build_panel(slug="other-study", title="Other study", partners=0, patients=0)
    other.facilitator.password_hash = hash_password("attacker password")
    db.session.commit()
    return other


def _invite(client, study: Panel, email: str, name: str = "Typed By Inviter") -> str:
    response = post_form(
        client,
        f"/studies/{study.study.slug}/panel/invite",
        data={"name": name, "email": email, "group": study.study.groups[0].id, "role": "partner"},
        status=303,
    )
    rows = page(get_page(client, response.location)).select("table.app-invite-links tbody tr")
    links = [
        row.select_one(".app-invite-link").get_text()
        for row in rows
        if row.select_one(".app-invite-email").get_text(strip=True) == email
    ]
    assert len(links) == 1
    return links[0].rsplit("/", 1)[1]


def test_inviting_a_registered_address_never_shows_the_inviter_its_stored_name(
    app, client, victim, attacker_study
):
    sign_in(client, attacker_study.facilitator)
    _invite(client, attacker_study, victim.email)
    panel_page = text_of(get_page(client, "/studies/other-study/panel"))
    assert "Typed By Inviter" in panel_page
    assert "Victoria Stored-Name" not in panel_page
    data = client.get("/studies/other-study/export/data.zip")
    assert b"Victoria Stored-Name" not in data.data


def test_an_invitation_to_an_existing_account_never_sets_its_password_or_signs_anyone_in(
    app, client, victim, attacker_study
):
    sign_in(client, attacker_study.facilitator)
    token = _invite(client, attacker_study, victim.email)
    stored_hash = db.session.get(User, victim.id).password_hash

    opener = app.test_client()
    shown = get_page(opener, f"/invitation/{token}")
    assert "Victoria Stored-Name" not in text_of(shown)
    assert "Sign in to accept" in text_of(shown)
    assert not page(shown).select("input[type=password]")
    for data in ({"password": "taken over!!", "confirm": "taken over!!"}, {}):
        refused = opener.post(f"/invitation/{token}", data=data)
        assert refused.status_code == 403
        assert not _signed_in(opener)
    db.session.expire_all()
    assert db.session.get(User, victim.id).password_hash == stored_hash
    membership = db.session.scalar(
        select(Panellist).where(
            Panellist.user_id == victim.id, Panellist.study_id == attacker_study.study.id
        )
    )
    assert membership.joined_at is None
    assert _login(app.test_client(), victim.email, PASSWORD).status_code == 303


def test_the_owner_accepts_an_invitation_after_signing_in_with_their_own_password(
    app, client, victim, attacker_study
):
    sign_in(client, attacker_study.facilitator)
    token = _invite(client, attacker_study, victim.email)
    owner = app.test_client()
    shown = page(get_page(owner, f"/invitation/{token}"))
    login_url = shown.find("a", string="Sign in to accept")["href"]
    signed_in = owner.post(login_url, data={"email": victim.email, "password": PASSWORD})
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"].endswith(f"/invitation/{token}")
    confirm = get_page(owner, f"/invitation/{token}")
    assert not page(confirm).select("input[type=password]")
    joined = owner.post(f"/invitation/{token}")
    assert joined.status_code == 303
    assert "You take part as CQC partner 1" in text_of(get_page(owner, "/studies/other-study"))
    # Now that the person has joined, facilitators see the name the account holds.
    assert "Victoria Stored-Name" in text_of(get_page(client, "/studies/other-study/panel"))


def test_a_panellist_who_joined_elsewhere_without_a_password_must_sign_in_to_join_again(
    app, client, panel: Panel, attacker_study
):
    existing = panel.partners[0].user  # joined the first study, no password
    assert existing.password_hash is None
    sign_in(client, attacker_study.facilitator)
    token = _invite(client, attacker_study, existing.email)
    opener = app.test_client()
    assert "Sign in to accept" in text_of(get_page(opener, f"/invitation/{token}"))
    assert (
        opener.post(f"/invitation/{token}", data={"password": "", "confirm": ""}).status_code == 403
    )
    assert not _signed_in(opener)
    db.session.expire_all()
    assert db.session.get(User, existing.id).password_hash is None


def test_an_invitation_opened_while_signed_in_as_someone_else_asks_to_sign_out_first(
    app, client, panel: Panel, attacker_study
):
    sign_in(client, attacker_study.facilitator)
    token = _invite(client, attacker_study, "fresh.person@example.test")
    bystander = app.test_client()
    sign_in(bystander, panel.partners[1].user)
    shown = bystander.get(f"/invitation/{token}")
    assert "sent to a different account" in text_of(shown)
    assert bystander.post(f"/invitation/{token}", data={}).status_code == 403
    fresh = db.session.scalar(select(User).where(User.email == "fresh.person@example.test"))
    assert (
        db.session.scalar(select(Panellist.joined_at).where(Panellist.user_id == fresh.id)) is None
    )


def test_a_brand_new_account_still_joins_from_its_link_and_may_choose_a_password(
    app, client, attacker_study
):
    sign_in(client, attacker_study.facilitator)
    token = _invite(client, attacker_study, "nina@example.test", name="Nina Newcomer")
    newcomer = app.test_client()
    assert "Hello Nina Newcomer" in text_of(get_page(newcomer, f"/invitation/{token}"))
    short = post_form(
        newcomer, f"/invitation/{token}", data={"password": "short", "confirm": "short"}, status=422
    )
    assert "at least 10 characters" in text_of(short)
    joined = newcomer.post(f"/invitation/{token}", data={"password": PASSWORD, "confirm": PASSWORD})
    assert joined.status_code == 303 and _signed_in(newcomer)
    assert _login(app.test_client(), "nina@example.test", PASSWORD).status_code == 303


# --- finding 4: sessions end on the server --------------------------------------------------


def test_a_session_cookie_saved_before_sign_out_opens_nothing_after_it(app, panel: Panel):
    user = panel.facilitator
    user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    client = app.test_client()
    assert _login(client, user.email, PASSWORD).status_code == 303
    saved = client.get_cookie("session").value
    assert client.post("/logout").status_code == 303

    replay = app.test_client()
    replay.set_cookie("session", saved, domain="localhost")
    assert replay.get("/studies").status_code == 302
    assert replay.get("/studies/test-study/discussion/poll?after=0").status_code != 204


def test_signing_out_ends_only_that_session(app, panel: Panel):
    user = panel.facilitator
    user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    laptop, phone = app.test_client(), app.test_client()
    assert _login(laptop, user.email, PASSWORD).status_code == 303
    assert _login(phone, user.email, PASSWORD).status_code == 303
    laptop.post("/logout")
    assert not _signed_in(laptop)
    assert _signed_in(phone)


def test_a_password_change_ends_every_session_of_the_account(app, panel: Panel):
    user = panel.facilitator
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, user)
    sign_in(phone, user)
    result = app.test_cli_runner().invoke(
        args=["create-facilitator", user.email, "--password", "a brand new password"]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert not _signed_in(laptop) and not _signed_in(phone)
    assert _login(app.test_client(), user.email, "a brand new password").status_code == 303


# --- finding 5: throttle without lock-out --------------------------------------------------


@pytest.fixture
def owner(panel: Panel) -> User:
    user = panel.partners[0].user
    user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    return user


def test_the_wait_doubles_after_the_free_attempts_up_to_its_ceiling():
    throttle = Throttle("k", free=5, longest=timedelta(minutes=15))
    waits = [wait_after(n, throttle).total_seconds() for n in range(0, 18)]
    assert waits[:5] == [0, 0, 0, 0, 0]
    assert waits[5:11] == [1, 2, 4, 8, 16, 32]
    assert waits[-1] == 900 and max(waits) == 900
    assert wait_after(10**6, throttle) == timedelta(minutes=15)


def test_wrong_passwords_slow_the_guessing_address_but_not_the_owner_elsewhere(app, owner):
    attacker, real_owner = app.test_client(), app.test_client()
    for _ in range(5):
        assert (
            _login(attacker, owner.email, "wrong password", environ_base=ATTACKER).status_code
            == 422
        )
    blocked = _login(attacker, owner.email, PASSWORD, environ_base=ATTACKER)
    assert blocked.status_code == 429
    assert "Too many sign-in attempts. Wait 1 second" in text_of(blocked)
    assert _login(real_owner, owner.email, PASSWORD, environ_base=OWNER).status_code == 303


def test_guessing_one_account_from_many_addresses_delays_its_owner_a_minute_at_most(app, owner):
    # Ten free failures from ten addresses, then 190 more spread over the last hour, as a
    # patient attacker with many addresses would manage.
    for n in range(10):
        _login(app.test_client(), owner.email, "wrong", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
    now = utcnow()
    db.session.add_all(
        LoginAttempt(key=f"email:{owner.email}", created_at=now - timedelta(seconds=n))
        for n in range(190)
    )
    db.session.commit()
    response = _login(app.test_client(), owner.email, PASSWORD, environ_base=OWNER)
    assert response.status_code == 429
    waited = re.search(r"Wait (\d+) seconds", text_of(response))
    assert waited is not None and 50 <= int(waited.group(1)) <= 60
    db.session.execute(update(LoginAttempt).values(created_at=utcnow() - timedelta(seconds=61)))
    db.session.commit()
    assert _login(app.test_client(), owner.email, PASSWORD, environ_base=OWNER).status_code == 303


def test_the_emailed_sign_in_link_works_while_the_password_throttle_holds(app, owner, smtp):
    client = app.test_client()
    for _ in range(12):
        _login(client, owner.email, "wrong password", environ_base=ATTACKER)
    assert _login(client, owner.email, PASSWORD, environ_base=ATTACKER).status_code == 429
    post_form(
        client, "/sign-in-link", data={"email": owner.email}, environ_base=ATTACKER, status=200
    )
    assert len(smtp.messages) == 1
    body = smtp.messages[0].get_payload(decode=True).decode()
    path = "/sign-in/" + body.split("/sign-in/", 1)[1].split()[0]
    assert client.post(path, environ_base=ATTACKER).status_code == 303
    assert _signed_in(client)


def test_a_valid_sign_in_link_works_from_an_address_throttled_for_wrong_links(app, owner):
    app.config["LOGIN_MAX_PER_ADDRESS"] = 3
    try:
        client = app.test_client()
        for n in range(5):
            client.post(f"/sign-in/guess{n}")
        assert client.post("/sign-in/guess-again").status_code == 429
        token, digest = new_token()
        db.session.add(
            SignInLink(
                user_id=owner.id, token_hash=digest, expires_at=utcnow() + timedelta(minutes=5)
            )
        )
        db.session.commit()
        assert client.post(f"/sign-in/{token}").status_code == 303
    finally:
        app.config["LOGIN_MAX_PER_ADDRESS"] = 30


def test_sign_in_links_to_one_account_are_capped_without_saying_so(app, owner, smtp):
    client = app.test_client()
    for _ in range(7):
        post_form(client, "/sign-in-link", data={"email": owner.email}, status=200)
    assert len(smtp.messages) == app.config["SIGN_IN_LINKS_PER_QUARTER_HOUR"]


# --- finding 6: timing does not tell registered addresses ----------------------------------


@pytest.fixture
def no_throttle(app):
    keys = ("LOGIN_MAX_FAILURES", "LOGIN_MAX_PER_ADDRESS", "LOGIN_ACCOUNT_FAILURES")
    saved = {k: app.config[k] for k in keys}
    app.config.update({k: 10_000 for k in keys})
    yield
    app.config.update(saved)


def test_a_failed_sign_in_checks_exactly_one_password_hash_known_or_not(
    app, owner, monkeypatch, no_throttle
):
    calls = []
    real_verify = type(check_password.__globals__["_hasher"]).verify

    def counting(self, stored, password):  # noqa: ANN001
        calls.append(stored)
        return real_verify(self, stored, password)

    monkeypatch.setattr(type(check_password.__globals__["_hasher"]), "verify", counting)
    for email in (owner.email, "nobody-here@example.test"):
        calls.clear()
        assert _login(app.test_client(), email, "wrong password").status_code == 422
        assert len(calls) == 1, email


def test_sign_in_takes_as_long_for_an_unknown_address_as_for_a_known_one(
    app, owner, no_throttle
):
    def once_ms(email: str) -> float:
        client = app.test_client()
        start = time.perf_counter()
        assert _login(client, email, "wrong password").status_code == 422
        return (time.perf_counter() - start) * 1000

    once_ms(owner.email)  # warm up
    # Interleaved, so that other load on the machine falls on both alike.
    pairs = [(once_ms(owner.email), once_ms("nobody-here@example.test")) for _ in range(15)]
    known = statistics.median(k for k, _ in pairs)
    unknown = statistics.median(u for _, u in pairs)
    assert abs(known - unknown) <= 0.25 * max(known, unknown), (known, unknown)


def test_the_throttle_counts_under_three_keys(app, owner):
    _login(app.test_client(), owner.email, "nope nope nope")
    keys = set(db.session.scalars(select(LoginAttempt.key)))
    assert keys == {f"email:{owner.email}", "ip:127.0.0.1", f"pair:{owner.email}|127.0.0.1"}
