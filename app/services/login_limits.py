"""Sign-in throttling, kept in the database so every worker and machine shares it.

Failed attempts are counted over a sliding window under three keys: the account and the
client's address together, the address alone, and the account from anywhere. Past a free
allowance each key makes the next attempt wait, doubling with every further failure up to a
ceiling. The account-wide ceiling is short (a minute by default), so someone guessing an
account's password from many addresses is slowed to a crawl but can never lock its owner
out; the emailed sign-in link is not throttled by failed passwords at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import LoginAttempt, utcnow
from app.services.transaction import transactional
from app.settings import settings
from delphi import DomainError

WINDOW = timedelta(hours=1)
FIRST_WAIT = timedelta(seconds=1)


class TooManyAttempts(DomainError):
    status_code = 429


@dataclass(frozen=True)
class Throttle:
    key: str
    free: int  # failures allowed before the first wait
    longest: timedelta  # the ceiling of the doubling wait


def wait_after(failures: int, throttle: Throttle) -> timedelta:
    """How long after the last failure the next attempt must wait."""
    if failures < throttle.free:
        return timedelta(0)
    doublings = min(failures - throttle.free, 30)
    return min(FIRST_WAIT * 2**doublings, throttle.longest)


def _account(email: str) -> str:
    return email.strip().lower()[:250]


def _throttles(
    email: str | None, address: str | None, account_longest: timedelta | None = None
) -> list[Throttle]:
    limits = settings()
    address = address or "unknown"
    longest = timedelta(seconds=limits.login_longest_wait)
    throttles = [Throttle(f"ip:{address}", limits.login_max_per_address, longest)]
    if email:
        account = _account(email)
        throttles += [
            Throttle(f"pair:{account}|{address}", limits.login_max_failures, longest),
            Throttle(
                f"email:{account}",
                limits.login_account_failures,
                account_longest or timedelta(seconds=limits.login_account_longest_wait),
            ),
        ]
    return throttles


def _describe(wait: timedelta) -> str:
    seconds = max(1, int(wait.total_seconds() + 0.999))
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minutes"


def check_allowed(
    email: str | None = None,
    *,
    address: str | None,
    now: datetime | None = None,
    account_longest: timedelta | None = None,
) -> None:
    """Raise `TooManyAttempts`, saying how long to wait, while any throttle holds.

    `address` is the client's network address (the view passes `request.remote_addr`).
    `account_longest` replaces the account-wide ceiling (two-step codes wait longer)."""
    now = now or utcnow()
    throttles = {t.key: t for t in _throttles(email, address, account_longest)}
    rows = db.session.execute(
        select(LoginAttempt.key, func.count(LoginAttempt.id), func.max(LoginAttempt.created_at))
        .where(LoginAttempt.key.in_(list(throttles)), LoginAttempt.created_at > now - WINDOW)
        .group_by(LoginAttempt.key)
    ).all()
    remaining = timedelta(0)
    for key, failures, last in rows:
        if last.tzinfo is None:  # SQLite returns aggregates without the column's type
            last = last.replace(tzinfo=now.tzinfo)
        remaining = max(remaining, last + wait_after(failures, throttles[key]) - now)
    if remaining > timedelta(0):
        raise TooManyAttempts(
            f"Too many sign-in attempts. Wait {_describe(remaining)} and try again, "
            "or ask for a sign-in link by email."
        )


@transactional
def record_failure(email: str | None = None, *, address: str | None) -> None:
    """Count a failed attempt (and forget attempts older than the window)."""
    now = utcnow()
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.created_at <= now - WINDOW))
    for throttle in _throttles(email, address):
        db.session.add(LoginAttempt(key=throttle.key, created_at=now))


@transactional
def clear_account(email: str) -> None:
    """A successful sign-in wipes the account's failures (not the address's)."""
    account = _account(email)
    db.session.execute(
        delete(LoginAttempt).where(
            (LoginAttempt.key == f"email:{account}")
            | LoginAttempt.key.startswith(f"pair:{account}|", autoescape=True)
        )
    )
