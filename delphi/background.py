"""Panel characteristics: background questions, their answers, and the per-group summary.

The facilitator picks questions from `PRESETS` (role, organisation type, region, years of
experience, lived experience for patient representatives) and may add their own, each with
a list of options. Panellists answer when they join, after consent and declared interests,
and may choose "prefer not to say"; they can change their answers later.

Answers describe who took part; they are summarised per stakeholder group in the
specification's methods, never shown beside ratings. A group's counts are shown only when
at least `MIN_GROUP_RATERS` of its panellists answered the question (`delphi.disclosure`):
a count from one or two people would say who they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from delphi.disclosure import WITHHELD_ALPHA_NOTE, group_figures_visible
from delphi.errors import ReasonRequired

PREFER_NOT = "Prefer not to say"
MAX_QUESTION = 300
MAX_OPTION = 200
MAX_OPTIONS = 30
WITHHELD_NOTE = WITHHELD_ALPHA_NOTE.replace("raters", "panellists answered")


@dataclass(frozen=True)
class Preset:
    key: str
    text: str
    options: tuple[str, ...]
    patients_only: bool = False


PRESETS: tuple[Preset, ...] = (
    Preset(
        "role",
        "Which best describes your role?",
        (
            "Research manager or administrator",
            "Researcher or clinician",
            "Regulator or inspector",
            "Policy or governance lead",
            "Patient or public contributor",
            "Other",
        ),
    ),
    Preset(
        "organisation",
        "What type of organisation do you work for?",
        (
            "NHS trust or health board",
            "Regulator",
            "Research funder or network",
            "University",
            "Charity or patient organisation",
            "Not employed in health or research",
            "Other",
        ),
    ),
    Preset(
        "region",
        "Where do you mainly work or live?",
        (
            "North East and Yorkshire",
            "North West",
            "Midlands",
            "East of England",
            "London",
            "South East",
            "South West",
            "Wales",
            "Scotland",
            "Northern Ireland",
            "Outside the UK",
        ),
    ),
    Preset(
        "experience",
        "How many years of experience do you have in health research or its regulation?",
        ("Less than 2 years", "2 to 5 years", "6 to 10 years", "More than 10 years"),
    ),
    Preset(
        "lived_experience",
        "Do you have lived experience of taking part in health research, as a patient or carer?",
        ("Yes, as a patient", "Yes, as a carer", "Both", "No"),
        patients_only=True,
    ),
)
PRESET_KEYS = {p.key: p for p in PRESETS}


def parse_options(text: str) -> list[str]:
    """A facilitator's options, one a line: at least two, distinct, none too long; "prefer
    not to say" is always offered, so it is not one of them."""
    options: list[str] = []
    for line in text.splitlines():
        option = " ".join(line.split())
        if not option:
            continue
        if option.casefold() == PREFER_NOT.casefold():
            continue
        if len(option) > MAX_OPTION:
            raise ReasonRequired(f"Keep each option to {MAX_OPTION} characters or fewer")
        if option.casefold() in {o.casefold() for o in options}:
            raise ReasonRequired(f"\u201c{option}\u201d is listed twice: list each option once")
        options.append(option)
    if len(options) < 2:
        raise ReasonRequired("Give at least two options, one a line")
    if len(options) > MAX_OPTIONS:
        raise ReasonRequired(f"Give at most {MAX_OPTIONS} options")
    return options


def check_question(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise ReasonRequired("Enter the question")
    if len(text) > MAX_QUESTION:
        raise ReasonRequired(f"Keep the question to {MAX_QUESTION} characters or fewer")
    return text


def check_answer(options: Sequence[str], answer: str) -> str:
    """The stored answer: one of `options`, or "" for "prefer not to say"."""
    if answer == PREFER_NOT or answer == "":
        return ""
    if answer not in options:
        raise ReasonRequired("Choose one of the options, or \u201cprefer not to say\u201d")
    return answer


@dataclass(frozen=True)
class GroupCounts:
    """One group's answers to one question; `counts` None when withheld (too few)."""

    group: str
    answered: int | None
    counts: dict[str, int] | None
    withheld: bool
    note: str | None = None


@dataclass
class QuestionSummary:
    text: str
    options: list[str]
    groups: list[GroupCounts] = field(default_factory=list)
    # The withheld groups taken together, when they hold at least `MIN_GROUP_RATERS`
    # answers; otherwise None.
    combined: GroupCounts | None = None
    # Whole-panel counts; None when the withheld groups hold only one or two answers, as
    # the panel minus the shown groups would then give those answers away.
    panel: dict[str, int] | None = None
    answered: int | None = None


def summarise(
    text: str,
    options: Sequence[str],
    groups: Sequence[str],
    answers: Iterable[tuple[str, str]],
) -> QuestionSummary:
    """Counts per option per group for one question, from (group, answer) pairs ("" is
    "prefer not to say"). A group with fewer than `MIN_GROUP_RATERS` answers is withheld,
    and no total is shown from which its counts could be worked out by subtraction."""
    choices = [*options, PREFER_NOT]
    by_group: dict[str, dict[str, int]] = {g: dict.fromkeys(choices, 0) for g in groups}
    panel = dict.fromkeys(choices, 0)
    for group, answer in answers:
        shown = answer or PREFER_NOT
        if group not in by_group or shown not in panel:
            continue  # an option since removed, or a group since deleted: not counted
        by_group[group][shown] += 1
        panel[shown] += 1
    summary = QuestionSummary(text, list(choices))
    rest = dict.fromkeys(choices, 0)
    for group in groups:
        counts = by_group[group]
        total = sum(counts.values())
        if group_figures_visible(total):
            summary.groups.append(GroupCounts(group, total, counts, withheld=False))
            continue
        summary.groups.append(GroupCounts(group, None, None, withheld=True, note=WITHHELD_NOTE))
        for choice, n in counts.items():
            rest[choice] += n
    withheld = sum(rest.values())
    if withheld == 0 or group_figures_visible(withheld):
        summary.panel = panel
        summary.answered = sum(panel.values())
    if withheld and group_figures_visible(withheld):
        summary.combined = GroupCounts("Smaller groups together", withheld, rest, withheld=False)
    return summary
