"""What every item must have, and when two items say the same thing.

The item form and the CSV/XLSX import both ask these, so a rule such as "an indicator needs
its definition" cannot hold for one way in and not the other.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from delphi.model import ItemKind

# Fields every item of a kind must have, beyond its kind.
REQUIRED: Mapping[ItemKind, tuple[str, ...]] = {
    ItemKind.PROMPT: ("theme", "text"),
    ItemKind.INDICATOR: ("theme", "text", "definition"),
}


def missing_fields(kind: ItemKind, fields: Mapping[str, str]) -> list[str]:
    """The required fields of an item of `kind` that are empty, in the order of `REQUIRED`."""
    return [name for name in REQUIRED[kind] if not (fields.get(name) or "").strip()]


def wording_key(text: str) -> str:
    """What makes two wordings the same item: case, spacing, Unicode forms and a trailing
    full stop or question mark do not count."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", folded).strip().rstrip(".?!").rstrip()


@dataclass(frozen=True)
class Candidate:
    """One row of an import: its line in the file, kind and wording."""

    line: int
    kind: ItemKind
    text: str


def duplicate_problems(
    candidates: Sequence[Candidate], existing: Mapping[tuple[ItemKind, str], str]
) -> dict[int, str]:
    """Why each duplicate row would duplicate an item, by line.

    `existing` maps (kind, `wording_key`) of the study's items to their reference. A row
    repeating an earlier row names that row; a row repeating an item already in the study
    names the item, which is what importing the same file twice produces.
    """
    seen: dict[tuple[ItemKind, str], int] = {}
    problems: dict[int, str] = {}
    for row in candidates:
        key = (row.kind, wording_key(row.text))
        if key in existing:
            problems[row.line] = f"the study already has this {row.kind.value} as {existing[key]}"
        elif key in seen:
            problems[row.line] = f"repeats row {seen[key]}"
        else:
            seen[key] = row.line
    return problems
