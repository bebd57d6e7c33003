"""The app rides out a database restart: pooled connections the server dropped are noticed
and replaced (pool_pre_ping), and while the database is down pages answer 503 (try again),
never a stack trace."""

from __future__ import annotations

import os

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.services.rounds import open_round
from tests.conftest import Panel, sign_in
from tests.web.discussion_helpers import HX

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")
needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs DATABASE_URL=postgresql+psycopg://...: SQLite has no server whose "
    "connections can be dropped",
)

TERMINATE = (
    "SELECT pid FROM pg_stat_activity, pg_terminate_backend(pid) "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def _drop_every_other_connection() -> set[int]:
    """What a PostgreSQL restart does to the app's pool: every connection of the database,
    but this one, is closed by the server."""
    url = db.engine.url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        return {row[0] for row in conn.execute(TERMINATE)}


@needs_postgres
def test_a_request_after_the_database_dropped_every_connection_answers_200(client, panel: Panel):
    round_ = open_round(panel.study, actor=panel.facilitator)
    vid = round_.round_items[0].item_version_id
    sign_in(client, panel.partners[0].user)
    assert client.get("/studies/test-study/rounds/1/ballot").status_code == 200
    before = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.remove()  # every connection back in the pool, as between two requests

    killed = _drop_every_other_connection()
    assert before in killed

    assert client.get("/studies/test-study/rounds/1/ballot").status_code == 200
    saved = client.post(
        f"/studies/test-study/rounds/1/items/{vid}/rating",
        data={f"score-{vid}": "8"},
        headers=HX,
    )
    assert saved.status_code == 200 and "Saved" in saved.get_data(as_text=True)
    assert db.session.scalar(text("SELECT pg_backend_pid()")) not in killed


@needs_postgres
def test_without_the_check_a_dropped_connection_fails_the_next_query(app):
    """What the test above guards against is real: a pool that does not ping hands out the
    dead connection."""
    engine = create_engine(db.engine.url, pool_pre_ping=False, pool_size=1)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    _drop_every_other_connection()
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()


def _unreachable(*args, **kwargs):
    raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))


def test_while_the_database_is_down_a_page_answers_503_and_says_to_try_again(
    client, panel: Panel, monkeypatch
):
    open_round(panel.study, actor=panel.facilitator)
    sign_in(client, panel.partners[0].user)
    monkeypatch.setattr("app.ballot.routes.build_ballot", _unreachable)
    response = client.get("/studies/test-study/rounds/1/ballot")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "briefly unavailable" in response.get_data(as_text=True)


def test_an_autosave_while_the_database_is_down_answers_503_for_the_page_to_retry(
    client, panel: Panel, monkeypatch
):
    round_ = open_round(panel.study, actor=panel.facilitator)
    vid = round_.round_items[0].item_version_id
    sign_in(client, panel.partners[0].user)
    monkeypatch.setattr("app.ballot.routes.save_rating", _unreachable)
    response = client.post(
        f"/studies/test-study/rounds/1/items/{vid}/rating",
        data={f"score-{vid}": "8"},
        headers=HX,
    )
    # Nothing is swapped in (no "Saved"); static/js/app.js flags it and sends it again.
    assert response.status_code == 503
    assert response.headers["HX-Reswap"] == "none"
    assert "Saved" not in response.get_data(as_text=True)
