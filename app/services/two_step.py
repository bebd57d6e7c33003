"""Two-step sign-in: time-based codes (TOTP, RFC 6238) from any authenticator app, and
single-use recovery codes.

The TOTP secret is stored as a Fernet token (`cryptography`: AES-128-CBC, then HMAC-SHA256)
under a key derived from SECRET_KEY with HKDF-SHA256 for this use alone (`seal`), so a copy
of the database alone (a backup) gives no one the codes, and an altered value or another
SECRET_KEY opens nothing. Old keys listed in SECRET_KEY_FALLBACKS still open it after a
rotation; values sealed by the earlier home-made scheme are still read (`_unseal_legacy`,
read only). Either is sealed again with Fernet under SECRET_KEY at the next right code.

A code is accepted for the time step before, at or after now (clocks drift), and never twice:
the last accepted step is kept and claimed with a conditional update, so a code seen over
someone's shoulder, or two requests racing with one code, sign in once at most. Recovery
codes (ten, about 50 bits each) are stored as SHA-256 digests and used up once each, claimed
the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from app.extensions import db
from app.models import RecoveryCode, Study, StudyFacilitator, User, UserSession, utcnow
from app.security import token_hash
from app.services import audit, login_limits
from app.services.transaction import transactional
from delphi import DomainError

STEP_SECONDS = 30
DIGITS = 6
RECOVERY_CODES = 10
# Code guesses from anywhere wait up to this long: someone who already has the password
# gets about 35,000 guesses a year at 3 in a million each. Passwords' account-wide ceiling is
# a minute so that strangers cannot lock the owner out; only someone holding the password
# can make the owner wait here.
CODE_ACCOUNT_LONGEST_WAIT = timedelta(minutes=15)
ISSUER = "Delphi panel"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


class WrongCode(DomainError):
    status_code = 422


class TwoStepRequired(DomainError):
    """Turning two-step sign-in off while a study one facilitates requires it."""

    status_code = 409


# ---------------------------------------------------------------- sealing the secret


# A purpose of its own for HKDF, so this key is unrelated to every other key derived from
# SECRET_KEY (session cookies, invitation links, unsubscribe links).
_FERNET_INFO = b"delphi: two-step secret"
_FERNET_VERSION = 0x80  # the first byte of every Fernet token ("gAAAAA..." in base64)


def _fernet(secret_key: str | bytes) -> Fernet:
    secret = secret_key if isinstance(secret_key, bytes) else secret_key.encode("utf-8")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_FERNET_INFO).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(plain: str, secret_key: str | bytes) -> str:
    """`plain` as a Fernet token (AES-128-CBC, then HMAC-SHA256) under a key derived from
    `secret_key`."""
    return _fernet(secret_key).encrypt(plain.encode("utf-8")).decode("ascii")


def _is_fernet(sealed: str) -> bool:
    """Is `sealed` shaped as a Fernet token: the version byte, a timestamp, a 16-byte IV,
    whole AES blocks and a 32-byte tag? Values sealed the old way are 16 random bytes, the
    text and a 32-byte tag: 80 bytes for the 32-character secrets this app makes, a length
    no Fernet token has. (For other lengths, 1 in 256 would start with the version byte by
    chance; `_open` then still tries the old scheme.)"""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
    except ValueError:
        return False
    return raw[:1] == bytes([_FERNET_VERSION]) and len(raw) >= 73 and (len(raw) - 57) % 16 == 0


def _unseal_legacy(sealed: str, secret_key: str | bytes) -> str:
    """LEGACY, READ ONLY: open a value sealed before Fernet (HMAC-SHA256 in counter mode, then
    an HMAC-SHA256 tag, keys derived from SECRET_KEY with HMAC). Such values were stored
    while this scheme shipped; they are re-sealed with `seal` once read in a request that
    writes (`confirm`, `verify`). Never seal anything this way again."""
    secret = secret_key if isinstance(secret_key, bytes) else secret_key.encode("utf-8")
    encryption = hmac.new(secret, b"delphi: two-step secret, encryption", hashlib.sha256).digest()
    authentication = hmac.new(
        secret, b"delphi: two-step secret, authentication", hashlib.sha256
    ).digest()
    raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
    nonce, cipher, tag = raw[:16], raw[16:-32], raw[-32:]
    expected = hmac.new(authentication, nonce + cipher, hashlib.sha256).digest()
    if len(raw) < 48 or not hmac.compare_digest(tag, expected):
        raise ValueError("the two-step secret cannot be read with this SECRET_KEY")
    stream = b"".join(
        hmac.new(encryption, nonce + n.to_bytes(4, "big"), hashlib.sha256).digest()
        for n in range(-(-len(cipher) // 32))
    )[: len(cipher)]
    return bytes(a ^ b for a, b in zip(cipher, stream, strict=True)).decode("utf-8")


def _open(
    sealed: str, secret_key: str | bytes, fallbacks: Sequence[str | bytes] = ()
) -> tuple[str, bool]:
    """The text `sealed` holds, and whether it should be sealed again with `seal` under
    `secret_key` (it was sealed the old way, or under one of the `fallbacks`, old keys kept
    after a rotation). ValueError if no key opens it (altered, or another SECRET_KEY)."""
    if _is_fernet(sealed):
        try:
            return _fernet(secret_key).decrypt(sealed).decode("utf-8"), False
        except (InvalidToken, ValueError):
            pass
        if fallbacks:
            try:
                old = MultiFernet([_fernet(key) for key in fallbacks])
                return old.decrypt(sealed).decode("utf-8"), True
            except (InvalidToken, ValueError):
                pass
    # Not shaped as a Fernet token, or shaped as one only by chance (a legacy value of another
    # length whose random nonce starts with the version byte): perhaps sealed the old way.
    for key in (secret_key, *fallbacks):
        try:
            return _unseal_legacy(sealed, key), True
        except ValueError:
            pass
    raise ValueError("the two-step secret cannot be read with this SECRET_KEY")


def unseal(sealed: str, secret_key: str | bytes, fallbacks: Sequence[str | bytes] = ()) -> str:
    """The text `seal` sealed under `secret_key` or one of the `fallbacks` (also a value sealed
    the old way); ValueError if it was altered or sealed under another key."""
    return _open(sealed, secret_key, fallbacks)[0]


def _stored_secret(user: User) -> tuple[str, bool] | None:
    """The user's secret and whether to store it sealed again (`_open`); None if there is
    none, or it cannot be read (SECRET_KEY changed without a fallback): codes then fail
    as wrong, and the owner signs in with a recovery code."""
    if not user.totp_secret:
        return None
    try:
        return _open(
            user.totp_secret,
            current_app.secret_key or "",
            current_app.config.get("SECRET_KEY_FALLBACKS") or (),
        )
    except ValueError:
        return None


def _secret_of(user: User) -> str | None:
    stored = _stored_secret(user)
    return stored[0] if stored else None


def _sealed_now(secret: str) -> str:
    return seal(secret, current_app.secret_key or "")


# ---------------------------------------------------------------- codes


def normalise(code: str) -> str:
    return "".join(ch for ch in str(code).lower() if ch.isalnum())


def step_of(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def matching_step(
    secret: str, code: str, now: datetime, *, digits: int = DIGITS, window: int = 1
) -> int | None:
    """The time step, within `window` steps of now, whose code is `code`; None if none.

    `secret` is base32, as authenticator apps take it."""
    code = normalise(code)
    if len(code) != digits or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=digits, interval=STEP_SECONDS)
    current = step_of(now)
    found = None
    for step in range(current - window, current + window + 1):
        # Every step is compared, so the time taken says nothing about which one matched.
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            found = step
    return found


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=user.email, issuer_name=ISSUER
    )


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG, made here: the secret never goes to another service."""
    return segno.make(uri, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", title="QR code for your authenticator app"
    )


