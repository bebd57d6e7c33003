"""No page's number of SQL statements grows with the study: the same pages read from a small
and a larger study (bench/study_builder.py: panellists, items, rounds, discussion messages,
the last round open) differ by at most 2 statements.

The statements are counted with SQLAlchemy's "before_cursor_execute" event, on the second
request to each page (the first may store what a page keeps once, such as stability for a
round closed before it was stored).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import event

from app.extensions import db
from app.models import User
from bench.study_builder import Size, build_study, page_urls
from tests.conftest import sign_in

SMALL = Size(panellists=14, items=6, rounds=3, messages=14, groups=3)
LARGE = Size(panellists=42, items=24, rounds=3, messages=84)
ALLOWED_GROWTH = 2


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def statements_per_page(app: Flask, size: Size, slug: str) -> dict[str, tuple[int, list[str]]]:
    built = build_study(db, size, slug=slug, open_last=True)
    clients = {}
    for role, user_id in (
        ("facilitator", built.facilitator_id),
        ("panellist", built.panellist_user_id),
    ):
        client = app.test_client()
        sign_in(client, db.session.get(User, user_id))
        clients[role] = client
    out = {}
    pages = page_urls(size, slug, built.busiest_ref) | {
        "panel": ("facilitator", f"/studies/{slug}/panel"),
        "items": ("facilitator", f"/studies/{slug}/items"),
        "open round": ("facilitator", f"/studies/{slug}/rounds/{size.rounds}"),
        "responders": ("facilitator", f"/studies/{slug}/rounds/{size.rounds}/responders"),
        "item history": ("facilitator", f"/studies/{slug}/results/items/{built.busiest_ref}"),
        "channel": ("panellist", f"/studies/{slug}/discussion"),
        "panellist's thread": ("panellist", f"/studies/{slug}/discussion/{built.busiest_ref}"),
        "reasons review": ("facilitator", f"/studies/{slug}/rounds/{size.rounds - 1}/reasons"),
        "item's reasons": (
            "panellist",
            f"/studies/{slug}/rounds/{size.rounds - 1}/reasons/items/{built.busiest_ref}",
        ),
        "item's reasons by group": (
            "facilitator",
            f"/studies/{slug}/rounds/{size.rounds - 1}/reasons/items/{built.busiest_ref}"
            "?sort=group&voices=highlight",
        ),
    }
    for name, (role, url) in pages.items():
        first = clients[role].get(url)
        assert first.status_code == 200, (name, first.status_code)
        db.session.remove()
        with counting() as statements:
            response = clients[role].get(url)
        assert response.status_code == 200, (name, response.status_code)
        out[name] = (len(statements), list(statements))
        db.session.remove()
    return out


@pytest.fixture
def counts(app: Flask) -> tuple[dict, dict]:
    return statements_per_page(app, SMALL, "small"), statements_per_page(app, LARGE, "large")


def test_no_page_runs_more_statements_for_a_larger_study(counts: tuple[dict, dict]) -> None:
    small, large = counts
    for name in small:
        print(f"{name}: {small[name][0]} -> {large[name][0]}")
    grown = {
        name: (small[name][0], large[name][0])
        for name in small
        if large[name][0] - small[name][0] > ALLOWED_GROWTH
    }
    detail = "\n".join(
        f"{name}: {s} -> {n} statements; the larger study's:\n  "
        + "\n  ".join(sorted(set(large[name][1]) - set(small[name][1]))[:5] or large[name][1][-5:])
        for name, (s, n) in grown.items()
    )
    assert not grown, detail
