"""The Alembic history builds the schema the models describe, and unwinds it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
            set(u["column_names"])
            == {"panellist_id", "item_version_id", "round_id", "criterion_id"}
            for u in unique
        )
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
    create_engine(url).dispose()


@contextmanager
def _temporary_postgresql() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards; the test is skipped
    unless DATABASE_URL points at PostgreSQL."""
    import os
    import uuid

    import pytest

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgresql"):
        pytest.skip("set DATABASE_URL=postgresql+psycopg://... to run migrations on PostgreSQL")
    from bench.loadgen import create_database, drop_database

    name = f"delphi_migrate_{uuid.uuid4().hex[:8]}"
    try:
        yield create_database(name, base)
    finally:
        drop_database(name, base)


def test_upgrade_and_downgrade_on_postgresql_in_a_temporary_database():
    with _temporary_postgresql() as url:
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


def _migrated_app(url: str):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "SERVER_NAME": "localhost"}
    )
    return app


def _every_model_column_exists() -> None:
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        in_database = {c["name"] for c in inspector.get_columns(table.name)}
        assert {c.name for c in table.columns} <= in_database, table.name


def _round_trip_0007_keeps_the_panel(url: str) -> None:
    from sqlalchemy import text

    from app.models import Rating
    from app.services.rounds import open_round
    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        _every_model_column_exists()
        panel = build_panel(slug="migrating")
        round_ = open_round(panel.study, actor=panel.facilitator)
        db.session.add(
            Rating(
                round_id=round_.id,
                panellist_id=panel.partners[0].id,
                item_version_id=round_.round_items[0].item_version_id,
                score=8,
            )
        )
        db.session.commit()
        db.session.remove()

        def counts() -> tuple[int, int]:
            with db.engine.connect() as connection:
                return (
                    connection.execute(text("SELECT count(*) FROM panellists")).scalar_one(),
                    connection.execute(text("SELECT count(*) FROM ratings")).scalar_one(),
                )

        before = counts()
        downgrade(revision="0006_live_snapshots")
        columns = {c["name"] for c in inspect(db.engine).get_columns("panellists")}
        assert "invited_name" not in columns
        assert "user_sessions" not in inspect(db.engine).get_table_names()
        assert counts() == before == (6, 1)
        upgrade()
        _every_model_column_exists()
        assert counts() == before
        db.engine.dispose()


def test_the_sessions_migration_goes_down_and_up_without_losing_ratings_on_sqlite(tmp_path):
    _round_trip_0007_keeps_the_panel(f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}")


def test_the_sessions_migration_goes_down_and_up_without_losing_ratings_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0007_keeps_the_panel(url)


def _round_trip_0008_keeps_the_invitations(url: str) -> None:
    from sqlalchemy import text

    from app.services.panel import issue_invitation
    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        panel = build_panel(slug="links")
        with app.test_request_context():
            issue_invitation(panel.partners[0])
        db.session.commit()
        db.session.remove()

        def invitations() -> int:
            with db.engine.connect() as connection:
                return connection.execute(text("SELECT count(*) FROM invitations")).scalar_one()

        downgrade(revision="0007_sessions_invited_names")
        columns = {c["name"] for c in inspect(db.engine).get_columns("invitations")}
        assert "link_seed" not in columns
        assert invitations() == 1
        upgrade()
        _every_model_column_exists()
        assert invitations() == 1
        db.engine.dispose()


def test_the_invitation_links_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0008_keeps_the_invitations(f"sqlite:///{tmp_path / 'links.sqlite3'}")


def test_the_invitation_links_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0008_keeps_the_invitations(url)


