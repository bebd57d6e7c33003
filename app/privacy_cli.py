"""`flask apply-retention`, `flask erase-person` and `flask export-person` (see
docs/data-protection.md)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask

from app.services import privacy
from app.text.dates import LONDON


def register(app: Flask) -> None:
    @app.cli.command("apply-retention")
    @click.option(
        "--today",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        help="Act as if it were this day (default: today in London).",
    )
    def apply_retention_command(today: datetime | None) -> None:
        """Erase the panel's names and emails in studies past their retention date (for cron).

        Ratings, reasons and messages stay under pseudonyms. Safe to run again: it erases only
        what is left. The audit log shows it done by the system."""
        day: date = (today or datetime.now(LONDON)).date()
        outcomes = privacy.apply_retention(day)
        for outcome in outcomes:
            click.echo(
                f"{outcome.study}: erased the names and emails of {outcome.panellists} "
                f"panellists ({outcome.accounts} accounts erased, {outcome.kept_accounts} "
                "kept for their other studies and detached from this one)."
            )
        if not outcomes:
            click.echo("Nothing to erase: no study past its retention date holds personal data.")

    @app.cli.command("erase-person")
    @click.argument("email")
    @click.option("--dry-run", is_flag=True, help="List what would be erased; change nothing.")
    def erase_person_command(email: str, dry_run: bool) -> None:
        """Answer an erasure request: erase EMAIL's name and address from every study.

        Their pseudonymous ratings, reasons and messages stay, so results do not change."""
        outcome = privacy.erase_person(email, dry_run=dry_run)
        if not outcome.lines:
            click.echo(f"Nothing held about {outcome.email}.")
            return
        click.echo(("Would erase" if dry_run else "Erased") + f" for {outcome.email}:")
        for line in outcome.lines:
            click.echo(f"- {line}")
        if dry_run:
            click.echo("Dry run: nothing was changed.")
        else:
            click.echo(
                "Backups made before today still hold these details until they are rotated "
                "out (docs/data-protection.md)."
            )

    @app.cli.command("export-person")
    @click.argument("email")
    @click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the JSON here (readable by its owner only); default: standard output.",
    )
    def export_person_command(email: str, output: Path | None) -> None:
        """Answer a subject access request: everything held about EMAIL, as JSON."""
        held = privacy.export_person(email)
        if held is None:
            raise click.ClickException(f"No account has the address {email.strip().lower()}.")
        text = json.dumps(held, indent=2, ensure_ascii=False) + "\n"
        if output is None:
            click.echo(text, nl=False)
            return
        output.touch(mode=0o600, exist_ok=True)
        output.chmod(0o600)
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote what is held about {email.strip().lower()} to {output}.")
