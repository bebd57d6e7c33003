"""An item's fields: which ones each kind presents, and what changed between two versions.

What panellists rate is what the specification presents as agreed: the ballot, the revise
form, the "changed since" views and the specification all take the fields from here.
"""

from __future__ import annotations

from collections.abc import Mapping
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
