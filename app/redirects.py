"""Where a person may be sent after an action: only a plain path on this site."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_LENGTH = 2000


def _is_plain_path(target: str) -> bool:
    if not target.startswith("/") or target.startswith(("//", "/\\")) or len(target) > MAX_LENGTH:
        return False
    # Browsers drop tabs and newlines from URLs ("/\t/evil.example" becomes
    # "//evil.example") and read a backslash as a slash: refuse them, and any other
    # whitespace or control character, anywhere in the target.
    if any(c == "\\" or c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, fallback: str) -> str:
    """`target` if it is a same-site path such as "/studies/x?a=1#y", else `fallback`."""
    if target and _is_plain_path(target):
        return target
    return fallback
