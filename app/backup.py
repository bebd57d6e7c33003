"""`flask backup PATH` and `flask restore PATH`: a consistent copy of the whole database.

SQLite uses its online backup API (a consistent copy while the app keeps serving);
PostgreSQL uses pg_dump's custom format (one snapshot transaction), restored by pg_restore
through psql in one transaction.

A backup holds password hashes and every panellist's name, so each file written here is
readable by its owner only (0600). Restore takes only a backup of this app: its tables (as in
the app's models) at a migration revision in `migrations/versions`; anything else is refused
before the database is touched. Before replacing the database it keeps a copy of it, and a
backup from an older revision is upgraded to this code's once restored.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from app.extensions import db

VERSION_TABLE = "alembic_version"
NOTHING_CHANGED = "Nothing was changed."


class BackupError(click.ClickException):
    """Shown to the person at the terminal as one line, never a traceback."""


class NotABackup(BackupError):
    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path} is not a backup of this app: {why}. {NOTHING_CHANGED}")


@dataclass(frozen=True)
class Contents:
    """What a backup file holds: its tables and its migration revision (None if none)."""

    tables: frozenset[str]
    revision: str | None


@dataclass(frozen=True)
class Checked:
    """A file that is a backup of this app, at `revision`; `head` is this code's revision."""

    path: Path
    revision: str
    head: str


@dataclass(frozen=True)
class Restored:
    kept: Path | None  # the copy of the database as it was before, if it held anything
    upgraded_from: str | None  # the backup's revision, when it was older than this code's


def _libpq_url() -> str:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path() -> str:
    database = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return database


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: apt-get install postgresql-client")
    return found


def _run(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[:500]}")
    return result.stdout


def _dialect() -> str:
    dialect = db.engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise BackupError(f"Backing up or restoring a {dialect} database is not supported.")
    return dialect


# --- writing a backup -------------------------------------------------------------------


