"""The specification: one plain data structure built from the database once.

Every export format (HTML, Markdown, DOCX, PDF, JSON, the data zip) renders the dictionary
that `build_specification` returns, so they always agree. Figures come from the frozen round
snapshots (see `app.services.results.compute_results`), read through `RoundSnapshot.results`
so that no group of fewer than 3 raters shows a figure (`delphi.disclosure`), and, for
stability between rounds, from the scoring package; nothing here recomputes a stored figure.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    DiscussionThread,
    Item,
    ItemDecision,
    ItemVersion,
    Panellist,
    Rating,
    Round,
    RoundItem,
    RoundSnapshot,
    Study,
    utcnow,
)
from app.services.background import who_took_part
from app.services.cycle import reopenings
from app.services.indicator_testing import specification_section
from app.services.ratings import expected_answers
from app.services.reasons import reasons_in
from app.services.reporting import ATTRITION_NOTE, accord_checklist, attrition_checks, conduct
from app.services.results import RULE_LABELS, compute_stability, rule_description
from app.text.dates import london
from delphi import (
    MIN_GROUP_RATERS,
    WITHHELD_NOTE,
    Decision,
    ItemKind,
    Outcome,
    PanelRole,
    StudyStatus,
)
from delphi import items as items_rule
from delphi.reasons import main_arguments
from delphi.withdrawal import withdrew_during_round
from scoring import plain

# 1.1: group figures may be withheld (delphi.disclosure). 1.2: history's changed_fields,
# panel and partners count observers apart, methods.completion_reason. 1.3: methods.
# attrition_bias and conduct, reporting.accord (the ACCORD checklist). 1.4: arguments of
# items without consensus (the summary, or reasons quoted from each side).
SCHEMA_VERSION = "1.4"

# The item fields a specification shows, in order, with people's names for them: those the
# ballot shows panellists (`delphi.items`), so what was rated is what is presented.
PROMPT_FIELDS = [(f.name, f.label) for f in items_rule.PROMPT_FIELDS]
INDICATOR_FIELDS = [(f.name, f.label) for f in items_rule.INDICATOR_FIELDS]
VERSION_FIELDS = [items_rule.WORDING.name, *(f.name for f in items_rule.VERSION_FIELDS)]
FIELD_LABELS = {"text": "Wording", **dict(INDICATOR_FIELDS)}
EVIDENCE_FIGURES = [
    "n",
    "n_unable",
    "median",
    "q1",
    "q3",
    "iqr",
    "pct_top",
    "pct_middle",
    "pct_bottom",
    "di",
    "status",
]
# methods.item_order when the study showed each panellist their own order (delphi.ordering).
RANDOM_ORDER = (
    "Against order effects, each panellist saw the items of each theme in a random order of "
    "their own, the same in every round; the themes kept the study's order."
)
ANONYMITY = (
    "Panellists rated alone and saw each other only by pseudonym (for example "
    "\u201cPatient representative 3\u201d), in the ballot, the feedback between rounds and the "
    "discussion. Names and email addresses were visible to the facilitators only. Feedback "
    "between rounds showed group figures, never an individual's rating. A stakeholder "
    "group's figures are shown (here, in the tool and in its data) only when at least "
    f"{MIN_GROUP_RATERS} of its members rated; below that they read “{WITHHELD_NOTE}”. "
    "The data files in this export carry pseudonyms only."
)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _history(item: Item, rounds_by_version: dict[int, list[int]]) -> list[dict[str, Any]]:
    """Each version of an item, and what changed from the one before: every changed field
    with its whole text before and after (a reader compares two sentences, not a word list)."""
    history = []
    previous: ItemVersion | None = None
    for version in item.versions:
        changed: list[dict[str, str]] = []
        if previous is not None:
            for name in VERSION_FIELDS:
                before, after = getattr(previous, name) or "", getattr(version, name) or ""
                if before != after:
                    changed.append(
                        {
                            "field": name,
                            "label": FIELD_LABELS[name],
                            "before": before,
                            "after": after,
                        }
                    )
        history.append(
            {
                "version": version.number,
                "text": version.text,
                "rounds": rounds_by_version.get(version.id, []),
                "change_note": version.change_note or "",
                "changes": (
                    [f"{c['label']} changed" for c in changed]
                    if previous is not None
                    else ["First version"]
                ),
                "changed_fields": changed,
                "created_at": iso(version.created_at),
            }
        )
        previous = version
    return history


def _evidence(entry: dict[str, Any], round_number: int, groups: list[str]) -> dict[str, Any]:
    out = {"round": round_number, "version": entry.get("version"), **_figures(entry, groups)}
    if entry.get("criteria"):
        # Several criteria: each one's evidence; the item's own figures are its first's.
        out["criteria"] = [
            {"criterion": c.get("criterion"), **_figures(c, groups)} for c in entry["criteria"]
        ]
    return out


def _figures(entry: dict[str, Any], groups: list[str]) -> dict[str, Any]:
    figures = {k: entry.get(k) for k in EVIDENCE_FIGURES}
    group_rows = []
    for name in groups:
        g = (entry.get("groups") or {}).get(name)
        if g is None:
            continue
        group_rows.append(
            {
                "group": name,
                "n": g.get("n"),
                "median": g.get("median"),
                "iqr": g.get("iqr"),
                "pct_top": g.get("pct_top"),
                "status": g.get("status"),
                "withheld": bool(g.get("withheld")),
                "note": g.get("note"),
            }
        )
    return {**figures, "groups": group_rows}


def _reopened(study: Study) -> list[str]:
    """Each time the facilitators reopened the completed study, with their reason: the
    record says it changed after it was first called final."""
    return [
        f"The facilitators reopened the completed study on {london(when, '%-d %B %Y')}: "
        f"{reason.rstrip('.')}."
        for when, reason in reopenings(study)
    ]


def _stopping(study: Study, rounds: list[Round], items: list[Item]) -> str:
    """Why the study stopped (or where it stands), with the reason the facilitator gave."""
    text = _stopping_fact(study, rounds, items)
    reason = (study.stop_reason or "").strip()
    if study.status == StudyStatus.COMPLETED and reason:
        text += f" Reason given on completion: {reason.rstrip('.')}."
    return text


def _stopping_fact(study: Study, rounds: list[Round], items: list[Item]) -> str:
    closed = [r for r in rounds if r.closed_at]
    undecided = [i for i in items if i.decision is None]
    if not rounds:
        return "No round has opened yet."
    if study.status == StudyStatus.COMPLETED:
        if not undecided:
            return f"The study stopped after round {len(rounds)}: every item was decided."
        if len(rounds) >= study.max_rounds:
            return (
                f"The study stopped after round {len(rounds)}: the maximum number of rounds "
                f"({study.max_rounds}) was reached."
            )
        return f"The facilitators completed the study after round {len(rounds)}."
    if len(closed) < len(rounds):
        return f"In progress: round {rounds[-1].number} is open."
    if not undecided:
        return f"Every item was decided by round {len(rounds)}; the study is not yet completed."
    return (
        f"In progress: {len(closed)} of at most {study.max_rounds} rounds closed, "
        f"{len(undecided)} items still undecided."
    )


def build_specification(
    study: Study, *, include_names: bool = False, raw: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Everything the specification says, as plain JSON-ready data (see docs/).

    `raw` is the study's ratings from `raw_ratings`, when the caller has read them already;
    without it the specification reads only who responded in each round, and stability as
    stored when each round closed (all ratings only for rounds closed before it was stored).
    """
    items = db.session.scalars(
        select(Item)
        .where(Item.study_id == study.id)
        .options(selectinload(Item.versions), selectinload(Item.theme))
        .order_by(Item.position)
    ).all()
    rounds = list(study.rounds)
    round_by_id = {r.id: r for r in rounds}
    groups = [g.name for g in study.groups]
    scale = study.scale

    snapshots: dict[int, dict[str, Any]] = {}
    for snap in db.session.scalars(
        select(RoundSnapshot).where(RoundSnapshot.round_id.in_([r.id for r in rounds]))
    ):
        snapshots[round_by_id[snap.round_id].number] = snap.results

    round_items = db.session.execute(
        select(
            RoundItem.round_id, RoundItem.item_version_id, ItemVersion.item_id, ItemVersion.number
        )
        .join(ItemVersion, ItemVersion.id == RoundItem.item_version_id)
        .where(RoundItem.round_id.in_([r.id for r in rounds]))
    ).all()
    rounds_by_version: dict[int, list[int]] = defaultdict(list)
    version_in_round: dict[tuple[int, int], tuple[int, int]] = {}  # (item, round) -> version
    for round_id, version_id, item_id, number in round_items:
        round_number = round_by_id[round_id].number
        rounds_by_version[version_id].append(round_number)
        version_in_round[(item_id, round_number)] = (version_id, number)
    for numbers in rounds_by_version.values():
        numbers.sort()

    decisions: dict[int, dict[int, ItemDecision]] = defaultdict(dict)  # item -> round -> row
    for row in db.session.scalars(
        select(ItemDecision).where(ItemDecision.round_id.in_([r.id for r in rounds]))
    ):
        decisions[row.item_id][round_by_id[row.round_id].number] = row

    summaries = _discussion_summaries(study, round_by_id)

    themes: dict[str, list[dict[str, Any]]] = {t.name: [] for t in study.themes}
    excluded: list[dict[str, Any]] = []
    undecided: list[dict[str, Any]] = []
    for item in items:
        current = item.current
        outcome = Outcome.of(item.decision)
        per_round = []
        for r in rounds:
            key = version_in_round.get((item.id, r.number))
            if key is None:
                continue
            entry = (snapshots.get(r.number) or {}).get("items", {}).get(str(key[0]))
            decision = decisions[item.id].get(r.number)
            per_round.append(
                {
                    "round": r.number,
                    "version": key[1],
                    "closed": r.closed_at is not None,
                    "median": entry.get("median") if entry else None,
                    "q1": entry.get("q1") if entry else None,
                    "q3": entry.get("q3") if entry else None,
                    "iqr": entry.get("iqr") if entry else None,
                    "pct_top": entry.get("pct_top") if entry else None,
                    "pct_bottom": entry.get("pct_bottom") if entry else None,
                    "n": entry.get("n") if entry else None,
                    "n_unable": entry.get("n_unable") if entry else None,
                    "status": entry.get("status") if entry else None,
                    "suggested": decision.suggested if decision else None,
                    "decision": decision.decision if decision and decision.decided_at else None,
                    "reason": decision.reason if decision else "",
                }
            )
        decided_round = None
        if item.decision:
            matching = [n for n, d in decisions[item.id].items() if d.decision == item.decision]
            decided_round = max(matching) if matching else None
        evidence_round = decided_round or max(
            (p["round"] for p in per_round if p["round"] in snapshots), default=None
        )
        evidence = None
        if evidence_round is not None:
            key = version_in_round.get((item.id, evidence_round))
            entry = (
                (snapshots.get(evidence_round) or {}).get("items", {}).get(str(key[0]))
                if key
                else None
            )
            if entry:
                evidence = _evidence(entry, evidence_round, groups)
        fields = INDICATOR_FIELDS if item.kind == ItemKind.INDICATOR else PROMPT_FIELDS
        record = {
            "id": item.id,
            "ref": item.ref,
            "kind": item.kind,
            "theme": item.theme.name,
            "outcome": outcome.value,
            "outcome_label": outcome.label,
            "decision": item.decision,
            "consensus_round": decided_round if outcome is Outcome.AGREED else None,
            "decided_round": decided_round,
            "version": current.number,
            "text": current.text,
            "fields": [
                {"name": name, "label": label, "value": getattr(current, name) or ""}
                for name, label in fields
            ],
            **{name: getattr(current, name) or "" for name in VERSION_FIELDS if name != "text"},
            "evidence": evidence,
            "rounds": per_round,
            "history": _history(item, rounds_by_version),
            "discussion_summary": summaries.get(item.id),
        }
        if outcome is Outcome.AGREED:
            themes.setdefault(item.theme.name, []).append(record)
        elif outcome is Outcome.EXCLUDED:
            excluded.append(record)
        else:
            undecided.append(record)

    _add_arguments(study, rounds, undecided, summaries)

    spec = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": iso(utcnow()),
        "status": "final" if study.status == StudyStatus.COMPLETED else "draft",
        "study": {
            "slug": study.slug,
            "title": study.title,
            "purpose": study.purpose,
            "status": study.status,
            "created_at": iso(study.created_at),
            "first_round_opened_at": iso(rounds[0].opened_at) if rounds else None,
            "last_round_closed_at": iso(
                max((r.closed_at for r in rounds if r.closed_at), default=None)
            ),
            "completed_at": iso(study.completed_at),
            "owner_organisation": study.owner_organisation or "",
            "facilitator": _facilitator_name(study),
            "scale": {
                "min": study.scale_min,
                "max": study.scale_max,
                "bands": scale.band_labels(),
            },
        },
        "partners": [],
        "consensus": {
            "rule": study.rule,
            "label": RULE_LABELS.get(study.rule, study.rule),
            "description": rule_description(study),
            "pct_in": study.pct_in,
            "pct_out_max": study.pct_out_max,
            "max_iqr": study.max_iqr,
            "require_all_groups": study.require_all_groups,
            "max_rounds": study.max_rounds,
            "fixed_at": iso(rounds[0].opened_at) if rounds else None,
            "fixed_note": (
                "The scale and consensus rule were set before round 1 and cannot be changed once "
                "round 1 opens."
            ),
            # What each rating judged; an item is in only when every criterion asked is in.
            "criteria": [
                {
                    "name": c.name,
                    "question": c.question,
                    "applies_to": sorted(k.value for k in c.kinds),
                }
                for c in study.criteria
            ],
        },
        "themes": [{"name": name, "items": entries} for name, entries in themes.items()],
        "excluded": excluded,
        "no_consensus": undecided,
        "indicator_testing": specification_section(study),
        "methods": {},
        "reporting": {},
        "panel_names": None,
    }
    # Read once: the panel, participation and declared interests all count the same people.
    panellists = _panellists(study)
    spec["methods"] = _methods(
        study, rounds, items, snapshots, version_in_round, decisions, spec, raw, panellists
    )
    spec["partners"] = [
        {"group": row["group"], "panellists": row["panellists"], "observers": row["observers"]}
        for row in spec["methods"]["panel"]
    ]
    spec["methods"]["declared_interests"] = _declared_interests(study, include_names, panellists)
    # Counts per group only, never per panellist, whatever the export includes.
    spec["methods"]["who_took_part"] = [asdict(q) for q in who_took_part(study)]
    # Last: the checklist says where each item is reported, declared interests included.
    spec["reporting"] = {"accord": accord_checklist(study, spec["methods"])}
    if include_names:
        spec["panel_names"] = [
            {"pseudonym": p.pseudonym, "name": p.user.name, "group": p.group.name, "role": p.role}
            for p in panellists
        ]
    return plain(spec)


