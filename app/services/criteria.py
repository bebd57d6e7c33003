"""A study's criteria (`delphi.criteria`): set by facilitators before round 1 opens."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete

from app.extensions import db
from app.models import Criterion, Rating, Study, User
from app.services import audit
from app.services.transaction import transactional
from delphi import ItemKind, check_record_open
from delphi.criteria import (
    check_can_remove,
    check_criteria_editable,
    check_every_kind_asked,
    format_kinds,
    validate_criterion,
)


def criteria_editable(study: Study) -> bool:
    """Whether the setup page offers changes: before round 1 opens, in a study not completed."""
    return not first_round_opened(study) and study.status != "completed"


def first_round_opened(study: Study) -> bool:
    return any(r.opened_at is not None for r in study.rounds)


def criteria_for(study: Study, kind: ItemKind | str) -> list[Criterion]:
    """The study's criteria asked of an item of `kind`, in order."""
    return [c for c in study.criteria if c.applies(kind)]


def _check_editable(study: Study, action: str) -> None:
    check_record_open(study.study_status, action=action)
    check_criteria_editable(first_round_opened(study))


@transactional
def add_criterion(
    study: Study, name: str, question: str, kinds: Iterable[ItemKind | str], *, actor: User
) -> Criterion:
    _check_editable(study, "adding a criterion")
    spec = validate_criterion(name, question, kinds, other_names=[c.name for c in study.criteria])
    criterion = Criterion(
        study_id=study.id,
        name=spec.name,
        question=spec.question,
        position=max((c.position for c in study.criteria), default=-1) + 1,
        applies_to=format_kinds(spec.applies_to),
    )
    db.session.add(criterion)
    db.session.flush()
    db.session.expire(study, ["criteria"])
    audit.record(
        study.id, "criterion.added", by=actor.id, name=spec.name, applies_to=criterion.applies_to
    )
    return criterion


@transactional
def change_criterion(
    study: Study,
    criterion: Criterion,
    name: str,
    question: str,
    kinds: Iterable[ItemKind | str],
    *,
    actor: User,
) -> None:
    _check_editable(study, "changing a criterion")
    spec = validate_criterion(
        name, question, kinds, other_names=[c.name for c in study.criteria if c.id != criterion.id]
    )
    check_every_kind_asked(
        [c.kinds for c in study.criteria if c.id != criterion.id] + [spec.applies_to]
    )
    old = criterion.name
    criterion.name, criterion.question = spec.name, spec.question
    criterion.applies_to = format_kinds(spec.applies_to)
    audit.record(
        study.id,
        "criterion.changed",
        by=actor.id,
        old=old,
        name=spec.name,
        applies_to=criterion.applies_to,
    )


@transactional
def remove_criterion(study: Study, criterion: Criterion, *, actor: User) -> None:
    _check_editable(study, "removing a criterion")
    check_can_remove(len(study.criteria) - 1)
    check_every_kind_asked([c.kinds for c in study.criteria if c.id != criterion.id])
    name = criterion.name
    # Before round 1 there are no ratings; the delete is explicit all the same.
    db.session.execute(delete(Rating).where(Rating.criterion_id == criterion.id))
    db.session.execute(delete(Criterion).where(Criterion.id == criterion.id))
    db.session.expire(study, ["criteria"])
    for position, each in enumerate(study.criteria):
        each.position = position
    audit.record(study.id, "criterion.removed", by=actor.id, name=name)
