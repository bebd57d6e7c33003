"""Domain rules for changing what is stored: an answer saved from an older page, a round
reopened after it closed, and a decision that differs from the suggestion."""

from __future__ import annotations

import pytest

from delphi import (
    AnswerChangedElsewhere,
    Decision,
    RatingChoice,
    ReasonRequired,
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
