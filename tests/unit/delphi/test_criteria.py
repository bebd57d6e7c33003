"""Several criteria per item: an item is in only when every criterion that applies is in."""

from __future__ import annotations

import pytest

from delphi import ConsensusStatus, ItemKind
from delphi.criteria import (
    CriteriaLocked,
    CriterionSpec,
    InvalidCriterion,
    applicable,
    check_criteria_editable,
    check_every_kind_asked,
    combine_statuses,
    format_kinds,
    parse_kinds,
    validate_criterion,
)

IN, OUT, NO, NOT_RATED = (
    ConsensusStatus.IN,
    ConsensusStatus.OUT,
    ConsensusStatus.NO_CONSENSUS,
    ConsensusStatus.NOT_RATED,
)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([IN], IN),
        ([OUT], OUT),
        ([NO], NO),
        ([NOT_RATED], NOT_RATED),
        ([IN, IN, IN], IN),
        # Important and valid, but it cannot be measured: it must not pass.
        ([IN, IN, OUT], OUT),
        ([IN, IN, NO], NO),
        ([IN, NO, OUT], OUT),
        ([IN, NOT_RATED], NO),
        ([NOT_RATED, NOT_RATED], NOT_RATED),
        ([NO, NOT_RATED], NO),
        ([], NOT_RATED),
    ],
)
def test_an_item_is_in_only_when_every_criterion_that_applies_is_in(statuses, expected):
    assert combine_statuses(statuses) is expected


def test_statuses_may_be_given_as_stored_strings():
    assert combine_statuses(["consensus_in", "consensus_in"]) is IN
    assert combine_statuses(["consensus_in", "no_consensus"]) is NO


def test_only_the_criteria_for_an_items_kind_apply():
    criteria = [
        CriterionSpec("Importance", "?", frozenset(ItemKind)),
        CriterionSpec("Validity", "?", frozenset({ItemKind.INDICATOR})),
        CriterionSpec("Feasibility", "?", frozenset({ItemKind.INDICATOR})),
    ]
    assert applicable(criteria, ItemKind.PROMPT) == [0]
    assert applicable(criteria, "indicator") == [0, 1, 2]


def test_kinds_are_stored_in_a_fixed_order_and_unknown_words_ignored():
    assert format_kinds([ItemKind.INDICATOR, ItemKind.PROMPT]) == "prompt,indicator"
    assert parse_kinds("indicator, nonsense") == frozenset({ItemKind.INDICATOR})


def test_a_criterion_needs_a_unique_name_a_question_and_a_kind():
    with pytest.raises(InvalidCriterion, match="name"):
        validate_criterion(" ", "Q?", ["prompt"], other_names=[])
    with pytest.raises(InvalidCriterion, match="already has"):
        validate_criterion("importance", "Q?", ["prompt"], other_names=["Importance"])
    with pytest.raises(InvalidCriterion, match="question"):
        validate_criterion("Validity", "", ["prompt"], other_names=[])
    with pytest.raises(InvalidCriterion, match="kinds"):
        validate_criterion("Validity", "Q?", [], other_names=[])
    spec = validate_criterion(" Validity ", " Q? ", ["indicator"], other_names=["Importance"])
    assert spec == CriterionSpec("Validity", "Q?", frozenset({ItemKind.INDICATOR}))


def test_criteria_are_fixed_once_round_one_has_opened():
    check_criteria_editable(False)
    with pytest.raises(CriteriaLocked, match="round 1 has opened"):
        check_criteria_editable(True)


def test_every_kind_of_item_must_be_asked_some_criterion():
    check_every_kind_asked([frozenset(ItemKind), frozenset({ItemKind.INDICATOR})])
    with pytest.raises(InvalidCriterion, match="prompts would have none"):
        check_every_kind_asked([frozenset({ItemKind.INDICATOR})])