def _declared_interests(
    study: Study, include_names: bool, panellists: list[Panellist]
) -> list[dict[str, Any]]:
    """Per stakeholder group, what its panellists who rate declared. Names only when the
    export includes the panel's names; otherwise the declarations are sorted, so their order
    says nothing of who made them. Never linked to ratings."""
    out = []
    panellists = [p for p in panellists if p.joined_at and p.panel_role.can_rate]
    for group in study.groups:
        members = [p for p in panellists if p.group_id == group.id]
        if not members:
            continue
        declared = [p for p in members if p.interests_declared_at is not None]
        interests = [
            {"name": p.user.name if include_names else None, "text": p.interests}
            for p in declared
            if not p.interests_none and p.interests
        ]
        if not include_names:
            interests.sort(key=lambda i: i["text"])
        out.append(
            {
                "group": group.name,
                "panellists": len(members),
                "declared": len(declared),
                "none_declared": sum(p.interests_none for p in declared),
                "interests": interests,
            }
        )
    return out


def _facilitator_name(study: Study) -> str:
    """The first facilitator's name: a document's author when no organisation is set."""
    first = min(study.facilitators, key=lambda f: f.id, default=None)
    return first.user.name if first is not None and first.user.name else ""


def _panellists(study: Study) -> list[Panellist]:
    return list(
        db.session.scalars(
            select(Panellist)
            .where(Panellist.study_id == study.id)
            .options(selectinload(Panellist.group), selectinload(Panellist.user))
            .order_by(Panellist.group_id, Panellist.id)
        )
    )


