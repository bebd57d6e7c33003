"""`flask backup` and `flask restore` round-trip a study, on SQLite and on PostgreSQL.

Restore takes only a backup of this app (its tables, at a migration revision this code
knows), keeps a copy of the database it replaces, and every file it writes is private.
"""

from __future__ import annotations

import os
import re
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from app import create_app
from app.backup import _scripts
from app.extensions import db
from app.models import Rating, Study
from app.services.ratings import save_rating
from app.services.rounds import close_round, open_round
from tests.conftest import Panel, build_panel, sign_in
from tests.web.helpers import get_page


def _empty_database(tmp_path) -> tuple[str, object]:
    """A second, empty database of the same kind as the suite's: (URL, cleanup)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        from bench.loadgen import create_database, drop_database

        name = f"delphi_restore_{uuid.uuid4().hex[:8]}"
        return create_database(name, url), lambda: drop_database(name, url)
    return f"sqlite:///{tmp_path / f'restored-{uuid.uuid4().hex[:8]}.sqlite3'}", lambda: None


def _backup_of(tmp_path: Path, prepare: Callable[[], object]) -> Path:
    """`flask backup` of a second database that `prepare` fills (in that database's app)."""
    backup_file = tmp_path / "backups" / "other.dump"
    url, cleanup = _empty_database(tmp_path)
    try:
        other = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True})
        with other.app_context():
            prepare()
            db.session.commit()
            made = other.test_cli_runner().invoke(args=["backup", str(backup_file)])
            assert made.exit_code == 0, made.output
            db.session.remove()
            db.engine.dispose()
    finally:
        cleanup()
    return backup_file


def _sql(*statements: str) -> Callable[[], None]:
    def run() -> None:
        with db.engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))

    return run


def _migrated(*statements: str) -> Callable[[], None]:
    def run() -> None:
        upgrade()
        _sql(*statements)()

    return run


def _file(content: bytes) -> Callable[[Path], Path]:
    def write(tmp_path: Path) -> Path:
        path = tmp_path / "backups" / "other.dump"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    return write


def _database(prepare: Callable[[], object]) -> Callable[[Path], Path]:
    return lambda tmp_path: _backup_of(tmp_path, prepare)


# what the file is -> (how to make it, what the refusal says besides "not a backup of this app")
NOT_BACKUPS = {
    "an empty file": (_file(b""), ""),
    "a text file": (_file(b"name,email\nAda,ada@example.test\n" * 50), ""),
    "an empty database": (_database(lambda: None), "no tables"),
    "another app's database": (
        _database(_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")),
        "customers",
    ),
    "this app's tables with another app's": (
        _database(_migrated("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")),
        "customers",
    ),
    "this app's tables without a migration revision": (
        _database(_migrated("DROP TABLE alembic_version")),
        "no migration revision",
    ),
    "a revision this code does not know": (
        _database(_migrated("UPDATE alembic_version SET version_num = '0099_from_the_future'")),
        "0099_from_the_future",
    ),
    "one of this app's tables missing": (
        _database(_migrated("DROP TABLE live_snapshots")),
        "live_snapshots",
    ),
}


@pytest.mark.parametrize("make,reason", NOT_BACKUPS.values(), ids=list(NOT_BACKUPS))
def test_restore_refuses_a_file_that_is_not_a_backup_of_this_app_and_changes_nothing(
    app, panel: Panel, tmp_path, make, reason
):
    backup_file = make(tmp_path)
    result = app.test_cli_runner().invoke(args=["restore", "--yes", str(backup_file)])
    assert result.exit_code != 0
    assert f"{backup_file} is not a backup of this app" in result.output, result.output
    assert reason in result.output and "Nothing was changed." in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in backup_file.parent.iterdir()) == ["other.dump"]
    assert db.session.scalar(select(Study.title).where(Study.slug == "test-study")) == "Test study"
    client = app.test_client()
    sign_in(client, panel.facilitator)
    get_page(client, "/studies/test-study")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_restore_keeps_a_private_copy_of_the_database_it_replaces_and_says_where(
    app, panel: Panel, tmp_path
):
    backup_file = tmp_path / "backups" / "monday.dump"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(backup_file)]).exit_code == 0
    build_panel(slug="later-study", title="Added after the backup", observer=False)

    result = runner.invoke(args=["restore", "--yes", str(backup_file)])
    assert result.exit_code == 0, result.output
    kept = Path(re.search(r"as it was before: (\S+)", result.output).group(1))
    assert kept.is_file() and kept != backup_file and _mode(kept) == 0o600
    assert db.session.scalar(select(Study.id).where(Study.slug == "later-study")) is None

    back = runner.invoke(args=["restore", "--yes", str(kept)])
    assert back.exit_code == 0, back.output
    later = db.session.scalar(select(Study.title).where(Study.slug == "later-study"))
    assert later == "Added after the backup"


def test_backups_are_readable_by_their_owner_only(app, panel: Panel, tmp_path):
    fresh, existing = tmp_path / "fresh.dump", tmp_path / "existing.dump"
    existing.write_text("an older backup")
    existing.chmod(0o644)
    umask = os.umask(0o022)
    try:
        for path in (fresh, existing):
            result = app.test_cli_runner().invoke(args=["backup", str(path)])
            assert result.exit_code == 0, result.output
    finally:
        os.umask(umask)
    assert (_mode(fresh), _mode(existing)) == (0o600, 0o600)
    assert existing.stat().st_size > len("an older backup")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.dump", "fresh.dump"]


def test_a_backup_from_an_older_version_of_the_app_is_restored_and_upgraded(
    app, panel: Panel, tmp_path
):
    def older_database() -> None:
        upgrade()
        build_panel(slug="old-study", title="Backed up by an older version", observer=False)
        db.session.commit()
        db.session.remove()
        downgrade(revision="0005_login_attempts")

    backup_file = _backup_of(tmp_path, older_database)
    head = _scripts().get_current_head()
    result = app.test_cli_runner().invoke(args=["restore", "--yes", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert "0005_login_attempts" in result.output and f"{head}" in result.output
    assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == head
    assert set(inspect(db.engine).get_table_names()) == set(db.metadata.tables) | {
        "alembic_version"
    }
    assert db.session.scalar(select(Study.id).where(Study.slug == "test-study")) is None
    old = db.session.scalar(select(Study).where(Study.slug == "old-study"))
    client = app.test_client()
    sign_in(client, old.facilitators[0].user)
    get_page(client, "/studies/old-study")


def test_a_study_survives_backup_and_restore_into_an_empty_database(app, panel: Panel, tmp_path):
    round_ = open_round(panel.study, actor=panel.facilitator)
    for n, rater in enumerate(panel.raters):
        save_rating(round_, rater, round_.round_items[0].item_version_id, 7 + n % 3, False, "")
    close_round(round_.id, actor=panel.facilitator)
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
