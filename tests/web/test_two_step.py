"""Two-step sign-in for facilitators (issue 17): TOTP from any authenticator app, set up with
a QR code and a first code, recovery codes used once, codes never accepted twice, guesses
throttled, and a study that requires it of its facilitators.

Expected codes are computed here with pyotp from the secret the setup page shows, at times
the test chooses (the service's clock is set through `clock`), never through the app's own
code path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, select

from app.extensions import db
from app.models import LoginAttempt, RecoveryCode, User, UserSession
from app.security import hash_password
from app.services import two_step
from tests.conftest import PASSWORD, Panel, make_user, sign_in
from tests.web.helpers import get_page, page, post_form, text_of

S = "/studies/test-study"
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.20"}
T0 = datetime(2026, 12, 2, 9, 0, 0, tzinfo=UTC)

# Made by the home-made `seal` this app shipped before Fernet (commit 9ca5947), sealing
# LEGACY_PLAIN under SECRET_KEY "test-secret-key" (the tests' key) and "an old secret key".
LEGACY_PLAIN = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
LEGACY_UNDER_TEST_KEY = (
    "9VrrJkxfj5-nlGbW_ZGMtTYhEeC46XEnSzc7UA4T8ZnFndbLCRct1gVSk33csZpFyCoRnHSsV3o1aWxzQ-40By31"
    "gzmziw1SE6OQqPwKvcs="
)
LEGACY_NONCE = bytes.fromhex("f55aeb264c5f8f9fa79466d6fd918cb5")  # LEGACY_UNDER_TEST_KEY's
LEGACY_UNDER_OLD_KEY = (
    "pdAzq3S9ZUA2wPiSJjnNpj_FotdzEW6bLmy7b5GJtnIYIliGtr5gnbAswRLHUhJvejJKaXLvFdmFNDaPKazhnaQr"
    "4VK7-bYjiUZR3oSrRhU="
)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(two_step, "utcnow", fake)
    return fake


def code_at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def set_up_two_step(client, clock: Clock) -> tuple[str, list[str]]:
    """Through the pages: the secret shown on the setup page and the recovery codes."""
    shown = get_page(client, "/account/two-step")
    secret = page(shown).select_one("#secret").get_text().replace(" ", "")
    done = post_form(client, "/account/two-step", {"code": code_at(secret, clock.now)}, status=200)
    codes = [c.get_text() for c in page(done).select(".app-recovery-codes code")]
    return secret, codes


@pytest.fixture
def owner(app, panel: Panel, clock: Clock) -> tuple[User, str, list[str]]:
    """The study's facilitator, with a password and two-step sign-in on."""
    panel.facilitator.password_hash = hash_password(PASSWORD)
    db.session.commit()
    client = app.test_client()
    sign_in(client, panel.facilitator)
    secret, codes = set_up_two_step(client, clock)
    return panel.facilitator, secret, codes


def _password(client, user: User):
    return client.post("/login", data={"email": user.email, "password": PASSWORD})


def _signed_in(client) -> bool:
    return client.get("/studies").status_code == 200


# --- the algorithm ---------------------------------------------------------------------------


def test_codes_match_the_rfc_6238_published_test_vector():
    """RFC 6238, appendix B: SHA-1, secret "12345678901234567890", T = 59 s gives 94287082."""
    secret = base64.b32encode(b"12345678901234567890").decode()
    at_59 = datetime.fromtimestamp(59, UTC)
    assert pyotp.TOTP(secret, digits=8).at(59) == "94287082"
    assert two_step.matching_step(secret, "94287082", at_59, digits=8, window=0) == 1
    assert two_step.matching_step(secret, "94287081", at_59, digits=8, window=0) is None
    # And a later vector of the same table: T = 1111111109 gives 07081804.
    later = datetime.fromtimestamp(1111111109, UTC)
    assert two_step.matching_step(secret, "07081804", later, digits=8, window=0) == 37037036


def test_a_code_from_the_step_before_or_after_is_accepted_but_not_two_steps_away():
    secret = pyotp.random_base32()
    for offset, accepted in [(-60, False), (-30, True), (0, True), (30, True), (60, False)]:
        code = code_at(secret, T0 + timedelta(seconds=offset))
        assert (two_step.matching_step(secret, code, T0) is not None) is accepted, offset


