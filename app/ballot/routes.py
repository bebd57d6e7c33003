"""The ballot: a panellist rates every item of the open round, autosaved or in one submit."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from app.access import membership, membership_in_round, round_of
from app.extensions import db
from app.htmx import is_htmx, render
from app.inputs import form_text, parse_int
from app.models import Criterion, ItemVersion, Panellist, Round
from app.services.ballot import (
    BallotPart,
    ballot_parts,
    build_ballot,
    moved_band,
    previous_rating_for,
)
from app.services.consent import must_consent
from app.services.cycle import is_invited
from app.services.indicator_testing import summaries_shown_to_panel
from app.services.proposals import proposals_accepted_now
from app.services.ratings import (
    answered_count,
    expected_answers,
    parse_answer,
    progress,
    save_rating,
    stored_answer,
    version_of,
)
from app.services.realtime import is_realtime, live_feedback
from delphi import (
    AnswerChangedElsewhere,
    ConsentNeeded,
    DomainError,
    NotAllowedToRate,
    RoundStatus,
)
from delphi.withdrawal import check_not_withdrawn

bp = Blueprint("ballot", __name__, url_prefix="/studies/<slug>/rounds/<int:number>")


def _panellist_and_round(slug: str, number: int) -> tuple[Panellist | None, Round, bool]:
    member = membership(slug)
    round_ = round_of(member.study, number)
    return member.panellist, round_, member.is_facilitator


def _check_invited(round_: Round, panellist: Panellist) -> None:
    check_not_withdrawn(panellist.withdrawn_at)
    if panellist.panel_role.can_rate and not is_invited(round_, panellist):
        raise NotAllowedToRate(
            f"Round {round_.number} is for panellists who rated every item of round "
            f"{round_.number - 1}, as the facilitators decided before it opened."
        )


def _page(
    round_: Round,
    panellist: Panellist | None,
    *,
    errors: dict[int, str] | None = None,
    status: int = 200,
    note: str = "",
    unsaved: dict[int, str] | None = None,
) -> Response:
    needs_only = request.args.get("show") == "needs-rating"
    parts = ballot_parts(build_ballot(round_, panellist, needs_rating_only=needs_only))
    part = _chosen_part(parts, errors or {}, panellist is not None)
    total = expected_answers(round_.id)
    invited = panellist is not None and is_invited(round_, panellist)
    consent_needed = must_consent(panellist) if panellist is not None else None
    can_rate = (
        panellist is not None
        and panellist.panel_role.can_rate
        and invited
        and not consent_needed
        and round_.round_status is RoundStatus.OPEN
    )
    refs = {ri.item_version_id: ri.item_version.item.ref for ri in round_.round_items}
    return render(
        "ballot/ballot.html",
        study=round_.study,
        round=round_,
        panellist=panellist,
        sections=part.sections,
        parts=parts,
        part=part,
        total=total,
        answered=answered_count(round_, panellist) if panellist else 0,
        can_rate=can_rate,
        invited=invited,
        consent_needed=consent_needed,
        needs_only=needs_only,
        item_errors=errors or {},
        errors=[
            (f"item-{vid}", f"{refs.get(vid, '')}: {msg}") for vid, msg in (errors or {}).items()
        ],
        scale=round_.study.scale,
        moved_band=moved_band,
        version_of=version_of,
        note=note,
        unsaved=unsaved or {},
        live=_live_for_page(round_, panellist),
        proposals_open=proposals_accepted_now(round_.study)
        and panellist is not None
        and panellist.panel_role.can_rate,
        testing=summaries_shown_to_panel(round_.study),
        status=status,
    )


def _chosen_part(parts: list[BallotPart], errors: dict[int, str], rater: bool) -> BallotPart:
    """The page of a long ballot to show: the one asked for (`part=`, in the query or the
    submitted form), else the one holding the first error, else a panellist's first page with
    an item still to rate."""
    if errors:
        first = next(iter(errors))
        return next((p for p in parts if p.holds(first)), parts[0])
    asked = parse_int(request.values.get("part"))
    if asked is not None and 1 <= asked <= len(parts):
        return parts[asked - 1]
    if rater:
        return next((p for p in parts if p.rated < p.count), parts[0])
    return parts[0]


def _live_for_page(round_: Round, panellist: Panellist | None) -> dict | None:
    """Real-time studies show the panel's view of each item the panellist has rated."""
    if not is_realtime(round_.study):
        return None
    return live_feedback(round_, [ri.item_version_id for ri in round_.round_items])


@bp.get("/ballot")
@login_required
def show(slug: str, number: int) -> Response:
    panellist, round_, facilitator = _panellist_and_round(slug, number)
    if panellist is None and not facilitator:
        abort(403)
    return _page(round_, panellist)


