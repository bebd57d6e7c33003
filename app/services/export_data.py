"""The study's data as tables (pandas DataFrames), pseudonymised, for the data export.

Tables: ratings (long form), items (every version), results (per round and item), results by
group, rounds (alpha), participation, panel, discussion, ideas (the ideas round). `COLUMNS`
explains each column; the README in the zip is written from it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, select

from app.extensions import db
from app.models import (
    DiscussionMessage,
    DiscussionThread,
    Item,
    ItemDecision,
    ItemVersion,
    Panellist,
    Rating,
    ReasonReview,
    Round,
    RoundSnapshot,
    StakeholderGroup,
    Study,
    Theme,
)
from app.services.indicator_testing import TESTING_COLUMNS, testing_tables
from app.text.cells import neutralise_formula
from delphi import MIN_GROUP_RATERS, WITHHELD_NOTE

COLUMNS: dict[str, dict[str, str]] = {
    "ratings": {
        "round": "Round number (1, 2, ...).",
        "item_ref": "The item's stable reference (P = prompt, I = indicator).",
        "item_version": "The version of the item's wording that was rated.",
        "criterion": "What the rating judged (Importance, Validity, ...): one row per rating, "
        "so an item asked on three criteria has three rows per panellist.",
        "pseudonym": "The panellist's pseudonym; the same person has the same pseudonym "
        "throughout.",
        "group": "The panellist's stakeholder group.",
        "role": "partner or patient_rep.",
        "rating": "The score on the study's scale; empty when unable to rate.",
        "unable": "True when the panellist chose 'unable to rate'.",
        "reason": "The reason the panellist gave, if any.",
        "reason_hidden_because": "Why the facilitators hid the reason from the rest of the "
        "panel (it was not fed back); empty when it was shown.",
    },
    "items": {
        "item_ref": "The item's stable reference.",
        "kind": "prompt or indicator.",
        "theme": "The theme the item belongs to.",
        "version": "Version number; every revision is a new version.",
        "text": "Wording (for an indicator, its name).",
        "definition": "Indicator: definition.",
        "numerator": "Indicator: numerator.",
        "denominator": "Indicator: denominator.",
        "data_source": "Indicator: data source.",
        "reporting_frequency": "Indicator: how often it is reported.",
        "threshold": "Indicator: the threshold between 'good' and 'needs improvement'.",
        "rationale": "Why the item matters.",
        "notes": "Notes for inspectors.",
        "change_note": "The facilitator's note on what changed in this version.",
        "rounds": "Rounds in which this version was rated, separated by spaces.",
        "created_at": "When the version was written (UTC, ISO 8601).",
        "final_decision": "accept, exclude or empty (no consensus yet), on the item.",
    },
    "results": {
        "round": "Round number.",
        "item_ref": "The item's reference.",
        "item_version": "The version rated in that round.",
        "n": "Ratings on the scale (unable to rate excluded).",
        "n_unable": "'Unable to rate' answers.",
        "mean": "Mean rating.",
        "median": "Median rating.",
        "q1": "First quartile.",
        "q3": "Third quartile.",
        "iqr": "Interquartile range (q3 - q1).",
        "pct_bottom": "Per cent of ratings in the bottom band.",
        "pct_middle": "Per cent of ratings in the middle band.",
        "pct_top": "Per cent of ratings in the top band.",
        "ipr": "RAND/UCLA inter-percentile range (30th-70th).",
        "ipras": "RAND/UCLA IPR adjusted for symmetry.",
        "di": "RAND/UCLA disagreement index (IPR / IPRAS); above 1 means disagreement.",
        "status": "What the consensus rule found: consensus_in, consensus_out, no_consensus.",
        "suggested": "The decision the rule suggested.",
        "decision": "The facilitator's confirmed decision (empty until confirmed).",
        "reason": "The facilitator's reason, required when overriding the suggestion.",
    },
    "results_by_group": {
        "round": "Round number.",
        "item_ref": "The item's reference.",
        "item_version": "The version rated.",
        "group": "Stakeholder group.",
        "n": "Ratings on the scale from the group.",
        "median": "The group's median.",
        "q1": "The group's first quartile.",
        "q3": "The group's third quartile.",
        "iqr": "The group's interquartile range.",
        "pct_top": "Per cent of the group's ratings in the top band (agreement).",
        "pct_bottom": "Per cent of the group's ratings in the bottom band.",
        "status": "What the rule finds for the group alone.",
        "note": f"'{WITHHELD_NOTE}' when fewer than {MIN_GROUP_RATERS} of the group rated the "
        "item: its figures are then left empty, so that nobody's rating can be worked out.",
    },
    "rounds": {
        "round": "Round number.",
        "status": "draft, open or closed.",
        "opened_at": "When the round opened (UTC).",
        "closed_at": "When the round closed (UTC).",
        "items": "Items rated in the round.",
        "alpha": "Krippendorff's alpha (ordinal) for the whole panel.",
        "alpha_ci_low": "Lower end of alpha's 95% bootstrap confidence interval.",
        "alpha_ci_high": "Upper end of alpha's 95% bootstrap confidence interval.",
        "alpha_units": "Items that entered alpha.",
        "alpha_raters": "Panellists who entered alpha.",
    },
    "participation": {
        "round": "Round number.",
        "group": "Stakeholder group.",
        "invited": "Panellists who could rate (observers excluded), invited before the round "
        "closed.",
        "responded": "Panellists who rated at least one item in the round.",
        "retained": "Panellists who responded in this round and in round 1.",
        "finished": "Panellists who rated every item of the round.",
        "withdrew": "Panellists who withdrew from the study while the round was open.",
    },
    "panel": {
        "pseudonym": "The panellist's pseudonym.",
        "group": "Stakeholder group.",
        "role": "partner, patient_rep or observer.",
        "joined": "True when the panellist accepted the invitation.",
        "withdrawn": "True when the panellist withdrew from the study.",
        "answers_removed": "True when they withdrew and had their answers removed.",
    },
    "discussion": {
        "thread": "The item's reference, or 'channel' for the study-wide channel.",
        "message_id": "The message's number.",
        "reply_to": "The number of the message replied to, if any.",
        "round": "The round the message was written in.",
        "author": "The author's pseudonym, or 'Facilitator'.",
        "kind": "message, or system for notices the tool wrote.",
        "category": "The category the author chose, if any.",
        "created_at": "When it was written (UTC).",
        "state": "shown, hidden (by a facilitator) or deleted (by its author).",
        "body": "The text; empty for hidden and deleted messages.",
    },
    "ideas": {
        "idea_id": "The idea's number (ideas round, before round 1).",
        "question": "The open question it answers; empty for a candidate prompt or indicator.",
        "kind": "answer, prompt or indicator.",
        "author": "The author's pseudonym.",
        "group": "The author's stakeholder group.",
        "created_at": "When it was added (UTC).",
        "text": "The idea as written.",
        "outcome": "pending, accepted (became a new item, alone or with other ideas), merged "
        "(into an existing item) or declined.",
        "item_ref": "The item it became or was merged into.",
        "response": "The facilitators' note; for a declined idea, the reason given to its author.",
        "comments": "How many comments panellists wrote on it.",
    },
    **TESTING_COLUMNS,
}
NAME_COLUMN = "name"


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading single quote.

    Numbers stored as numbers (a negative median, say) are left alone: only text is touched.
    Each distinct value is checked once, so long columns of repeated text stay fast.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if not (series.dtype == object or pd.api.types.is_string_dtype(series)):
            continue
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        values = list(uniques)
        fixed = [neutralise_formula(v) for v in values]
        if fixed == values:
            continue
        lookup = np.array([*fixed, None], dtype=object)
        out[column] = pd.Series(lookup[codes], index=series.index, dtype=object)
    return out


def read_frame(statement: Select[Any], columns: list[str]) -> pd.DataFrame:
    """A query's rows as a DataFrame, straight from the database driver's cursor.

    For hundreds of thousands of rows this is several times faster than building SQLAlchemy
    `Row` objects first. Only for plain columns (numbers, text, booleans): no type
    conversion is applied.
    """
    connection = db.session.connection()
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(compiled.params[name] for name in compiled.positiontup or [])
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return pd.DataFrame({c: [] for c in columns})
    return pd.DataFrame.from_records(rows, columns=columns)


def raw_ratings(study: Study) -> pd.DataFrame:
    """Every rating of the study as ids and values: round_id, panellist_id, item_version_id,
    criterion_id, score, unable, reason, hidden_because (the facilitators' reason for hiding
    the reason from the panel, or None). Read once per export and shared by the
    specification and the data."""
    frame = read_frame(
        select(
            Rating.round_id,
            Rating.panellist_id,
            Rating.item_version_id,
            Rating.criterion_id,
            Rating.score,
            Rating.unable,
            Rating.reason,
            ReasonReview.reason,
        )
        .join(Round, Round.id == Rating.round_id)
        .outerjoin(ReasonReview, ReasonReview.rating_id == Rating.id)
        .where(Round.study_id == study.id),
        [
            "round_id",
            "panellist_id",
            "item_version_id",
            "criterion_id",
            "score",
            "unable",
            "reason",
            "hidden_because",
        ],
    )
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce").astype(float)
    return frame


def ratings_table(study: Study, raw: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long form, one row per rating, with pseudonyms (never names)."""
    raw = raw_ratings(study) if raw is None else raw
    rounds = {r.id: r.number for r in study.rounds}
    versions = db.session.execute(
        select(ItemVersion.id, Item.ref, ItemVersion.number, Item.position)
        .join(Item, Item.id == ItemVersion.item_id)
        .where(Item.study_id == study.id)
    ).all()
    people = db.session.execute(
        select(Panellist.id, Panellist.pseudonym, StakeholderGroup.name, Panellist.role)
        .join(StakeholderGroup, StakeholderGroup.id == Panellist.group_id)
        .where(Panellist.study_id == study.id)
    ).all()
    v_ref = {v[0]: v[1] for v in versions}
    v_number = {v[0]: v[2] for v in versions}
    v_position = {v[0]: v[3] for v in versions}
    p_name = {p[0]: p[1] for p in people}
    p_group = {p[0]: p[2] for p in people}
    p_role = {p[0]: p[3] for p in people}
    version_ids, panellist_ids = raw["item_version_id"], raw["panellist_id"]
    criteria = {c.id: (c.name, c.position) for c in study.criteria}
    frame = pd.DataFrame(
        {
            "round": raw["round_id"].map(rounds),
            "item_ref": version_ids.map(v_ref),
            "item_version": version_ids.map(v_number),
            "criterion": raw["criterion_id"].map(lambda c: criteria.get(c, ("", 0))[0]),
            "pseudonym": panellist_ids.map(p_name),
            "group": panellist_ids.map(p_group),
            "role": panellist_ids.map(p_role),
            "rating": raw["score"].astype("Int64"),
            "unable": raw["unable"].astype(bool),
            "reason": raw["reason"].fillna(""),
            "reason_hidden_because": raw["hidden_because"].fillna("")
            if "hidden_because" in raw
            else "",
            "_position": version_ids.map(v_position),
            "_panellist": panellist_ids,
            "_criterion": raw["criterion_id"].map(lambda c: criteria.get(c, ("", 0))[1]),
        }
    )
    frame = frame.sort_values(["round", "_position", "_panellist", "_criterion"], kind="stable")
    return frame.drop(columns=["_position", "_panellist", "_criterion"]).reset_index(drop=True)


