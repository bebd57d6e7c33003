"""Real-time Delphi: one continuous round, live group feedback, snapshots frozen on demand."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import LiveSnapshot, Round, Study, User
from app.services import audit
from app.services.results import compute_results, ratings_frame, scoring_rule, unrated_figures
from app.services.transaction import transactional
from delphi import InvalidTransition, RoundStatus, StudyMode, check_record_open, disclose_group
from scoring import Scale, group_summary, item_figures, item_summary


def is_realtime(study: Study) -> bool:
    return study.mode == StudyMode.REALTIME


def live_feedback(round_: Round, version_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The panel's view so far of each item, in the snapshot's item shape (no names; group
    figures disclosed by `delphi.disclosure`)."""
    study = round_.study
    frame = ratings_frame(round_)
    frame = frame[frame["item"].isin(version_ids)]
    if frame.empty:
        return {vid: unrated_figures(study) | {"groups": {}} for vid in version_ids}
    scale = Scale(low=study.scale_min, high=study.scale_max)
    rule = scoring_rule(study)
    items = item_summary(frame, scale, rule, require_all_groups=study.require_all_groups)
    groups = group_summary(frame, scale, rule)
    out: dict[int, dict[str, Any]] = {}
    for vid in version_ids:
        figures = item_figures(items.loc[vid]) if vid in items.index else unrated_figures(study)
        figures["groups"] = {
            g.name: disclose_group(item_figures(groups.loc[(g.name, vid)]))
            for g in study.groups
            if (g.name, vid) in groups.index
        }
        out[vid] = figures
    return out


@transactional
def freeze_snapshot(round_: Round, user: User, label: str = "") -> LiveSnapshot:
    check_record_open(round_.study.study_status, action="freezing a snapshot")
    if round_.round_status is not RoundStatus.OPEN:
        raise InvalidTransition("Snapshots are taken while the real-time round is open.")
    snapshot = LiveSnapshot(
        round_id=round_.id,
        label=label.strip()[:200],
        taken_by_id=user.id,
        payload=compute_results(round_),
    )
    db.session.add(snapshot)
    audit.record(
        round_.study_id, "round.snapshot_frozen", by=user.id, round=round_.number, label=label
    )
    return snapshot


def snapshots_of(round_: Round) -> list[LiveSnapshot]:
    return list(
        db.session.scalars(
            select(LiveSnapshot)
            .where(LiveSnapshot.round_id == round_.id)
            .order_by(LiveSnapshot.taken_at.desc())
        )
    )