def _add_arguments(
    study: Study,
    rounds: list[Round],
    undecided: list[dict[str, Any]],
    summaries: dict[int, dict[str, Any]],
) -> None:
    """The main arguments on each side of each item without consensus (`delphi.reasons`):
    the pinned summary, or reasons quoted from the last round whose figures it shows."""
    number_to_id = {r.number: r.id for r in rounds if r.closed_at is not None}
    reasons = reasons_in(list(number_to_id.values()), [r["id"] for r in undecided])
    for record in undecided:
        evidence_round = (record["evidence"] or {}).get("round")
        round_id = number_to_id.get(evidence_round) if evidence_round else None
        summary = (summaries.get(record["id"]) or {}).get("summary", "")
        args = main_arguments(
            summary, reasons.get((round_id, record["id"]), []) if round_id else [], study.scale
        )
        record["arguments"] = {
            "round": evidence_round if round_id else None,
            "summary": args.summary,
            "for": [{"text": q.text, "group": q.group} for q in args.for_],
            "against": [{"text": q.text, "group": q.group} for q in args.against],
        }


def _discussion_summaries(study: Study, round_by_id: dict[int, Round]) -> dict[int, dict[str, Any]]:
    out = {}
    for thread in db.session.scalars(
        select(DiscussionThread).where(
            DiscussionThread.study_id == study.id,
            DiscussionThread.item_id.is_not(None),
            DiscussionThread.summary != "",
        )
    ):
        round_ = round_by_id.get(thread.summary_round_id or -1)
        out[thread.item_id] = {
            "summary": thread.summary,
            "round": round_.number if round_ else None,
        }
    return out


