"""The study across its closed rounds: consensus board, alpha trend, participation and
attrition (with the attrition-bias check), stability and each item's history
(facilitators); and each closed round's feedback page for its panellists, which never shows
who gave which rating."""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import facilitated_study, item_of, membership, round_of
from app.export.tables import attrition_line, attrition_table
from app.htmx import render
from app.inputs import parse_int
from app.services.overview import (
    feedback_for_round,
    feedback_parts,
    item_history,
    study_overview,
)
from app.services.proposals import proposals_accepted_now
from app.services.reasons import Reader, reason_counts
from app.services.reporting import ATTRITION_NOTE, attrition_checks
from app.services.results import snapshot_of
from app.services.spec_cache import cached_specification
from delphi import StudyStatus

bp = Blueprint("study_results", __name__, url_prefix="/studies/<slug>")


@bp.get("/results")
@login_required
def show(slug: str) -> Response:
    study = facilitated_study(slug)
    return render(
        "results/overview.html",
        study=study,
        overview=study_overview(study),
        attrition=attrition_checks(study),
        attrition_note=ATTRITION_NOTE,
        attrition_line=attrition_line,
        attrition_table=attrition_table,
    )


@bp.get("/results/items/<ref>")
@login_required
def item(slug: str, ref: str) -> Response:
    study = facilitated_study(slug)
    found = item_of(study, ref)
    return render(
        "results/item_history.html",
        study=study,
        item=found,
        history=item_history(study, found),
        scale=study.scale,
    )


@bp.get("/rounds/<int:number>/feedback")
@login_required
def feedback(slug: str, number: int) -> Response:
    member = membership(slug)
    study = member.study
    round_ = round_of(study, number)
    closed = round_.closed_at is not None and snapshot_of(round_) is not None
    following = next((r for r in study.rounds if r.number == number + 1), None)
    # A long round is one page per theme, as the ballot is (`overview.feedback_parts`).
    parts = feedback_parts(feedback_for_round(round_, member.panellist) if closed else [])
    asked = parse_int(request.args.get("part"))
    part = parts[asked - 1] if asked is not None and 1 <= asked <= len(parts) else None
    part = part or (parts[0] if parts else None)
    return render(
        "results/feedback.html",
        study=study,
        round=round_,
        panellist=member.panellist,
        is_facilitator=member.is_facilitator,
        closed=closed,
        parts=parts,
        part=part,
        entries=part.entries if part else [],
        reason_counts=(
            reason_counts(round_, Reader(int(current_user.id), member.is_facilitator))
            if closed
            else {}
        ),
        following=following,
        proposals_open=proposals_accepted_now(study)
        and member.panellist is not None
        and member.panellist.panel_role.can_rate,
        scale=study.scale,
    )


@bp.get("/specification")
@login_required
def specification(slug: str) -> Response:
    """The specification for the panel, without names: once the study is completed, when its
    facilitators chose to share it (the study's settings)."""
    from app.export.formats import HELPERS

    study = membership(slug).study
    if study.study_status is not StudyStatus.COMPLETED:
        abort(
            403,
            description="The specification is shared with the panel once the study is completed.",
        )
    if not study.share_specification:
        abort(403, description="The facilitators have not shared the specification with the panel.")
    return render(
        "export/specification.html",
        study=study,
        spec=cached_specification(study),
        in_app=False,
        **HELPERS,
    )
