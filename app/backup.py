"""`flask backup PATH` and `flask restore PATH`: a consistent copy of the whole database.

SQLite uses its online backup API (a consistent copy while the app keeps serving);
PostgreSQL uses pg_dump's custom format (one snapshot transaction) and pg_restore.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy.engine import make_url

from app.extensions import db


class BackupError(click.ClickException):
    """Shown to the person at the terminal as one line, never a traceback."""


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


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[:500]}")


def backup(path: Path) -> None:
    """Write a consistent copy of the database to `path`."""
    dialect = db.engine.dialect.name
    path.parent.mkdir(parents=True, exist_ok=True)
    if dialect == "sqlite":
        source = sqlite3.connect(_sqlite_path())
        target = sqlite3.connect(path)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
    elif dialect == "postgresql":
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={path}", _libpq_url()])
    else:
        raise BackupError(f"Backing up a {dialect} database is not supported.")


def restore(path: Path) -> None:
    """Replace the database's contents with the copy at `path`."""
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}.")
    dialect = db.engine.dialect.name
    db.session.remove()
    db.engine.dispose()
    if dialect == "sqlite":
        source = sqlite3.connect(path)
        try:
            if source.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise BackupError(f"{path} is not a sound SQLite database.")
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is not a SQLite backup: {error}") from error
        target = sqlite3.connect(_sqlite_path())
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
    elif dialect == "postgresql":
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq_url()}",
                str(path),
            ]
        )
    else:
        raise BackupError(f"Restoring a {dialect} database is not supported.")


def register(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(path: Path) -> None:
        """Write a consistent copy of the database to PATH (safe while the app runs)."""
        backup(path)
        click.echo(f"Backed up the {db.engine.dialect.name} database to {path}.")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_command(path: Path, yes: bool) -> None:
        """Replace everything in the database with the backup at PATH. Stop the app first."""
        if not yes:
            click.confirm("This replaces everything in the database. Continue?", abort=True)
        restore(path)
        click.echo(f"Restored the database from {path}.")
