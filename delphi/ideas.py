"""The open ideas round before rating ("round 0"), as in ExpertLens and Welphi.

Panellists answer the facilitators' open questions, add candidate prompts and indicators, and
comment on each other's ideas. The facilitators then curate the ideas into items: several may
become one item (each idea keeps the link to it), or an idea is declined with a reason its
author reads. Every rule about the ideas round lives here; services call these functions.

The ideas round and round 1 never run at once: round 1 cannot open while the ideas round is
open (`check_round_one_may_open`), so the facilitators close it and curate first, and nobody's
late idea is silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from delphi.errors import DomainError, InvalidTransition, NotAllowedToRate, ReasonRequired
from delphi.model import PanelRole, StudyStatus


class IdeasStatus(StrEnum):
    NONE = "none"  # the study has no ideas round
    OPEN = "open"  # taking ideas and comments
    CLOSED = "closed"  # closed: the facilitators curate, then open round 1

    @property
    def label(self) -> str:
        return {
            IdeasStatus.NONE: "No ideas round",
            IdeasStatus.OPEN: "Open for ideas",
            IdeasStatus.CLOSED: "Closed",
        }[self]


class IdeaOutcome(StrEnum):
    """What became of an idea. Stored in `proposals.status`, shared with proposals."""

    PENDING = "pending"
    ACCEPTED = "accepted"  # became a new item (alone or merged with other ideas)
    MERGED = "merged"  # folded into an item that already existed
    DECLINED = "declined"  # not taken up, with a reason its author reads

    @property
    def label(self) -> str:
        return {
            IdeaOutcome.PENDING: "Waiting for the facilitators",
            IdeaOutcome.ACCEPTED: "Became an item",
            IdeaOutcome.MERGED: "Merged into an item",
            IdeaOutcome.DECLINED: "Not taken up",
        }[self]


def check_can_open_ideas(
    *, study_status: StudyStatus, ideas: IdeasStatus, rounds_opened: int
) -> None:
    """The ideas round comes before rating: it opens (or reopens) only while no round has."""
    if study_status is StudyStatus.COMPLETED:
        raise InvalidTransition(
            "This study is completed, so opening the ideas round is not possible."
        )
    if ideas is IdeasStatus.OPEN:
        raise InvalidTransition("The ideas round is already open.")
    if rounds_opened:
        raise InvalidTransition(
            "Round 1 has opened, so the ideas round cannot open again: it comes before rating."
        )


def check_can_close_ideas(*, ideas: IdeasStatus) -> None:
    if ideas is not IdeasStatus.OPEN:
        raise InvalidTransition("The ideas round is not open.")


def check_round_one_may_open(ideas: IdeasStatus) -> None:
    """Round 1 waits until the ideas round is closed, so ideas are curated before rating."""
    if ideas is IdeasStatus.OPEN:
        raise InvalidTransition(
            "Close the ideas round before opening round 1, then turn its ideas into items."
        )


def check_may_contribute(
    *, study_status: StudyStatus, ideas: IdeasStatus, role: PanelRole | None
) -> None:
    """Ideas and comments come from panellists who rate, while the ideas round is open.

    `role` None: not a panellist (a facilitator only); facilitators write the questions and
    curate, they do not add ideas of their own under a pseudonym.
    """
    if study_status is StudyStatus.COMPLETED:
        raise InvalidTransition("This study is completed, so adding ideas is not possible.")
    if ideas is not IdeasStatus.OPEN:
        raise InvalidTransition("The ideas round is not open, so it takes no ideas or comments.")
    if role is None:
        raise NotAllowedToRate("Panellists add ideas; facilitators curate them.")
    if not role.can_rate:
        raise NotAllowedToRate("Observers can read the ideas but cannot add ideas or comments.")


def check_may_read(*, ideas: IdeasStatus, is_facilitator: bool) -> None:
    """Everyone in the study reads the ideas once there is an ideas round."""
    if ideas is IdeasStatus.NONE and not is_facilitator:
        raise DomainError("This study has no ideas round.")


def reason_visible(*, is_author: bool, is_facilitator: bool) -> bool:
    """A declined idea's reason is for its author (and the facilitators), not the panel:
    others see only that it was not taken up."""
    return is_author or is_facilitator


def check_may_edit_questions(*, study_status: StudyStatus, rounds_opened: int) -> None:
    """The questions are the facilitators' until rating starts; then they are the record."""
    if study_status is StudyStatus.COMPLETED:
        raise InvalidTransition(
            "This study is completed, so changing the open questions is not possible."
        )
    if rounds_opened:
        raise InvalidTransition("Round 1 has opened, so the open questions are final.")


def check_curation(
    *, outcome: IdeaOutcome, pending: Sequence[bool], reason: str, study_status: StudyStatus
) -> None:
    """Curating answers pending ideas only; declining needs a reason the author reads.

    `pending` holds, for each idea chosen, whether it still waits for an answer.
    """
    if study_status is StudyStatus.COMPLETED:
        raise InvalidTransition("This study is completed, so curating ideas is not possible.")
    if not pending:
        raise DomainError("Choose at least one idea.")
    if not all(pending):
        raise InvalidTransition("One of the ideas chosen has already been answered.")
    if outcome is IdeaOutcome.PENDING:
        raise DomainError("Choose what becomes of the ideas.")
    if outcome is IdeaOutcome.DECLINED and not reason.strip():
        raise ReasonRequired("Give the reason the author will see")


@dataclass(frozen=True)
class IdeaFact:
    """One idea, as the methods count it: its author's group and what became of it."""

    group: str
    author: int
    outcome: IdeaOutcome
    item: str | None  # the ref of the item it became or was merged into


@dataclass(frozen=True)
class IdeasSummary:
    questions: int
    ideas: int
    comments: int
    contributors: int
    by_group: tuple[tuple[str, int, int], ...]  # (group, contributors, ideas), every group
    outcomes: dict[IdeaOutcome, int]
    items_made: tuple[str, ...]  # refs of the new items made from ideas
    items_merged_into: tuple[str, ...]  # refs of existing items ideas were merged into


def summarise(
    *,
    questions: int,
    comments: int,
    groups: Iterable[str],
    ideas: Sequence[IdeaFact],
) -> IdeasSummary:
    """How many ideas came in, from which groups, and what became of them (the methods)."""
    by_group = []
    for group in groups:
        mine = [i for i in ideas if i.group == group]
        by_group.append((group, len({i.author for i in mine}), len(mine)))
    made = sorted(
        {i.item for i in ideas if i.outcome is IdeaOutcome.ACCEPTED and i.item}, key=_ref_order
    )
    merged = sorted(
        {i.item for i in ideas if i.outcome is IdeaOutcome.MERGED and i.item}, key=_ref_order
    )
    return IdeasSummary(
        questions=questions,
        ideas=len(ideas),
        comments=comments,
        contributors=len({i.author for i in ideas}),
        by_group=tuple(by_group),
        outcomes={o: sum(i.outcome is o for i in ideas) for o in IdeaOutcome},
        items_made=tuple(made),
        items_merged_into=tuple(merged),
    )


def _ref_order(ref: str) -> tuple[str, int, str]:
    # P2 before P10: the letter, then the number.
    digits = "".join(c for c in ref if c.isdigit())
    return (ref.rstrip("0123456789"), int(digits) if digits else 0, ref)
