"""Passwords, unguessable tokens and their stored hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verifying against this keeps response time the same for unknown emails.
_DUMMY_HASH = _hasher.hash("not a real password")


# The one rule for a new password (joining a panel, the account page, create-facilitator):
# length only, as NCSC advice has it; a password manager's long random ones always pass.
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 200
PASSWORD_TOO_SHORT = f"Your password must be at least {PASSWORD_MIN_LENGTH} characters"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str]:
    """A 256-bit URL-safe token and the SHA-256 hex digest that is stored instead of it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_link_seed() -> str:
    """A random 256-bit seed (hex) from which `link_token` derives a link's token."""
    return secrets.token_hex(32)


def link_token(seed: str, secret_key: str | bytes) -> str:
    """The URL-safe token of an invitation link from its stored seed and the app's SECRET_KEY.

    HMAC-SHA256 under a key derived from SECRET_KEY for this use alone: the seed without the
    key (a copy of the database, a backup) gives nothing, and a changed SECRET_KEY gives a
    token whose digest no longer matches, so the link is not shown again.
    """
    secret = secret_key if isinstance(secret_key, bytes) else secret_key.encode("utf-8")
    key = hmac.new(secret, b"delphi: invitation link tokens", hashlib.sha256).digest()
    digest = hmac.new(key, bytes.fromhex(seed), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
