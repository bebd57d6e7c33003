"""Nothing lost under load: a burst of panellists against gunicorn on PostgreSQL, with the
round closed from two tabs half-way through and a worker killed a quarter of the way in.

The full-size run (200 panellists x 20 saves) is `make bench`; this is the same code, smaller.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import RoundSnapshot
from app.services.rounds import close_round, open_round
from tests.conftest import Panel, sign_in
from tests.web.helpers import CLOSE, text_of

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")


@pytest.mark.slow
@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs DATABASE_URL=postgresql+psycopg://...: gunicorn workers writing at once "
    "is a PostgreSQL property (SQLite has a single writer)",
)
def test_a_burst_with_a_close_and_a_killed_worker_loses_nothing_acknowledged():
    from bench.loadgen import LoadConfig, run_load

    outcome = run_load(
        LoadConfig(
            clients=16,
            saves=10,
            items=5,
            workers=2,
            threads=4,
            close_at=0.5,
            kill_at=0.25,
            time_limit=60,
        )
    )
    summary = outcome.summary()
    assert outcome.unexpected == []
    assert summary["worker_killed"]
    assert summary["acknowledged"] > 0 and summary["refused_round_closed"] > 0, summary
    # Every acknowledged save's last value is stored, once.
    assert summary["lost_ratings"] == 0
    assert summary["duplicate_ratings"] == 0
    # One close wins, the other tab is told; one snapshot holding exactly the stored ratings.
    assert summary["close_statuses"] == [303, 409]
    assert summary["snapshots"] == 1
    assert summary["snapshot_mismatches"] == 0
    assert summary["written_after_close"] == 0


@pytest.mark.slow
@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs DATABASE_URL=postgresql+psycopg://...: it restarts the database under "
    "gunicorn, which SQLite (a file, no server) cannot show",
)
def test_a_paced_run_with_the_database_restarted_half_way_loses_nothing_acknowledged():
    from bench.loadgen import LoadConfig, run_load

    # "backends": the server closes every connection to the load database, as a restart
    # does; restarting the whole cluster (restart="cluster") would disturb other databases
    # on a shared server. `make bench` can do that (BENCH_LOAD_RESTART=cluster).
    outcome = run_load(
        LoadConfig(
            clients=12,
            saves=10,
            items=5,
            workers=2,
            threads=4,
            think=0.2,
            restart_at=0.5,
            restart="backends",
            time_limit=90,
        )
    )
    summary = outcome.summary()
    print("paced run with a database restart:", summary)
    assert summary["database_restart"].startswith("every connection to the load database")
    assert outcome.unexpected == [], outcome.unexpected[:3]
    assert summary["errors_after_restart"] == 0
    assert summary["acknowledged"] >= 12 * 10
    assert summary["lost_ratings"] == 0
    assert summary["duplicate_ratings"] == 0


def test_closing_twice_keeps_one_snapshot_and_says_the_round_is_closed(client, panel: Panel):
    round_ = open_round(panel.study, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    assert client.post("/studies/test-study/rounds/1/close", data=CLOSE).status_code == 303
    again = client.post("/studies/test-study/rounds/1/close", data=CLOSE)
    assert again.status_code == 409
    assert "closed" in text_of(again).lower()
    snapshots = db.session.scalars(
        select(RoundSnapshot).where(RoundSnapshot.round_id == round_.id)
    ).all()
    assert len(snapshots) == 1


def test_a_rating_after_the_close_is_refused_with_a_clear_message(client, panel: Panel):
    round_ = open_round(panel.study, actor=panel.facilitator)
    version = round_.round_items[0].item_version_id
    close_round(round_.id, actor=panel.facilitator)
    sign_in(client, panel.partners[0].user)
    response = client.post(
        f"/studies/test-study/rounds/1/items/{version}/rating",
        data={f"score-{version}": "7"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    assert "This round has closed, so your rating was not saved" in text_of(response)
