"""Opening and closing rounds, and watching the response rate while one is open."""

from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import facilitated_study, round_of
from app.forms_common import field_errors
from app.htmx import render
from app.rounds.forms import OpenRoundForm
from app.services.results import participation
from app.services.rounds import close_round, open_round
from app.text.dates import LONDON
from delphi import InvalidTransition

bp = Blueprint("rounds", __name__, url_prefix="/studies/<slug>/rounds")


@bp.post("/open")
@login_required
def open_(slug: str) -> Response:
    study = facilitated_study(slug)
    form = OpenRoundForm()
    if not form.validate_on_submit():
        flash("; ".join(message for _, message in field_errors(form)), "error")
        return redirect(url_for("studies.show", slug=slug), 303)
    closes_at = None
    if form.closes_on.data:
        closes_at = datetime.combine(form.closes_on.data, time(23, 59), LONDON)
    try:
        round_ = open_round(
            study,
            instructions=(form.instructions.data or "").strip(),
            closes_at=closes_at,
            invite_rule=form.invite_rule.data or "everyone",
            actor=current_user,
        )
    except InvalidTransition as error:
        flash(str(error), "error")
        return redirect(url_for("studies.show", slug=slug), 303)
    flash(f"Round {round_.number} is open with {len(round_.round_items)} items.", "success")
    return redirect(url_for("rounds.show", slug=slug, number=round_.number), 303)


@bp.get("/<int:number>")
@login_required
def show(slug: str, number: int) -> Response:
    study = facilitated_study(slug)
    round_ = round_of(study, number)
    return render(
        "rounds/show.html",
        block="participation",
        study=study,
        round=round_,
        participation=participation(round_),
    )


@bp.post("/<int:number>/close")
@login_required
def close(slug: str, number: int) -> Response:
    study = facilitated_study(slug)
    round_ = round_of(study, number)
    close_round(round_.id, actor=current_user)
    flash(f"Round {number} is closed and its results are stored.", "success")
    return redirect(url_for("results.show", slug=slug, number=number), 303)
