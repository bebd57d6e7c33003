"""`flask backup` and `flask restore` round-trip a study, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Rating, Study
from app.services.ratings import save_rating
from app.services.rounds import close_round, open_round
from tests.conftest import Panel


def _empty_database(tmp_path) -> tuple[str, object]:
    """A second, empty database of the same kind as the suite's: (URL, cleanup)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        from bench.loadgen import create_database, drop_database

        name = f"delphi_restore_{uuid.uuid4().hex[:8]}"
        return create_database(name, url), lambda: drop_database(name, url)
    return f"sqlite:///{tmp_path / 'restored.sqlite3'}", lambda: None


def test_a_study_survives_backup_and_restore_into_an_empty_database(app, panel: Panel, tmp_path):
    round_ = open_round(panel.study)
    for n, rater in enumerate(panel.raters):
        save_rating(round_, rater, round_.round_items[0].item_version_id, 7 + n % 3, False, "")
    close_round(round_.id)
    ratings = db.session.scalar(select(func.count(Rating.id)))
    backup_file = tmp_path / "backup.dump"

    result = app.test_cli_runner().invoke(args=["backup", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output and backup_file.stat().st_size > 0

    url, cleanup = _empty_database(tmp_path)
    try:
        other = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True})
        with other.app_context():  # the command runs in the innermost app context
            restored = other.test_cli_runner().invoke(args=["restore", "--yes", str(backup_file)])
            assert restored.exit_code == 0, restored.output
            study = db.session.scalar(select(Study).where(Study.slug == "test-study"))
            assert study is not None and study.title == "Test study"
            assert [r.status for r in study.rounds] == ["closed"]
            assert db.session.scalar(select(func.count(Rating.id))) == ratings
            db.session.remove()
            db.engine.dispose()
    finally:
        cleanup()


def test_restoring_from_a_missing_or_broken_file_says_so(app, tmp_path):
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["restore", "--yes", str(tmp_path / "nope.dump")])
    assert missing.exit_code != 0 and "There is no backup file" in missing.output
    if db.engine.dialect.name == "sqlite":
        junk = tmp_path / "junk.sqlite3"
        junk.write_bytes(b"this is not a database" * 100)
        broken = runner.invoke(args=["restore", "--yes", str(junk)])
        assert broken.exit_code != 0 and "not a SQLite backup" in broken.output


@pytest.mark.parametrize("answer", ["n\n"])
def test_restore_asks_before_replacing_everything(app, tmp_path, answer):
    backup_file = tmp_path / "b.dump"
    app.test_cli_runner().invoke(args=["backup", str(backup_file)])
    result = app.test_cli_runner().invoke(args=["restore", str(backup_file)], input=answer)
    assert result.exit_code != 0 and "replaces everything" in result.output