def _round_trip_0010_records_each_versions_kind_and_theme(url: str) -> None:
    from sqlalchemy import text

    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        build_panel(slug="versions")
        db.session.commit()
        db.session.remove()
        downgrade(revision="0008_invitation_link_seeds")
        columns = {c["name"] for c in inspect(db.engine).get_columns("item_versions")}
        assert not {"kind", "theme_name"} & columns
        upgrade()
        _every_model_column_exists()
        with db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT kind, theme_name FROM item_versions ORDER BY id")
            ).all()
        # Versions that existed before the columns are filled from their items.
        assert [tuple(r) for r in rows] == [("prompt", "Offers research")] * 3 + [
            ("indicator", "Conduct")
        ]
        db.engine.dispose()


def test_the_version_kind_and_theme_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0010_records_each_versions_kind_and_theme(
        f"sqlite:///{tmp_path / 'versions.sqlite3'}"
    )


def test_the_version_kind_and_theme_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0010_records_each_versions_kind_and_theme(url)


def _round_trip_0009_keeps_the_studies(url: str) -> None:
    from sqlalchemy import text

    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        panel = build_panel(slug="shared")
        panel.study.share_specification = True
        db.session.commit()
        db.session.remove()

        def studies() -> int:
            with db.engine.connect() as connection:
                return connection.execute(text("SELECT count(*) FROM studies")).scalar_one()

        downgrade(revision="0008_invitation_link_seeds")
        columns = {c["name"] for c in inspect(db.engine).get_columns("studies")}
        assert "share_specification" not in columns
        assert studies() == 1
        upgrade()
        _every_model_column_exists()
        assert studies() == 1
        with db.engine.connect() as connection:
            shared = connection.execute(text("SELECT share_specification FROM studies"))
            assert not shared.scalar_one()  # a study shares nothing until its facilitator says
        db.engine.dispose()


def test_the_share_specification_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0009_keeps_the_studies(f"sqlite:///{tmp_path / 'shared.sqlite3'}")


def test_the_share_specification_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0009_keeps_the_studies(url)


def _round_trip_0014_indicator_test_data(url: str) -> None:
    from sqlalchemy import text

    from app.models import IndicatorTestData, Item
    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        panel = build_panel(slug="funnel")
        indicator = next(i for i in panel.study.items if i.kind == "indicator")
        rows = [{"code": "R1", "name": "A trust", "numerator": 1, "denominator": 9}]
        db.session.add(IndicatorTestData(item_id=indicator.id, rows=rows, period="2025"))
        db.session.commit()
        stored = db.session.scalar(db.select(IndicatorTestData))
        assert stored is not None and stored.rows == rows
        db.session.remove()
        downgrade(revision="0008_invitation_link_seeds")
        assert "indicator_test_data" not in inspect(db.engine).get_table_names()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM items")).scalar_one() > 0
        upgrade()
        _every_model_column_exists()
        assert db.session.scalar(db.select(db.func.count(Item.id))) > 0
        db.session.remove()
        db.engine.dispose()


def test_the_indicator_test_data_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0014_indicator_test_data(f"sqlite:///{tmp_path / 'funnel.sqlite3'}")


def test_the_indicator_test_data_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0014_indicator_test_data(url)


def _round_trip_0013_indexes_ratings_by_round(url: str) -> None:
    app = _migrated_app(url)
    with app.app_context():
        upgrade()

        def indexes() -> dict[str, list[str]]:
            return {
                i["name"]: i["column_names"] for i in inspect(db.engine).get_indexes("ratings")
            }

        def snapshot_columns() -> set[str]:
            return {c["name"] for c in inspect(db.engine).get_columns("round_snapshots")}

        assert indexes()["ix_ratings_round_id_panellist_id"] == ["round_id", "panellist_id"]
        assert "summary" in snapshot_columns()
        downgrade(revision="0008_invitation_link_seeds")
        assert "ix_ratings_round_id_panellist_id" not in indexes()
        assert "summary" not in snapshot_columns()
        upgrade()
        assert "ix_ratings_round_id_panellist_id" in indexes()
        _every_model_column_exists()
        db.engine.dispose()


def test_the_round_figures_migration_indexes_ratings_by_round_on_sqlite(tmp_path):
    _round_trip_0013_indexes_ratings_by_round(f"sqlite:///{tmp_path / 'figures.sqlite3'}")


