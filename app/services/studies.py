"""Setting up a study: the study itself, stakeholder groups, themes and items."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.models import Item, ItemVersion, StakeholderGroup, Study, Theme, User
from app.services import audit
from app.services.tabular import ImportReport, TableError, read_table
from delphi import ItemKind

TEXT_MAX = 2000


def slugify(title: str) -> str:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]
    return slug or "study"


def unique_slug(title: str) -> str:
    base = slugify(title)
    slug, n = base, 2
    while db.session.scalar(select(Study.id).where(Study.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


def add_group(study: Study, name: str) -> StakeholderGroup:
    position = len(study.groups)
    group = StakeholderGroup(study_id=study.id, name=name.strip(), position=position)
    study.groups.append(group)
    db.session.add(group)
    return group


def group_named(study: Study, name: str) -> StakeholderGroup | None:
    wanted = name.strip().casefold()
    return next((g for g in study.groups if g.name.casefold() == wanted), None)


def theme_named(study: Study, name: str) -> Theme:
    """The study's theme of that name, created on first use."""
    wanted = name.strip()
    for theme in study.themes:
        if theme.name.casefold() == wanted.casefold():
            return theme
    theme = Theme(study_id=study.id, name=wanted, position=len(study.themes))
    db.session.add(theme)
    study.themes.append(theme)
    return theme


def next_ref(study: Study, kind: ItemKind) -> str:
    """Stable references P1, P2 ... and I1, I2 ... that survive revision and reordering."""
    prefix = kind.ref_prefix
    refs = db.session.scalars(select(Item.ref).where(Item.study_id == study.id)).all()
    pending = [i.ref for i in study.items if i.id is None]
    numbers = [int(r[1:]) for r in [*refs, *pending] if r.startswith(prefix) and r[1:].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


@dataclass(frozen=True)
class ItemFields:
    kind: ItemKind
    theme: str
    text: str
    definition: str = ""
    numerator: str = ""
    denominator: str = ""
    data_source: str = ""
    rationale: str = ""
    notes: str = ""
    reporting_frequency: str = ""
    threshold: str = ""


def add_item(study: Study, fields: ItemFields, created_by: User | None = None) -> Item:
    theme = theme_named(study, fields.theme)
    position = (
        db.session.scalar(select(func.max(Item.position)).where(Item.study_id == study.id)) or 0
    )
    item = Item(
        study_id=study.id,
        theme=theme,
        kind=fields.kind.value,
        ref=next_ref(study, fields.kind),
        position=max(position, len(study.items)) + 1,
    )
    study.items.append(item)
    item.versions.append(
        ItemVersion(
            number=1,
            text=fields.text,
            definition=fields.definition,
            numerator=fields.numerator,
            denominator=fields.denominator,
            data_source=fields.data_source,
            rationale=fields.rationale,
            notes=fields.notes,
            reporting_frequency=fields.reporting_frequency,
            threshold=fields.threshold,
            created_by_id=created_by.id if created_by else None,
        )
    )
    db.session.add(item)
    db.session.flush()
    return item


ITEM_COLUMNS = ["kind", "theme", "text"]
INDICATOR_COLUMNS = [
    "definition",
    "numerator",
    "denominator",
    "data_source",
    "rationale",
    "reporting_frequency",
    "threshold",
]


def parse_item_row(line: int, row: dict[str, str], errors: list[str]) -> ItemFields | None:
    kind_text = row.get("kind", "").lower()
    problems = []
    if kind_text not in tuple(ItemKind):
        problems.append("kind must be 'prompt' or 'indicator'")
    if not row.get("theme"):
        problems.append("theme is empty")
    if not row.get("text"):
        problems.append("text is empty")
    for column in ["text", "notes", *INDICATOR_COLUMNS]:
        if len(row.get(column, "")) > TEXT_MAX:
            problems.append(f"{column} is longer than {TEXT_MAX} characters")
    if problems:
        errors.append(f"Row {line}: " + "; ".join(problems) + ".")
        return None
    kind = ItemKind(kind_text)
    extra = {c: row.get(c, "") for c in INDICATOR_COLUMNS} if kind is ItemKind.INDICATOR else {}
    return ItemFields(
        kind=kind, theme=row["theme"], text=row["text"], notes=row.get("notes", ""), **extra
    )


def import_items(study: Study, filename: str, data: bytes, user: User) -> ImportReport:
    """All rows or none: any bad row means a line-by-line report and no change."""
    report = ImportReport()
    try:
        rows = read_table(filename, data, ITEM_COLUMNS)
    except TableError as error:
        report.errors.append(str(error))
        return report
    parsed = [parse_item_row(line, row, report.errors) for line, row in rows]
    if report.errors:
        return report
    for fields in parsed:
        assert fields is not None
        add_item(study, fields, user)
        report.created += 1
    audit.record(study.id, "items.imported", count=report.created, filename=filename)
    return report
