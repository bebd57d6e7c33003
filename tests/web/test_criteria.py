"""Rating criteria: facilitators set them before round 1; each rating judges one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Criterion, Study
from app.services.rounds import open_round
from delphi import StudyStatus
from tests.conftest import Panel, sign_in
from tests.web.helpers import error_summary, get_page, post_form, text_of

S = "/studies/test-study"


def _criteria() -> list[tuple[str, str, str]]:
    return [
        (c.name, c.question, c.applies_to)
        for c in db.session.scalars(
            select(Criterion)
            .join(Study)
            .where(Study.slug == "test-study")
            .order_by(Criterion.position)
        )
    ]


@pytest.fixture
def facilitator(client, panel: Panel):
    sign_in(client, panel.facilitator)
    return client


def test_every_study_starts_with_one_criterion_importance_for_every_kind(panel):
    assert _criteria() == [("Importance", "How important is this item?", "prompt,indicator")]


def test_a_facilitator_adds_changes_and_removes_criteria_before_round_1(facilitator, panel):
    shown = text_of(get_page(facilitator, f"{S}/criteria"))
    assert "Importance" in shown and "Add a criterion" in shown
    post_form(
        facilitator,
        f"{S}/criteria",
        data={
            "name": "Feasibility",
            "question": "Can trusts and CQC collect it reliably from existing data?",
            "kinds": ["indicator"],
        },
    )
    assert _criteria()[1] == (
        "Feasibility",
        "Can trusts and CQC collect it reliably from existing data?",
        "indicator",
    )
    feasibility = db.session.scalar(select(Criterion).where(Criterion.name == "Feasibility"))
    post_form(
        facilitator,
        f"{S}/criteria/{feasibility.id}",
        data={
            "name": "Feasibility",
            "question": "Can it be collected?",
            "kinds": ["prompt", "indicator"],
        },
    )
    assert _criteria()[1] == ("Feasibility", "Can it be collected?", "prompt,indicator")
    post_form(facilitator, f"{S}/criteria/{feasibility.id}/remove")
    assert [c[0] for c in _criteria()] == ["Importance"]
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-3:] == ["criterion.added", "criterion.changed", "criterion.removed"]


def test_a_criterion_needs_a_name_a_question_and_a_kind_and_a_new_name(facilitator, panel):
    missing = post_form(facilitator, f"{S}/criteria", data={"name": "", "question": ""}, status=422)
    assert error_summary(missing) == [
        "Enter the criterion's name",
        "Enter the question panellists answer",
        "Select the kinds of item this criterion applies to",
    ]
    twice = post_form(
        facilitator,
        f"{S}/criteria",
        data={"name": "importance", "question": "Again?", "kinds": ["prompt"]},
        status=422,
    )
    assert error_summary(twice) == ["The study already has a criterion named 'importance'."]
    unknown = post_form(
        facilitator,
        f"{S}/criteria",
        data={"name": "Validity", "question": "Valid?", "kinds": ["banana"]},
        status=422,
    )
    assert error_summary(unknown) == ["Select prompts, indicators or both"]
    assert len(_criteria()) == 1


def test_the_last_criterion_cannot_be_removed(facilitator, panel):
    only = db.session.scalar(select(Criterion.id))
    response = post_form(facilitator, f"{S}/criteria/{only}/remove", status=422)
    assert error_summary(response) == ["A study needs at least one criterion."]


def test_criteria_are_fixed_once_round_1_opens(facilitator, panel):
    open_round(panel.study, actor=panel.facilitator)
    shown = text_of(get_page(facilitator, f"{S}/criteria"))
    assert "can no longer change" in shown and "Add a criterion" not in shown
    refused = post_form(
        facilitator,
        f"{S}/criteria",
        data={"name": "Validity", "question": "Valid?", "kinds": ["indicator"]},
        status=409,
    )
    assert "round 1 has opened" in " ".join(error_summary(refused))
    assert len(_criteria()) == 1


def test_a_completed_studys_criteria_are_read_only(facilitator, panel):
    panel.study.status = StudyStatus.COMPLETED.value
    db.session.commit()
    assert "completed" in text_of(get_page(facilitator, f"{S}/criteria"))
    refused = post_form(
        facilitator,
        f"{S}/criteria",
        data={"name": "Validity", "question": "Valid?", "kinds": ["indicator"]},
        status=409,
    )
    assert "completed" in " ".join(error_summary(refused))
