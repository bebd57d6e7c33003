"""Withdrawal (a panellist's own, or recorded by a facilitator for them) and background
questions (facilitators choose them, panellists answer)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import facilitated_study, membership
from app.extensions import db
from app.forms_common import field_errors
from app.htmx import render
from app.inputs import parse_int
from app.models import BackgroundQuestion, Panellist, Study
from app.services.background import (
    add_presets,
    add_question,
    answers_of,
    questions,
    questions_for,
    remove_question,
    save_answers,
)
from app.services.withdrawal import answers_held, withdraw
from app.withdrawal.forms import OwnQuestionForm, WithdrawForm
from app.words import count
from delphi import DomainError, StudyStatus
from delphi.background import PREFER_NOT, PRESETS, check_question, parse_options
from delphi.withdrawal import CLOSED_ROUNDS_NOTE, AnswersChoice, parse_choice

bp = Blueprint("withdrawal", __name__, url_prefix="/studies/<slug>")


def _withdraw_page(study: Study, panellist: Panellist, *, by_facilitator: bool) -> Response:
    form = WithdrawForm()
    if by_facilitator:
        form.answers.choices = [(c.value, c.label_for_facilitator) for c in AnswersChoice]
    errors: list[tuple[str, str]] = []
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                choice = parse_choice(form.answers.data)
                withdraw(panellist, choice, actor=current_user, by_facilitator=by_facilitator)
            except DomainError as error:
                errors = [("answers", str(error))]
                status = error.status_code
            else:
                if by_facilitator:
                    flash(
                        f"The withdrawal of {panellist.name} ({panellist.pseudonym}) is recorded.",
                        "success",
                    )
                    return redirect(url_for("panel.index", slug=study.slug), 303)
                flash("You have withdrawn from the study. Thank you for taking part.", "success")
                return redirect(url_for("studies.show", slug=study.slug), 303)
        else:
            errors = field_errors(form)
            status = 422
    ratings, messages = answers_held(panellist)
    return render(
        "withdrawal/withdraw.html",
        study=study,
        panellist=panellist,
        by_facilitator=by_facilitator,
        form=form,
        ratings=ratings,
        messages=messages,
        closed_rounds_note=CLOSED_ROUNDS_NOTE,
        count=count,
        completed=study.study_status is StudyStatus.COMPLETED,
        errors=errors,
        status=status,
    )


@bp.route("/withdraw", methods=["GET", "POST"])
@login_required
def own(slug: str) -> Response:
    """A panellist withdraws from the study, choosing whether their answers stay."""
    member = membership(slug)
    if member.panellist is None:
        abort(403, description="Only panellists can withdraw from a study.")
    return _withdraw_page(member.study, member.panellist, by_facilitator=False)


@bp.route("/panel/<int:panellist_id>/withdraw", methods=["GET", "POST"])
@login_required
def record(slug: str, panellist_id: int) -> Response:
    """A facilitator records a panellist's withdrawal for them (e.g. they emailed)."""
    study = facilitated_study(slug)
    panellist = db.session.get(Panellist, panellist_id)
    if panellist is None or panellist.study_id != study.id:
        abort(404)
    return _withdraw_page(study, panellist, by_facilitator=True)


# ------------------------------------------------------------------ background questions


def _own_question_valid(form: OwnQuestionForm) -> bool:
    """The question and its options by the rules of `delphi.background`, each problem on
    its own field."""
    for field, check in (
        (form.text, check_question),
        (form.options, parse_options),
    ):
        try:
            check(field.data or "")
        except DomainError as error:
            field.errors = [str(error)]
    return not (form.text.errors or form.options.errors)


@bp.route("/background-questions", methods=["GET", "POST"])
@login_required
def questions_page(slug: str) -> Response:
    """Facilitators choose preset questions, add their own, and remove questions."""
    study = facilitated_study(slug)
    own_form = OwnQuestionForm()
    errors: list[tuple[str, str]] = []
    status = 200
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "presets":
                added = add_presets(study, request.form.getlist("preset"), actor=current_user)
                flash(
                    f"{added} question{'s' if added != 1 else ''} added."
                    if added
                    else "No question was added: choose one the study does not ask yet.",
                    "success",
                )
                return redirect(url_for("withdrawal.questions_page", slug=slug), 303)
            if action == "own":
                if own_form.validate_on_submit() and _own_question_valid(own_form):
                    add_question(
                        study,
                        text=own_form.text.data or "",
                        options=own_form.options.data or "",
                        patients_only=bool(own_form.patients_only.data),
                        actor=current_user,
                    )
                    flash("Your question is added.", "success")
                    return redirect(url_for("withdrawal.questions_page", slug=slug), 303)
                errors = field_errors(own_form)
            elif action == "remove":
                question = db.session.get(
                    BackgroundQuestion, parse_int(request.form.get("question")) or 0
                )
                if question is None or question.study_id != study.id:
                    abort(404)
                remove_question(study, question, actor=current_user)
                flash("The question and its answers are removed.", "success")
                return redirect(url_for("withdrawal.questions_page", slug=slug), 303)
            else:
                errors = [("about-questions", "Choose what to do")]
        except DomainError as error:
            if action == "own":
                errors = [("options", str(error))]
                own_form.options.errors = [str(error)]
            else:
                errors = [("about-questions", str(error))]
            status = error.status_code
        if errors and status == 200:
            status = 422
    asked = questions(study)
    return render(
        "withdrawal/questions.html",
        study=study,
        asked=asked,
        presets=[p for p in PRESETS if p.key not in {q.preset for q in asked}],
        form=own_form,
        completed=study.study_status is StudyStatus.COMPLETED,
        errors=errors,
        status=status,
    )


@bp.route("/background", methods=["GET", "POST"])
@login_required
def answer(slug: str) -> Response:
    """A panellist answers (or changes) their background answers."""
    member = membership(slug)
    panellist = member.panellist
    if panellist is None or not panellist.panel_role.can_rate:
        abort(403, description="Only panellists who rate answer background questions.")
    study = member.study
    asked = questions_for(panellist)
    given = answers_of(panellist)
    errors: list[tuple[str, str]] = []
    status = 200
    chosen: dict[int, str] = {q.id: (given[q.id] or PREFER_NOT) for q in asked if q.id in given}
    if request.method == "POST":
        chosen = {q.id: request.form[f"q-{q.id}"] for q in asked if request.form.get(f"q-{q.id}")}
        missing = [q for q in asked if q.id not in chosen]
        if missing:
            errors = [
                (
                    f"q-{q.id}",
                    f"Answer \u201c{q.text}\u201d, or choose \u201cprefer not to say\u201d",
                )
                for q in missing
            ]
            status = 422
        else:
            try:
                save_answers(panellist, chosen)
            except DomainError as error:
                errors = [(f"q-{asked[0].id}" if asked else "", str(error))]
                status = error.status_code
            else:
                flash("Your background answers are saved.", "success")
                return redirect(url_for("studies.show", slug=slug), 303)
    return render(
        "withdrawal/background.html",
        study=study,
        asked=asked,
        chosen=chosen,
        error_for=dict(errors),
        prefer_not=PREFER_NOT,
        completed=study.study_status is StudyStatus.COMPLETED,
        withdrawn=panellist.withdrawn_at is not None,
        errors=errors,
        status=status,
    )
