"""Small wording helpers for messages written for people."""

from __future__ import annotations


def count(number: int, noun: str, plural: str | None = None) -> str:
    """'1 item', '2 items', '0 items'."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
