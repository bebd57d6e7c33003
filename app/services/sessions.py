"""Signed-in sessions kept on the server, so that signing out really ends one.

The session cookie holds "user id:session version:session key". The key is random and only
its SHA-256 is stored, in `user_sessions`. Signing out marks that row ended; a password
change raises the account's session version, which ends every session of the account.
A cookie saved before either no longer signs anyone in.

Emailed sign-in links are here too: single-use, short-lived, and claimed with a conditional
update so that two clicks racing on one link cannot both use it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update

from app.extensions import db
from app.models import SignInLink, User, UserSession, utcnow
from app.security import hash_password, new_token, token_hash
from app.services.transaction import transactional
from delphi import DomainError


def start(user: User, lifetime: timedelta) -> str:
    """A new session for the user; returns the value the cookie stores. Forgets the
    account's ended and expired sessions on the way."""
    now = utcnow()
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(UserSession.ended_at.is_not(None), UserSession.created_at < now - lifetime),
        )
    )
    key, digest = new_token()
    db.session.add(UserSession(user_id=user.id, token_hash=digest, created_at=now))
    return f"{user.id}:{user.session_version}:{key}"


@transactional
def sign_in(user: User, lifetime: timedelta) -> str:
    """Start a session for the user and note the time; returns the cookie's value."""
    value = start(user, lifetime)
    user.last_login_at = utcnow()
    return value


def parse(value: str) -> tuple[int, int, str] | None:
    """(user id, session version, key) from the cookie's value, or None if malformed."""
    parts = str(value).split(":", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or not parts[2]:
        return None
    user_id, version = int(parts[0]), int(parts[1])
    if user_id > 2**31 - 1 or version > 2**31 - 1:
        return None
    return user_id, version, parts[2]


_LIVE = (
    select(User)
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.ended_at.is_(None))
)


def user_for(value: str) -> User | None:
    """The user a session cookie signs in, if that session is still live on the server."""
    parsed = parse(value)
    if parsed is None:
        return None
    user_id, version, key = parsed
    return db.session.scalar(
        _LIVE.where(
            User.id == user_id,
            User.session_version == version,
            UserSession.token_hash == token_hash(key),
        )
    )


@transactional
def end(value: str | None) -> None:
    """End the session behind a cookie value (signing out)."""
    parsed = parse(value or "")
    if parsed is None:
        return
    db.session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == parsed[0],
            UserSession.token_hash == token_hash(parsed[2]),
            UserSession.ended_at.is_(None),
        )
        .values(ended_at=utcnow())
    )


def set_password(user: User, password: str) -> None:
    """Store a new password and end every session of the account, wherever it is open."""
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 1) + 1
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


# ---------------------------------------------------------------- emailed sign-in links


class SignInLinkInvalid(DomainError):
    """Unknown, used or expired: counts against the address as a failed sign-in."""

    status_code = 410


class SignInLinkTaken(DomainError):
    """Valid a moment ago, but another request used it first."""

    status_code = 410


def links_sent_recently(user: User, now: datetime | None = None) -> int:
    """Sign-in links sent to the account in the last 15 minutes."""
    since = (now or utcnow()) - timedelta(minutes=15)
    sent = db.session.scalar(
        select(func.count(SignInLink.id)).where(
            SignInLink.user_id == user.id, SignInLink.created_at > since
        )
    )
    return sent or 0


@transactional
def issue_sign_in_link(user: User, minutes: int) -> str:
    """A new single-use link's token, valid for `minutes`."""
    token, digest = new_token()
    db.session.add(
        SignInLink(
            user_id=user.id,
            token_hash=digest,
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )
    return token


@transactional
def redeem_sign_in_link(
    token: str, lifetime: timedelta, now: datetime | None = None
) -> tuple[User, str]:
    """Use the link: (its user, the new session's cookie value)."""
    user = claim_sign_in_link(token, now)
    return user, sign_in(user, lifetime)


@transactional
def claim_sign_in_link(token: str, now: datetime | None = None) -> User:
    """Use the link up and return its user, starting no session: an account with two-step
    sign-in still has its code to give."""
    now = now or utcnow()
    link = db.session.scalar(select(SignInLink).where(SignInLink.token_hash == token_hash(token)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise SignInLinkInvalid(
            "This sign-in link has expired or has been used. Ask for a new one."
        )
    claimed = db.session.execute(
        update(SignInLink)
        .where(SignInLink.id == link.id, SignInLink.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        raise SignInLinkTaken("This sign-in link has been used.")
    return link.user
