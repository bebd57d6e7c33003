"""What may change in a study's setup, before round 1 opens and after.

Before round 1 opens nothing has been put to the panel, so setup is a draft: items, themes,
groups and panellists can be added, reordered, renamed, moved and deleted. Once round 1 has
opened, the record holds what the panel was asked and who answered, so only what leaves that
record true may change: wording and order for later rounds, a group's name, an empty group,
an item never put to the panel. Each check raises `InvalidTransition` with the reason, and a
completed study refuses everything (`check_record_open`).
"""

from __future__ import annotations

from collections.abc import Sequence

from delphi.errors import InvalidTransition
from delphi.model import StudyStatus
from delphi.rounds import check_record_open


def check_can_reorder(study_status: StudyStatus, *, what: str = "items") -> None:
    """Order is how items are presented in later rounds and the specification; an open
    round keeps the order it opened with, so reordering is safe until completion."""
    check_record_open(study_status, action=f"reordering {what}")


def check_can_delete_item(
    study_status: StudyStatus, *, ref: str, rounds_put_to: Sequence[int], ratings: int
) -> None:
    """An item may be deleted only while no round has put it to the panel.

    Once rated, its ratings and discussion are part of the record: it leaves the study by a
    decision (exclude) after the round, never by deletion.
    """
    check_record_open(study_status, action="deleting an item")
    if rounds_put_to or ratings:
        first = min(rounds_put_to) if rounds_put_to else 1
        raise InvalidTransition(
            f"{ref} was put to the panel in round {first}, so its ratings are part of the "
            "study's record and it cannot be deleted. To drop it, exclude it when you record "
            "the round's decisions."
        )


def check_can_rename_group(study_status: StudyStatus) -> None:
    """A group's name is a label: results are kept by group, not by name."""
    check_record_open(study_status, action="renaming a group")


def check_can_delete_group(study_status: StudyStatus, *, name: str, members: int) -> None:
    """Only an empty group may be deleted: every panellist belongs to one group."""
    check_record_open(study_status, action="deleting a group")
    if members:
        people = "1 panellist" if members == 1 else f"{members} panellists"
        raise InvalidTransition(
            f"{name} has {people}, so it cannot be deleted. "
            "Move them to another group, or remove them, first."
        )


def check_can_change_panellist(
    study_status: StudyStatus,
    *,
    name: str,
    round_opened: bool,
    removing: bool,
    messages: int = 0,
) -> None:
    """Before round 1 a panellist can be removed or moved to another group or role.

    After it, the record counts them (invited, responding, per group and per round) and
    their ratings are reported under their group and role, so neither may change: a person
    who leaves withdraws (`delphi.withdrawal`), recorded by a facilitator if they ask
    them to, and is reported as having withdrawn. Someone who has
    written in the discussion is not removed either: their messages would lose their author.
    """
    action = "removing a panellist" if removing else "changing a panellist's group or role"
    check_record_open(study_status, action=action)
    if round_opened:
        what = "removed" if removing else "moved to another group or role"
        raise InvalidTransition(
            f"Round 1 has opened, so {name} cannot be {what}: the record reports who was "
            "invited and who answered in each group and role. If they leave the study, "
            "record their withdrawal instead: they choose whether their answers so far stay."
        )
    if removing and messages:
        raise InvalidTransition(
            f"{name} has written in the discussion, so removing them would leave "
            f"{'a message' if messages == 1 else f'{messages} messages'} without an author. "
            "They can stay on the panel without answering."
        )