def test_the_round_figures_migration_indexes_ratings_by_round_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0013_indexes_ratings_by_round(url)


GUIDE_COLUMNS = {
    "owner_organisation",
    "guide_context",
    "framework",
    "framework_url",
    "guide_reporting",
    "guide_sources",
}


def _round_trip_0012_keeps_the_studies(url: str) -> None:
    from sqlalchemy import text

    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        build_panel(slug="guide").study.owner_organisation = "CQC"
        db.session.commit()
        db.session.remove()

        def studies() -> int:
            with db.engine.connect() as connection:
                return connection.execute(text("SELECT count(*) FROM studies")).scalar_one()

        downgrade(revision="0008_invitation_link_seeds")
        columns = {c["name"] for c in inspect(db.engine).get_columns("studies")}
        assert not GUIDE_COLUMNS & columns
        assert studies() == 1
        upgrade()
        _every_model_column_exists()
        assert studies() == 1
        db.engine.dispose()


def test_the_guide_settings_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0012_keeps_the_studies(f"sqlite:///{tmp_path / 'guide.sqlite3'}")


def test_the_guide_settings_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0012_keeps_the_studies(url)


REPORTING_COLUMNS = {
    "protocol_link",
    "funding",
    "steering_group",
    "item_sources",
    "questionnaire_pilot",
    "protocol_deviations",
}


def _round_trip_0017_keeps_the_reporting_settings(url: str) -> None:
    from sqlalchemy import text

    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        build_panel(slug="accord").study.funding = "NIHR"
        db.session.commit()
        db.session.remove()

        def studies() -> int:
            with db.engine.connect() as connection:
                return connection.execute(text("SELECT count(*) FROM studies")).scalar_one()

        downgrade(revision="0014_indicator_test_data")
        columns = {c["name"] for c in inspect(db.engine).get_columns("studies")}
        assert not REPORTING_COLUMNS & columns
        assert GUIDE_COLUMNS <= columns
        assert studies() == 1
        upgrade()
        _every_model_column_exists()
        assert studies() == 1
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT funding FROM studies")).scalar_one() == ""
        db.engine.dispose()


def test_the_reporting_settings_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0017_keeps_the_reporting_settings(f"sqlite:///{tmp_path / 'accord.sqlite3'}")


def test_the_reporting_settings_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0017_keeps_the_reporting_settings(url)


def _round_trip_0015_consent(url: str) -> None:
    from app.models import Consent, Panellist, ParticipantInformation
    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        panel = build_panel(slug="consent")
        db.session.add(ParticipantInformation(study_id=panel.study.id, version=1, text="Hi"))
        db.session.add(Consent(panellist_id=panel.raters[0].id, version=1))
        db.session.commit()
        db.session.remove()
        downgrade(revision="0014_indicator_test_data")
        tables = inspect(db.engine).get_table_names()
        assert "consents" not in tables and "participant_information" not in tables
        assert "interests" not in {c["name"] for c in inspect(db.engine).get_columns("panellists")}
        upgrade()
        _every_model_column_exists()
        assert db.session.scalar(db.select(db.func.count(Panellist.id))) > 0
        db.session.remove()
        db.engine.dispose()


def test_the_consent_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0015_consent(f"sqlite:///{tmp_path / 'consent.sqlite3'}")


def test_the_consent_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0015_consent(url)


def _round_trip_0016_retention(url: str) -> None:
    from datetime import date

    from app.models import Study
    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        panel = build_panel(slug="retained")
        panel.study.retention_until = date(2031, 3, 31)
        db.session.commit()
        db.session.remove()
        downgrade(revision="0014_indicator_test_data")
        columns = {c["name"] for c in inspect(db.engine).get_columns("studies")}
        assert "retention_until" not in columns
        upgrade()
        _every_model_column_exists()
        study = db.session.scalar(db.select(Study).where(Study.slug == "retained"))
        assert study is not None and study.retention_until is None
        # Nothing that refers to a study went with it (no batch copy of `studies`).
        assert len(study.facilitators) == 1 and len(study.panellists) == 6
        db.session.remove()
        db.engine.dispose()


