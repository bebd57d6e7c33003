"""Helpers for the discussion tests: post as a person, find an item's DOM key."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Item

HX = {"HX-Request": "true"}
BASE = "/studies/test-study/discussion"


def dom(ref: str) -> str:
    if ref == "channel":
        return "channel"
    return f"item-{db.session.scalar(select(Item.id).where(Item.ref == ref))}"


def post(client, ref: str, body: str, *, headers=None, **fields):
    data = {f"{dom(ref)}-body": body}
    data.update({f"{dom(ref)}-{k}": v for k, v in fields.items()})
    return client.post(f"{BASE}/{ref}/messages", data=data, headers=headers or {})