def items_table(study: Study) -> pd.DataFrame:
    from app.services.export import VERSION_FIELDS

    rows = db.session.execute(
        select(ItemVersion, Item.ref, Item.kind, Theme.name, Item.decision)
        .join(Item, Item.id == ItemVersion.item_id)
        .join(Theme, Theme.id == Item.theme_id)
        .where(Item.study_id == study.id)
        .order_by(Item.position, ItemVersion.number)
    ).all()
    rated = _rounds_by_version(study)
    records = []
    for version, ref, kind, theme, decision in rows:
        records.append(
            {
                "item_ref": ref,
                "kind": kind,
                "theme": theme,
                "version": version.number,
                **{name: getattr(version, name) or "" for name in VERSION_FIELDS},
                "change_note": version.change_note or "",
                "rounds": " ".join(str(n) for n in rated.get(version.id, [])),
                "created_at": version.created_at.isoformat() if version.created_at else "",
                "final_decision": decision or "",
            }
        )
    return pd.DataFrame(records, columns=list(COLUMNS["items"]))


def _rounds_by_version(study: Study) -> dict[int, list[int]]:
    from app.models import RoundItem

    out: dict[int, list[int]] = {}
    for version_id, number in db.session.execute(
        select(RoundItem.item_version_id, Round.number)
        .join(Round, Round.id == RoundItem.round_id)
        .where(Round.study_id == study.id)
        .order_by(Round.number)
    ):
        out.setdefault(version_id, []).append(number)
    return out


