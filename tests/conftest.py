"""Fixtures shared by the web and browser tests.

The database is SQLite (a temporary file) unless DATABASE_URL points at PostgreSQL, in which
case the suite builds the schema there with the Alembic migrations and empties it between tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.extensions import db as _db
from app.models import Panellist, Study, StudyFacilitator, User, utcnow
from app.security import hash_password
from app.services import sessions
from app.services.panel import add_panellist
from app.services.studies import ItemFields, add_group, add_item
from delphi import ItemKind, PanelRole

PASSWORD = "correct horse battery"


def _database_url(tmp: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        return url
    return f"sqlite:///{tmp / 'test.sqlite3'}"


class FreshClient(FlaskClient):
    """A test client whose requests do not see the previous request's signed-in user.

    Tests hold an app context (for `db.session`), and Flask reuses it for requests, so
    Flask-Login's per-context cache of the user would otherwise survive from one request to
    the next, unlike in a real server.
    """

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp("db")
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": _database_url(tmp),
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "MAIL_SERVER": "",
            "SERVER_NAME": "localhost",
            "BOOTSTRAP_RESAMPLES": 200,
        }
    )
    application.test_client_class = FreshClient
    with application.app_context():
        from flask_migrate import downgrade, upgrade

        if _db.engine.dialect.name == "postgresql":
            downgrade(revision="base")
        upgrade()
    yield application


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        yield
        _db.session.rollback()
        _db.session.remove()
        tables = [t for t in reversed(_db.metadata.sorted_tables)]
        with _db.engine.begin() as connection:
            if _db.engine.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(table.delete())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign_in(client: FlaskClient, user: User) -> None:
    """Put the user in the session the way a real sign-in does: a live server-side session."""
    key = sessions.start(user, client.application.permanent_session_lifetime)
    _db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = key
        session["_fresh"] = True


@dataclass
class Panel:
    """A study ready for round 1: facilitator, groups, items and joined panellists."""

    study: Study
    facilitator: User
    partners: list[Panellist] = field(default_factory=list)
    patients: list[Panellist] = field(default_factory=list)
    observer: Panellist | None = None

    @property
    def raters(self) -> list[Panellist]:
        return self.partners + self.patients


def make_user(
    email: str, name: str, *, facilitator: bool = False, password: str | None = None
) -> User:
    user = User(
        email=email,
        name=name,
        can_create_studies=facilitator,
        password_hash=hash_password(password) if password else None,
    )
    _db.session.add(user)
    _db.session.flush()
    return user


def build_panel(
    *,
    slug: str = "test-study",
    title: str = "Test study",
    prompts: int = 3,
    indicators: int = 1,
    partners: int = 3,
    patients: int = 2,
    observer: bool = True,
    scale_max: int = 9,
) -> Panel:
    facilitator = make_user(f"fac-{slug}@example.test", f"Facilitator {slug}", facilitator=True)
    study = Study(slug=slug, title=title, purpose="To agree prompts.", scale_max=scale_max)
    _db.session.add(study)
    _db.session.flush()
    _db.session.add(StudyFacilitator(study_id=study.id, user_id=facilitator.id))
    cqc = add_group(study, "CQC")
    patients_group = add_group(study, "Patient representatives")
    _db.session.flush()
    for n in range(prompts):
        add_item(study, ItemFields(ItemKind.PROMPT, "Offers research", f"Prompt number {n + 1}?"))
    for n in range(indicators):
        add_item(
            study,
            ItemFields(ItemKind.INDICATOR, "Conduct", f"Indicator {n + 1}", definition="A measure"),
        )
    panel = Panel(study=study, facilitator=facilitator)
    now = utcnow()
    for n in range(partners):
        p = add_panellist(
            study,
            name=f"Partner Person{n + 1} {slug}",
            email=f"partner{n + 1}-{slug}@example.test",
            group=cqc,
            role=PanelRole.PARTNER,
        )
        p.joined_at = now
        panel.partners.append(p)
    for n in range(patients):
        p = add_panellist(
            study,
            name=f"Patient Person{n + 1} {slug}",
            email=f"patient{n + 1}-{slug}@example.test",
            group=patients_group,
            role=PanelRole.PATIENT_REP,
        )
        p.joined_at = now
        panel.patients.append(p)
    if observer:
        p = add_panellist(
            study,
            name=f"Observer Person {slug}",
            email=f"observer-{slug}@example.test",
            group=cqc,
            role=PanelRole.OBSERVER,
        )
        p.joined_at = now
        panel.observer = p
    _db.session.commit()
    return panel


@pytest.fixture
def panel(app: Flask) -> Panel:
    return build_panel()
