"""gunicorn.conf.py: the app is preloaded, and each forked worker gets its own connections."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import text

from app.extensions import db

CONFIG = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))


def test_the_app_is_loaded_once_in_the_master():
    assert CONFIG["preload_app"] is True
    assert CONFIG["keepalive"] >= 5  # longer than a panellist's pause between autosaves


def test_a_forked_worker_drops_the_masters_pooled_connections(app):
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        before = db.engine.pool
        assert before.checkedin() >= 1  # connections a worker must not share
        worker = SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app))
        CONFIG["post_fork"](None, worker)
        assert db.engine.pool is not before
        assert db.engine.pool.checkedin() == 0
        assert db.session.execute(text("SELECT 1")).scalar_one() == 1


def test_a_worker_of_an_app_without_a_database_starts_as_well(app):
    from flask import Flask

    bare = Flask("bare")
    worker = SimpleNamespace(app=SimpleNamespace(wsgi=lambda: bare))
    assert CONFIG["post_fork"](None, worker) is None
