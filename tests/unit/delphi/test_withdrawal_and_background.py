"""Withdrawal and background questions: the rules in `delphi`, alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from delphi import InvalidTransition, ReasonRequired, StudyStatus
from delphi.background import PREFER_NOT, PRESETS, check_answer, parse_options, summarise
from delphi.withdrawal import (
    AnswersChoice,
    Withdrawn,
    check_can_withdraw,
    check_not_withdrawn,
    on_panel_for_round,
    parse_choice,
    withdrew_during_round,
)

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
DAY = timedelta(days=1)


def test_a_withdrawal_needs_a_choice_about_the_answers():
    assert parse_choice("keep") is AnswersChoice.KEEP
    assert parse_choice("remove") is AnswersChoice.REMOVE
    for bad in (None, "", "both"):
        with pytest.raises(ReasonRequired):
            parse_choice(bad)


def test_one_withdraws_once_after_joining_and_never_from_a_completed_study():
    check_can_withdraw(StudyStatus.ACTIVE, withdrawn_at=None, joined=True)
    with pytest.raises(InvalidTransition, match="already withdrawn"):
        check_can_withdraw(StudyStatus.ACTIVE, withdrawn_at=T0, joined=True)
    with pytest.raises(InvalidTransition, match="not joined"):
        check_can_withdraw(StudyStatus.ACTIVE, withdrawn_at=None, joined=False)
    with pytest.raises(InvalidTransition):
        check_can_withdraw(StudyStatus.COMPLETED, withdrawn_at=None, joined=True)
    check_not_withdrawn(None)
    with pytest.raises(Withdrawn):
        check_not_withdrawn(T0)
    assert Withdrawn.status_code == 403


def test_the_round_a_withdrawal_falls_in_counts_it_and_later_rounds_leave_it_out():
    opened, closed = T0, T0 + 7 * DAY
    # Withdrew during round: on its panel, counted as withdrawing.
    during = T0 + DAY
    assert on_panel_for_round(T0 - DAY, during, opened)
    assert withdrew_during_round(during, opened, closed)
    # Withdrew before the round opened: not on its panel, not counted in it.
    later_open = closed + DAY
    assert not on_panel_for_round(T0 - DAY, during, later_open)
    assert not withdrew_during_round(during, later_open, None)
    # Withdrew after the round closed: on it, not withdrawing in it.
    assert on_panel_for_round(T0 - DAY, closed + DAY, opened)
    assert not withdrew_during_round(closed + DAY, opened, closed)
    # An open round counts a withdrawal made since it opened.
    assert withdrew_during_round(during, opened, None)
    assert not on_panel_for_round(None, None, opened)


def test_options_are_at_least_two_distinct_lines_and_prefer_not_to_say_is_implied():
    assert parse_options(" Trust \n\nICB\nPrefer not to say\n") == ["Trust", "ICB"]
    with pytest.raises(ReasonRequired, match="at least two"):
        parse_options("One")
    with pytest.raises(ReasonRequired, match="twice"):
        parse_options("Trust\ntrust")
    with pytest.raises(ReasonRequired, match="200 characters"):
        parse_options("A\n" + "x" * 201)
    assert check_answer(["A", "B"], "A") == "A"
    assert check_answer(["A", "B"], PREFER_NOT) == ""
    with pytest.raises(ReasonRequired):
        check_answer(["A", "B"], "C")
    assert {p.key for p in PRESETS} == {
        "role",
        "organisation",
        "region",
        "experience",
        "lived_experience",
    }


def test_counts_per_group_are_shown_only_from_three_answers_and_never_by_subtraction():
    answers = [("A", "x"), ("A", "y"), ("A", ""), ("B", "x"), ("B", "x"), ("C", "y")]
    summary = summarise("Q?", ["x", "y"], ["A", "B", "C"], answers)
    a, b, c = summary.groups
    assert a.counts == {"x": 1, "y": 1, PREFER_NOT: 1} and a.answered == 3
    assert b.withheld and b.counts is None and c.withheld
    # B and C together hold three answers: shown together, and the panel may be shown.
    assert summary.combined is not None
    assert summary.combined.counts == {"x": 2, "y": 1, PREFER_NOT: 0}
    assert summary.panel == {"x": 3, "y": 2, PREFER_NOT: 1} and summary.answered == 6
    # Only C withheld with one answer: the panel minus A and B would give it away.
    more = [*answers, ("B", "y")]
    summary = summarise("Q?", ["x", "y"], ["A", "B", "C"], more)
    assert summary.groups[1].counts == {"x": 2, "y": 1, PREFER_NOT: 0}
    assert summary.groups[2].withheld
    assert summary.panel is None and summary.combined is None and summary.answered is None
    # Every group large enough: the panel is the sum of the groups.
    summary = summarise("Q?", ["x", "y"], ["A"], answers[:3])
    assert summary.panel == {"x": 1, "y": 1, PREFER_NOT: 1}
