"""Opening, closing and reopening rounds, and watching the response rate while one is open."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import facilitated_study, round_of
from app.forms_common import field_errors
from app.htmx import render
from app.models import Round, Study
from app.rounds.forms import OpenRoundForm, ReopenRoundForm
from app.services.cycle import round_progress
from app.services.notifications import (
    MailOutcome,
    mail_failure_message,
    notify_round_closed,
    notify_round_opened,
)
from app.services.results import participation
from app.services.rounds import close_round, confirmed_decisions, open_round, reopen_round
from app.text.dates import LONDON
from delphi import InvalidTransition, RoundState, check_can_close, check_can_reopen

bp = Blueprint("rounds", __name__, url_prefix="/studies/<slug>/rounds")


@bp.post("/open")
@login_required
def open_(slug: str) -> Response:
    study = facilitated_study(slug)
    form = OpenRoundForm()
    if not form.validate_on_submit():
        flash("; ".join(message for _, message in field_errors(form)), "error")
        return redirect(url_for("studies.show", slug=slug), 303)
    try:
        round_ = open_round(
            study,
            instructions=(form.instructions.data or "").strip(),
            closes_at=_closing_time(form.closes_on.data),
            invite_rule=form.invite_rule.data or "everyone",
            actor=current_user,
        )
    except InvalidTransition as error:
        flash(str(error), "error")
        return redirect(url_for("studies.show", slug=slug), 303)
    flash(f"Round {round_.number} is open with {len(round_.round_items)} items.", "success")
    _say_what_was_emailed(
        notify_round_opened(round_.id, actor=current_user), "that the round is open"
    )
    return redirect(url_for("rounds.show", slug=slug, number=round_.number), 303)


def _say_what_was_emailed(outcome: MailOutcome, what: str) -> None:
    """Tell the facilitator what became of emailing the panel, after the change itself has
    committed: a failure leaves the round as it is and offers the link to send by hand."""
    if not outcome.mail:
        flash(
            f"Email is not set up, so the panel was not emailed. Send them this link "
            f"yourself: {outcome.link}",
            "info",
        )
        return
    if outcome.sent:
        noun = "panellist" if outcome.sent == 1 else "panellists"
        flash(f"Emailed {outcome.sent} {noun} {what}.", "success")
    if outcome.not_sent:
        flash(mail_failure_message(outcome, what), "error")


def _closing_time(day: date | None) -> datetime | None:
    return datetime.combine(day, time(23, 59), LONDON) if day else None


def _why_not_reopen(study: Study, round_: Round) -> str | None:
    """Why the closed round cannot reopen, in words; None when it can."""
    try:
        check_can_reopen(
            study_status=study.study_status,
            rounds=[RoundState(r.number, r.round_status, len(r.round_items)) for r in study.rounds],
            number=round_.number,
        )
    except InvalidTransition as error:
        return str(error)
    return None


def _round_page(
    study: Study, round_: Round, *, form: ReopenRoundForm | None = None, status: int = 200
) -> Response:
    form = form or ReopenRoundForm(formdata=None)
    closed = round_.closed_at is not None
    return render(
        "rounds/show.html",
        block="participation",
        study=study,
        round=round_,
        participation=participation(round_),
        reopen_form=form,
        why_not_reopen=_why_not_reopen(study, round_) if closed else None,
        confirmed=confirmed_decisions(round_) if closed else 0,
        errors=field_errors(form),
        status=status,
    )


@bp.get("/<int:number>")
@login_required
def show(slug: str, number: int) -> Response:
    study = facilitated_study(slug)
    return _round_page(study, round_of(study, number))


@bp.get("/<int:number>/close")
@login_required
def close_question(slug: str, number: int) -> Response:
    """Before closing: who has not finished, and what closing does. Nothing changes here."""
    study = facilitated_study(slug)
    round_ = round_of(study, number)
    check_can_close(round_.round_status)
    return render("rounds/close.html", study=study, round=round_, progress=round_progress(round_))


@bp.post("/<int:number>/close")
@login_required
def close(slug: str, number: int) -> Response:
    """Close the round once the question before it was answered (`confirm=yes`); a close sent
    without that answer is sent to the question."""
    study = facilitated_study(slug)
    round_ = round_of(study, number)
    check_can_close(round_.round_status)
    if request.form.get("confirm") != "yes":
        return redirect(url_for("rounds.close_question", slug=slug, number=number), 303)
    close_round(round_.id, actor=current_user)
    flash(f"Round {number} is closed and its results are stored.", "success")
    _say_what_was_emailed(
        notify_round_closed(round_.id, actor=current_user), "that its feedback is ready"
    )
    return redirect(url_for("results.show", slug=slug, number=number), 303)


@bp.post("/<int:number>/reopen")
@login_required
def reopen(slug: str, number: int) -> Response:
    """Open a closed round again, with a reason, while no later round has opened."""
    study = facilitated_study(slug)
    round_ = round_of(study, number)
    refused = _why_not_reopen(study, round_)
    if refused is not None:
        raise InvalidTransition(refused)
    form = ReopenRoundForm()
    if not form.validate_on_submit():
        return _round_page(study, round_, form=form, status=422)
    reopen_round(
        round_.id,
        form.reason.data or "",
        _closing_time(form.closes_on.data),
        actor=current_user,
    )
    flash(
        f"Round {number} is open again: panellists can rate until you close it. "
        "Its results and your decisions are made again when it closes.",
        "success",
    )
    return redirect(url_for("rounds.show", slug=slug, number=number), 303)
