"""The Flask web layer: `create_app` builds the application."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import build_config
from app.extensions import csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application.

    `config` overrides settings from the environment (tests pass `SQLALCHEMY_DATABASE_URI`,
    `TESTING`, ...). Extensions, blueprints, error handlers and CLI commands are registered in
    that order.
    """
    app = Flask(
        __name__,
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(build_config(Path(app.instance_path)))
    if config:
        app.config.update(config)
    app.jinja_options = {
        "undefined": ChainableUndefined,
        "loader": ChoiceLoader(
            [FileSystemLoader(str(ROOT / "templates")), PackageLoader("nhsuk_frontend_jinja")]
        ),
        "autoescape": True,
        "extensions": ["jinja2.ext.do"],
    }
    if not app.testing:
        app.logger.setLevel(logging.INFO)  # one line per request, with its request id
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind one reverse proxy: trust its X-Forwarded-For/-Proto/-Host/-Prefix.
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )
    register_extensions(app)
    from app.inputs import install_converters

    install_converters(app)  # before any route is added: rules bind converters then
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    from app.web import register_request_hooks, register_template_helpers

    register_request_hooks(app)
    register_template_helpers(app)
    return app


def register_extensions(app: Flask) -> None:
    import email_validator

    # The demo and test panels use addresses under the reserved ".test" domain, which
    # email-validator refuses by default; its README documents editing this list.
    if "test" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("test")
    db.init_app(app)

    @app.teardown_appcontext
    def _close_session_even_if_the_database_went(_: BaseException | None) -> None:
        # Runs before Flask-SQLAlchemy's own teardown (registered earlier). Closing a session
        # whose connection a database restart cut raises there, outside every error handler,
        # and the server answers a bare 500: drop such a session instead.
        from sqlalchemy.exc import SQLAlchemyError

        try:
            db.session.remove()
        except SQLAlchemyError:
            db.session.registry.clear()

    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    from app import auth_loader  # noqa: F401  (registers the user loader)
    from app.services import spec_cache  # noqa: F401  (restamps a study when it changes)


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite ignores foreign keys unless each connection asks for them."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        # Erased names and emails are overwritten in the file, not left in free pages that
        # a backup (a copy of every page) would carry (docs/data-protection.md).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


def register_blueprints(app: Flask) -> None:
    from app.api.routes import bp as api_bp
    from app.auth.routes import bp as auth_bp
    from app.ballot.routes import bp as ballot_bp
    from app.cycle.routes import bp as cycle_bp
    from app.discussion.routes import bp as discussion_bp
    from app.help.routes import bp as help_bp
    from app.panel.routes import bp as panel_bp
    from app.results.routes import bp as results_bp
    from app.rounds.routes import bp as rounds_bp
    from app.studies.routes import bp as studies_bp

    for bp in (auth_bp, help_bp, studies_bp, panel_bp, rounds_bp, ballot_bp, results_bp):
        app.register_blueprint(bp)
    app.register_blueprint(discussion_bp)
    from app.discussion.fastpoll import install as install_fast_poll

    install_fast_poll(app)  # answers "nothing new" polls after one query
    from app.export.routes import bp as export_bp

    app.register_blueprint(export_bp)
    from app.audit.routes import bp as audit_bp

    app.register_blueprint(audit_bp)
    app.register_blueprint(cycle_bp)
    app.register_blueprint(api_bp)
    from app.study_results.routes import bp as study_results_bp

    app.register_blueprint(study_results_bp)
    from app.indicators.routes import bp as indicators_bp

    app.register_blueprint(indicators_bp)
    from app.reasons.routes import bp as reasons_bp

    app.register_blueprint(reasons_bp)
    from app.account.routes import bp as account_bp
    from app.consent.routes import bp as consent_bp
    from app.facilitators.routes import bp as facilitators_bp

    app.register_blueprint(account_bp)
    app.register_blueprint(facilitators_bp)

    app.register_blueprint(consent_bp)
    from app.ideas.routes import bp as ideas_bp

    app.register_blueprint(ideas_bp)
    from app.withdrawal.routes import bp as withdrawal_bp

    app.register_blueprint(withdrawal_bp)
    from app.notifications.routes import bp as notifications_bp

    app.register_blueprint(notifications_bp)


def register_errorhandlers(app: Flask) -> None:
    from app.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)
