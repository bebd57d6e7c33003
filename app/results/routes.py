"""A closed round's results, and the facilitator's decision on each item."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import facilitated_study, round_of
from app.extensions import db
from app.htmx import render
from app.inputs import form_text, parse_int
from app.models import (
    Item,
    ItemDecision,
    ItemVersion,
    LiveSnapshot,
    Panellist,
    Rating,
    Round,
    StakeholderGroup,
    Study,
)
from app.services.realtime import freeze_snapshot, is_realtime, snapshots_of
from app.services.reasons import Reader, reason_counts
from app.services.results import compute_results, round_items_loaded, snapshot_of
from app.services.rounds import record_decisions
from app.web import london
from delphi import Decision, RoundStatus, StudyStatus

bp = Blueprint("results", __name__, url_prefix="/studies/<slug>/rounds/<int:number>")


def _page(
    study: Study,
    round_: Round,
    *,
    chosen: dict[int, tuple[str, str]] | None = None,
    problems: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> Response:
    """The results; after a refused decision form, with what was chosen and each problem
    beside its field (`problems`: (field id, message)) and in the error summary."""
    snapshot = snapshot_of(round_)
    live = snapshot is None and is_realtime(study) and round_.round_status is RoundStatus.OPEN
    if live:
        snapshot = compute_results(round_)
    decisions = {
        d.item_id: d
        for d in db.session.scalars(
            db.select(ItemDecision).where(ItemDecision.round_id == round_.id)
        )
    }
    versions = {ri.item_version_id: ri.item_version for ri in round_items_loaded(round_)}
    return render(
        "results/show.html",
        change_reasons=change_reasons(round_),
        study=study,
        round=round_,
        snapshot=snapshot,
        sections=by_theme(snapshot, versions),
        versions=versions,
        decisions=decisions,
        chosen=chosen or {},
        problems=dict(problems or []),
        errors=problems or [],
        # A later round has used its decisions, or the completed study's record is final.
        final=any(r.number > round_.number for r in study.rounds)
        or study.status == StudyStatus.COMPLETED,
        live=live,
        live_snapshots=snapshots_of(round_) if is_realtime(study) else [],
        reason_counts=reason_counts(round_, Reader(int(current_user.id), True)),
        status=status,
    )


def by_theme(
    snapshot: dict | None, versions: dict[int, ItemVersion]
) -> list[tuple[str, list[tuple[str, dict]]]]:
    """The snapshot's item rows grouped by theme, themes and items in the ballot's order:
    (theme name, [(version id key, row)])."""
    if not snapshot:
        return []
    sections: dict[int, tuple[str, list[tuple[tuple[int, int], str, dict]]]] = {}
    for key, row in snapshot["items"].items():
        version = versions.get(int(key))
        if version is None:  # not expected: a round's items do not change once it has run
            theme_id, name, order = 0, "Other items", (1 << 30, 0)
        else:
            theme = version.item.theme
            theme_id, name, order = theme.id, theme.name, (theme.position, version.item.position)
        sections.setdefault(theme_id, (name, []))[1].append((order, key, row))
    ordered = sorted(sections.values(), key=lambda section: min(r[0] for r in section[1]))
    return [
        (name, [(key, row) for _, key, row in sorted(rows, key=lambda r: r[0])])
        for name, rows in ordered
    ]


def change_reasons(round_: Round) -> dict[str, list[tuple[str, str]]]:
    """Per item ref: (stakeholder group, reason) for ratings that moved band since last round."""
    rows = db.session.execute(
        db.select(Item.ref, StakeholderGroup.name, Rating.change_reason)
        .join(ItemVersion, ItemVersion.id == Rating.item_version_id)
        .join(Item, Item.id == ItemVersion.item_id)
        .join(Panellist, Panellist.id == Rating.panellist_id)
        .join(StakeholderGroup, StakeholderGroup.id == Panellist.group_id)
        .where(Rating.round_id == round_.id, Rating.change_reason != "")
        .order_by(Item.position)
    ).all()
    out: dict[str, list[tuple[str, str]]] = {}
    for ref, group, reason in rows:
        out.setdefault(ref, []).append((group, reason))
    return out


@bp.get("/results")
@login_required
def show(slug: str, number: int) -> Response:
    study = facilitated_study(slug)
    return _page(study, round_of(study, number))


@bp.post("/freeze")
@login_required
def freeze(slug: str, number: int) -> Response:
    """Real-time Delphi: store the results as they stand now, with an optional label."""
    study = facilitated_study(slug)
    round_ = round_of(study, number)
    if not is_realtime(study):
        abort(409, description="Snapshots on demand are for real-time studies.")
    snapshot = freeze_snapshot(round_, current_user, form_text("label"))
    flash(f"Snapshot frozen at {london(snapshot.taken_at)}.", "success")
    return redirect(
        url_for("results.live_snapshot", slug=slug, number=number, snapshot_id=snapshot.id), 303
    )


@bp.get("/snapshots/<int:snapshot_id>")
@login_required
def live_snapshot(slug: str, number: int, snapshot_id: int) -> Response:
    study = facilitated_study(slug)
    round_ = round_of(study, number)
    snapshot = db.session.get(LiveSnapshot, snapshot_id)
    if snapshot is None or snapshot.round_id != round_.id:
        abort(404)
    versions = {ri.item_version_id: ri.item_version for ri in round_items_loaded(round_)}
    return render(
        "results/show.html",
        study=study,
        round=round_,
        snapshot=snapshot.results,
        sections=by_theme(snapshot.results, versions),
        versions=versions,
        decisions={},
        chosen={},
        problems={},
        final=True,
        live=False,
        frozen=snapshot,
        live_snapshots=snapshots_of(round_),
    )


@bp.post("/decisions")
@login_required
def decide(slug: str, number: int) -> Response:
    """Confirm the decision on each item. A refused form comes back (422) with every choice
    as it was sent, each problem beside its field and in the error summary."""
    study = facilitated_study(slug)
    round_ = round_of(study, number)
    choices: dict[int, tuple[Decision, str]] = {}
    chosen: dict[int, tuple[str, str]] = {}
    problems: list[tuple[str, str]] = []
    for key, value in request.form.items():
        if not key.startswith("decision-"):
            continue
        item_id = parse_int(key.removeprefix("decision-"))
        if item_id is None:
            continue
        reason = form_text(f"reason-{item_id}")[:2000]
        chosen[item_id] = (value, reason)
        try:
            choices[item_id] = (Decision(value), reason)
        except ValueError:
            problems.append(
                (f"decision-{item_id}", "Choose accept, exclude or carry forward for every item")
            )
    if not problems:
        problems = [
            (f"reason-{item_id}", message)
            for item_id, message in record_decisions(round_, choices, current_user)
        ]
    if problems:
        return _page(study, round_, chosen=chosen, problems=problems, status=422)
    flash(f"Decisions for round {number} saved.", "success")
    return redirect(url_for("results.show", slug=slug, number=number), 303)
