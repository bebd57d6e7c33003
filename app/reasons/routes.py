"""Reading and reviewing the reasons given with a round's ratings.

`item` is one item's reasons for anyone in the study (what each may read is
`delphi.reasons`): the feedback, review and results pages load it into a collapsed section
when it is opened (htmx), and link to it as a page of its own without JavaScript. `review`
is the facilitators' page per round: each item's reasons to hide, and its summary of the
arguments (the discussion's pinned summary) to write.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.access import item_of, membership, round_of
from app.discussion.forms import SummaryForm
from app.extensions import db
from app.forms_common import field_errors
from app.htmx import is_htmx, render
from app.models import Item, ItemVersion, Rating, Round, RoundItem, Study
from app.reasons.forms import HideReasonForm
from app.services import discussion_writes
from app.services import reasons as svc
from app.services.discussion import Viewer
from app.services.results import round_items_loaded
from delphi import StudyStatus
from delphi.reasons import SortBy, Voices, by_band, sorted_reasons

bp = Blueprint("reasons", __name__, url_prefix="/studies/<slug>/rounds/<int:number>/reasons")


def _item_in_round(study: Study, round_: Round, ref: str) -> Item:
    """The item `ref`, if rated in the round; 404 otherwise."""
    return _rated_version(study, round_, ref).item


def _rated_version(study: Study, round_: Round, ref: str) -> ItemVersion:
    """The version of item `ref` rated in the round; 404 if it was not rated there."""
    item = item_of(study, ref)
    rated = db.session.scalar(
        select(ItemVersion)
        .join(RoundItem, RoundItem.item_version_id == ItemVersion.id)
        .where(RoundItem.round_id == round_.id, ItemVersion.item_id == item.id)
        .limit(1)
    )
    if rated is None:
        abort(404, description=f"{item.ref} was not rated in round {round_.number}.")
    return rated


def _facilitator(slug: str) -> Study:
    member = membership(slug)
    if not member.is_facilitator:
        abort(403, description="Only the study's facilitators can review the reasons.")
    return member.study


def _list_context(study: Study, round_: Round, item: Item, reader: svc.Reader) -> dict:
    voices = Voices.parse(request.args.get("voices"))
    sort = SortBy.parse(request.args.get("sort"))
    shown = svc.item_reasons(round_, item.id, reader)
    by_id = {s.reason.rating_id: s for s in shown}
    bands = by_band([s.reason for s in shown], study.scale, voices)
    ordered = (
        sorted_reasons(
            [s.reason for s in shown if voices is not Voices.PATIENTS or s.reason.is_patient],
            study.scale,
            sort,
            [g.name for g in study.groups],
        )
        if reader.is_facilitator
        else []
    )
    return {
        "study": study,
        "round": round_,
        "item": item,
        "reader": reader,
        "bands": [(b, [by_id[r.rating_id] for r in b.reasons]) for b in bands],
        "ordered": [by_id[r.rating_id] for r in ordered],
        "voices": voices,
        "sort": sort,
        "total": len(shown),
        "closed": svc.round_closed(round_),
        "can_change": reader.is_facilitator and study.study_status is not StudyStatus.COMPLETED,
        "scale": study.scale,
    }


@bp.get("/items/<ref>")
@login_required
def item(slug: str, number: int, ref: str) -> Response:
    member = membership(slug)
    study = member.study
    round_ = round_of(study, number)
    version = _rated_version(study, round_, ref)
    found = version.item
    reader = svc.Reader(int(current_user.id), member.is_facilitator)
    context = _list_context(study, round_, found, reader) | {"version": version}
    if is_htmx():
        return render("reasons/_list.html", **context)
    return render("reasons/item.html", **context)


@bp.get("")
@login_required
def review(slug: str, number: int) -> Response:
    study = _facilitator(slug)
    round_ = round_of(study, number)
    reader = svc.Reader(int(current_user.id), True)
    # The wording rated in this round, in the ballot's order of themes and items.
    versions = [
        ri.item_version
        for ri in sorted(
            round_items_loaded(round_),
            key=lambda ri: (ri.item_version.item.theme.position, ri.item_version.item.position),
        )
    ]
    summaries = svc.summaries(study)
    following = next((r for r in study.rounds if r.number == number + 1), None)
    return render(
        "reasons/review.html",
        study=study,
        round=round_,
        versions=versions,
        counts=svc.reason_counts(round_, reader),
        summaries=summaries,
        closed=svc.round_closed(round_),
        following=following,
        can_change=study.study_status is not StudyStatus.COMPLETED,
    )


@bp.post("/items/<ref>/summary")
@login_required
def summary(slug: str, number: int, ref: str) -> Response:
    """Write (or clear) the item's summary of the arguments: the discussion's pinned summary,
    so the feedback, the discussion and the specification show the same text."""
    study = _facilitator(slug)
    round_ = round_of(study, number)
    found = _item_in_round(study, round_, ref)
    form = SummaryForm()
    back = url_for("reasons.review", slug=slug, number=number) + f"#review-{found.id}"
    if not form.validate_on_submit():
        for _, message in field_errors(form):
            flash(message, "error")
        return redirect(back, 303)
    member = membership(slug)
    viewer = Viewer(int(current_user.id), member.panellist, True)
    discussion_writes.pin_summary(study, found, viewer, form.summary.data or "")
    text = (form.summary.data or "").strip()
    flash(f"Summary of {found.ref} {'saved' if text else 'removed'}.", "success")
    return redirect(back, 303)


def _rating(study: Study, number: int, rating_id: int) -> tuple[Round, Rating]:
    round_ = round_of(study, number)
    rating = svc.rating_in_round(round_, rating_id)
    if rating is None:
        abort(404, description="There is no such reason in this round.")
    return round_, rating


@bp.route("/ratings/<int:rating_id>/hide", methods=["GET", "POST"])
@login_required
def hide(slug: str, number: int, rating_id: int) -> Response:
    study = _facilitator(slug)
    round_, rating = _rating(study, number, rating_id)
    form = HideReasonForm()
    status = 200
    if form.validate_on_submit():
        svc.hide_reason(study, rating, form.reason.data or "", actor_id=int(current_user.id))
        flash("The reason is hidden from the panel. Its author sees why.", "success")
        return redirect(_back(study, round_), 303)
    if form.is_submitted():
        status = 422
    shown = next(
        (
            s
            for s in svc.item_reasons(
                round_, svc.item_id_of(rating), svc.Reader(int(current_user.id), True)
            )
            if s.reason.rating_id == rating.id
        ),
        None,
    )
    if shown is None:
        abort(404)
    return render(
        "reasons/hide.html",
        study=study,
        round=round_,
        shown=shown,
        form=form,
        errors=field_errors(form),
        back=_back(study, round_),
        scale=study.scale,
        status=status,
    )


@bp.post("/ratings/<int:rating_id>/show")
@login_required
def show_again(slug: str, number: int, rating_id: int) -> Response:
    study = _facilitator(slug)
    round_, rating = _rating(study, number, rating_id)
    if svc.show_reason(study, rating, actor_id=int(current_user.id)):
        flash("The reason is shown to the panel again.", "success")
    return redirect(_back(study, round_), 303)


def _back(study: Study, round_: Round) -> str:
    """Back to where the facilitator came from, if it is this round's review or results."""
    wanted = request.values.get("next", "")
    allowed = (
        url_for("reasons.review", slug=study.slug, number=round_.number),
        url_for("results.show", slug=study.slug, number=round_.number),
    )
    return wanted if wanted.partition("#")[0] in allowed else allowed[0]
