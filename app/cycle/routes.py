"""Between rounds: revising items, proposals, reminders, completing the study."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from app.access import facilitated_study, item_of, membership, round_of
from app.cycle.forms import (
    CompleteForm,
    ProposalDecisionForm,
    ProposalForm,
    ReopenStudyForm,
    ReviseForm,
)
from app.extensions import db
from app.forms_common import field_errors
from app.htmx import render
from app.models import Proposal, Study
from app.services.cycle import (
    REVISABLE,
    check_completion,
    complete_study,
    last_reminders,
    non_responders,
    outcome_counts,
    reopen_study,
    revise_item,
    send_reminders,
    stability_between_last_rounds,
    stop_reasons,
    tell_panel_of_completion,
    version_changes,
)
from app.services.proposals import decide, proposals_accepted_now, proposals_for, propose
from app.words import count
from delphi import DomainError, ItemKind, check_can_reopen_study

bp = Blueprint("cycle", __name__, url_prefix="/studies/<slug>")


@bp.route("/items/<ref>/revise", methods=["GET", "POST"])
@login_required
def revise(slug: str, ref: str) -> Response:
    study = facilitated_study(slug)
    item = item_of(study, ref)
    # The item as it stands fills the form, and stays for any field a POST leaves out.
    form = ReviseForm(
        data={
            **{name: getattr(item.current, name) for name in REVISABLE},
            "kind": item.current.item_kind.value,
            "theme": item.theme.name,
        }
    )
    if form.validate_on_submit():
        fields = {name: (getattr(form, name).data or "").strip() for name in REVISABLE}
        fields.update(kind=form.kind.data or "", theme=(form.theme.data or "").strip())
        try:
            version = revise_item(item, fields, form.change_note.data or "", current_user)
        except DomainError as error:
            form.change_note.errors = [str(error)]
        else:
            flash(f"{item.ref} is now at version {version.number}.", "success")
            return redirect(url_for("studies.items", slug=slug), 303)
    history = [
        (v, version_changes(prev, v) if prev else None)
        for prev, v in zip([None, *item.versions[:-1]], item.versions, strict=True)
    ]
    status = 422 if form.is_submitted() else 200
    return render(
        "cycle/revise.html",
        study=study,
        item=item,
        form=form,
        history=history,
        errors=field_errors(form),
        status=status,
    )


@bp.route("/complete", methods=["GET", "POST"])
@login_required
def complete(slug: str) -> Response:
    """The reason the study stops, then a question that says what completing does; only its
    answer (`confirm=yes`) completes the study."""
    study = facilitated_study(slug)
    form = CompleteForm()
    reasons = stop_reasons(study)
    if not form.is_submitted() and reasons:
        form.reason.data = " ".join(reasons)
    changing = request.form.get("change") == "yes"
    if form.validate_on_submit() and not changing:
        try:
            if request.form.get("confirm") == "yes":
                complete_study(study, form.reason.data or "", actor=current_user)
            else:
                check_completion(study)
                return render(
                    "cycle/complete_confirm.html",
                    study=study,
                    form=form,
                    outcomes=outcome_counts(study),
                )
        except DomainError as error:
            form.reason.errors = [str(error)]
        else:
            flash("The study is completed. It is now read-only.", "success")
            _tell_the_panel(study)
            return redirect(url_for("studies.show", slug=slug), 303)
    stability = stability_between_last_rounds(study)
    status = 422 if form.is_submitted() and not changing else 200
    return render(
        "cycle/complete.html",
        study=study,
        form=form,
        reasons=reasons,
        stability=stability,
        errors=field_errors(form),
        status=status,
    )


def _tell_the_panel(study: Study) -> None:
    """Email the panel the outcome (a transaction after the completion's own), and flash
    what became of it: the study is completed whatever the mail server does."""
    base = current_app.config.get("PUBLIC_URL")
    if base:
        url = base.rstrip("/") + url_for("studies.show", slug=study.slug)
    else:
        url = url_for("studies.show", slug=study.slug, _external=True)
    notice = tell_panel_of_completion(study, actor=current_user, study_url=url)
    if not notice.mail:
        flash(
            "Email is not set up, so the panel was not emailed: each panellist sees the "
            "outcome on the study's page when they next sign in.",
            "info",
        )
        return
    if notice.emailed:
        flash(f"The outcome was emailed to {count(notice.emailed, 'panellist')}.", "success")
    if notice.failed:
        flash(
            f"The outcome could not be emailed to {count(len(notice.failed), 'panellist')} "
            f"({notice.failed[0]}). They see it on the study's page when they next sign in.",
            "error",
        )


@bp.route("/reopen", methods=["GET", "POST"])
@login_required
def reopen(slug: str) -> Response:
    """Reopen a completed study: the reason, then a question that says what reopening does;
    only its answer (`confirm=yes`) reopens it."""
    study = facilitated_study(slug)
    form = ReopenStudyForm()
    changing = request.form.get("change") == "yes"
    if form.validate_on_submit() and not changing:
        try:
            if request.form.get("confirm") == "yes":
                reopen_study(study, form.reason.data or "", actor=current_user)
            else:
                check_can_reopen_study(study.study_status, reason=form.reason.data or "")
                return render("cycle/reopen_confirm.html", study=study, form=form)
        except DomainError as error:
            form.reason.errors = [str(error)]
        else:
            flash(
                "The study is open again: its setup, panel, items and discussion can change. "
                "Complete it again when you are done.",
                "success",
            )
            return redirect(url_for("studies.show", slug=slug), 303)
    status = 422 if form.is_submitted() and not changing else 200
    return render(
        "cycle/reopen.html", study=study, form=form, errors=field_errors(form), status=status
    )


@bp.post("/rounds/<int:number>/remind")
@login_required
def remind(slug: str, number: int) -> Response:
    study = facilitated_study(slug)
    round_ = round_of(study, number)
    link = url_for("ballot.show", slug=slug, number=number, _external=True)
    try:
        outcome = send_reminders(round_, current_user, ballot_url=link)
    except DomainError as error:
        flash(str(error), "error")
    else:
        if outcome.sent or not outcome.not_sent:
            flash(f"Reminders sent to {outcome.sent} panellists.", "success")
        if outcome.turned_off:
            flash(
                f"{count(outcome.turned_off, 'panellist')} turned reminders off, so were not "
                "emailed. Copy the ballot link below if you want to contact them another way.",
                "info",
            )
        if outcome.not_sent:
            failures = outcome.failed or []
            first = failures[0] if failures else "mail failed"
            flash(
                f"Email failed, so {outcome.not_sent} panellist"
                f"{'' if outcome.not_sent == 1 else 's'} were not reminded ({first}"
                f"{f', and {len(failures) - 1} more failures' if len(failures) > 1 else ''}). "
                "Copy the ballot link below and send it to them yourself.",
                "error",
            )
    return redirect(url_for("cycle.responders", slug=slug, number=number), 303)


@bp.get("/rounds/<int:number>/responders")
@login_required
def responders(slug: str, number: int) -> Response:
    """Facilitators only: who has not finished the round, and when they were reminded."""
    study = facilitated_study(slug)
    round_ = round_of(study, number)
    return render(
        "cycle/responders.html",
        ballot_link=url_for("ballot.show", slug=slug, number=number, _external=True),
        study=study,
        round=round_,
        missing=non_responders(round_),
        reminders=last_reminders(round_),
    )


def _proposal_form(study: Study) -> ProposalForm:
    form = ProposalForm()
    form.item.choices = [("", "Choose an item")] + [
        (i.ref, f"{i.ref}: {i.current.text[:80]}") for i in study.items
    ]
    return form


@bp.route("/proposals", methods=["GET", "POST"])
@login_required
def proposals(slug: str) -> Response:
    member = membership(slug)
    study = member.study
    if member.is_facilitator and member.panellist is None:
        if request.method == "POST":
            abort(403, description="Panellists make proposals; facilitators answer them.")
        pending = db.session.scalar(
            select(func.count(Proposal.id)).where(
                Proposal.study_id == study.id,
                Proposal.status == "pending",
                Proposal.ideas_round.is_(False),
            )
        )
        return render(
            "cycle/proposals_review.html",
            study=study,
            proposals=proposals_for(study),
            pending=pending,
            decision_form=_decision_form(study),
        )
    panellist = member.panellist
    assert panellist is not None
    form = _proposal_form(study)
    asked = (request.args.get("item") or "").strip().upper()
    if not form.is_submitted() and asked in {i.ref for i in study.items}:
        # From an item's "suggest better wording" link: the rewording of that item.
        form.kind.data = "rewording"
        form.item.data = asked
    if form.validate_on_submit():
        item = item_of(study, form.item.data) if form.item.data else None
        try:
            propose(
                study,
                panellist,
                kind=form.kind.data or ItemKind.PROMPT.value,
                item=item,
                theme=form.theme.data or "",
                text=form.text.data or "",
                reason=form.reason.data or "",
            )
        except DomainError as error:
            form.text.errors = [str(error)]
        else:
            flash("Thank you. The facilitators will look at your proposal.", "success")
            return redirect(url_for("cycle.proposals", slug=slug), 303)
    status = 422 if form.is_submitted() else 200
    return render(
        "cycle/proposals.html",
        study=study,
        form=form,
        mine=proposals_for(study, panellist),
        open=proposals_accepted_now(study),
        errors=field_errors(form),
        status=status,
    )


def _decision_form(study: Study) -> ProposalDecisionForm:
    form = ProposalDecisionForm()
    form.merge_into.choices = [("", "Choose an item")] + [
        (i.ref, f"{i.ref}: {i.current.text[:80]}") for i in study.items
    ]
    return form


@bp.post("/proposals/<int:proposal_id>/decide")
@login_required
def decide_proposal(slug: str, proposal_id: int) -> Response:
    study = facilitated_study(slug)
    proposal = db.session.get(Proposal, proposal_id)
    # An idea of the ideas round is curated on its own page (`delphi.ideas`), never here.
    if proposal is None or proposal.study_id != study.id or proposal.ideas_round:
        abort(404)
    form = _decision_form(study)
    if form.validate_on_submit():
        merge = item_of(study, form.merge_into.data) if form.merge_into.data else None
        try:
            decide(
                proposal,
                form.outcome.data or "",
                form.response.data or "",
                current_user,
                merge_into=merge,
            )
        except DomainError as error:
            form.response.errors = [str(error)]
        else:
            flash("Proposal answered.", "success")
            return redirect(url_for("cycle.proposals", slug=slug), 303)
    return render(
        "cycle/proposals_review.html",
        study=study,
        proposals=proposals_for(study),
        pending=None,
        decision_form=form,
        failed_id=proposal_id,
        errors=field_errors(form),
        status=422,
    )
