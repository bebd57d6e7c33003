"""Rules for erasing personal data: when a study's retention has run out, and how a
person's name or address is masked where it was written into text that stays."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

ERASED = "[erased]"
# Shorter names would mask ordinary words ("Al", "Ed") inside reasons and messages.
SHORTEST_MASKED = 4


def retention_due(retention_until: date | None, today: date) -> bool:
    """Personal data goes the day after the retention date; no date means keep it."""
    return retention_until is not None and today > retention_until


def mask_identifiers(text: str, identifiers: Iterable[str]) -> str:
    """`text` with each identifier (a name or an email) replaced by `[erased]`, ignoring
    case, as whole words only, so "Ann" never breaks "Annual"."""
    for identifier in sorted({i.strip() for i in identifiers}, key=len, reverse=True):
        if len(identifier) < SHORTEST_MASKED:
            continue
        pattern = re.compile(rf"(?<!\w){re.escape(identifier)}(?!\w)", re.IGNORECASE)
        text = pattern.sub(ERASED, text)
    return text


def masked_value(value: object, identifiers: Iterable[str]) -> object:
    """A JSON value (as an audit event's detail holds) with identifiers masked in its text."""
    names = list(identifiers)
    if isinstance(value, str):
        return mask_identifiers(value, names)
    if isinstance(value, list):
        return [masked_value(v, names) for v in value]
    if isinstance(value, dict):
        return {k: masked_value(v, names) for k, v in value.items()}
    return value
