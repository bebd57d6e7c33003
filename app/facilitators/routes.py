"""The study's facilitators: add one by email, remove one, require two-step sign-in."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import facilitated_study
from app.facilitators.forms import AddFacilitatorForm, RemoveFacilitatorForm, RequireTwoStepForm
from app.forms_common import field_errors
from app.htmx import render
from app.models import Study
from app.services import two_step
from app.services.facilitators import (
    AlreadyFacilitator,
    add_facilitator,
    facilitator_of,
    facilitators_of,
    notify,
    remove_facilitator,
)

bp = Blueprint("facilitators", __name__, url_prefix="/studies/<slug>/facilitators")


def _page(study: Study, *, status: int = 200, **extra: Any) -> Response:
    form = extra.pop("form", None) or AddFacilitatorForm(formdata=None)
    requirement = extra.pop("requirement", None) or RequireTwoStepForm(
        formdata=None, require_two_step=study.require_two_step
    )
    errors = field_errors(form) + field_errors(requirement)
    return render(
        "facilitators/index.html",
        study=study,
        facilitators=facilitators_of(study),
        form=form,
        requirement=requirement,
        errors=errors,
        status=status,
        **extra,
    )


@bp.get("")
@login_required
def index(slug: str) -> Response:
    return _page(facilitated_study(slug))


@bp.post("")
@login_required
def add(slug: str) -> Response:
    study = facilitated_study(slug)
    form = AddFacilitatorForm()
    if not form.validate_on_submit():
        return _page(study, form=form, status=422)
    email = (form.email.data or "").strip().lower()
    try:
        added = add_facilitator(
            study, email=email, name=(form.name.data or "").strip(), actor=current_user
        )
    except AlreadyFacilitator as error:
        form.email.errors = [str(error)]
        return _page(study, form=form, status=409)
    link = url_for("auth.link_sign_in", token=added.token, _external=True) if added.token else None
    problem = notify(
        study,
        added,
        current_user,
        study_url=url_for("studies.show", slug=study.slug, _external=True),
        link_url=link,
    )
    if problem is None:
        flash(f"{email} is now a facilitator of this study. We have emailed them.", "success")
        return redirect(url_for("facilitators.index", slug=study.slug), 303)
    if link is None:
        # An existing account: they sign in as usual, so there is nothing to pass on.
        flash(
            f"{email} is now a facilitator of this study. We could not email them "
            f"({problem}): tell them yourself; they sign in as usual.",
            "info",
        )
        return redirect(url_for("facilitators.index", slug=study.slug), 303)
    # A new account's link is shown here once, and never stored: pass it on privately.
    return _page(study, added_email=email, link=link, mail_problem=problem)


@bp.get("/<int:facilitator_id>/remove")
@login_required
def confirm_remove(slug: str, facilitator_id: int) -> Response:
    study = facilitated_study(slug)
    facilitator = facilitator_of(study, facilitator_id) or abort(404)
    return render(
        "facilitators/remove.html",
        study=study,
        facilitator=facilitator,
        form=RemoveFacilitatorForm(),
        only_one=len(facilitators_of(study)) == 1,
    )


@bp.post("/<int:facilitator_id>/remove")
@login_required
def remove(slug: str, facilitator_id: int) -> Response:
    study = facilitated_study(slug)
    facilitator = facilitator_of(study, facilitator_id) or abort(404)
    form = RemoveFacilitatorForm()
    if not form.validate_on_submit():
        abort(400)
    oneself = facilitator.user_id == current_user.id
    email = facilitator.user.email
    remove_facilitator(study, facilitator, current_user)
    if oneself:
        flash(f"You are no longer a facilitator of {study.title}.", "success")
        return redirect(url_for("studies.index"), 303)
    flash(f"{email} is no longer a facilitator of this study.", "success")
    return redirect(url_for("facilitators.index", slug=study.slug), 303)


@bp.post("/two-step")
@login_required
def require_two_step(slug: str) -> Response:
    study = facilitated_study(slug)
    form = RequireTwoStepForm()
    if not form.validate_on_submit():
        return _page(study, requirement=form, status=422)
    required = bool(form.require_two_step.data)
    try:
        if required:
            two_step.set_study_requirement(study, True, current_user)
        else:
            with two_step.limited(current_user, address=request.remote_addr):
                two_step.set_study_requirement(study, False, current_user, form.code.data or "")
    except two_step.WrongCode as error:
        form.code.errors = [str(error)]
        return _page(study, requirement=form, status=422)
    except two_step.TwoStepRequired as error:
        form.require_two_step.errors = [str(error)]
        return _page(study, requirement=form, status=409)
    flash(
        "Facilitators of this study must now use two-step sign-in."
        if required
        else "Two-step sign-in is no longer required of this study's facilitators.",
        "success",
    )
    return redirect(url_for("facilitators.index", slug=study.slug), 303)
