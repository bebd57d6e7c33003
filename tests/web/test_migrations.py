"""The Alembic history builds the schema the models describe, and unwinds it."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from app import create_app
from app.extensions import db


def test_upgrade_builds_every_table_and_downgrade_removes_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} <= tables
        unique = inspect(db.engine).get_unique_constraints("ratings")
        assert any(
            set(u["column_names"]) == {"panellist_id", "item_version_id", "round_id"}
            for u in unique
        )
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
    create_engine(url).dispose()


def test_upgrade_and_downgrade_on_postgresql_in_a_temporary_database():
    import os
    import uuid

    import pytest

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgresql"):
        pytest.skip("set DATABASE_URL=postgresql+psycopg://... to run migrations on PostgreSQL")
    from bench.loadgen import create_database, drop_database

    name = f"delphi_migrate_{uuid.uuid4().hex[:8]}"
    url = create_database(name, base)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
        with app.app_context():
            upgrade()
            tables = set(inspect(db.engine).get_table_names())
            assert {t.name for t in db.metadata.sorted_tables} <= tables
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade()  # and back up again, as a deploy after a rollback would
            assert {t.name for t in db.metadata.sorted_tables} <= set(
                inspect(db.engine).get_table_names()
            )
            db.engine.dispose()
    finally:
        drop_database(name, base)