def test_the_retention_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0016_retention(f"sqlite:///{tmp_path / 'retention.sqlite3'}")


def test_the_retention_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0016_retention(url)


def _round_trip_0024_random_order(url: str) -> None:
    from app.models import Study
    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        panel = build_panel(slug="shuffled")
        panel.study.random_item_order = True
        db.session.commit()
        db.session.remove()
        downgrade(revision="0017_reporting_settings")
        columns = {c["name"] for c in inspect(db.engine).get_columns("studies")}
        assert "random_item_order" not in columns
        upgrade()
        _every_model_column_exists()
        study = db.session.scalar(db.select(Study).where(Study.slug == "shuffled"))
        # The study survives; the setting comes back off, the order existing studies had.
        assert study is not None and study.random_item_order is False
        assert len(study.facilitators) == 1 and len(study.panellists) == 6
        db.session.remove()
        db.engine.dispose()


def test_the_random_order_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0024_random_order(f"sqlite:///{tmp_path / 'order.sqlite3'}")


def test_the_random_order_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0024_random_order(url)


def _round_trip_0019_reason_reviews(url: str) -> None:
    from app.models import Rating, ReasonReview, Round
    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        panel = build_panel(slug="reasons")
        round_ = Round(study_id=panel.study.id, number=1, status="closed")
        db.session.add(round_)
        db.session.flush()
        version = panel.study.items[0].versions[0]
        rating = Rating(
            round_id=round_.id,
            panellist_id=panel.raters[0].id,
            item_version_id=version.id,
            score=8,
            reason="Kept through the migration",
        )
        db.session.add(rating)
        db.session.flush()
        db.session.add(ReasonReview(rating_id=rating.id, reason="Names a trust"))
        db.session.commit()
        round_id = round_.id
        db.session.remove()
        downgrade(revision="0017_reporting_settings")
        assert "reason_reviews" not in inspect(db.engine).get_table_names()
        upgrade()
        _every_model_column_exists()
        # The ratings and their reasons survive; the hiding went with its table.
        kept = db.session.scalar(db.select(Rating.reason).where(Rating.round_id == round_id))
        assert kept == "Kept through the migration"
        assert db.session.scalar(db.select(db.func.count(ReasonReview.id))) == 0
        db.session.remove()
        db.engine.dispose()


def test_the_reason_reviews_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0019_reason_reviews(f"sqlite:///{tmp_path / 'reasons.sqlite3'}")


def test_the_reason_reviews_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0019_reason_reviews(url)


def _round_trip_0020_ideas_round(url: str) -> None:
    from app.models import OpenQuestion, Proposal, Study
    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        panel = build_panel(slug="ideas")
        db.session.add(
            Proposal(study_id=panel.study.id, panellist_id=panel.raters[0].id, text="Older")
        )
        question = OpenQuestion(study_id=panel.study.id, text="What should inspectors ask?")
        db.session.add(question)
        db.session.flush()
        db.session.add(
            Proposal(
                study_id=panel.study.id,
                panellist_id=panel.raters[1].id,
                text="An idea",
                ideas_round=True,
                question_id=question.id,
                kind="answer",
            )
        )
        panel.study.ideas_status = "closed"
        db.session.commit()
        db.session.remove()
        downgrade(revision="0017_reporting_settings")
        tables = inspect(db.engine).get_table_names()
        assert "open_questions" not in tables and "idea_comments" not in tables
        columns = {c["name"] for c in inspect(db.engine).get_columns("proposals")}
        assert not {"ideas_round", "question_id"} & columns
        assert "ideas_status" not in {c["name"] for c in inspect(db.engine).get_columns("studies")}
        upgrade()
        _every_model_column_exists()
        # The proposals survive (as proposals), and the study with its panel.
        texts = sorted(db.session.scalars(db.select(Proposal.text)))
        assert texts == ["An idea", "Older"]
        assert not any(db.session.scalars(db.select(Proposal.ideas_round)))
        study = db.session.scalar(db.select(Study).where(Study.slug == "ideas"))
        assert study is not None and study.ideas_status == "none"
        assert len(study.panellists) == 6
        db.session.remove()
        db.engine.dispose()


