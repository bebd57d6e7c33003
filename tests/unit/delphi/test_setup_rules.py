"""What setup may change before round 1 and after, and the item rules both ways in share."""

from __future__ import annotations

import pytest

from delphi import InvalidTransition, ItemKind, StudyStatus
from delphi.items import Candidate, duplicate_problems, missing_fields, wording_key
from delphi.setup import (
    check_can_change_panellist,
    check_can_delete_group,
    check_can_delete_item,
    check_can_rename_group,
    check_can_reorder,
)

ACTIVE = StudyStatus.ACTIVE
DONE = StudyStatus.COMPLETED


def test_an_indicator_needs_a_definition_and_a_prompt_does_not():
    fields = {"theme": "Equity", "text": "Recruits per 1000", "definition": "  "}
    assert missing_fields(ItemKind.INDICATOR, fields) == ["definition"]
    assert missing_fields(ItemKind.PROMPT, fields) == []
    assert missing_fields(ItemKind.PROMPT, {}) == ["theme", "text"]


def test_wordings_differing_only_in_case_spacing_or_a_final_stop_are_the_same():
    assert wording_key("Is research  on the board agenda?") == wording_key(
        "is research on the board agenda"
    )
    assert wording_key("Recruits") != wording_key("Recruitment")


def test_duplicate_rows_name_the_row_or_the_item_they_repeat():
    rows = [
        Candidate(2, ItemKind.PROMPT, "Fine"),
        Candidate(3, ItemKind.PROMPT, "fine."),
        Candidate(4, ItemKind.PROMPT, "Old one"),
        Candidate(5, ItemKind.INDICATOR, "Fine"),
    ]
    existing = {(ItemKind.PROMPT, wording_key("Old one")): "P7"}
    assert duplicate_problems(rows, existing) == {
        3: "repeats row 2",
        4: "the study already has this prompt as P7",
    }


def test_reordering_and_renaming_are_allowed_until_the_study_completes():
    check_can_reorder(ACTIVE)
    check_can_rename_group(ACTIVE)
    with pytest.raises(InvalidTransition, match="completed, so reordering themes"):
        check_can_reorder(DONE, what="themes")
    with pytest.raises(InvalidTransition, match="renaming a group"):
        check_can_rename_group(DONE)


def test_an_item_never_put_to_the_panel_may_be_deleted_and_a_rated_one_never():
    check_can_delete_item(StudyStatus.SETUP, ref="P1", rounds_put_to=[], ratings=0)
    check_can_delete_item(ACTIVE, ref="P9", rounds_put_to=[], ratings=0)
    with pytest.raises(InvalidTransition, match="P1 was put to the panel in round 1.*exclude"):
        check_can_delete_item(ACTIVE, ref="P1", rounds_put_to=[2, 1], ratings=0)
    with pytest.raises(InvalidTransition, match="deleting an item is not possible"):
        check_can_delete_item(DONE, ref="P9", rounds_put_to=[], ratings=0)


def test_only_an_empty_group_may_be_deleted():
    check_can_delete_group(ACTIVE, name="HRA", members=0)
    with pytest.raises(InvalidTransition, match="HRA has 2 panellists"):
        check_can_delete_group(StudyStatus.SETUP, name="HRA", members=2)
    with pytest.raises(InvalidTransition, match="completed"):
        check_can_delete_group(DONE, name="HRA", members=0)


@pytest.mark.parametrize("removing", [True, False])
def test_panellists_change_before_round_1_and_never_after(removing):
    check_can_change_panellist(StudyStatus.SETUP, name="Ann", round_opened=False, removing=removing)
    with pytest.raises(InvalidTransition, match="Round 1 has opened, so Ann cannot be"):
        check_can_change_panellist(ACTIVE, name="Ann", round_opened=True, removing=removing)
    with pytest.raises(InvalidTransition, match="completed"):
        check_can_change_panellist(DONE, name="Ann", round_opened=False, removing=removing)


def test_a_panellist_who_wrote_in_the_discussion_is_not_removed():
    check_can_change_panellist(
        StudyStatus.SETUP, name="Ann", round_opened=False, removing=False, messages=2
    )
    with pytest.raises(InvalidTransition, match="Ann has written in the discussion.*2 messages"):
        check_can_change_panellist(
            StudyStatus.SETUP, name="Ann", round_opened=False, removing=True, messages=2
        )
