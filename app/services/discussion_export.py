"""A discussion thread as rows, for the facilitators' CSV and JSON exports."""

from __future__ import annotations

from typing import Any

from app.models import Item, Study
from app.services.discussion import author_of, find_thread, key_of, messages_in
from delphi.discussion import Category


def export_rows(study: Study, item: Item | None, *, with_names: bool) -> list[dict[str, Any]]:
    """A thread as rows; without names, hidden and deleted messages are left out."""
    thread = find_thread(study.id, key_of(item))
    if thread is None:
        return []
    rows = []
    for message in messages_in([thread.id]):
        if message.deleted_at is not None:
            continue
        if message.hidden_at is not None and not with_names:
            continue
        author, group = author_of(message)
        row: dict[str, Any] = {
            "id": message.id,
            "thread": item.ref if item else "Study channel",
            "round": message.round.number if message.round else None,
            "written_at_utc": message.created_at.isoformat(timespec="seconds"),
            "author": author,
            "group": group,
            "category": Category(message.category).label if message.category else "",
            "reply_to": message.parent_id,
            "edited": message.edited_at is not None,
            "text": message.body,
        }
        if with_names:
            row["name"] = message.author_user.name if message.author_user else ""
            row["hidden"] = message.hidden_at is not None
            row["hidden_reason"] = message.hidden_reason if message.hidden_at else ""
        rows.append(row)
    return rows