def test_the_ideas_round_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0020_ideas_round(f"sqlite:///{tmp_path / 'ideas.sqlite3'}")


def test_the_ideas_round_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0020_ideas_round(url)


def _round_trip_0025_spec_cache(url: str) -> None:
    from app.models import Study
    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        build_panel(slug="stamped")
        db.session.remove()
        downgrade(revision="0017_reporting_settings")
        columns = {c["name"] for c in inspect(db.engine).get_columns("studies")}
        assert "content_stamp" not in columns
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("ratings")}
        assert "ix_ratings_changed_round_id" not in indexes
        upgrade()
        _every_model_column_exists()
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("ratings")}
        assert "ix_ratings_changed_round_id" in indexes
        study = db.session.scalar(db.select(Study).where(Study.slug == "stamped"))
        # An existing study gets a stamp, so its specification can be kept from the start.
        assert study is not None and len(study.content_stamp or "") == 32
        assert len(study.facilitators) == 1 and len(study.panellists) == 6
        db.session.remove()
        db.engine.dispose()


def test_the_spec_cache_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0025_spec_cache(f"sqlite:///{tmp_path / 'stamp.sqlite3'}")


def test_the_spec_cache_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0025_spec_cache(url)


def _round_trip_0023_withdrawal_background(url: str) -> None:
    from app.models import BackgroundAnswer, BackgroundQuestion, Panellist, utcnow
    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        panel = build_panel(slug="withdrawing")
        question = BackgroundQuestion(study_id=panel.study.id, text="Role?", options="A\nB")
        db.session.add(question)
        db.session.flush()
        db.session.add(
            BackgroundAnswer(panellist_id=panel.raters[0].id, question_id=question.id, answer="A")
        )
        panel.raters[1].withdrawn_at = utcnow()
        db.session.commit()
        db.session.remove()
        downgrade(revision="0017_reporting_settings")
        tables = inspect(db.engine).get_table_names()
        assert "background_questions" not in tables and "background_answers" not in tables
        columns = {c["name"] for c in inspect(db.engine).get_columns("panellists")}
        assert "withdrawn_at" not in columns and "interests" in columns
        upgrade()
        _every_model_column_exists()
        # Nothing that refers to a panellist went with the columns (no batch copy).
        assert db.session.scalar(db.select(db.func.count(Panellist.id))) == 6
        assert (
            db.session.scalar(
                db.select(db.func.count(Panellist.id)).where(Panellist.withdrawn_at.is_not(None))
            )
            == 0
        )
        db.session.remove()
        db.engine.dispose()


def test_the_withdrawal_and_background_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0023_withdrawal_background(f"sqlite:///{tmp_path / 'withdrawal.sqlite3'}")


def test_the_withdrawal_and_background_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0023_withdrawal_background(url)