@bp.post("/ballot")
@login_required
def submit(slug: str, number: int) -> Response:
    """The no-JavaScript path: every answered item in one submit, each saved on its own.

    An answer saved since the page was loaded (in another tab) is kept, not set back: the
    page comes back (409) showing it, and every other answer of the submit is saved."""
    panellist, round_, _ = _panellist_and_round(slug, number)
    if panellist is None:
        abort(403, description="Only panellists can rate items.")
    if must_consent(panellist):
        # Nothing of the submit is saved: the page says why and links to the consent page.
        return _page(round_, panellist, status=403)
    errors: dict[int, str] = {}
    conflicts = 0
    # Reasons typed for answers kept as they were newer: shown, so nothing typed is lost.
    unsaved: dict[int, str] = {}
    criteria = round_.study.criteria
    stop = False
    for round_item in round_.round_items:
        vid = round_item.item_version_id
        asked = [c for c in criteria if c.applies(round_item.item_version.item_kind)]
        for n, criterion in enumerate(asked):
            # The first criterion's fields have the plain names and carry the reason.
            sfx = "" if n == 0 else f"-c{criterion.id}"
            raw = request.form.get(f"score-{vid}{sfx}")
            reason = form_text(f"reason-{vid}") if n == 0 else ""
            if raw is None and not reason.strip():
                continue
            score, unable = parse_answer(raw)
            try:
                _check_invited(round_, panellist)
                save_rating(
                    round_,
                    panellist,
                    vid,
                    score,
                    unable,
                    reason,
                    form_text(f"change-{vid}") if n == 0 else "",
                    seen=request.form.get(f"seen-{vid}{sfx}"),
                    criterion_id=criterion.id,
                )
            except DomainError as error:
                message = str(error) if len(asked) == 1 else f"{criterion.name}: {error}"
                errors.setdefault(vid, message)
                if isinstance(error, AnswerChangedElsewhere):
                    conflicts += 1
                    if n == 0:
                        unsaved[vid] = reason.strip()
                if round_.round_status is RoundStatus.CLOSED or isinstance(error, NotAllowedToRate):
                    stop = True
                    break
        if stop:
            break
    if errors and conflicts >= len(errors):
        return _page(
            round_,
            panellist,
            errors=errors,
            status=409,
            note="Your other answers are saved.",
            unsaved=unsaved,
        )
    if errors:
        return _page(round_, panellist, errors=errors, status=422, unsaved=unsaved)
    total = expected_answers(round_.id)
    flash(
        f"Your answers are saved: {answered_count(round_, panellist)} of {total} rated.",
        "success",
    )
    part = parse_int(request.form.get("go")) or parse_int(request.form.get("part"))
    return redirect(url_for("ballot.show", slug=slug, number=number, part=part), 303)


@bp.post("/items/<int:version_id>/rating")
@login_required
def autosave(slug: str, number: int, version_id: int) -> Response:
    """One answer, saved as soon as it is chosen; answers the item's status and the progress."""
    member, round_, _items = membership_in_round(slug, number)
    panellist = member.panellist
    if panellist is None:
        abort(403, description="Only panellists can rate items.")
    # Which criterion the row that changed answers (None: the item's first). The first keeps
    # the plain field names and the reason; the others' fields end in "-c<id>".
    criterion_id = parse_int(request.form.get("criterion"))
    sfx = f"-c{criterion_id}" if f"score-{version_id}-c{criterion_id}" in request.form else ""
    first = sfx == ""
    raw = request.form.get(f"score-{version_id}{sfx}")
    reason = form_text(f"reason-{version_id}") if first else ""
    score, unable = parse_answer(raw)
    status, message, current, newer = 200, "Saved", None, None
    consent = False
    if raw is None and reason.strip():
        status, message = 200, "Choose a rating to save your reason"
    else:
        try:
            _check_invited(round_, panellist)
            current = save_rating(
                round_,
                panellist,
                version_id,
                score,
                unable,
                reason,
                form_text(f"change-{version_id}") if first else "",
                seen=request.form.get(f"seen-{version_id}{sfx}"),
                criterion_id=criterion_id,
            )
        except AnswerChangedElsewhere as error:
            # Sent from a page older than the stored answer: the page is shown that answer
            # (and its version), so that what is chosen there next is saved.
            status, message = error.status_code, str(error)
            newer = stored_answer(round_, panellist, version_id, criterion_id)
        except DomainError as error:
            status, message = error.status_code, str(error)
            consent = isinstance(error, ConsentNeeded)
    saved = current is not None
    if not is_htmx():
        if saved:
            return redirect(url_for("ballot.show", slug=slug, number=number), 303)
        if consent:
            return _page(round_, panellist, status=status)
        return _page(round_, panellist, errors={version_id: message}, status=status)
    moved = None
    shown = current or newer
    if shown is not None and first:
        previous = previous_rating_for(round_, panellist, version_id, shown.criterion_id)
        moved = moved_band(round_.study.scale, previous, shown)
    criterion = None
    if newer is not None:
        criterion = db.session.get(Criterion, newer.criterion_id)
    live = None
    if saved and is_realtime(round_.study):
        live = live_feedback(round_, [version_id])[version_id]
    answered, total = progress(round_, panellist)
    return render(
        "ballot/_status.html",
        newer=newer,
        version=db.session.get(ItemVersion, version_id) if newer is not None else None,
        criterion=criterion,
        several=sfx != "" or (criterion is not None and len(round_.study.criteria) > 1),
        first=first,
        sfx=sfx,
        version_of=version_of,
        unsaved=reason.strip() if newer is not None else "",
        live=live,
        scale=round_.study.scale,
        version_id=version_id,
        message=message,
        consent_url=url_for("consent.agree", slug=slug) if consent else None,
        saved=saved,
        moved=moved,
        current=current,
        answered=answered,
        total=total,
        status=status,
    )