def fernet_for(secret_key: str) -> Fernet:
    """The Fernet key the brief specifies, derived here independently of the app's code."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"delphi: two-step secret"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def test_the_sealed_secret_is_a_fernet_token_under_a_key_derived_with_hkdf():
    sealed = two_step.seal(LEGACY_PLAIN, "key one")
    assert sealed.startswith("gAAAAA") and LEGACY_PLAIN not in sealed
    assert fernet_for("key one").decrypt(sealed).decode() == LEGACY_PLAIN
    assert two_step.unseal(sealed, "key one") == LEGACY_PLAIN
    assert two_step.seal(LEGACY_PLAIN, "key one") != sealed  # a fresh IV each time
    # Only for this use: not the raw SECRET_KEY padded, nor any other key from it.
    with pytest.raises(InvalidToken):
        fernet_for("key two").decrypt(sealed)


def test_the_sealed_secret_needs_the_secret_key_and_detects_tampering():
    sealed = two_step.seal("JBSWY3DPEHPK3PXP", "key one")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert two_step.unseal(sealed, "key one") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(ValueError):
        two_step.unseal(sealed, "key two")
    raw = bytearray(base64.urlsafe_b64decode(sealed))
    for at in (20, 40, len(raw) - 1):  # the IV, the ciphertext, the tag
        altered = raw.copy()
        altered[at] ^= 1
        with pytest.raises(ValueError):
            two_step.unseal(base64.urlsafe_b64encode(bytes(altered)).decode(), "key one")
    for garbage in ("", "not base64 at all!", "é", sealed[:-8]):
        with pytest.raises(ValueError):
            two_step.unseal(garbage, "key one")


def test_a_secret_sealed_under_an_old_key_opens_while_the_key_is_a_fallback():
    old = two_step.seal(LEGACY_PLAIN, "old key")
    assert two_step.unseal(old, "new key", ["older key", "old key"]) == LEGACY_PLAIN
    with pytest.raises(ValueError):
        two_step.unseal(old, "new key")
    with pytest.raises(ValueError):
        two_step.unseal(old, "new key", ["another key"])
    # Values of the old scheme under an old key too.
    assert two_step.unseal(LEGACY_UNDER_OLD_KEY, "new key", ["an old secret key"]) == LEGACY_PLAIN


def test_values_of_the_old_scheme_are_still_read_and_refused_when_altered_or_under_another_key():
    assert not LEGACY_UNDER_TEST_KEY.startswith("gAAAAA")
    assert two_step.unseal(LEGACY_UNDER_TEST_KEY, "test-secret-key") == LEGACY_PLAIN
    with pytest.raises(ValueError):
        two_step.unseal(LEGACY_UNDER_TEST_KEY, "another key")
    raw = bytearray(base64.urlsafe_b64decode(LEGACY_UNDER_TEST_KEY))
    for at in (3, 30, len(raw) - 1):  # the nonce, the ciphertext, the tag
        altered = raw.copy()
        altered[at] ^= 1
        with pytest.raises(ValueError):
            two_step.unseal(base64.urlsafe_b64encode(bytes(altered)).decode(), "test-secret-key")


def _legacy_seal(plain: str, secret_key: str, nonce: bytes) -> str:
    """A copy of the home-made `seal` shipped before Fernet, with the nonce chosen here."""
    key = secret_key.encode()
    encryption = hmac.new(key, b"delphi: two-step secret, encryption", hashlib.sha256).digest()
    authentication = hmac.new(
        key, b"delphi: two-step secret, authentication", hashlib.sha256
    ).digest()
    data = plain.encode()
    stream = b"".join(
        hmac.new(encryption, nonce + n.to_bytes(4, "big"), hashlib.sha256).digest()
        for n in range(-(-len(data) // 32))
    )
    cipher = bytes(a ^ b for a, b in zip(data, stream, strict=False))
    tag = hmac.new(authentication, nonce + cipher, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(nonce + cipher + tag).decode()


def test_an_old_scheme_value_shaped_like_a_fernet_token_by_chance_is_still_read():
    assert _legacy_seal(LEGACY_PLAIN, "test-secret-key", LEGACY_NONCE) == LEGACY_UNDER_TEST_KEY
    # 25 characters and a nonce starting with Fernet's version byte (and a zero timestamp).
    plain = "JBSWY3DPEHPK3PXPJBSWY3DPE"
    lookalike = _legacy_seal(plain, "test-secret-key", b"\x80" + bytes(15))
    assert lookalike.startswith("gAAAAA") and two_step._is_fernet(lookalike)
    assert two_step.unseal(lookalike, "test-secret-key") == plain


def test_secret_key_fallbacks_come_from_the_environment(monkeypatch, tmp_path):
    from app.config import build_config

    monkeypatch.setenv("SECRET_KEY", "the current key")
    monkeypatch.delenv("SECRET_KEY_FALLBACKS", raising=False)
    assert build_config(tmp_path)["SECRET_KEY_FALLBACKS"] is None
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", " an old key , an older key,")
    assert build_config(tmp_path)["SECRET_KEY_FALLBACKS"] == ["an old key", "an older key"]


# --- setting it up ---------------------------------------------------------------------------


def test_setting_up_shows_an_inline_qr_code_and_turns_on_only_after_a_right_first_code(
    client, panel: Panel, clock: Clock
):
    sign_in(client, panel.facilitator)
    shown = get_page(client, "/account/two-step")
    svg = page(shown).select_one(".app-qr-code svg")
    assert svg is not None and svg.select("path")
    assert page(shown).select(".app-qr-code img") == []  # drawn here, no other service
    secret = page(shown).select_one("#secret").get_text().replace(" ", "")
    # Reloading keeps the same secret, so a code already scanned stays right.
    again = page(get_page(client, "/account/two-step")).select_one("#secret").get_text()
    assert again.replace(" ", "") == secret
    stored = db.session.scalar(select(User.totp_secret).where(User.id == panel.facilitator.id))
    assert secret not in stored  # sealed under SECRET_KEY

    wrong = post_form(client, "/account/two-step", {"code": "000000"}, status=422)
    assert "The code is not right" in text_of(wrong)
    db.session.refresh(panel.facilitator)
    assert not panel.facilitator.has_two_step

    done = post_form(client, "/account/two-step", {"code": code_at(secret, clock.now)}, status=200)
    codes = [c.get_text() for c in page(done).select(".app-recovery-codes code")]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "shown only now" in text_of(done)
    db.session.refresh(panel.facilitator)
    assert panel.facilitator.has_two_step
    hashes = db.session.scalars(
        select(RecoveryCode.code_hash).where(RecoveryCode.user_id == panel.facilitator.id)
    ).all()
    assert len(hashes) == 10 and not any(c.replace("-", "") in h for c in codes for h in hashes)
    assert "On, 10 recovery codes left" in text_of(get_page(client, "/account"))


def test_turning_it_on_ends_the_accounts_other_sessions(app, panel: Panel, clock: Clock):
    elsewhere, here = app.test_client(), app.test_client()
    sign_in(elsewhere, panel.facilitator)
    sign_in(here, panel.facilitator)
    set_up_two_step(here, clock)
    assert _signed_in(here)
    assert not _signed_in(elsewhere)  # it never gave a code


# --- signing in --------------------------------------------------------------------------------


def test_sign_in_asks_for_the_code_after_the_password_and_starts_no_session_before_it(
    client, owner, clock: Clock
):
    user, secret, _ = owner
    sessions_before = db.session.scalar(
        select(func.count(UserSession.id)).where(UserSession.user_id == user.id)
    )
    response = _password(client, user)
    assert response.status_code == 303 and response.location.endswith("/login/code")
    assert not _signed_in(client)
    assert client.get(S).status_code == 302
    assert (
        db.session.scalar(select(func.count(UserSession.id)).where(UserSession.user_id == user.id))
        == sessions_before
    )
    get_page(client, "/login/code")
    clock.advance(30)
    done = post_form(client, "/login/code", {"code": code_at(secret, clock.now)}, status=303)
    assert done.location.endswith("/studies")
    assert _signed_in(client)


def test_the_code_page_returns_to_where_the_person_was_going(client, owner, clock: Clock):
    user, secret, _ = owner
    client.post(f"/login?next={S}/panel", data={"email": user.email, "password": PASSWORD})
    clock.advance(30)
    done = post_form(client, "/login/code", {"code": code_at(secret, clock.now)}, status=303)
    assert done.location.endswith(f"{S}/panel")


def test_a_wrong_code_is_refused(client, owner, clock: Clock):
    user, secret, _ = owner
    _password(client, user)
    clock.advance(30)
    right = code_at(secret, clock.now)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    refused = post_form(client, "/login/code", {"code": wrong}, status=422)
    assert "The code is not right" in text_of(refused)
    assert not _signed_in(client)


def test_a_code_is_never_accepted_twice(app, owner, clock: Clock):
    user, secret, _ = owner
    clock.advance(30)
    code = code_at(secret, clock.now)
    first, second = app.test_client(), app.test_client()
    _password(first, user)
    post_form(first, "/login/code", {"code": code}, status=303)
    _password(second, user)
    post_form(second, "/login/code", {"code": code}, status=422)
    assert not _signed_in(second)
    # Nor an older code still inside the window; the next step's code works.
    post_form(
        second,
        "/login/code",
        {"code": code_at(secret, clock.now - timedelta(seconds=30))},
        status=422,
    )
    post_form(
        second,
        "/login/code",
        {"code": code_at(secret, clock.now + timedelta(seconds=30))},
        status=303,
    )


def test_the_code_set_up_with_is_not_accepted_again_for_sign_in(client, owner, clock: Clock):
    user, secret, _ = owner
    _password(client, user)
    post_form(client, "/login/code", {"code": code_at(secret, clock.now)}, status=422)


def test_a_recovery_code_signs_in_once(app, owner, clock: Clock):
    user, _, codes = owner
    first, second = app.test_client(), app.test_client()
    _password(first, user)
    post_form(first, "/login/code", {"code": codes[3].upper().replace("-", " ")}, status=303)
    assert _signed_in(first)
    _password(second, user)
    post_form(second, "/login/code", {"code": codes[3]}, status=422)
    post_form(second, "/login/code", {"code": codes[4]}, status=303)
    assert "On, 8 recovery codes left" in text_of(get_page(second, "/account"))


def test_code_guesses_are_throttled(client, owner, clock: Clock):
    user, secret, _ = owner
    _password(client, user)
    statuses = [
        client.post("/login/code", data={"code": f"{n:06d}"}).status_code for n in range(1, 12)
    ]
    assert statuses[0] == 422 and 429 in statuses
    # While the throttle holds, even the right code waits.
    clock.advance(30)
    held = client.post("/login/code", data={"code": code_at(secret, clock.now)})
    assert held.status_code == 429
    assert "Too many sign-in attempts" in text_of(held)


def test_code_guesses_from_many_addresses_wait_up_to_fifteen_minutes(app, owner):
    """Longer than the one-minute ceiling of passwords: only a password holder gets here."""
    user, _, _ = owner
    now = datetime.now(UTC)
    db.session.add_all(
        LoginAttempt(key=f"email:code:{user.email}", created_at=now - timedelta(seconds=n))
        for n in range(200)
    )
    db.session.commit()
    client = app.test_client()
    _password(client, user)
    held = client.post("/login/code", data={"code": "123456"}, environ_base=ELSEWHERE)
    assert held.status_code == 429
    waited = re.search(r"Wait (\d+) minutes", text_of(held))
    assert waited is not None and 14 <= int(waited.group(1)) <= 15


def test_an_emailed_sign_in_link_also_asks_for_the_code(client, app, owner, smtp, clock: Clock):
    user, secret, _ = owner
    client.post("/sign-in-link", data={"email": user.email})
    (message,) = smtp.messages
    url = re.search(r"http://\S+/sign-in/\S+", message.get_payload(decode=True).decode()).group(0)
    response = client.post(url.removeprefix("http://localhost"))
    assert response.status_code == 303 and response.location.endswith("/login/code")
    assert not _signed_in(client)
    clock.advance(30)
    post_form(client, "/login/code", {"code": code_at(secret, clock.now)}, status=303)
    assert _signed_in(client)


def test_the_code_page_without_a_right_password_first_sends_to_sign_in(client, owner):
    response = client.post("/login/code", data={"code": "123456"})
    assert response.status_code == 303 and response.location.endswith("/login")
    with client.session_transaction() as session:
        session["two_step"] = {"user": owner[0].id, "version": 999, "until": 9e12, "next": "/"}
    assert client.get("/login/code").location.endswith("/login")


# --- the stored secret: the old scheme, another key, key rotation --------------------------------


def _stored(user: User) -> str:
    db.session.expire_all()
    return db.session.scalar(select(User.totp_secret).where(User.id == user.id))


def test_a_secret_stored_by_the_old_scheme_still_signs_in_and_is_then_stored_as_fernet(
    app, owner, clock: Clock
):
    user, _, _ = owner
    user.totp_secret = LEGACY_UNDER_TEST_KEY  # stored before this change
    db.session.commit()
    client = app.test_client()
    _password(client, user)
    clock.advance(30)
    # A wrong code writes nothing.
    post_form(client, "/login/code", {"code": "000000"}, status=422)
    assert _stored(user) == LEGACY_UNDER_TEST_KEY
    post_form(client, "/login/code", {"code": code_at(LEGACY_PLAIN, clock.now)}, status=303)
    assert _signed_in(client)
    stored = _stored(user)
    assert stored.startswith("gAAAAA")
    assert fernet_for("test-secret-key").decrypt(stored).decode() == LEGACY_PLAIN
    # And it keeps working.
    later = app.test_client()
    _password(later, user)
    clock.advance(30)
    post_form(later, "/login/code", {"code": code_at(LEGACY_PLAIN, clock.now)}, status=303)
    assert _stored(user) == stored  # sealed again only when it needed to be


def test_a_secret_being_set_up_under_the_old_scheme_is_stored_as_fernet_once_confirmed(
    client, panel: Panel, clock: Clock
):
    panel.facilitator.totp_secret = LEGACY_UNDER_TEST_KEY
    db.session.commit()
    sign_in(client, panel.facilitator)
    shown = get_page(client, "/account/two-step")
    assert page(shown).select_one("#secret").get_text().replace(" ", "") == LEGACY_PLAIN
    post_form(client, "/account/two-step", {"code": code_at(LEGACY_PLAIN, clock.now)}, status=200)
    db.session.refresh(panel.facilitator)
    assert panel.facilitator.has_two_step
    stored = _stored(panel.facilitator)
    assert fernet_for("test-secret-key").decrypt(stored).decode() == LEGACY_PLAIN


def test_under_another_secret_key_codes_are_refused_cleanly_and_recovery_codes_still_work(
    app, owner, clock: Clock, monkeypatch
):
    user, secret, codes = owner
    sealed = _stored(user)
    monkeypatch.setitem(app.config, "SECRET_KEY", "a changed secret key")
    client = app.test_client()
    _password(client, user)
    clock.advance(30)
    refused = post_form(client, "/login/code", {"code": code_at(secret, clock.now)}, status=422)
    assert "The code is not right" in text_of(refused)
    post_form(client, "/login/code", {"code": codes[0]}, status=303)
    assert _stored(user) == sealed  # nothing re-sealed under a key that cannot open it


def test_an_altered_stored_secret_is_refused_cleanly(app, owner, clock: Clock):
    user, secret, _ = owner
    raw = bytearray(base64.urlsafe_b64decode(_stored(user)))
    raw[40] ^= 1
    user.totp_secret = base64.urlsafe_b64encode(bytes(raw)).decode()
    db.session.commit()
    client = app.test_client()
    _password(client, user)
    clock.advance(30)
    post_form(client, "/login/code", {"code": code_at(secret, clock.now)}, status=422)
    assert not _signed_in(client)


def test_after_a_key_rotation_the_old_key_as_a_fallback_keeps_codes_working(
    app, owner, clock: Clock, monkeypatch
):
    user, secret, _ = owner
    monkeypatch.setitem(app.config, "SECRET_KEY", "the rotated secret key")
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", ["test-secret-key"])
    client = app.test_client()
    _password(client, user)
    clock.advance(30)
    post_form(client, "/login/code", {"code": code_at(secret, clock.now)}, status=303)
    # Sealed again under the current key: it opens once the fallback is gone.
    stored = _stored(user)
    assert fernet_for("the rotated secret key").decrypt(stored).decode() == secret
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", None)
    later = app.test_client()
    _password(later, user)
    clock.advance(30)
    post_form(later, "/login/code", {"code": code_at(secret, clock.now)}, status=303)


# --- turning it off, new recovery codes ------------------------------------------------------


def test_turning_it_off_needs_a_current_code(app, owner, clock: Clock):
    user, secret, _ = owner
    client = app.test_client()
    sign_in(client, user)
    post_form(client, "/account/two-step/off", {"off-code": "000000"}, status=422)
    db.session.refresh(user)
    assert user.has_two_step
    clock.advance(30)
    post_form(client, "/account/two-step/off", {"off-code": code_at(secret, clock.now)})
    db.session.refresh(user)
    assert not user.has_two_step and user.totp_secret is None
    assert db.session.scalar(select(func.count(RecoveryCode.id))) == 0


def test_new_recovery_codes_replace_the_old_ones(app, owner, clock: Clock):
    user, secret, old = owner
    client = app.test_client()
    sign_in(client, user)
    clock.advance(30)
    shown = post_form(
        client,
        "/account/two-step/recovery-codes",
        {"codes-code": code_at(secret, clock.now)},
        status=200,
    )
    new = [c.get_text() for c in page(shown).select(".app-recovery-codes code")]
    assert len(new) == 10 and not set(new) & set(old)
    signer = app.test_client()
    _password(signer, user)
    post_form(signer, "/login/code", {"code": old[0]}, status=422)
    post_form(signer, "/login/code", {"code": new[0]}, status=303)


# --- a study's requirement ---------------------------------------------------------------------


def test_a_study_can_require_it_and_facilitators_without_it_are_sent_to_set_it_up(
    app, panel: Panel, owner, clock: Clock
):
    user, _, _ = owner
    second = make_user("co@example.test", "Co Facilitator", facilitator=True)
    db.session.commit()
    first = app.test_client()
    sign_in(first, user)
    post_form(first, f"{S}/facilitators", {"email": "co@example.test", "name": "Co"})
    post_form(first, f"{S}/facilitators/two-step", {"require_two_step": "y"})
    db.session.refresh(panel.study)
    assert panel.study.require_two_step

    co = app.test_client()
    sign_in(co, second)
    for path in [S, f"{S}/panel", f"{S}/rounds/1/ballot"]:
        sent = co.get(path)
        assert sent.status_code == 303, path
        assert "/account/two-step?next=" in sent.location
    assert co.post(f"{S}/groups", data={"name": "X"}).status_code == 303
    fragment = co.get(f"{S}/panel", headers={"HX-Request": "true"})
    assert fragment.status_code == 204
    assert fragment.headers["HX-Redirect"].startswith("/account/two-step?next=")
    assert co.get("/api/v1/studies/test-study").status_code == 403
    # Pages outside the study, and the panel's pages, are unaffected.
    assert _signed_in(co)
    panellist = app.test_client()
    sign_in(panellist, panel.partners[0].user)
    assert panellist.get(S).status_code == 200

    # Once set up, the facilitator goes on to where they were going.
    setup = get_page(co, f"/account/two-step?next={S}/panel")
    assert "Test study require" in text_of(setup)
    secret = page(setup).select_one("#secret").get_text().replace(" ", "")
    done = post_form(
        co, f"/account/two-step?next={S}/panel", {"code": code_at(secret, clock.now)}, status=200
    )
    assert page(done).select_one("a.nhsuk-button")["href"] == f"{S}/panel"
    assert co.get(f"{S}/panel").status_code == 200
    # And cannot turn it off while the study requires it.
    clock.advance(30)
    refused = post_form(
        co, "/account/two-step/off", {"off-code": code_at(secret, clock.now)}, status=422
    )
    assert "requires its facilitators to use two-step sign-in" in text_of(refused)


def test_requiring_it_needs_it_on_your_own_account_first(client, panel: Panel):
    sign_in(client, panel.facilitator)
    refused = post_form(client, f"{S}/facilitators/two-step", {"require_two_step": "y"}, status=409)
    assert "Turn on two-step sign-in for your own account first" in text_of(refused)
    db.session.refresh(panel.study)
    assert not panel.study.require_two_step


def test_stopping_the_requirement_needs_a_current_code_and_is_audited(
    app, panel: Panel, owner, clock: Clock
):
    user, secret, _ = owner
    client = app.test_client()
    sign_in(client, user)
    post_form(client, f"{S}/facilitators/two-step", {"require_two_step": "y"})
    post_form(client, f"{S}/facilitators/two-step", {}, status=422)
    post_form(client, f"{S}/facilitators/two-step", {"code": "000000"}, status=422)
    db.session.refresh(panel.study)
    assert panel.study.require_two_step
    clock.advance(30)
    post_form(client, f"{S}/facilitators/two-step", {"code": code_at(secret, clock.now)})
    db.session.refresh(panel.study)
    assert not panel.study.require_two_step
    audit = text_of(get_page(client, f"{S}/audit"))
    assert "Required two-step sign-in of the study's facilitators" in audit
    assert "Stopped requiring two-step sign-in of the facilitators" in audit


def test_erasing_a_person_forgets_their_two_step_secret_and_recovery_codes(owner):
    from app.services.privacy import erase_person

    user, _, _ = owner
    erase_person(user.email)
    db.session.refresh(user)
    assert user.totp_secret is None and not user.has_two_step
    assert (
        db.session.scalar(
            select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id)
        )
        == 0
    )
