"""Two-step sign-in: time-based codes (TOTP, RFC 6238) from any authenticator app, and
single-use recovery codes.

The TOTP secret is stored sealed under a key derived from SECRET_KEY (`seal`), so a copy of
the database alone (a backup) gives no one the codes. A code is accepted for the time step
before, at or after now (clocks drift), and never twice: the last accepted step is kept and
claimed with a conditional update, so a code seen over someone's shoulder, or two requests
racing with one code, sign in once at most. Recovery codes (ten, about 50 bits each) are
stored as SHA-256 digests and used up once each, claimed the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pyotp
import segno
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


def _keys(secret_key: str | bytes) -> tuple[bytes, bytes]:
    secret = secret_key if isinstance(secret_key, bytes) else secret_key.encode("utf-8")
    return (
        hmac.new(secret, b"delphi: two-step secret, encryption", hashlib.sha256).digest(),
        hmac.new(secret, b"delphi: two-step secret, authentication", hashlib.sha256).digest(),
    )


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    # HMAC-SHA256 as a pseudorandom function in counter mode: the standard library has no
    # block cipher, and this needs nothing else.
    blocks = (
        hmac.new(key, nonce + n.to_bytes(4, "big"), hashlib.sha256).digest()
        for n in range(-(-length // 32))
    )
    return b"".join(blocks)[:length]


def seal(plain: str, secret_key: str | bytes) -> str:
    """Encrypt-then-MAC `plain` under keys derived from `secret_key`."""
    encryption, authentication = _keys(secret_key)
    nonce = secrets.token_bytes(16)
    data = plain.encode("utf-8")
    cipher = bytes(
        a ^ b for a, b in zip(data, _keystream(encryption, nonce, len(data)), strict=True)
    )
    tag = hmac.new(authentication, nonce + cipher, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(nonce + cipher + tag).decode("ascii")


def unseal(sealed: str, secret_key: str | bytes) -> str:
    """The text `seal` sealed; ValueError if it was altered or sealed under another key."""
    encryption, authentication = _keys(secret_key)
    raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
    nonce, cipher, tag = raw[:16], raw[16:-32], raw[-32:]
    expected = hmac.new(authentication, nonce + cipher, hashlib.sha256).digest()
    if len(raw) < 48 or not hmac.compare_digest(tag, expected):
        raise ValueError("the two-step secret cannot be read with this SECRET_KEY")
    plain = bytes(
        a ^ b for a, b in zip(cipher, _keystream(encryption, nonce, len(cipher)), strict=True)
    )
    return plain.decode("utf-8")


def _secret_of(user: User) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return unseal(user.totp_secret, current_app.secret_key or "")
    except ValueError:
        return None


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
        user.totp_secret = seal(secret, current_app.secret_key or "")
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
    secret = _secret_of(user)
    step = matching_step(secret, code, now) if secret and not user.has_two_step else None
    if step is None:
        raise WrongCode("The code is not right. Enter the 6-digit code your app shows now.")
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
    secret = _secret_of(user)
    step = matching_step(secret, code, now) if secret else None
    if step is not None:
        claimed = db.session.execute(
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed == 1:
            user.totp_last_step = step
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
