"""An item's fields: which ones each kind presents, which it must have, what changed
between two versions, and when two items say the same thing.

What panellists rate is what the specification presents as agreed: the ballot, the revise
form, the "changed since" views and the specification all take the fields from here. The item
form and the CSV/XLSX import both ask `missing_fields`, so a rule such as "an indicator needs
its definition" cannot hold for one way in and not the other.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from delphi.model import ItemKind


@dataclass(frozen=True)
class ItemField:
    name: str
    label: str


WORDING = ItemField("text", "Wording")
KIND = ItemField("kind", "Type of item")
THEME = ItemField("theme", "Theme")
PROMPT_FIELDS: tuple[ItemField, ...] = (ItemField("notes", "Notes for inspectors"),)
INDICATOR_FIELDS: tuple[ItemField, ...] = (
    ItemField("definition", "Definition"),
    ItemField("numerator", "Numerator"),
    ItemField("denominator", "Denominator"),
    ItemField("data_source", "Data source"),
    ItemField("reporting_frequency", "Reporting frequency"),
    ItemField("threshold", "Threshold: good / needs improvement"),
    ItemField("rationale", "Rationale"),
    ItemField("notes", "Notes for inspectors"),
)
# Every field a version stores besides its wording, in the order they are shown.
VERSION_FIELDS: tuple[ItemField, ...] = INDICATOR_FIELDS


def fields_for(kind: ItemKind) -> tuple[ItemField, ...]:
    """The fields, besides the wording, that an item of this kind presents."""
    return INDICATOR_FIELDS if kind is ItemKind.INDICATOR else PROMPT_FIELDS


@dataclass(frozen=True)
class ItemContent:
    """One version of an item as rated: its kind, theme, wording and other fields."""

    kind: ItemKind
    theme: str
    text: str
    values: Mapping[str, str]

    def presented(self) -> list[tuple[ItemField, str]]:
        """The fields this kind presents that hold something, in order."""
        return [(f, v) for f in fields_for(self.kind) if (v := self.value(f.name))]

    def value(self, name: str) -> str:
        """A field's value as presented: empty when this kind does not present it."""
        if name == WORDING.name:
            return self.text
        if name == KIND.name:
            return self.kind.label
        if name == THEME.name:
            return self.theme
        if name not in {f.name for f in fields_for(self.kind)}:
            return ""
        return (self.values.get(name) or "").strip()


@dataclass(frozen=True)
class FieldChange:
    field: ItemField
    before: str
    after: str


def item_changes(before: ItemContent, after: ItemContent) -> list[FieldChange]:
    """Every presented field that differs between two versions (empty for a field the kind
    does not present), wording first, then the kind, the theme and the other fields."""
    out = []
    for f in (WORDING, KIND, THEME, *VERSION_FIELDS):
        old, new = before.value(f.name), after.value(f.name)
        if old != new:
            out.append(FieldChange(f, old, new))
    return out


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