def _recovery_digest(user_id: int, code: str) -> str:
    return token_hash(f"recovery:{user_id}:{normalise(code)}")


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_digest(user.id, raw)))
    return codes


def recovery_codes_left(user: User) -> int:
    left = db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )
    return left or 0


# ---------------------------------------------------------------- setting up and using


def secret_being_set_up(user: User) -> str | None:
    """The secret shown on the setup page and not yet confirmed, if there is one."""
    return None if user.has_two_step else _secret_of(user)


@transactional
def pending_secret(user: User) -> str:
    """The secret being set up (kept across reloads, so a scanned code stays right)."""
    if user.has_two_step:
        raise DomainError("Two-step sign-in is already on.")
    secret = _secret_of(user)
    if secret is None:
        secret = pyotp.random_base32()
        user.totp_secret = _sealed_now(secret)
        user.totp_last_step = None
    return secret


@transactional
def confirm(
    user: User, code: str, *, keep_session: str | None, now: datetime | None = None
) -> list[str]:
    """Turn two-step sign-in on once a first code proves the app holds the secret; returns
    the recovery codes, to be shown once. Every other session of the account ends: it was
    signed in without the second step."""
    now = now or utcnow()
    stored = _stored_secret(user)
    step = matching_step(stored[0], code, now) if stored and not user.has_two_step else None
    if stored is None or step is None:
        raise WrongCode("The code is not right. Enter the 6-digit code your app shows now.")
    if stored[1]:  # sealed the old way or under an old key: this request writes anyway
        user.totp_secret = _sealed_now(stored[0])
    user.totp_enabled_at = now
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    _end_other_sessions(user, keep_session)
    audit.record(None, "account.two_step_on", by=user.id)
    return codes