def _round_trip_0021_cofacilitators_totp(url: str) -> None:
    from app.models import RecoveryCode, Study, StudyFacilitator, User, utcnow
    from tests.conftest import build_panel, make_user

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        panel = build_panel(slug="together")
        panel.study.require_two_step = True
        panel.facilitator.totp_secret = "sealed"
        panel.facilitator.totp_enabled_at = utcnow()
        panel.facilitator.totp_last_step = 12345
        co = make_user("co@example.test", "Co")
        db.session.add(
            StudyFacilitator(
                study_id=panel.study.id, user_id=co.id, invited_name="Co", added_at=utcnow()
            )
        )
        db.session.add(RecoveryCode(user_id=panel.facilitator.id, code_hash="0" * 64))
        db.session.commit()
        email = panel.facilitator.email
        db.session.remove()
        downgrade(revision="0017_reporting_settings")
        inspector = inspect(db.engine)
        assert "recovery_codes" not in inspector.get_table_names()
        assert "totp_secret" not in {c["name"] for c in inspector.get_columns("users")}
        assert "require_two_step" not in {c["name"] for c in inspector.get_columns("studies")}
        assert "invited_name" not in {
            c["name"] for c in inspector.get_columns("study_facilitators")
        }
        upgrade()
        _every_model_column_exists()
        study = db.session.scalar(db.select(Study).where(Study.slug == "together"))
        # Nothing that refers to a study or a user went with the columns (no batch copy).
        assert study is not None and not study.require_two_step
        assert len(study.facilitators) == 2 and len(study.panellists) == 6
        user = db.session.scalar(db.select(User).where(User.email == email))
        assert user.totp_secret is None and not user.has_two_step
        db.session.remove()
        db.engine.dispose()


def test_the_cofacilitators_and_two_step_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0021_cofacilitators_totp(f"sqlite:///{tmp_path / 'together.sqlite3'}")


def test_the_cofacilitators_and_two_step_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0021_cofacilitators_totp(url)


def _round_trip_0018_criteria(url: str) -> None:
    """Every rating survives going down to one rating per item and back up to one per
    criterion, and its discussion links with it; a study with two criteria stops the
    downgrade with a message."""
    import pytest
    from sqlalchemy import text

    from app.models import Criterion, DiscussionMessage, DiscussionThread, Rating
    from app.services.rounds import open_round
    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        panel = build_panel(slug="criteria")
        round_ = open_round(panel.study, actor=panel.facilitator)
        for n, rater in enumerate(panel.raters):
            for ri in round_.round_items:
                db.session.add(
                    Rating(
                        round_id=round_.id,
                        panellist_id=rater.id,
                        item_version_id=ri.item_version_id,
                        score=1 + (n * 2) % 9,
                        reason=f"because {n}",
                    )
                )
        db.session.flush()
        first = db.session.scalar(db.select(Rating).order_by(Rating.id))
        first_id, study_id = first.id, panel.study.id
        thread = DiscussionThread(study_id=panel.study.id, key="criteria-test")
        db.session.add(thread)
        db.session.flush()
        db.session.add(DiscussionMessage(thread_id=thread.id, body="hi", rating_id=first.id))
        db.session.commit()
        db.session.remove()

        def rows() -> list[tuple]:
            with db.engine.connect() as connection:
                return connection.execute(
                    text(
                        "SELECT id, round_id, panellist_id, item_version_id, score, reason "
                        "FROM ratings ORDER BY id"
                    )
                ).all()

        def links() -> list[tuple]:
            with db.engine.connect() as connection:
                return connection.execute(
                    text("SELECT id, rating_id FROM discussion_messages ORDER BY id")
                ).all()

        before, linked = rows(), links()
        assert len(before) == 20 and [r for _, r in linked if r is not None] == [first_id]
        downgrade(revision="0017_reporting_settings")
        assert "criteria" not in inspect(db.engine).get_table_names()
        assert rows() == before and links() == linked
        upgrade()
        _every_model_column_exists()
        assert rows() == before and links() == linked
        with db.engine.connect() as connection:
            assert connection.execute(
                text("SELECT count(DISTINCT criterion_id) FROM ratings")
            ).scalar_one() == 1
            assert connection.execute(text("SELECT name FROM criteria")).scalar_one() == (
                "Importance"
            )
        db.session.add(Criterion(study_id=study_id, name="Feasibility", position=1))
        db.session.commit()
        db.session.remove()
        # Flask-Migrate logs the migration's message and exits.
        with pytest.raises(SystemExit):
            downgrade(revision="0017_reporting_settings")
        assert "criteria" in inspect(db.engine).get_table_names()
        assert len(rows()) == 20
        db.engine.dispose()