def _methods(
    study: Study,
    rounds: list[Round],
    items: list[Item],
    snapshots: dict[int, dict[str, Any]],
    version_in_round: dict[tuple[int, int], tuple[int, int]],
    decisions: dict[int, dict[int, ItemDecision]],
    spec: dict[str, Any],
    raw: pd.DataFrame | None,
    panellists: list[Panellist],
) -> dict[str, Any]:
    panel = []
    for group in study.groups:
        members = [p for p in panellists if p.group_id == group.id]
        joined = [p for p in members if p.joined_at]
        panel.append(
            {
                "group": group.name,
                "invited": len(members),
                "joined": len(joined),
                "partners": sum(p.role == PanelRole.PARTNER.value for p in joined),
                "patient_representatives": sum(
                    p.role == PanelRole.PATIENT_REP.value for p in joined
                ),
                "observers": sum(p.role == PanelRole.OBSERVER.value for p in joined),
                # Observers read but cannot rate: they are not counted as panellists.
                "panellists": sum(p.role != PanelRole.OBSERVER.value for p in joined),
            }
        )

    responders: dict[int, set[int]] = defaultdict(set)
    if raw is not None:
        for round_id, ids in raw.groupby("round_id")["panellist_id"].unique().items():
            responders[int(round_id)] = set(map(int, ids))
    else:
        for round_id, panellist_id in db.session.execute(
            select(Rating.round_id, Rating.panellist_id)
            .distinct()
            .join(Round, Round.id == Rating.round_id)
            .where(Round.study_id == study.id)
        ):
            responders[round_id].add(panellist_id)
    responders = dict(responders)
    # Who rated every item of a round ("finished"), from one grouped count.
    answered = {
        (round_id, panellist_id): n
        for round_id, panellist_id, n in db.session.execute(
            select(Rating.round_id, Rating.panellist_id, func.count(Rating.id))
            .join(Round, Round.id == Rating.round_id)
            .where(Round.study_id == study.id)
            .group_by(Rating.round_id, Rating.panellist_id)
        )
    }
    first = responders.get(rounds[0].id, set()) if rounds else set()
    participation = []
    # Each group's raters as (id, invited at), read off the ORM objects once, not per round.
    raters: dict[int, list[tuple[int, Any, Any]]] = defaultdict(list)
    for p in panellists:
        if p.role != PanelRole.OBSERVER.value:
            raters[p.group_id].append((p.id, p.invited_at, p.withdrawn_at))
    # Finishing a round is an answer on every criterion of every item (`expected_answers`).
    needed = {r.id: expected_answers(r.id) for r in rounds}
    for r in rounds:
        cutoff = r.closed_at or utcnow()
        for group in study.groups:
            members = raters.get(group.id, [])
            responded = {pid for pid, _, _ in members} & responders.get(r.id, set())
            # Invited before the round closed and not withdrawn before it opened; anyone who
            # responded was invited, whatever the clock says (imported or back-dated panels).
            ids = {
                pid
                for pid, invited_at, withdrawn_at in members
                if invited_at <= cutoff
                and (withdrawn_at is None or (r.opened_at and withdrawn_at >= r.opened_at))
            } | responded
            participation.append(
                {
                    "round": r.number,
                    "group": group.name,
                    "invited": len(ids),
                    "responded": len(responded),
                    "retained": len(responded & first),
                    "finished": sum(
                        answered.get((r.id, pid), 0) >= needed[r.id] > 0 for pid in responded
                    ),
                    "withdrew": sum(
                        withdrew_during_round(withdrawn_at, r.opened_at, r.closed_at)
                        for _, _, withdrawn_at in members
                    ),
                }
            )

    items_by_round: dict[int, set[int]] = defaultdict(set)
    for item_id, number in version_in_round:
        items_by_round[number].add(item_id)
    round_rows = []
    for r in rounds:
        present = items_by_round.get(r.number, set())
        earlier = set().union(*(items_by_round.get(n, set()) for n in range(1, r.number)))
        added = present - earlier if r.number > 1 else set()
        revised = {
            i
            for i in present
            if (i, r.number - 1) in version_in_round
            and version_in_round[(i, r.number - 1)][0] != version_in_round[(i, r.number)][0]
        }
        made = [decisions[i][r.number] for i in present if r.number in decisions[i]]
        confirmed = [d for d in made if d.decided_at]
        snap = snapshots.get(r.number) or {}
        round_rows.append(
            {
                "round": r.number,
                "status": r.status,
                "opened_at": iso(r.opened_at),
                "closed_at": iso(r.closed_at),
                "items_rated": len(present),
                "items_added": len(added),
                "items_revised": len(revised),
                "items_accepted": sum(d.decision == Decision.ACCEPT for d in confirmed),
                "items_excluded": sum(d.decision == Decision.EXCLUDE for d in confirmed),
                "items_carried_forward": sum(
                    d.decision == Decision.CARRY_FORWARD for d in confirmed
                ),
                "decisions_overriding_rule": sum(d.decision != d.suggested for d in confirmed),
                "alpha": snap.get("alpha"),
                "alpha_groups": snap.get("alpha_groups") or {},
            }
        )

    return {
        "panel": panel,
        "participation": participation,
        "participation_note": (
            "Invited: panellists who could rate (observers excluded) invited before the round "
            "closed and not withdrawn before it opened. Responded: rated at least one item in "
            "the round. Finished: rated every item of the round. Retained: responded in this "
            "round and in round 1. Withdrew: left the study while the round was open."
        ),
        "rounds": round_rows,
        "number_of_rounds": len(rounds),
        "stopping": " ".join([_stopping(study, rounds, items), *_reopened(study)]),
        "completion_reason": (study.stop_reason or "").strip() or None,
        "items_total": len(items),
        "merging_note": (
            "Merged items are recorded as an exclusion of the merged item, with the reason."
        ),
        "item_order": RANDOM_ORDER if study.random_item_order else None,
        "stability": _stored_stability(rounds, items, snapshots),
        "attrition_bias": attrition_checks(study),
        "attrition_note": ATTRITION_NOTE,
        "conduct": conduct(study),
        "anonymity": ANONYMITY,
        "ideas_round": _ideas_round(study),
        "discussion": [
            {"ref": entry["ref"], **entry["discussion_summary"]}
            for section in (
                [i for t in spec["themes"] for i in t["items"]],
                spec["excluded"],
                spec["no_consensus"],
            )
            for entry in section
            if entry["discussion_summary"]
        ],
    }


