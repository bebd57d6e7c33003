"""Setting up a study: the study itself, stakeholder groups, themes and items."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Item, ItemVersion, StakeholderGroup, Study, StudyFacilitator, Theme, User
from app.services import audit
from app.services.tabular import ImportReport, TableError, read_table
from app.services.transaction import transactional
from delphi import DomainError, ItemKind, check_record_open
from delphi.items import Candidate, duplicate_problems, missing_fields, wording_key

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


@dataclass(frozen=True)
class StudySettings:
    """What the study form sets."""

    title: str
    purpose: str
    scale_max: int
    rule: str
    pct_in: float
    pct_out_max: float
    max_iqr: float
    require_all_groups: bool
    max_rounds: int
    mode: str
    proposals_open: bool
    share_specification: bool = False
    random_item_order: bool = False


# Fixed once round 1 has opened, as the Delphi method requires.
FIXED_AFTER_ROUND_1 = (
    "scale_max",
    "rule",
    "pct_in",
    "pct_out_max",
    "max_iqr",
    "require_all_groups",
    "mode",
    # Each panellist's order is fixed from round 1: switching mid-study would reorder the
    # ballot panellists have already rated from.
    "random_item_order",
)
SETTINGS_FIXED = (
    "The scale, consensus rule and item order are fixed once round 1 has opened, as the "
    "Delphi method requires. You can still change the title, purpose and maximum rounds."
)


class DuplicateGroup(DomainError):
    status_code = 422


def _apply(study: Study, settings: StudySettings) -> None:
    for name, value in asdict(settings).items():
        setattr(study, name, value)
    study.scale_min = 1


@transactional
def create_study(settings: StudySettings, creator: User) -> Study:
    """A new study, facilitated by its creator."""
    study = Study(slug=unique_slug(settings.title or "study"), title="")
    _apply(study, settings)
    db.session.add(study)
    db.session.flush()
    db.session.add(StudyFacilitator(study_id=study.id, user_id=creator.id))
    audit.record(study.id, "study.created", by=creator.id, title=study.title)
    return study


@transactional
def change_settings(study: Study, settings: StudySettings, actor: User) -> None:
    """Save the study's settings; the scale and rule cannot change once round 1 has opened."""
    check_record_open(study.study_status, action="changing the settings")
    if study.rounds and any(
        getattr(settings, name) != getattr(study, name) for name in FIXED_AFTER_ROUND_1
    ):
        raise DomainError(SETTINGS_FIXED)
    order_changed = settings.random_item_order != study.random_item_order
    _apply(study, settings)
    audit.record(study.id, "study.settings_changed", by=actor.id)
    if order_changed:
        audit.record(
            study.id, "study.item_order_changed", by=actor.id, random=settings.random_item_order
        )


@transactional
def create_group(study: Study, name: str, actor: User) -> StakeholderGroup:
    """Add a stakeholder group; names are unique within the study."""
    check_record_open(study.study_status, action="adding a stakeholder group")
    group = add_group(study, name)
    try:
        db.session.flush()
    except IntegrityError:
        raise DuplicateGroup(f"There is already a group called {name}") from None
    audit.record(study.id, "group.added", by=actor.id, name=name)
    return group


@transactional
def create_item(study: Study, fields: ItemFields, actor: User) -> Item:
    check_record_open(study.study_status, action="adding an item")
    item = add_item(study, fields, actor)
    audit.record(study.id, "item.added", by=actor.id, ref=item.ref)
    return item


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


def _row_problems(row: dict[str, str]) -> list[str]:
    kind_text = row.get("kind", "").lower()
    problems = []
    if kind_text not in tuple(ItemKind):
        problems.append("kind must be 'prompt' or 'indicator'")
        missing = [m for m in ("theme", "text") if not row.get(m)]
    else:
        # The same rule as the item form (delphi.items): an indicator needs its definition.
        missing = missing_fields(ItemKind(kind_text), row)
    problems += [
        f"{m} is empty" + (" (an indicator needs one)" if m == "definition" else "")
        for m in missing
    ]
    for column in ["text", "notes", *INDICATOR_COLUMNS]:
        if len(row.get(column, "")) > TEXT_MAX:
            problems.append(f"{column} is longer than {TEXT_MAX} characters")
    return problems


def _row_fields(row: dict[str, str]) -> ItemFields:
    kind = ItemKind(row["kind"].lower())
    extra = {c: row.get(c, "") for c in INDICATOR_COLUMNS} if kind is ItemKind.INDICATOR else {}
    return ItemFields(
        kind=kind, theme=row["theme"], text=row["text"], notes=row.get("notes", ""), **extra
    )


def existing_wordings(study: Study) -> dict[tuple[ItemKind, str], str]:
    """The study's items by (kind, `wording_key` of their current wording): their reference."""
    return {(item.item_kind, wording_key(item.current.text)): item.ref for item in study.items}


@transactional
def import_items(study: Study, filename: str, data: bytes, user: User) -> ImportReport:
    """All rows or none: any bad row means a line-by-line report and no change.

    A row that repeats another row, or an item already in the study (the same file
    imported twice), is a bad row: duplicates would be rated as two items.
    """
    check_record_open(study.study_status, action="importing items")
    report = ImportReport()
    try:
        rows = read_table(filename, data, ITEM_COLUMNS)
    except TableError as error:
        report.errors.extend(error.lines)
        return report
    problems = {line: _row_problems(row) for line, row in rows}
    candidates = [
        Candidate(line, ItemKind(row["kind"].lower()), row["text"])
        for line, row in rows
        if not problems[line]
    ]
    for line, why in duplicate_problems(candidates, existing_wordings(study)).items():
        problems[line].append(why)
    report.errors = [
        f"Row {line}: " + "; ".join(found) + "." for line, found in problems.items() if found
    ]
    if report.errors:
        return report
    for _, row in rows:
        add_item(study, _row_fields(row), user)
        report.created += 1
    audit.record(study.id, "items.imported", by=user.id, count=report.created, filename=filename)
    return report
