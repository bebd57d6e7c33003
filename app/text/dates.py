"""Times are stored in UTC and shown in Europe/London."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def london(value: datetime | None, fmt: str = "%-d %B %Y, %H:%M") -> str:
    """A UTC datetime as people in England read it."""
    if value is None:
        return ""
    return value.astimezone(LONDON).strftime(fmt)
