"""Participant information (facilitators write it, in versions), consent and declared
interests (panellists agree and declare before their first answer)."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from app.access import facilitated_study, membership
from app.consent.forms import InformationForm, InterestsForm
from app.forms_common import field_errors
from app.htmx import render
from app.inputs import parse_int
from app.models import Panellist, Study
from app.services.background import unanswered
from app.services.consent import (
    agree as agree_service,
)
from app.services.consent import (
    current_information,
    interests_of,
    latest_consent,
    publish_information,
    update_interests,
)
from app.text.markdown import render as markdown
from delphi import DomainError, Interests, check_statements_agreed, declare_interests

bp = Blueprint("consent", __name__, url_prefix="/studies/<slug>")

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def information_html(text: str) -> Markup:
    """The participant information as safe HTML: the discussion's Markdown subset
    (`app.text.markdown`), plus headings, which a long information sheet needs. The page's
    <h1> is its title, so "#" and "##" are <h2> and deeper ones <h3>."""
    parts: list[str] = []
    chunk: list[str] = []

    def flush() -> None:
        if chunk:
            parts.append(str(markdown("\n".join(chunk))))
            chunk.clear()

    for line in text.split("\n"):
        heading = _HEADING.match(line)
        if heading:
            flush()
            level = 2 if len(heading.group(1)) <= 2 else 3
            parts.append(f"<h{level}>{escape(heading.group(2))}</h{level}>")
        else:
            chunk.append(line)
    flush()
    return Markup("".join(parts))  # noqa: S704 - headings escaped, the rest sanitised


def _rater(slug: str) -> tuple[Study, Panellist | None, bool]:
    member = membership(slug)
    return member.study, member.panellist, member.is_facilitator


def _interests_form(panellist: Panellist | None) -> InterestsForm:
    form = InterestsForm()
    if request.method == "GET" and panellist is not None:
        declared = interests_of(panellist)
        if declared is not None:
            form.choice.data = "none" if declared.none else "some"
            form.interests.data = declared.text
    return form


def _declared(form: InterestsForm) -> Interests | None:
    """The declaration the form holds, or None with the error put on the form."""
    if not form.validate_on_submit():
        return None
    try:
        return declare_interests(form.choice.data or "", form.interests.data or "")
    except DomainError as error:
        form.interests.errors = [str(error)]
        return None


@bp.route("/consent", methods=["GET", "POST"])
@login_required
def agree(slug: str) -> Response:
    """A panellist reads the participant information and agrees; facilitators preview it."""
    study, panellist, facilitator = _rater(slug)
    if panellist is None and not facilitator:
        abort(403)
    info = current_information(study)
    form = _interests_form(panellist)
    errors: list[tuple[str, str]] = []
    status = 200
    rater = panellist is not None and panellist.panel_role.can_rate
    if request.method == "POST":
        if not rater:
            abort(403, description="Only panellists who rate are asked to agree.")
        assert panellist is not None
        ticked = [n for n in map(parse_int, request.form.getlist("statement")) if n is not None]
        interests = _declared(form)
        if interests is None:
            # Every problem at once: the statements too, not only the interests.
            try:
                check_statements_agreed(info.statement_list if info else [], ticked)
            except DomainError as error:
                errors = [("statement-1", str(error))]
            errors += field_errors(form)
        else:
            try:
                agree_service(
                    panellist,
                    version=parse_int(request.form.get("version")) or 0,
                    ticked=ticked,
                    interests=interests,
                )
            except DomainError as error:
                errors = [("statement-1", str(error))]
            else:
                flash("Thank you: you have agreed to take part.", "success")
                if unanswered(panellist):
                    # Joining goes on to the background questions (`delphi.background`).
                    return redirect(url_for("withdrawal.answer", slug=slug), 303)
                return redirect(url_for("studies.show", slug=slug), 303)
        status = 422
    agreed = latest_consent(panellist) if panellist is not None else None
    return render(
        "consent/agree.html",
        study=study,
        info=info,
        body=information_html(info.text) if info else None,
        panellist=panellist,
        rater=rater,
        agreed=agreed,
        form=form,
        ticked=set(request.form.getlist("statement")),
        errors=errors,
        status=status,
    )


@bp.route("/interests", methods=["GET", "POST"])
@login_required
def interests(slug: str) -> Response:
    """A panellist declares or updates their interests."""
    study, panellist, _ = _rater(slug)
    if panellist is None or not panellist.panel_role.can_rate:
        abort(403, description="Only panellists who rate declare interests.")
    form = _interests_form(panellist)
    status = 200
    if request.method == "POST":
        declared = _declared(form)
        if declared is not None:
            try:
                update_interests(panellist, declared)
            except DomainError as error:
                form.interests.errors = [str(error)]
            else:
                flash("Your declared interests are saved.", "success")
                return redirect(url_for("studies.show", slug=slug), 303)
        status = 422
    return render(
        "consent/interests.html",
        study=study,
        form=form,
        errors=field_errors(form),
        status=status,
    )


@bp.route("/participant-information", methods=["GET", "POST"])
@login_required
def information(slug: str) -> Response:
    """Facilitators write the participant information; each change is a new version."""
    study = facilitated_study(slug)
    info = current_information(study)
    form = InformationForm()
    if request.method == "GET" and info is not None:
        form.text.data = info.text
        form.statements.data = info.statements
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                saved = publish_information(
                    study,
                    text=form.text.data or "",
                    statements=form.statements.data or "",
                    actor=current_user,
                )
            except DomainError as error:
                form.text.errors = [str(error)]
            else:
                flash(
                    f"Version {saved.version} of the participant information is published: "
                    "panellists are asked to agree to it before their next answer."
                    if saved
                    else "Nothing changed, so no new version was made.",
                    "success",
                )
                return redirect(url_for("consent.information", slug=slug), 303)
        status = 422
    return render(
        "consent/information.html",
        study=study,
        info=info,
        form=form,
        errors=field_errors(form),
        status=status,
    )
