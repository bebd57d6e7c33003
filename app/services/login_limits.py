"""Sign-in rate limits, kept in the database so every worker and machine shares them.

Failed attempts are counted per account and per network address over a sliding window;
past the limit, sign-in answers 429 until the window has moved on.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import LoginAttempt, utcnow
from delphi import DomainError

WINDOW = timedelta(minutes=15)


class TooManyAttempts(DomainError):
    status_code = 429


def _keys(email: str | None) -> list[tuple[str, int]]:
    """(key, limit) pairs: the account named in the form, and the client's address."""
    config = current_app.config
    keys = [(f"ip:{request.remote_addr or 'unknown'}", config["LOGIN_MAX_PER_ADDRESS"])]
    if email:
        keys.append((f"email:{email.strip().lower()[:250]}", config["LOGIN_MAX_FAILURES"]))
    return keys


def check_allowed(email: str | None = None) -> None:
    """Raise `TooManyAttempts` when the account or the address has failed too often lately."""
    since = utcnow() - WINDOW
    for key, limit in _keys(email):
        failures = db.session.scalar(
            select(func.count(LoginAttempt.id)).where(
                LoginAttempt.key == key, LoginAttempt.created_at > since
            )
        )
        if (failures or 0) >= limit:
            minutes = int(WINDOW.total_seconds() // 60)
            raise TooManyAttempts(
                "Too many sign-in attempts. Wait "
                f"{minutes} minutes and try again, or ask for a sign-in link by email."
            )


def record_failure(email: str | None = None) -> None:
    """Count a failed attempt (and forget attempts older than the window); commits."""
    now = utcnow()
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.created_at <= now - WINDOW))
    for key, _ in _keys(email):
        db.session.add(LoginAttempt(key=key, created_at=now))
    db.session.commit()


def clear_account(email: str) -> None:
    """A successful sign-in wipes the account's failures (not the address's)."""
    db.session.execute(
        delete(LoginAttempt).where(LoginAttempt.key == f"email:{email.strip().lower()[:250]}")
    )
