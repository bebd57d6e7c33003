"""The Delphi domain rules, without the web app."""

from __future__ import annotations

import pytest

from delphi import (
    ConsensusStatus,
    Decision,
    InvalidTransition,
    NotAllowedToRate,
    Outcome,
    PanelRole,
    RatingOutOfRange,
    RoundClosed,
    RoundNotOpen,
    RoundState,
    RoundStatus,
    Scale,
    StudyStatus,
    check_can_close,
    check_can_open,
    suggest_decision,
    validate_rating,
)
from delphi.pseudonyms import pseudonym

NINE = Scale(1, 9)


def rate(**overrides):
    args = {
        "round_status": RoundStatus.OPEN,
        "role": PanelRole.PARTNER,
        "scale": NINE,
        "score": 5,
        "unable": False,
        "reason": "",
    }
    return validate_rating(**(args | overrides))


def test_a_score_on_the_scale_is_accepted_with_its_reason_trimmed():
    choice = rate(score=9, reason="  matters  ")
    assert (choice.score, choice.unable, choice.reason) == (9, False, "matters")


def test_unable_to_rate_has_no_score():
    choice = rate(score=None, unable=True)
    assert (choice.score, choice.unable) == (None, True)


@pytest.mark.parametrize("score", [0, 10, -3, None])
def test_a_score_off_the_scale_is_refused_with_the_scale_in_the_message(score):
    with pytest.raises(RatingOutOfRange, match="Select a rating from 1 to 9"):
        rate(score=score)


def test_a_five_point_study_refuses_six():
    with pytest.raises(RatingOutOfRange, match="from 1 to 5"):
        rate(scale=Scale(1, 5), score=6)


def test_a_closed_round_refuses_ratings():
    with pytest.raises(RoundClosed, match="has closed"):
        rate(round_status=RoundStatus.CLOSED)


def test_a_draft_round_refuses_ratings():
    with pytest.raises(RoundNotOpen):
        rate(round_status=RoundStatus.DRAFT)


def test_observers_cannot_rate():
    with pytest.raises(NotAllowedToRate, match="Observers"):
        rate(role=PanelRole.OBSERVER)


def test_an_overlong_reason_is_refused():
    with pytest.raises(RatingOutOfRange, match="2000 characters"):
        rate(reason="x" * 2001)


@pytest.mark.parametrize(
    "scale,bands",
    [
        (Scale(1, 9), {1: "bottom", 3: "bottom", 4: "middle", 6: "middle", 7: "top", 9: "top"}),
        (Scale(1, 5), {1: "bottom", 2: "bottom", 3: "middle", 4: "top", 5: "top"}),
    ],
)
def test_scale_bands(scale, bands):
    assert {value: scale.band(value) for value in bands} == bands


def test_band_labels_name_the_ranges():
    assert Scale(1, 9).band_labels()["top"] == "7-9: critical, include"
    assert Scale(1, 5).band_labels()["middle"] == "3-3: uncertain"


def open_check(**overrides):
    args = {
        "study_status": StudyStatus.ACTIVE,
        "rounds": [],
        "number": 1,
        "max_rounds": 3,
        "undecided_items": 5,
    }
    check_can_open(**(args | overrides))


def test_round_one_may_open_when_there_are_items():
    open_check()


def test_only_one_round_is_open_at_a_time():
    with pytest.raises(InvalidTransition, match="Close the open round"):
        open_check(rounds=[RoundState(1, RoundStatus.OPEN, 5)], number=2)


def test_no_round_beyond_the_maximum():
    closed = [RoundState(n, RoundStatus.CLOSED, 5) for n in (1, 2, 3)]
    with pytest.raises(InvalidTransition, match="at most 3 rounds"):
        open_check(rounds=closed, number=4)


def test_a_completed_study_opens_no_round():
    with pytest.raises(InvalidTransition, match="completed"):
        open_check(study_status=StudyStatus.COMPLETED)


def test_no_round_without_items():
    with pytest.raises(InvalidTransition, match="no items left"):
        open_check(undecided_items=0)


def test_closing_needs_an_open_round():
    check_can_close(RoundStatus.OPEN)
    with pytest.raises(InvalidTransition, match="already closed"):
        check_can_close(RoundStatus.CLOSED)
    with pytest.raises(InvalidTransition, match="not been opened"):
        check_can_close(RoundStatus.DRAFT)


@pytest.mark.parametrize(
    "status,decision",
    [
        ("consensus_in", Decision.ACCEPT),
        ("consensus_out", Decision.EXCLUDE),
        ("no_consensus", Decision.CARRY_FORWARD),
        ("not_rated", Decision.CARRY_FORWARD),
    ],
)
def test_suggested_decision_follows_the_consensus_status(status, decision):
    assert suggest_decision(status) is decision


def test_pseudonyms_reveal_only_role_and_group():
    assert pseudonym(PanelRole.PATIENT_REP, "Patient representatives", 3) == (
        "Patient representative 3"
    )
    assert pseudonym(PanelRole.PARTNER, "CQC", 2) == "CQC partner 2"
    assert pseudonym(PanelRole.OBSERVER, "HRA", 1) == "Observer 1"


def test_an_item_outcome_follows_its_final_decision():
    assert Outcome.of("accept") is Outcome.AGREED
    assert Outcome.of("exclude") is Outcome.EXCLUDED
    assert Outcome.of(None) is Outcome.NO_CONSENSUS
    assert Outcome.AGREED.label == "Agreed (consensus in)"


def test_stored_figures_without_a_status_were_not_rated():
    assert ConsensusStatus.of(None) is ConsensusStatus.NOT_RATED
    assert ConsensusStatus.of("consensus_in").label == "Consensus in"
    assert suggest_decision(ConsensusStatus.OUT) is Decision.EXCLUDE


def test_each_band_is_named_by_its_range_and_words():
    top = Scale(1, 9).top_band
    assert (top.range, top.word, top.description) == ("7-9", "include", "critical, include")
    assert Scale(1, 9).named(Scale(1, 9).band(5)).label == "4-6: uncertain"
