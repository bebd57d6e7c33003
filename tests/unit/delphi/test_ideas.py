"""The ideas round's rules (`delphi.ideas`), alone."""

from __future__ import annotations

import pytest

from delphi import DomainError, InvalidTransition, PanelRole, StudyStatus
from delphi.errors import NotAllowedToRate, ReasonRequired
from delphi.ideas import (
    IdeaFact,
    IdeaOutcome,
    IdeasStatus,
    check_can_open_ideas,
    check_curation,
    check_may_contribute,
    check_round_one_may_open,
    reason_visible,
    summarise,
)

ACTIVE = StudyStatus.ACTIVE


def test_the_ideas_round_opens_only_before_rating_and_not_twice():
    check_can_open_ideas(study_status=StudyStatus.SETUP, ideas=IdeasStatus.NONE, rounds_opened=0)
    check_can_open_ideas(study_status=StudyStatus.SETUP, ideas=IdeasStatus.CLOSED, rounds_opened=0)
    with pytest.raises(InvalidTransition, match="already open"):
        check_can_open_ideas(
            study_status=StudyStatus.SETUP, ideas=IdeasStatus.OPEN, rounds_opened=0
        )
    with pytest.raises(InvalidTransition, match="before rating"):
        check_can_open_ideas(study_status=ACTIVE, ideas=IdeasStatus.CLOSED, rounds_opened=1)
    with pytest.raises(InvalidTransition, match="completed"):
        check_can_open_ideas(
            study_status=StudyStatus.COMPLETED, ideas=IdeasStatus.NONE, rounds_opened=0
        )


def test_round_one_waits_for_the_ideas_round_to_close():
    check_round_one_may_open(IdeasStatus.NONE)
    check_round_one_may_open(IdeasStatus.CLOSED)
    with pytest.raises(InvalidTransition, match="Close the ideas round"):
        check_round_one_may_open(IdeasStatus.OPEN)


@pytest.mark.parametrize(
    "ideas,role,error",
    [
        (IdeasStatus.OPEN, PanelRole.PARTNER, None),
        (IdeasStatus.OPEN, PanelRole.PATIENT_REP, None),
        (IdeasStatus.OPEN, PanelRole.OBSERVER, NotAllowedToRate),
        (IdeasStatus.OPEN, None, NotAllowedToRate),
        (IdeasStatus.CLOSED, PanelRole.PARTNER, InvalidTransition),
        (IdeasStatus.NONE, PanelRole.PARTNER, InvalidTransition),
    ],
)
def test_who_may_add_ideas_and_comments_and_when(ideas, role, error):
    if error is None:
        check_may_contribute(study_status=StudyStatus.SETUP, ideas=ideas, role=role)
    else:
        with pytest.raises(error):
            check_may_contribute(study_status=StudyStatus.SETUP, ideas=ideas, role=role)


def test_declining_needs_a_reason_and_only_pending_ideas_are_curated():
    check_curation(
        outcome=IdeaOutcome.ACCEPTED, pending=[True, True], reason="", study_status=ACTIVE
    )
    with pytest.raises(ReasonRequired):
        check_curation(
            outcome=IdeaOutcome.DECLINED, pending=[True], reason=" ", study_status=ACTIVE
        )
    with pytest.raises(InvalidTransition, match="already been answered"):
        check_curation(
            outcome=IdeaOutcome.MERGED, pending=[True, False], reason="", study_status=ACTIVE
        )
    with pytest.raises(DomainError, match="at least one"):
        check_curation(outcome=IdeaOutcome.MERGED, pending=[], reason="", study_status=ACTIVE)


def test_a_decline_reason_is_seen_by_its_author_and_the_facilitators_only():
    assert reason_visible(is_author=True, is_facilitator=False)
    assert reason_visible(is_author=False, is_facilitator=True)
    assert not reason_visible(is_author=False, is_facilitator=False)


def test_the_summary_counts_ideas_per_group_and_what_became_of_them():
    ideas = [
        IdeaFact("CQC", 1, IdeaOutcome.ACCEPTED, "P10"),
        IdeaFact("CQC", 1, IdeaOutcome.ACCEPTED, "P10"),
        IdeaFact("CQC", 2, IdeaOutcome.ACCEPTED, "P2"),
        IdeaFact("HRA", 3, IdeaOutcome.MERGED, "P1"),
        IdeaFact("HRA", 3, IdeaOutcome.DECLINED, None),
        IdeaFact("HRA", 4, IdeaOutcome.PENDING, None),
    ]
    found = summarise(questions=2, comments=5, groups=["CQC", "HRA", "NIHR"], ideas=ideas)
    assert (found.ideas, found.contributors, found.questions, found.comments) == (6, 4, 2, 5)
    assert found.by_group == (("CQC", 2, 3), ("HRA", 2, 3), ("NIHR", 0, 0))
    assert found.outcomes == {
        IdeaOutcome.PENDING: 1,
        IdeaOutcome.ACCEPTED: 3,
        IdeaOutcome.MERGED: 1,
        IdeaOutcome.DECLINED: 1,
    }
    assert found.items_made == ("P2", "P10")  # by number, not as text
    assert found.items_merged_into == ("P1",)