@contextmanager
def _private_file(path: Path) -> Iterator[Path]:
    """A new file beside `path`, readable by its owner only, that becomes `path` once the
    block succeeds (so a failed backup leaves an earlier file at `path` as it was)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(handle)  # mkstemp creates the file 0600, whatever the umask
    partial = Path(name)
    try:
        yield partial
        partial.chmod(0o600)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def backup(path: Path) -> None:
    """Write a consistent copy of the database to `path`, readable by its owner only."""
    dialect = _dialect()
    with _private_file(path) as partial:
        if dialect == "sqlite":
            source = sqlite3.connect(_sqlite_path())
            target = sqlite3.connect(partial)
            try:
                with target:
                    source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            _run(
                [
                    _tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    f"--file={partial}",
                    _libpq_url(),
                ]
            )


# --- checking a file before restoring it ------------------------------------------------


def _sqlite_contents(path: Path) -> Contents:
    try:
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise NotABackup(path, f"it is not a SQLite backup ({error})") from error
    try:
        if source.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise NotABackup(path, "it is not a sound SQLite database")
        tables = frozenset(
            name
            for (name,) in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        )
        revisions = (
            [row[0] for row in source.execute(f"SELECT version_num FROM {VERSION_TABLE}")]
            if VERSION_TABLE in tables
            else []
        )
    except sqlite3.DatabaseError as error:
        raise NotABackup(path, f"it is not a SQLite backup ({error})") from error
    finally:
        source.close()
    return Contents(tables, revisions[0] if len(revisions) == 1 else None)


# The rows of `COPY public.alembic_version (version_num) FROM stdin;` up to its `\.` line.
_COPY_ROWS = re.compile(rf"^COPY \S*{VERSION_TABLE} .*? FROM stdin;\n(.*?)^\\\.$", re.M | re.S)


def _pg_contents(path: Path) -> Contents:
    pg_restore = _tool("pg_restore")
    listing = subprocess.run(
        [pg_restore, "--list", str(path)], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        why = listing.stderr.strip().splitlines()[-1:] or ["unreadable"]
        raise NotABackup(path, f"it is not a pg_dump backup ({why[0][:200]})")
    tables: set[str] = set()
    for line in listing.stdout.splitlines():
        # "215; 1259 16390 TABLE public studies owner": the table, not "TABLE DATA".
        parts = line.split()
        if line.startswith(";") or len(parts) < 6 or parts[3] != "TABLE" or parts[4] == "DATA":
            continue
        schema, name = parts[4], parts[5]
        tables.add(name if schema == "public" else f"{schema}.{name}")
    revisions: list[str] = []
    if VERSION_TABLE in tables:
        script = _run(
            [
                pg_restore,
                "--data-only",
                f"--table={VERSION_TABLE}",
                "--file=-",
                str(path),
            ]
        )
        copy = _COPY_ROWS.search(script)
        revisions = copy.group(1).split() if copy else []
    return Contents(frozenset(tables), revisions[0] if len(revisions) == 1 else None)


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(current_app.extensions["migrate"].directory)


def _tables_created_after(scripts: ScriptDirectory, revision: str, head: str) -> set[str]:
    """Tables that migrations after `revision` create (none drops a table)."""
    created: set[str] = set()
    for script in scripts.iterate_revisions(head, revision):
        source = Path(script.path).read_text(encoding="utf-8")
        created.update(re.findall(r"create_table\(\s*[\"'](\w+)[\"']", source))
    return created


def check_backup(path: Path) -> Checked:
    """`path` if it is a backup of this app; `NotABackup` (nothing touched) otherwise."""
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}. {NOTHING_CHANGED}")
    contents = _sqlite_contents(path) if _dialect() == "sqlite" else _pg_contents(path)
    if not contents.tables:
        raise NotABackup(path, "it holds no tables")
    ours = set(db.metadata.tables) | {VERSION_TABLE}
    foreign = sorted(contents.tables - ours)
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise NotABackup(path, f"it holds tables this app does not have ({shown})")
    if contents.revision is None:
        raise NotABackup(path, f"it has no migration revision (no {VERSION_TABLE} row)")
    scripts = _scripts()
    head = scripts.get_current_head()
    known = {script.revision for script in scripts.walk_revisions()}
    if head is None or contents.revision not in known:
        raise NotABackup(
            path,
            f"its migration revision {contents.revision} is not one this version of the app "
            "knows (a backup made by a newer version needs that version)",
        )
    expected = ours - _tables_created_after(scripts, contents.revision, head)
    missing = sorted(expected - contents.tables)
    if missing:
        raise NotABackup(
            path,
            f"it lacks tables this app has at revision {contents.revision} "
            f"({', '.join(missing[:5])})",
        )
    return Checked(path, contents.revision, head)


# --- restoring --------------------------------------------------------------------------


def _copy_path(beside: Path, suffix: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = beside.parent / f"before-restore-{stamp}{suffix}"
    n = 1
    while candidate.exists():
        candidate = beside.parent / f"before-restore-{stamp}-{n}{suffix}"
        n += 1
    return candidate


def _restore_sqlite(path: Path) -> None:
    source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(_sqlite_path())
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def _restore_postgresql(path: Path, present: list[str]) -> None:
    """One transaction: drop this app's tables (also those the backup, if older, lacks), then
    load the backup. On any error nothing changes."""
    quote = db.engine.dialect.identifier_preparer.quote
    schema = inspect(db.engine).default_schema_name or "public"
    with tempfile.TemporaryDirectory(prefix="delphi-restore-") as work:  # 0700
        script = Path(work) / "restore.sql"
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                f"--file={script}",
                str(path),
            ]
        )
        drop = Path(work) / "drop.sql"
        names = ", ".join(f"{quote(schema)}.{quote(name)}" for name in present)
        drop.write_text(f"DROP TABLE IF EXISTS {names} CASCADE;\n" if present else "")
        _run(
            [
                _tool("psql"),
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                f"--dbname={_libpq_url()}",
                f"--file={drop}",
                f"--file={script}",
            ]
        )


def restore(checked: Checked, keep_copy_at: Path | None = None) -> Restored:
    """Replace the database's contents with the checked backup, keeping a copy of what it
    held first; then upgrade it if the backup is from an older revision."""
    dialect = _dialect()
    ours = set(db.metadata.tables) | {VERSION_TABLE}
    present = [name for name in inspect(db.engine).get_table_names() if name in ours]
    kept = None
    if present:
        kept = keep_copy_at or _copy_path(
            checked.path, ".sqlite3" if dialect == "sqlite" else ".dump"
        )
        backup(kept)
    undo = f" The database as it was is kept at {kept}." if kept else ""
    db.session.remove()
    db.engine.dispose()
    try:
        if dialect == "sqlite":
            _restore_sqlite(checked.path)
        else:
            _restore_postgresql(checked.path, present)
    except (BackupError, sqlite3.Error) as error:
        message = error.message if isinstance(error, BackupError) else str(error)
        raise BackupError(f"Restoring failed: {message}.{undo}") from error
    upgraded_from = None
    if checked.revision != checked.head:
        from flask_migrate import upgrade

        try:
            upgrade()  # Flask-Migrate exits on an Alembic error, after logging it
        except (Exception, SystemExit) as error:
            raise BackupError(
                f"Restored the backup, but upgrading it from revision {checked.revision} "
                f"failed: run `flask db upgrade` and read its error.{undo}"
            ) from error
        finally:
            db.session.remove()
            db.engine.dispose()
        upgraded_from = checked.revision
    return Restored(kept, upgraded_from)


def register(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(path: Path) -> None:
        """Write a consistent copy of the database to PATH (safe while the app runs).

        The file holds password hashes and names: it is readable by its owner only.
        """
        backup(path)
        click.echo(f"Backed up the {db.engine.dialect.name} database to {path}.")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    @click.option(
        "--keep-copy-at",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Where to keep the copy of the database as it was "
        "(default: before-restore-TIME beside PATH).",
    )
    def restore_command(path: Path, yes: bool, keep_copy_at: Path | None) -> None:
        """Replace everything in the database with the backup at PATH. Stop the app first.

        PATH must be a backup of this app made by `flask backup` (SQLite file or pg_dump
        archive, whichever this database is): its tables are this app's, at a migration
        revision in migrations/versions. Anything else is refused and nothing is changed.

        Before replacing the database, a copy of it is kept (readable by its owner only) and
        its path printed: restore that copy to undo. A backup from an older version of the
        app is upgraded to this version's revision (as `flask db upgrade` would) once
        restored; a backup from a newer version is refused.
        """
        checked = check_backup(path)
        if not yes:
            click.confirm("This replaces everything in the database. Continue?", abort=True)
        outcome = restore(checked, keep_copy_at)
        click.echo(f"Restored the database from {path}.")
        if outcome.kept is not None:
            click.echo(f"A copy of the database as it was before: {outcome.kept}")
        if outcome.upgraded_from is not None:
            click.echo(
                f"The backup was at revision {outcome.upgraded_from}; "
                f"upgraded it to {checked.head}."
            )
