"""Configuration: defaults, then environment variables, then overrides given to create_app."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once per install (never committed)."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _secret_key_fallbacks() -> list[str] | None:
    """Old SECRET_KEYs still accepted after a rotation (comma-separated), or None (Flask's
    default). Flask checks session cookies against them; the two-step secret opens with them
    (app/services/two_step.py)."""
    keys = [key.strip() for key in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",")]
    return [key for key in keys if key] or None


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url or f"sqlite:///{instance_path / 'delphi.sqlite3'}"


def build_config(instance_path: Path) -> dict[str, Any]:
    development = os.environ.get("APP_ENV", "production") == "development"
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SECRET_KEY_FALLBACKS": _secret_key_fallbacks(),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        # Check each pooled connection before use: after a database restart the pool holds
        # connections the server closed (tests/web/test_database_restart.py).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_SECURE": not development,
        "REMEMBER_COOKIE_SECURE": not development,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "INVITATION_DAYS": int(os.environ.get("INVITATION_DAYS", "14")),
        "SIGN_IN_LINK_MINUTES": 30,
        # Failed sign-ins allowed (in an hour) before each further attempt must wait, the
        # wait doubling from one second: for one account from one network address, for one
        # address on any account, and for one account from anywhere. The last has a short
        # ceiling so that nobody can lock an account's owner out (app/services/login_limits).
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_MAX_PER_ADDRESS": int(os.environ.get("LOGIN_MAX_PER_ADDRESS", "30")),
        "LOGIN_ACCOUNT_FAILURES": int(os.environ.get("LOGIN_ACCOUNT_FAILURES", "10")),
        "LOGIN_LONGEST_WAIT": 15 * 60,
        "LOGIN_ACCOUNT_LONGEST_WAIT": 60,
        # Emailed sign-in links one account may be sent in 15 minutes.
        "SIGN_IN_LINKS_PER_QUARTER_HOUR": 5,
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "") == "1",
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "Delphi panel <delphi@localhost>"),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", ""),
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers to trust.
        "PROXY_FIX": int(os.environ.get("PROXY_FIX", "0") or 0),
        "BOOTSTRAP_RESAMPLES": 1000,
        # Messages one person may post in the discussion, per so many seconds.
        "DISCUSSION_RATE_LIMIT": (8, 60),
    }