def results_tables(study: Study) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per round and item, per round, item and group, and per round (alpha)."""
    rounds = list(study.rounds)
    snaps = {
        s.round_id: s.results
        for s in db.session.scalars(
            select(RoundSnapshot).where(RoundSnapshot.round_id.in_([r.id for r in rounds]))
        )
    }
    decisions = {
        (d.round_id, d.item_id): d
        for d in db.session.scalars(
            select(ItemDecision).where(ItemDecision.round_id.in_([r.id for r in rounds]))
        )
    }
    results: list[dict[str, Any]] = []
    by_group: list[dict[str, Any]] = []
    round_rows: list[dict[str, Any]] = []
    for r in rounds:
        payload = snaps.get(r.id) or {}
        alpha = payload.get("alpha") or {}
        ci = alpha.get("ci") or [None, None]
        round_rows.append(
            {
                "round": r.number,
                "status": r.status,
                "opened_at": r.opened_at.isoformat() if r.opened_at else "",
                "closed_at": r.closed_at.isoformat() if r.closed_at else "",
                "items": len(r.round_items),
                "alpha": alpha.get("value"),
                "alpha_ci_low": ci[0],
                "alpha_ci_high": ci[1],
                "alpha_units": alpha.get("n_units"),
                "alpha_raters": alpha.get("n_raters"),
            }
        )
        for entry in (payload.get("items") or {}).values():
            decision = decisions.get((r.id, entry["item_id"]))
            row = {k: entry.get(k) for k in COLUMNS["results"]}
            row.update(
                round=r.number,
                item_ref=entry["ref"],
                item_version=entry["version"],
                decision=decision.decision if decision and decision.decided_at else "",
                reason=decision.reason if decision else "",
            )
            results.append(row)
            for group, figures in (entry.get("groups") or {}).items():
                g = {k: figures.get(k) for k in COLUMNS["results_by_group"]}
                g.update(
                    round=r.number,
                    item_ref=entry["ref"],
                    item_version=entry["version"],
                    group=group,
                )
                by_group.append(g)
    return (
        pd.DataFrame(results, columns=list(COLUMNS["results"])),
        pd.DataFrame(by_group, columns=list(COLUMNS["results_by_group"])),
        pd.DataFrame(round_rows, columns=list(COLUMNS["rounds"])),
    )


def panel_table(study: Study, *, include_names: bool = False) -> pd.DataFrame:
    rows = db.session.execute(
        select(
            Panellist.pseudonym,
            StakeholderGroup.name,
            Panellist.role,
            Panellist.joined_at,
            Panellist.withdrawn_at,
            Panellist.answers_removed,
        )
        .join(StakeholderGroup, StakeholderGroup.id == Panellist.group_id)
        .where(Panellist.study_id == study.id)
        .order_by(StakeholderGroup.position, Panellist.id)
    ).all()
    frame = pd.DataFrame(
        [
            (p, g, role, joined is not None, withdrawn is not None, bool(removed))
            for p, g, role, joined, withdrawn, removed in rows
        ],
        columns=list(COLUMNS["panel"]),
    )
    if include_names:
        from app.models import User

        names = {
            pseudonym: Panellist.name_shown(joined, invited, account)
            for pseudonym, joined, invited, account in db.session.execute(
                select(Panellist.pseudonym, Panellist.joined_at, Panellist.invited_name, User.name)
                .join(User, User.id == Panellist.user_id)
                .where(Panellist.study_id == study.id)
            )
        }
        frame[NAME_COLUMN] = frame["pseudonym"].map(names)
    return frame


def discussion_table(study: Study) -> pd.DataFrame:
    rows = db.session.execute(
        select(DiscussionMessage, DiscussionThread.key, Item.ref, Round.number, Panellist.pseudonym)
        .join(DiscussionThread, DiscussionThread.id == DiscussionMessage.thread_id)
        .outerjoin(Item, Item.id == DiscussionThread.item_id)
        .outerjoin(Round, Round.id == DiscussionMessage.round_id)
        .outerjoin(Panellist, Panellist.id == DiscussionMessage.author_panellist_id)
        .where(DiscussionThread.study_id == study.id)
        .order_by(DiscussionThread.id, DiscussionMessage.id)
    ).all()
    records = []
    for message, key, ref, round_number, pseudonym in rows:
        state = "deleted" if message.deleted_at else "hidden" if message.hidden_at else "shown"
        if message.kind == "system":
            author = "System"
        elif message.as_facilitator or not pseudonym:
            author = "Facilitator"
        else:
            author = pseudonym
        records.append(
            {
                "thread": ref or key,
                "message_id": message.id,
                "reply_to": message.parent_id,
                "round": round_number,
                "author": author,
                "kind": message.kind,
                "category": message.category or "",
                "created_at": message.created_at.isoformat() if message.created_at else "",
                "state": state,
                "body": message.body if state == "shown" else "",
            }
        )
    frame = pd.DataFrame(records, columns=list(COLUMNS["discussion"]))
    for column in ("reply_to", "round"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    return frame


def ideas_table(study: Study) -> pd.DataFrame:
    """The ideas round's ideas under pseudonyms, and what became of each."""
    from app.services.ideas import ideas_for

    records = [
        {
            "idea_id": idea.id,
            "question": idea.question.text if idea.question else "",
            "kind": idea.kind,
            "author": idea.panellist.pseudonym,
            "group": idea.panellist.group.name,
            "created_at": idea.created_at.isoformat(),
            "text": idea.text,
            "outcome": idea.status,
            "item_ref": idea.result_item.ref if idea.result_item else "",
            "response": idea.response,
            "comments": len(idea.comments),
        }
        for idea in ideas_for(study)
    ]
    return pd.DataFrame(records, columns=list(COLUMNS["ideas"]))


def participation_table(spec: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(spec["methods"]["participation"], columns=list(COLUMNS["participation"]))


def data_tables(
    study: Study,
    spec: dict[str, Any],
    *,
    include_names: bool = False,
    raw: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table of the data export, text cells neutralised against formula injection."""
    results, by_group, rounds = results_tables(study)
    tables = {
        "ratings": ratings_table(study, raw),
        "items": items_table(study),
        "results": results,
        "results_by_group": by_group,
        "rounds": rounds,
        "participation": participation_table(spec),
        "panel": panel_table(study, include_names=include_names),
        "discussion": discussion_table(study),
        "ideas": ideas_table(study),
        **testing_tables(spec),
    }
    return {name: neutralise(frame) for name, frame in tables.items()}