def test_the_criteria_migration_keeps_every_rating_down_and_up_on_sqlite(tmp_path):
    _round_trip_0018_criteria(f"sqlite:///{tmp_path / 'criteria.sqlite3'}")


def test_the_criteria_migration_keeps_every_rating_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0018_criteria(url)


def _round_trip_0022_notifications(url: str) -> None:
    from app.models import NotificationSettings, Reminder, User
    from app.services.rounds import open_round
    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        panel = build_panel(slug="notified")
        round_ = open_round(panel.study, actor=panel.facilitator)
        db.session.add(Reminder(round_id=round_.id, panellist_id=panel.raters[0].id))
        person = panel.raters[0].user_id
        db.session.add(NotificationSettings(user_id=person, reminder=False))
        db.session.commit()
        db.session.remove()
        downgrade(revision="0017_reporting_settings")
        assert "notification_settings" not in inspect(db.engine).get_table_names()
        upgrade()
        _every_model_column_exists()
        # People and reminders stay; a person without a row has every email on.
        assert db.session.scalar(db.select(db.func.count(User.id))) == 7
        assert db.session.scalar(db.select(db.func.count(Reminder.id))) == 1
        # The database's own defaults (not the model's): every email on.
        db.session.execute(
            db.text("INSERT INTO notification_settings (user_id) VALUES (:u)"), {"u": person}
        )
        db.session.commit()
        row = db.session.get(NotificationSettings, person)
        assert row.reminder and row.round_opened and row.discussion and row.round_closed
        db.session.remove()
        db.engine.dispose()


def test_the_notifications_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0022_notifications(f"sqlite:///{tmp_path / 'notify.sqlite3'}")


def test_the_notifications_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0022_notifications(url)


def _round_trip_0026_thread_follows(url: str) -> None:
    from sqlalchemy.exc import IntegrityError

    from app.models import DiscussionFollow, DiscussionMessage, DiscussionThread
    from app.services.discussion_writes import ensure_thread
    from tests.conftest import build_panel

    app = _migrated_app(url)
    with app.app_context():
        upgrade()
        panel = build_panel(slug="followed")
        item = panel.study.items[0]
        thread = ensure_thread(panel.study.id, item.id)
        db.session.add(
            DiscussionMessage(
                thread=thread,
                kind="message",
                author_user_id=panel.partners[0].user_id,
                author_panellist_id=panel.partners[0].id,
                body="Kept",
                hidden_reason="",
            )
        )
        db.session.flush()
        person = panel.partners[1].user_id
        db.session.add(DiscussionFollow(thread_id=thread.id, user_id=person, following=True))
        db.session.commit()
        db.session.remove()
        downgrade(revision="0025_spec_cache")
        assert "discussion_follows" not in inspect(db.engine).get_table_names()
        upgrade()
        _every_model_column_exists()
        # Threads and messages stay; the choices went with the table.
        assert db.session.scalar(db.select(db.func.count(DiscussionThread.id))) == 1
        assert db.session.scalar(db.select(db.func.count(DiscussionMessage.id))) == 1
        assert db.session.scalar(db.select(db.func.count(DiscussionFollow.id))) == 0
        thread_id = db.session.scalar(db.select(DiscussionThread.id))
        db.session.add(DiscussionFollow(thread_id=thread_id, user_id=person, following=False))
        db.session.commit()
        # One choice per person and thread.
        db.session.add(DiscussionFollow(thread_id=thread_id, user_id=person, following=True))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
        else:
            raise AssertionError("a second choice for the same thread and person was stored")
        db.session.remove()
        db.engine.dispose()


def test_the_thread_follows_migration_goes_down_and_up_on_sqlite(tmp_path):
    _round_trip_0026_thread_follows(f"sqlite:///{tmp_path / 'follows.sqlite3'}")


def test_the_thread_follows_migration_goes_down_and_up_on_postgresql():
    with _temporary_postgresql() as url:
        _round_trip_0026_thread_follows(url)
