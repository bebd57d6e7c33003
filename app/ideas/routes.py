"""The ideas round: panellists add and discuss ideas; facilitators ask, open, close, curate."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import Membership, facilitated_study, membership
from app.extensions import db
from app.forms_common import field_errors
from app.htmx import render
from app.ideas.forms import ActionForm, CommentForm, CurateForm, IdeaForm, QuestionForm
from app.models import Item, OpenQuestion, Study
from app.services import ideas as service
from delphi import ConsentNeeded, DomainError, ItemKind, StudyStatus
from delphi.ideas import IdeaOutcome, IdeasStatus, check_may_read, reason_visible

bp = Blueprint("ideas", __name__, url_prefix="/studies/<slug>/ideas")

# "q12": an answer to question 12. ASCII digits, and few of them: no id overflows a column.
_QUESTION = re.compile(r"q([0-9]{1,9})")


def _idea_form(study: Study) -> IdeaForm:
    form = IdeaForm()
    form.about.choices = [
        (f"q{q.id}", f"An answer to: {q.text}") for q in service.questions_for(study)
    ] + [
        (ItemKind.PROMPT.value, "A candidate prompt (a question for inspectors)"),
        (ItemKind.INDICATOR.value, "A candidate indicator (a measure)"),
    ]
    return form


def _board(
    member: Membership,
    *,
    form: IdeaForm | None = None,
    comment: tuple[int, CommentForm] | None = None,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> Response:
    study = member.study
    state = service.status_of(study)
    try:
        check_may_read(ideas=state, is_facilitator=member.is_facilitator)
    except DomainError as error:
        abort(404, description=str(error))
    panellist = member.panellist
    questions = service.questions_for(study)
    return render(
        "ideas/board.html",
        study=study,
        state=state,
        questions=questions,
        ideas=service.ideas_for(study),
        kind_labels=service.KIND_LABELS,
        IdeaOutcome=IdeaOutcome,
        IdeasStatus=IdeasStatus,
        panellist=panellist,
        is_facilitator=member.is_facilitator,
        may_contribute=(
            state is IdeasStatus.OPEN
            and study.study_status is not StudyStatus.COMPLETED
            and panellist is not None
            and panellist.panel_role.can_rate
        ),
        reason_visible=reason_visible,
        form=form or _idea_form(study),
        comment_form=CommentForm(formdata=None),
        failed_comment=comment,
        errors=errors,
        status=status,
    )


@bp.route("", methods=["GET", "POST"])
@login_required
def board(slug: str) -> Response:
    member = membership(slug)
    study = member.study
    form = _idea_form(study)
    if not form.is_submitted():
        return _board(member, form=form)
    if member.panellist is None:
        abort(403, description="Panellists add ideas; facilitators curate them.")
    if not member.panellist.panel_role.can_rate:
        abort(403, description="Observers can read the ideas but cannot add ideas.")
    if form.validate():
        about = form.about.data or ""
        question = None
        asked = _QUESTION.fullmatch(about)
        if asked:
            question = db.session.get(OpenQuestion, int(asked.group(1)))
            if question is None or question.study_id != study.id:
                question = None
                form.about.errors = ["Choose one of the questions, or a candidate item"]
        elif about not in {k.value for k in ItemKind}:
            form.about.errors = ["Choose one of the questions, or a candidate item"]
        if not form.about.errors:
            try:
                service.add_idea(
                    study,
                    member.panellist,
                    question=question,
                    kind=about,
                    text=form.text.data or "",
                    theme=form.theme.data or "",
                )
            except ConsentNeeded as error:
                return _to_consent(slug, error)
            except DomainError as error:
                if error.status_code == 403:
                    abort(403, description=str(error))
                form.text.errors = [str(error)]
            else:
                flash("Thank you. Your idea is on the board.", "success")
                return redirect(url_for("ideas.board", slug=slug), 303)
    return _board(member, form=form, errors=field_errors(form), status=422)


@bp.post("/<int:idea_id>/comments")
@login_required
def comment(slug: str, idea_id: int) -> Response:
    member = membership(slug)
    study = member.study
    idea = service.idea_of(study, idea_id)
    if idea is None:
        abort(404)
    if member.panellist is None:
        abort(403, description="Panellists comment on ideas; facilitators curate them.")
    if not member.panellist.panel_role.can_rate:
        abort(403, description="Observers can read the ideas but cannot comment.")
    form = CommentForm()
    form.text.id = f"comment-{idea_id}"
    if form.validate_on_submit():
        try:
            service.add_comment(study, idea, member.panellist, form.text.data or "")
        except ConsentNeeded as error:
            return _to_consent(slug, error)
        except DomainError as error:
            if error.status_code == 403:
                abort(403, description=str(error))
            form.text.errors = [str(error)]
        else:
            flash("Comment added.", "success")
            return redirect(url_for("ideas.board", slug=slug, _anchor=f"idea-{idea_id}"), 303)
    return _board(member, comment=(idea_id, form), errors=field_errors(form), status=422)


def _to_consent(slug: str, error: ConsentNeeded) -> Response:
    flash(str(error), "error")
    return redirect(url_for("consent.agree", slug=slug), 303)


def _curate_form(study: Study) -> CurateForm:
    form = CurateForm()
    form.merge_into.choices = [("", "Choose an item")] + [
        (i.ref, f"{i.ref}: {i.current.text[:80]}") for i in study.items
    ]
    return form


def _manage(
    study: Study,
    *,
    question_form: QuestionForm | None = None,
    curate_form: CurateForm | None = None,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> Response:
    ideas = service.ideas_for(study)
    by_item: dict[int, list[Any]] = {}
    for idea in ideas:
        if idea.result_item_id:
            by_item.setdefault(idea.result_item_id, []).append(idea)
    return render(
        "ideas/manage.html",
        study=study,
        state=service.status_of(study),
        IdeasStatus=IdeasStatus,
        IdeaOutcome=IdeaOutcome,
        questions=service.questions_for(study),
        ideas=ideas,
        pending=[i for i in ideas if i.status == IdeaOutcome.PENDING.value],
        answered=[i for i in ideas if i.status != IdeaOutcome.PENDING.value],
        items_from_ideas=[(i, by_item[i.id]) for i in study.items if i.id in by_item],
        kind_labels=service.KIND_LABELS,
        rounds_opened=service.rounds_opened(study),
        question_form=question_form or QuestionForm(formdata=None, prefix="question"),
        action_form=ActionForm(formdata=None),
        curate_form=curate_form or _curate_form(study),
        errors=errors,
        status=status,
    )


@bp.get("/manage")
@login_required
def manage(slug: str) -> Response:
    return _manage(facilitated_study(slug))


@bp.post("/open")
@login_required
def open_round(slug: str) -> Response:
    return _status_change(slug, opening=True)


@bp.post("/close")
@login_required
def close_round(slug: str) -> Response:
    return _status_change(slug, opening=False)


def _status_change(slug: str, *, opening: bool) -> Response:
    study = facilitated_study(slug)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form has expired. Reload the page and try again.")
    try:
        if opening:
            service.open_ideas_round(study, current_user)
        else:
            service.close_ideas_round(study, current_user)
    except DomainError as error:
        flash(str(error), "error")
        return redirect(url_for("ideas.manage", slug=slug), 303)
    flash("The ideas round is open." if opening else "The ideas round is closed.", "success")
    return redirect(url_for("ideas.manage", slug=slug), 303)


@bp.post("/questions")
@login_required
def add_question(slug: str) -> Response:
    study = facilitated_study(slug)
    form = QuestionForm(prefix="question")
    if form.validate_on_submit():
        try:
            service.add_question(study, form.text.data or "", current_user)
        except DomainError as error:
            form.text.errors = [str(error)]
        else:
            flash("Question added.", "success")
            return redirect(url_for("ideas.manage", slug=slug), 303)
    return _manage(study, question_form=form, errors=field_errors(form), status=422)


@bp.post("/questions/<int:question_id>/delete")
@login_required
def remove_question(slug: str, question_id: int) -> Response:
    study = facilitated_study(slug)
    question = db.session.get(OpenQuestion, question_id)
    if question is None or question.study_id != study.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form has expired. Reload the page and try again.")
    try:
        service.remove_question(question, study, current_user)
    except DomainError as error:
        flash(str(error), "error")
    else:
        flash("Question removed.", "success")
    return redirect(url_for("ideas.manage", slug=slug), 303)


@bp.post("/curate")
@login_required
def curate(slug: str) -> Response:
    study = facilitated_study(slug)
    form = _curate_form(study)
    if form.validate_on_submit():
        chosen = [service.idea_of(study, i) for i in form.ideas.data or []]
        merge: Item | None = None
        if form.merge_into.data and form.outcome.data == IdeaOutcome.MERGED:
            merge = next((i for i in study.items if i.ref == form.merge_into.data), None)
            if merge is None:
                form.merge_into.errors = ["Choose one of this study's items"]
        if any(i is None for i in chosen):
            form.ideas.errors = ["Choose ideas from this study's list"]
        if not form.ideas.errors and not form.merge_into.errors:
            try:
                item = service.curate(
                    study,
                    [i for i in chosen if i is not None],
                    IdeaOutcome(form.outcome.data),
                    current_user,
                    reason=form.reason.data or "",
                    new_item=service.NewItem(
                        kind=ItemKind(form.kind.data or ItemKind.PROMPT.value),
                        theme=form.theme.data or "",
                        text=form.text.data or "",
                        definition=form.definition.data or "",
                    ),
                    merge_into=merge,
                )
            except (DomainError, ValueError) as error:
                form.ideas.errors = [str(error)]
            else:
                flash(_curated(len(chosen), IdeaOutcome(form.outcome.data), item), "success")
                return redirect(url_for("ideas.manage", slug=slug), 303)
    return _manage(study, curate_form=form, errors=field_errors(form), status=422)


def _curated(n: int, outcome: IdeaOutcome, item: Item | None) -> str:
    ideas = f"{n} idea{'s' if n != 1 else ''}"
    if item is None:
        return f"{ideas} declined. The authors see your reason."
    if outcome is IdeaOutcome.ACCEPTED:
        return f"{ideas} became {item.ref}."
    return f"{ideas} merged into {item.ref}."
