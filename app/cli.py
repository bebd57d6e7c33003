"""Admin jobs as `flask` commands."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Study, utcnow
from app.security import PASSWORD_MIN_LENGTH
from app.services.accounts import make_facilitator
from app.services.panel import normalise_email


def register(app: Flask) -> None:
    from app.export.cli import register as register_export

    register_export(app)
    from app.backup import register as register_backup

    register_backup(app)
    from app.privacy_cli import register as register_privacy

    register_privacy(app)

    @app.cli.command("create-facilitator")
    @click.argument("email")
    @click.option("--name", default="", help="Display name (defaults to the email's local part).")
    @click.password_option(help="Password (asked for when not given).")
    def create_facilitator(email: str, name: str, password: str) -> None:
        """Create a user who can create and facilitate studies (or promote an existing one)."""
        try:
            address = normalise_email(email)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="EMAIL") from error
        if len(password) < PASSWORD_MIN_LENGTH:
            raise click.BadParameter(
                f"use at least {PASSWORD_MIN_LENGTH} characters", param_hint="--password"
            )
        make_facilitator(address, name, password)  # and sign out every session it had
        click.echo(f"Facilitator {address} is ready; sign in at /login.")

    @app.cli.command("urls")
    def urls() -> None:
        """Every route: methods, URL rule, endpoint and the file:line of the code that answers."""
        for line in route_table(app):
            click.echo(line)

    @app.cli.command("close-due-rounds")
    def close_due() -> None:
        """Close rounds whose closing time has passed (run it from cron every few minutes).

        The audit log shows them closed by the system."""
        from app.services.rounds import close_due_rounds

        closed = close_due_rounds()
        for round_ in closed:
            click.echo(f"Closed round {round_.number} of {round_.study.slug}.")
        if not closed:
            click.echo("No round was due to close.")

    @app.cli.command("send-reminders")
    @click.argument("slug", required=False)
    def send_reminders_command(slug: str | None) -> None:
        """The automatic reminder (run it from cron, e.g. hourly): once per panellist per
        round, to those who have not finished, inside the two days before the deadline.

        Rounds without a deadline get none (a facilitator reminds by hand, on the round's
        "Who has not finished" page). The audit log shows them sent by the system."""
        from app.services.cycle import send_reminders
        from app.services.notifications import external_url, open_rounds_with_deadline
        from delphi import DomainError
        from delphi.notifications import REMINDER_WINDOW

        now = utcnow()
        rounds = [
            r
            for r in open_rounds_with_deadline()
            if (not slug or r.study.slug == slug)
            and r.closes_at is not None
            and r.closes_at - REMINDER_WINDOW <= now < r.closes_at
        ]
        if not rounds:
            click.echo("No open round is within two days of its deadline.")
        for round_ in rounds:
            label = f"{round_.study.slug} round {round_.number}"
            link = external_url("ballot.show", slug=round_.study.slug, number=round_.number)
            try:
                outcome = send_reminders(round_, None, ballot_url=link, automatic_at=now)
            except DomainError as error:
                raise click.ClickException(str(error)) from error
            click.echo(
                f"{label}: {outcome.sent} reminders sent"
                + (f", {outcome.not_sent} not sent ({outcome.failed[0]})" if outcome.failed else "")
            )

    @app.cli.command("send-digest")
    def send_digest_command() -> None:
        """The daily discussion digest (run it from cron once a day): to each person, the
        replies to them and new messages about the items they follow since their last
        digest; nothing to those with nothing new."""
        from app.mail import mail_enabled
        from app.services.notifications import send_digests

        if not mail_enabled():
            raise click.ClickException("Email is not set up (MAIL_SERVER): no digest sent.")
        run = send_digests()
        click.echo(f"{run.sent} digests sent, {run.empty} people had nothing new.")
        if run.failed:
            raise click.ClickException(
                f"{len(run.failed)} digests failed ({run.failed[0]}); they are tried again "
                "next time."
            )

    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Only seed when the database has no study.")
    def demo(if_empty: bool) -> None:
        """Seed the demo study 'Research in the CQC Well-led assessment'."""
        from app.demo import seed_demo

        if if_empty and db.session.scalar(select(func.count(Study.id))):
            click.echo("The database already has studies; demo not seeded.")
            return
        study = seed_demo()
        click.echo(f"Demo study seeded: /studies/{study.slug}")
        click.echo("Sign in as facilitator@demo.test / demo-facilitator, or")
        click.echo("patient1@demo.test / partner1@demo.test with demo-panellist.")


def route_table(app: Flask) -> list[str]:
    """One line per route, including the WSGI layer that answers some requests first."""
    import inspect
    from pathlib import Path

    root = Path(app.root_path).parent
    lines = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        view = inspect.unwrap(app.view_functions[rule.endpoint])
        try:
            source = Path(inspect.getsourcefile(view) or "").resolve()
            if "site-packages" in source.parts:
                raise ValueError(source)
            where = f"{source.relative_to(root)}:{inspect.getsourcelines(view)[1]}"
        except (TypeError, ValueError, OSError):  # a view from a library, e.g. static files
            where = f"{getattr(view, '__module__', '?')} (library)"
        methods = ",".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        lines.append(f"{methods:<9} {rule.rule:<58} {rule.endpoint:<32} {where}")
        if rule.endpoint == "discussion.poll":
            lines.append(
                f"{'GET':<9} {rule.rule:<58} {'(WSGI middleware, first)':<32} "
                "app/discussion/fastpoll.py: FastPoll answers 204 when nothing is new"
            )
    return lines