def _ideas_round(study: Study) -> dict[str, Any] | None:
    """The open ideas round before round 1 (`delphi.ideas`): questions, how many ideas from
    which groups, and what became of them. None when the study had no ideas round."""
    from app.services.ideas import summary

    found = summary(study)
    if found is None:
        return None
    return {
        "questions": found.questions,
        "ideas": found.ideas,
        "comments": found.comments,
        "contributors": found.contributors,
        "by_group": [
            {"group": group, "contributors": people, "ideas": ideas}
            for group, people, ideas in found.by_group
        ],
        "outcomes": {outcome.value: n for outcome, n in found.outcomes.items()},
        "items_made": list(found.items_made),
        "items_merged_into": list(found.items_merged_into),
    }


def _stored_stability(
    rounds: list[Round], items: list[Item], snapshots: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Stability per pair of consecutive closed rounds as each later round stored it when it
    closed (`results.compute_stability`: only ratings of the same wording are compared); a
    round closed before it was stored has it computed here."""
    closed = [r for r in rounds if r.closed_at]
    refs = {i.id: i.ref for i in items}
    out = []
    for curr in closed[1:]:
        payload = snapshots.get(curr.number)
        pair = (
            payload["stability"]
            if payload is not None and "stability" in payload
            else compute_stability(curr)
        )
        if not pair:
            continue
        rows = [
            {
                "ref": refs.get(row["item_id"], str(row["item_id"])),
                "n_paired": row["n_paired"],
                "pct_changed_band": row["pct_changed_band"],
                "p_value": row["p_value"],
                "stable": row["stable"],
                "verdict": row["verdict"],
                "wording_changed": bool(row.get("wording_changed")),
            }
            for row in pair["items"]
        ]
        out.append(
            {
                "from_round": pair["rounds"][0],
                "to_round": pair["rounds"][1],
                "items": rows,
                "stable_items": sum(1 for row in rows if row["stable"]),
                "wording_changed_items": sum(1 for row in rows if row["wording_changed"]),
            }
        )
    return out


def all_items(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item in the specification: agreed (by theme), excluded, no consensus."""
    return [i for t in spec["themes"] for i in t["items"]] + spec["excluded"] + spec["no_consensus"]
