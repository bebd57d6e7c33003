"""Domain rules for changing what is stored: an answer saved from an older page, a round
reopened after it closed, and a decision that differs from the suggestion."""

from __future__ import annotations

import pytest

from delphi import (
    AnswerChangedElsewhere,
    Decision,
    InvalidTransition,
    RatingChoice,
    ReasonRequired,
    RoundState,
    RoundStatus,
    StudyStatus,
    check_can_complete,
    check_can_reopen,
    check_decision,
    check_not_overwriting,
)


def test_an_older_page_may_not_replace_a_newer_answer_and_is_told_what_it_is():
    with pytest.raises(AnswerChangedElsewhere, match="We kept the newer answer, 8"):
        check_not_overwriting(RatingChoice(3, False, ""), RatingChoice(8, False, ""))
    with pytest.raises(AnswerChangedElsewhere, match="newer answer, unable to rate"):
        check_not_overwriting(RatingChoice(3, False, ""), RatingChoice(None, True, ""))


def test_an_older_page_may_not_replace_a_newer_reason_either():
    with pytest.raises(AnswerChangedElsewhere):
        check_not_overwriting(RatingChoice(8, False, "old"), RatingChoice(8, False, "newer"))


def test_an_older_page_sending_the_newer_answer_itself_is_no_conflict():
    check_not_overwriting(RatingChoice(8, False, "why"), RatingChoice(8, False, "why"))


@pytest.mark.parametrize("chosen", list(Decision))
def test_following_the_suggestion_needs_no_reason(chosen):
    check_decision("P1", suggested=chosen, chosen=chosen, reason="")


def test_departing_from_the_suggestion_needs_a_reason_that_says_what_was_chosen():
    with pytest.raises(ReasonRequired) as refused:
        check_decision("P2", suggested=Decision.EXCLUDE, chosen=Decision.ACCEPT, reason="  ")
    assert str(refused.value) == "Give a reason for accepting P2: the suggestion was to exclude it"
    check_decision("P2", suggested=Decision.EXCLUDE, chosen=Decision.ACCEPT, reason="Panel split")


def reopen_check(rounds, number=1, study_status=StudyStatus.ACTIVE):
    check_can_reopen(study_status=study_status, rounds=rounds, number=number)


def test_a_closed_round_may_reopen_while_no_later_round_has_opened():
    reopen_check([RoundState(1, RoundStatus.CLOSED, 4)])
    reopen_check(
        [RoundState(1, RoundStatus.CLOSED, 4), RoundState(2, RoundStatus.CLOSED, 3)], number=2
    )


@pytest.mark.parametrize("later", [RoundStatus.OPEN, RoundStatus.CLOSED])
def test_a_round_whose_results_fed_a_later_round_cannot_reopen(later):
    rounds = [RoundState(1, RoundStatus.CLOSED, 4), RoundState(2, later, 3)]
    with pytest.raises(InvalidTransition, match="Round 2 has opened, so round 1 can no longer"):
        reopen_check(rounds)


def test_a_later_round_still_in_draft_does_not_stop_a_reopen():
    reopen_check([RoundState(1, RoundStatus.CLOSED, 4), RoundState(2, RoundStatus.DRAFT, 0)])


@pytest.mark.parametrize("status", [RoundStatus.OPEN, RoundStatus.DRAFT])
def test_only_a_closed_round_reopens(status):
    with pytest.raises(InvalidTransition, match="not closed"):
        reopen_check([RoundState(1, status, 4)])
    with pytest.raises(InvalidTransition, match="not closed"):
        reopen_check([], number=3)


def test_no_round_of_a_completed_study_reopens():
    with pytest.raises(InvalidTransition, match="completed"):
        reopen_check([RoundState(1, RoundStatus.CLOSED, 4)], study_status=StudyStatus.COMPLETED)


def complete_check(**overrides):
    args = {
        "study_status": StudyStatus.ACTIVE,
        "rounds": [RoundState(1, RoundStatus.CLOSED, 4)],
        "unconfirmed_decisions": 0,
    }
    check_can_complete(**(args | overrides))


def test_a_study_completes_once_its_rounds_are_closed_and_decided():
    complete_check()
    with pytest.raises(InvalidTransition, match="Close the open round"):
        complete_check(rounds=[RoundState(1, RoundStatus.OPEN, 4)])
    with pytest.raises(InvalidTransition, match=r"Confirm the decisions .* \(2 left\)"):
        complete_check(unconfirmed_decisions=2)
    with pytest.raises(InvalidTransition, match="already completed"):
        complete_check(study_status=StudyStatus.COMPLETED)
