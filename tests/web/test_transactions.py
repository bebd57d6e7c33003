"""One service call, one transaction; views and commands never commit (docs/architecture.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, StakeholderGroup
from app.services.studies import DuplicateGroup, create_group
from app.services.transaction import unit_of_work
from tests.conftest import Panel

APP = Path(__file__).resolve().parents[2] / "app"
# The unit of work commits and rolls back; the error handlers roll back what a failed
# request left in the session.
ALLOWED = {"services/transaction.py": {"commit", "rollback"}, "errors.py": {"rollback"}}
CALL = re.compile(r"\.(commit|rollback)\(\)")


def test_only_the_unit_of_work_commits():
    found = []
    for path in sorted(APP.rglob("*.py")):
        name = path.relative_to(APP).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for call in CALL.findall(line):
                if call not in ALLOWED.get(name, set()):
                    found.append(f"app/{name}:{number}: {line.strip()}")
    assert found == []


def _groups(panel: Panel) -> int:
    return db.session.scalar(
        select(func.count(StakeholderGroup.id)).where(StakeholderGroup.study_id == panel.study.id)
    )


def test_a_service_that_fails_leaves_nothing_behind(panel: Panel):
    before = _groups(panel)
    with pytest.raises(DuplicateGroup, match="There is already a group called CQC"):
        create_group(panel.study, "CQC", panel.facilitator)
    assert _groups(panel) == before
    assert (
        db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "group.added")) is None
    )


def test_a_service_called_inside_another_unit_joins_it(panel: Panel):
    with pytest.raises(RuntimeError), unit_of_work():
        create_group(panel.study, "MHRA", panel.facilitator)
        raise RuntimeError("the outer unit fails after the inner call returned")
    assert _groups(panel) == 2  # the inner call's group went with the outer unit


def test_a_service_commits_what_it_wrote(panel: Panel):
    create_group(panel.study, "MHRA", panel.facilitator)
    db.session.rollback()
    assert _groups(panel) == 3
    assert db.session.scalar(
        select(AuditEvent.user_id).where(AuditEvent.action == "group.added")
    ) == (panel.facilitator.id)
