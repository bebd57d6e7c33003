"""The inspectors' brief guide: a second document from the same study, for inspection teams.

Modelled on CQC's brief guides: why it matters (the context), the link to the assessment
framework, the agreed prompts by theme with what to look for, each agreed indicator with its
definition, data source, frequency and thresholds, what to report and where, and the
sources. It carries no statistics beyond one line on how it was agreed, which points to the
full specification. Only agreed items appear; a study not yet completed gives a draft.

Built from the specification (`build_specification`), so the two documents cannot disagree
on what was agreed or on any item's wording.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from app.models import Study, User
from app.services import audit
from app.services.transaction import transactional

GUIDE_SCHEMA_VERSION = "1.0"

INDICATOR_FIELDS = [
    ("definition", "Definition"),
    ("numerator", "Numerator"),
    ("denominator", "Denominator"),
    ("data_source", "Data source"),
    ("reporting_frequency", "Reporting frequency"),
    ("threshold", "Good and needs improvement"),
    ("rationale", "Why it matters"),
    ("notes", "Notes for inspectors"),
]


@dataclass(frozen=True)
class GuideSettings:
    """What the guide settings form sets (each may be empty)."""

    owner_organisation: str = ""
    guide_context: str = ""
    framework: str = ""
    framework_url: str = ""
    guide_reporting: str = ""
    guide_sources: str = ""


def guide_settings_of(study: Study) -> GuideSettings:
    return GuideSettings(
        **{name: getattr(study, name) or "" for name in GuideSettings.__annotations__}
    )


@transactional
def change_guide_settings(study: Study, settings: GuideSettings, *, actor: User | None) -> None:
    """Save how the guide presents the study. These words frame the published documents and
    are not part of the consensus record (setup, panel, items, ratings, discussion), so they
    may be corrected after the study completes, as a publication's front matter may."""
    for name, value in asdict(settings).items():
        setattr(study, name, value.strip())
    audit.record(study.id, "study.guide_settings_changed", by=audit.actor_id(actor))


def _how_agreed(spec: dict[str, Any]) -> str:
    m = spec["methods"]
    panellists = sum(p["panellists"] for p in spec["partners"])
    groups = sum(1 for p in spec["partners"] if p["panellists"])
    rounds = m["number_of_rounds"]
    return (
        f"Agreed by Delphi consensus: {panellists} panellists from {groups} stakeholder groups "
        f"rated each item anonymously over {rounds} round{'' if rounds == 1 else 's'} "
        f"({spec['consensus']['label'].lower()}). The evidence for each item is in the full "
        f"specification."
    )


def build_guide(study: Study, spec: dict[str, Any]) -> dict[str, Any]:
    """The guide as plain JSON-ready data (docs/guide.schema.json)."""
    themes = []
    for theme in spec["themes"]:
        prompts = [
            {"ref": i["ref"], "text": i["text"], "look_for": i.get("notes") or ""}
            for i in theme["items"]
            if i["kind"] == "prompt"
        ]
        indicators = [
            {
                "ref": i["ref"],
                "text": i["text"],
                "fields": [
                    {"name": name, "label": label, "value": i.get(name) or ""}
                    for name, label in INDICATOR_FIELDS
                ],
                **{name: i.get(name) or "" for name, _ in INDICATOR_FIELDS},
            }
            for i in theme["items"]
            if i["kind"] == "indicator"
        ]
        if prompts or indicators:
            themes.append({"name": theme["name"], "prompts": prompts, "indicators": indicators})
    draft = spec["status"] == "draft"
    return {
        "schema_version": GUIDE_SCHEMA_VERSION,
        "document": "guide",
        "generated_at": spec["generated_at"],
        "status": spec["status"],
        "draft_note": (
            "Draft: the study is not completed; the prompts and indicators may change."
            if draft
            else None
        ),
        "study": {
            "slug": study.slug,
            "title": study.title,
            "owner_organisation": study.owner_organisation or "",
            "facilitator": spec["study"].get("facilitator") or "",
            "status": study.status,
            "completed_at": spec["study"]["completed_at"],
        },
        "context": (study.guide_context or "").strip() or (study.purpose or "").strip(),
        "framework": {
            "text": (study.framework or "").strip(),
            "url": (study.framework_url or "").strip() or None,
        },
        "themes": themes,
        "reporting": (study.guide_reporting or "").strip(),
        "sources": (study.guide_sources or "").strip(),
        "how_agreed": _how_agreed(spec),
        "specification": {
            "title": f"Specification: {study.title}",
            "file": f"{study.slug}-specification{'-draft' if draft else ''}.pdf",
        },
    }
