"""The study's rating criteria: facilitators define them before round 1 opens.

Each change is a POST with the CSRF token; refusals (after round 1 opened, a completed
study, a duplicate name) show on the page with their reason and a 4xx status.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import facilitated_study
from app.forms_common import field_errors
from app.htmx import render
from app.models import Criterion, Study
from app.services.criteria import (
    add_criterion,
    change_criterion,
    criteria_editable,
    remove_criterion,
)
from app.studies.forms import CriterionForm
from app.studies.routes import bp
from delphi import DomainError


def _criterion_of(study: Study, criterion_id: int) -> Criterion:
    criterion = next((c for c in study.criteria if c.id == criterion_id), None)
    if criterion is None:
        abort(404)
    return criterion


def _page(study: Study, form: CriterionForm, *, errors: list, status: int = 200) -> Response:
    return render(
        "studies/criteria.html",
        study=study,
        form=form,
        editable=criteria_editable(study),
        errors=errors,
        status=status,
    )


@bp.route("/<slug>/criteria", methods=["GET", "POST"])
@login_required
def criteria(slug: str) -> Response:
    study = facilitated_study(slug)
    form = CriterionForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        return _page(study, form, errors=[])
    if not form.validate():
        return _page(study, form, errors=field_errors(form), status=422)
    try:
        add_criterion(
            study, form.name.data, form.question.data, form.kinds.data, actor=current_user
        )
    except DomainError as error:
        form.name.errors = [str(error)]
        return _page(study, form, errors=[("name", str(error))], status=error.status_code)
    flash(f"Criterion {form.name.data.strip()} added.", "success")
    return redirect(url_for("studies.criteria", slug=slug), 303)


@bp.route("/<slug>/criteria/<int:criterion_id>", methods=["GET", "POST"])
@login_required
def edit_criterion(slug: str, criterion_id: int) -> Response:
    study = facilitated_study(slug)
    criterion = _criterion_of(study, criterion_id)
    if request.method == "GET":
        form = CriterionForm(
            formdata=None,
            data={
                "name": criterion.name,
                "question": criterion.question,
                "kinds": [k.value for k in criterion.kinds],
            },
        )
        return _edit_page(study, criterion, form, errors=[])
    form = CriterionForm(formdata=request.form)
    if not form.validate():
        return _edit_page(study, criterion, form, errors=field_errors(form), status=422)
    try:
        change_criterion(
            study,
            criterion,
            form.name.data,
            form.question.data,
            form.kinds.data,
            actor=current_user,
        )
    except DomainError as error:
        form.name.errors = [str(error)]
        return _edit_page(
            study, criterion, form, errors=[("name", str(error))], status=error.status_code
        )
    flash(f"Criterion {criterion.name} saved.", "success")
    return redirect(url_for("studies.criteria", slug=slug), 303)


def _edit_page(
    study: Study, criterion: Criterion, form: CriterionForm, *, errors: list, status: int = 200
) -> Response:
    return render(
        "studies/criterion_edit.html",
        study=study,
        criterion=criterion,
        form=form,
        editable=criteria_editable(study),
        errors=errors,
        status=status,
    )


@bp.post("/<slug>/criteria/<int:criterion_id>/remove")
@login_required
def remove_criterion_view(slug: str, criterion_id: int) -> Response:
    study = facilitated_study(slug)
    criterion = _criterion_of(study, criterion_id)
    name = criterion.name
    try:
        remove_criterion(study, criterion, actor=current_user)
    except DomainError as error:
        return _page(
            study,
            CriterionForm(formdata=None),
            errors=[("criteria", str(error))],
            status=error.status_code,
        )
    flash(f"Criterion {name} removed.", "success")
    return redirect(url_for("studies.criteria", slug=slug), 303)
