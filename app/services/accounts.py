"""Accounts set up by an administrator (`flask create-facilitator`), and a signed-in
person setting or changing their own password (the account page)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import User, UserSession, utcnow
from app.security import check_password, token_hash
from app.services import audit, login_limits, sessions
from app.services.sessions import set_password
from app.services.transaction import transactional
from delphi import DomainError

# An account with no password yet (it signs in with emailed links) sets its first one
# without typing a current one: only a session started this recently may, so a session left
# open on a shared computer cannot quietly take the account over.
FIRST_PASSWORD_WITHIN = timedelta(minutes=30)


class WrongPassword(DomainError):
    status_code = 422


class SignInAgain(DomainError):
    """Setting a first password from a session that is not recent enough."""

    status_code = 403


@transactional
def make_facilitator(email: str, name: str, password: str) -> User:
    """Create a user who can create and facilitate studies, or promote an existing one; the
    password is set and every session the account had is ended."""
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name or email.split("@")[0])
        db.session.add(user)
    user.can_create_studies = True
    db.session.flush()
    set_password(user, password)
    if name:
        user.name = name
    return user


def session_started_at(cookie_value: str | None) -> datetime | None:
    """When the live server-side session behind a cookie value started, or None."""
    parsed = sessions.parse(cookie_value or "")
    if parsed is None:
        return None
    started = db.session.scalar(
        select(UserSession.created_at).where(
            UserSession.user_id == parsed[0],
            UserSession.token_hash == token_hash(parsed[2]),
            UserSession.ended_at.is_(None),
        )
    )
    if started is not None and started.tzinfo is None:  # SQLite keeps no time zone
        started = started.replace(tzinfo=utcnow().tzinfo)
    return started


def may_set_first_password(
    user: User, cookie_value: str | None, now: datetime | None = None
) -> bool:
    """An account with a password always may change it (with the current one); one without
    may set its first only from a session started within `FIRST_PASSWORD_WITHIN`."""
    if user.password_hash is not None:
        return True
    started = session_started_at(cookie_value)
    return started is not None and started >= (now or utcnow()) - FIRST_PASSWORD_WITHIN


@transactional
def change_password(
    user: User,
    new_password: str,
    *,
    current_password: str | None,
    cookie_value: str | None,
    lifetime: timedelta,
) -> str:
    """Set or change the user's own password; returns the cookie value of a new session.

    With a password already, `current_password` must match it (`WrongPassword` otherwise).
    Without one, the session must be recent (`SignInAgain`). Every session of the account
    ends, this one included (`set_password`), and the caller signs in with the new one."""
    had_password = user.password_hash is not None
    if had_password:
        if not check_password(user.password_hash, current_password or ""):
            raise WrongPassword("Your current password is not right")
    elif not may_set_first_password(user, cookie_value):
        raise SignInAgain(
            "To set a password, sign in again with an emailed link, then set it within "
            f"{int(FIRST_PASSWORD_WITHIN.total_seconds() // 60)} minutes."
        )
    set_password(user, new_password)
    value = sessions.start(user, lifetime)
    audit.record(
        None, "account.password_changed" if had_password else "account.password_set", by=user.id
    )
    return value


@contextmanager
def limited(user: User, *, address: str | None) -> Iterator[None]:
    """Throttle current-password guesses exactly like sign-in's (app/services/login_limits.py),
    under the account's own keys, so guesses here and on the sign-in page share one count:
    a wrong password raises `WrongPassword` and counts once its transaction has rolled back;
    a right one clears the account's count."""
    login_limits.check_allowed(user.email, address=address)
    try:
        yield
    except WrongPassword:
        login_limits.record_failure(user.email, address=address)
        raise
    login_limits.clear_account(user.email)