def _end_other_sessions(user: User, keep_session: str | None) -> None:
    from app.services.sessions import parse

    parsed = parse(keep_session or "")
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if parsed is not None:
        query = query.where(UserSession.token_hash != token_hash(parsed[2]))
    db.session.execute(query.values(ended_at=utcnow()))


@transactional
def verify(user: User, code: str, now: datetime | None = None) -> bool:
    """Is `code` a current code never used before, or an unused recovery code? Using it
    spends it."""
    now = now or utcnow()
    if not user.has_two_step:
        return False
    stored = _stored_secret(user)
    step = matching_step(stored[0], code, now) if stored else None
    if stored is not None and step is not None:
        claim = (
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        # A secret sealed the old way or under an old key is sealed again with the claim,
        # which writes the row anyway.
        resealed = _sealed_now(stored[0]) if stored[1] else None
        if resealed is not None:
            claim = claim.values(totp_secret=resealed)
        claimed = db.session.execute(claim).rowcount
        if claimed == 1:
            user.totp_last_step = step
            if resealed is not None:
                user.totp_secret = resealed
        return claimed == 1
    normal = normalise(code)
    if len(normal) != 10:
        return False
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_digest(user.id, normal),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    ).rowcount
    if used == 1:
        audit.record(None, "account.recovery_code_used", by=user.id)
    return used == 1


def use_code(user: User, code: str) -> None:
    """`verify`, raising `WrongCode` when the code does not do."""
    if not verify(user, code):
        raise WrongCode("The code is not right. Enter the 6-digit code your app shows now.")


@contextmanager
def limited(user: User, *, address: str | None) -> Iterator[None]:
    """Throttle code guesses like passwords (app/services/login_limits.py), under keys of
    their own: a wrong code inside raises `WrongCode` and counts once its own transaction
    has rolled back; a right one clears the account's count."""
    key = f"code:{user.email}"
    login_limits.check_allowed(key, address=address, account_longest=CODE_ACCOUNT_LONGEST_WAIT)
    try:
        yield
    except WrongCode:
        login_limits.record_failure(key, address=address)
        raise
    login_limits.clear_account(key)


def studies_requiring(user: User) -> list[Study]:
    """The studies the user facilitates whose facilitators must use two-step sign-in."""
    return list(
        db.session.scalars(
            select(Study)
            .join(StudyFacilitator, StudyFacilitator.study_id == Study.id)
            .where(StudyFacilitator.user_id == user.id, Study.require_two_step.is_(True))
            .order_by(Study.title)
        )
    )


@transactional
def turn_off(user: User, code: str) -> None:
    """Turn two-step sign-in off; needs a current code (or a recovery code), and no study
    the user facilitates may require it."""
    required = studies_requiring(user)
    if required:
        raise TwoStepRequired(
            f"{required[0].title} requires its facilitators to use two-step sign-in, so it "
            "stays on."
        )
    use_code(user, code)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(None, "account.two_step_off", by=user.id)


@transactional
def replace_recovery_codes(user: User, code: str) -> list[str]:
    """New recovery codes for a current code; the old ones stop working."""
    use_code(user, code)
    codes = _new_recovery_codes(user)
    audit.record(None, "account.recovery_codes_replaced", by=user.id)
    return codes


# ---------------------------------------------------------------- a study's requirement


@transactional
def set_study_requirement(study: Study, required: bool, actor: User, code: str = "") -> None:
    """Require two-step sign-in of the study's facilitators, or stop requiring it (which
    needs a current code from the facilitator doing it)."""
    if required == study.require_two_step:
        return
    if required and not actor.has_two_step:
        raise TwoStepRequired(
            "Turn on two-step sign-in for your own account first, then require it of the study."
        )
    if not required and not verify(actor, code):
        raise WrongCode(
            "Enter the 6-digit code your app shows now to stop requiring two-step sign-in."
        )
    study.require_two_step = required
    audit.record(
        study.id,
        "study.two_step_required" if required else "study.two_step_not_required",
        by=actor.id,
    )
