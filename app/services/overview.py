"""A study across its rounds, read from the stored snapshots: for the facilitator's results,
the dashboard and each panellist's feedback page. Only plain data leaves this module."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    DiscussionThread,
    Item,
    ItemDecision,
    ItemVersion,
    Panellist,
    Rating,
    Round,
    RoundSnapshot,
    Study,
    Theme,
)
from app.services.ballot import PAGE_ITEMS
from app.services.cycle import (
    ChangeShown,
    stability_between_last_rounds,
    stability_view,
    version_changes,
)
from app.services.ratings import answers_of, ratings_by_version
from app.services.results import round_items_loaded, summarise
from app.services.transaction import transactional
from delphi import (
    ConsensusStatus,
    DecisionForPanel,
    RoundStatus,
    decision_for_panel,
    disclose_round_results,
)


@dataclass
class RoundFigures:
    """One closed round's stored figures (its summary, or with `round_figures(full=True)` its
    whole results), group figures disclosed (`delphi.disclosure`)."""

    number: int
    results: dict[str, Any]  # RoundSnapshot.results: group figures disclosed

    @property
    def alpha(self) -> dict[str, Any]:
        return self.results.get("alpha") or {}

    @property
    def alpha_groups(self) -> dict[str, Any]:
        return self.results.get("alpha_groups") or {}

    @property
    def participation(self) -> list[dict[str, Any]]:
        return self.results.get("participation") or []

    def by_item(self) -> dict[int, dict[str, Any]]:
        return {entry["item_id"]: entry for entry in self.results.get("items", {}).values()}


@dataclass
class BoardCell:
    status: ConsensusStatus
    decision: str | None = None
    confirmed: bool = False
    median: float | None = None
    pct_top: float | None = None
    # Several criteria: (criterion, status) for each criterion asked of the item.
    criteria: list[tuple[str, ConsensusStatus]] = field(default_factory=list)


@dataclass
class BoardRow:
    item: Item
    cells: dict[int, BoardCell] = field(default_factory=dict)


@dataclass
class Overview:
    study: Study
    rounds: list[RoundFigures]
    board: list[BoardRow]
    stability: list[dict[str, Any]] | None
    stability_rounds: tuple[int, int] | None
    # What `stability_between_last_rounds` gave, for `stop_reasons` on the same page.
    stability_found: dict[str, Any] | None = None

    @property
    def numbers(self) -> list[int]:
        return [r.number for r in self.rounds]

    def status_counts(self) -> list[tuple[int, dict[ConsensusStatus, int]]]:
        """Per closed round: how many items had each status."""
        out = []
        for figures in self.rounds:
            counts = dict.fromkeys(ConsensusStatus, 0)
            for entry in figures.results.get("items", {}).values():
                counts[ConsensusStatus.of(entry.get("status"))] += 1
            out.append((figures.number, counts))
        return out

    def alpha_trend(self) -> list[dict[str, Any]]:
        return [{"round": r.number, **r.alpha} for r in self.rounds if r.alpha]

    def group_names(self) -> list[str]:
        return [g.name for g in self.study.groups]


def closed_rounds(study: Study) -> list[Round]:
    return [r for r in study.rounds if r.round_status is RoundStatus.CLOSED]


def round_figures(study: Study, *, full: bool = False) -> list[RoundFigures]:
    """Each closed round's stored figures, in order: its summary (`results.summarise`: what
    the dashboard and the results across rounds show), or with `full` its whole results."""
    rounds = closed_rounds(study)
    if not rounds:
        return []
    ids = [r.id for r in rounds]
    if full:
        snaps = {
            s.round_id: s.results
            for s in db.session.scalars(
                select(RoundSnapshot).where(RoundSnapshot.round_id.in_(ids))
            )
        }
    else:
        rows = db.session.execute(
            select(RoundSnapshot.id, RoundSnapshot.round_id, RoundSnapshot.summary).where(
                RoundSnapshot.round_id.in_(ids)
            )
        ).all()
        missing = [snapshot_id for snapshot_id, _, summary in rows if summary is None]
        made = keep_summaries(missing) if missing else {}
        snaps = {
            round_id: disclose_round_results(summary if summary is not None else made[snapshot_id])
            for snapshot_id, round_id, summary in rows
        }
    return [RoundFigures(r.number, snaps[r.id]) for r in rounds if r.id in snaps]


@transactional
def keep_summaries(snapshot_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Make and keep the summary of rounds closed before summaries were kept."""
    out = {}
    for snapshot in db.session.scalars(
        select(RoundSnapshot).where(RoundSnapshot.id.in_(snapshot_ids))
    ):
        snapshot.summary = summarise(snapshot.results)
        out[snapshot.id] = snapshot.summary
    return out


def decisions_by_round(study: Study, *, confirmed_only: bool = False) -> dict[int, dict[int, str]]:
    """Round number → item id → the decision ("suggested:<value>" while unconfirmed)."""
    out: dict[int, dict[int, str]] = {}
    rows = db.session.execute(
        select(Round.number, ItemDecision.item_id, ItemDecision.decision, ItemDecision.decided_at)
        .join(Round, Round.id == ItemDecision.round_id)
        .where(Round.study_id == study.id)
    )
    for number, item_id, decision, decided_at in rows:
        if decided_at is None:
            if confirmed_only:
                continue
            decision = f"suggested:{decision}"
        out.setdefault(number, {})[item_id] = decision
    return out


def study_overview(study: Study) -> Overview:
    figures = round_figures(study)
    decisions = decisions_by_round(study)
    board: list[BoardRow] = []
    per_round = [(f.number, f.by_item()) for f in figures]
    for item in study.items:
        row = BoardRow(item)
        for number, entries in per_round:
            entry = entries.get(item.id)
            if entry is None:
                continue
            row.cells[number] = BoardCell(
                status=ConsensusStatus.of(entry.get("status")),
                decision=decisions.get(number, {}).get(item.id),
                median=entry.get("median"),
                pct_top=entry.get("pct_top"),
                # Each criterion's status when the item is asked several; otherwise its
                # one status says it all.
                criteria=[
                    (c.get("criterion"), ConsensusStatus.of(c.get("status")))
                    for c in entry.get("criteria") or []
                ]
                if len(entry.get("criteria") or []) > 1
                else [],
            )
        if row.cells:
            board.append(row)
    stability_rows: list[dict[str, Any]] | None = None
    stability_rounds = None
    result = None
    if len(figures) >= 2:
        last = figures[-1]
        if "stability" in last.results and last.number == closed_rounds(study)[-1].number:
            result = stability_view(last.results["stability"])
        else:  # closed before stability was stored: computed once and kept
            result = stability_between_last_rounds(study)
    if result:
        refs = {i.id: i.ref for i in study.items}
        stability_rows = [
            {"ref": refs.get(row["item_id"], str(row["item_id"])), **row} for row in result["items"]
        ]
        stability_rows.sort(key=lambda r: _ref_key(r["ref"]))
        stability_rounds = result["rounds"]
    return Overview(study, figures, board, stability_rows, stability_rounds, result)


def _ref_key(ref: str) -> tuple[str, int]:
    digits = "".join(c for c in ref if c.isdigit())
    return (ref.rstrip("0123456789"), int(digits) if digits else 0)


@dataclass
class HistoryEntry:
    number: int
    version: ItemVersion | None
    figures: dict[str, Any]
    decision: str | None


def item_history(study: Study, item: Item) -> list[HistoryEntry]:
    """The item in each closed round: the wording rated, the distribution, the decision."""
    decisions = decisions_by_round(study)
    versions = {v.id: v for v in item.versions}
    out = []
    for figures in round_figures(study, full=True):
        for key, entry in figures.results.get("items", {}).items():
            if entry.get("item_id") == item.id:
                out.append(
                    HistoryEntry(
                        number=figures.number,
                        version=versions.get(int(key)),
                        figures=entry,
                        decision=decisions.get(figures.number, {}).get(item.id),
                    )
                )
    return out


@dataclass
class FeedbackEntry:
    """One item of a closed round, as a panellist sees it afterwards."""

    item: Item
    version: ItemVersion
    figures: dict[str, Any]
    groups: list[tuple[str, dict[str, Any]]]  # disclosed: "withheld" below 3 raters
    own: Rating | None
    decision: DecisionForPanel | None
    changes: list[ChangeShown] | None
    change_note: str
    summary: str
    # Several criteria: the panellist's own answer per criterion id.
    own_by_criterion: dict[int, Rating] = field(default_factory=dict)


@dataclass
class FeedbackPart:
    """One page of a long feedback page: some or all of one theme's items."""

    number: int
    label: str
    theme: Theme
    entries: list[FeedbackEntry]

    @property
    def count(self) -> int:
        return len(self.entries)


def feedback_parts(entries: list[FeedbackEntry], per_page: int = PAGE_ITEMS) -> list[FeedbackPart]:
    """The feedback page's pages, as the ballot's (`ballot.ballot_parts`): everything on one
    when there are at most `per_page` items; otherwise one page per theme, a theme of more
    than `per_page` items in equal parts. `entries` come ordered by theme."""
    if not entries:
        return []
    by_theme: dict[int, list[FeedbackEntry]] = {}
    for entry in entries:
        by_theme.setdefault(entry.item.theme_id, []).append(entry)
    if len(entries) <= per_page:
        first = entries[0].item.theme
        return [FeedbackPart(1, "", first, entries)]
    parts: list[FeedbackPart] = []
    for theme_entries in by_theme.values():
        theme = theme_entries[0].item.theme
        n = len(theme_entries)
        pieces = -(-n // per_page)
        size = -(-n // pieces)
        for k in range(pieces):
            label = theme.name + (f", part {k + 1} of {pieces}" if pieces > 1 else "")
            chunk = theme_entries[k * size : (k + 1) * size]
            parts.append(FeedbackPart(len(parts) + 1, label, theme, chunk))
    return parts


def feedback_for_round(round_: Round, panellist: Panellist | None) -> list[FeedbackEntry]:
    """A closed round's results for one panellist: the panel's view, never anyone else's."""
    study = round_.study
    snap = db.session.scalar(select(RoundSnapshot).where(RoundSnapshot.round_id == round_.id))
    if snap is None:
        return []
    entries_by_version = {int(k): v for k, v in snap.results.get("items", {}).items()}
    own: dict[int, Rating] = {}
    answers: dict[tuple[int, int], Rating] = {}
    if panellist is not None:
        own = ratings_by_version(round_, panellist)  # the first criterion's, with the reason
        answers = answers_of(round_, panellist)
    decisions = {
        d.item_id: d
        for d in db.session.scalars(
            select(ItemDecision).where(
                ItemDecision.round_id == round_.id, ItemDecision.decided_at.is_not(None)
            )
        )
    }
    summaries = {
        t.item_id: t.summary
        for t in db.session.scalars(
            select(DiscussionThread).where(
                DiscussionThread.study_id == study.id,
                DiscussionThread.item_id.is_not(None),
                DiscussionThread.summary != "",
            )
        )
    }
    out = []
    ordered = sorted(
        round_items_loaded(round_, with_versions=True),
        key=lambda ri: (ri.item_version.item.theme.position, ri.item_version.item.position),
    )
    for round_item in ordered:
        version = round_item.item_version
        item = version.item
        figures = entries_by_version.get(version.id)
        if figures is None:
            continue
        groups = [
            (group.name, g)
            for group in study.groups
            if (g := (figures.get("groups") or {}).get(group.name)) is not None
        ]
        latest = item.current
        changed = latest.id != version.id
        out.append(
            FeedbackEntry(
                item=item,
                version=version,
                figures=figures,
                groups=groups,
                own=own.get(version.id),
                own_by_criterion={c: r for (v, c), r in answers.items() if v == version.id},
                decision=_for_panel(decisions.get(item.id), figures),
                changes=version_changes(version, latest) if changed else None,
                change_note=latest.change_note if changed else "",
                summary=summaries.get(item.id, ""),
            )
        )
    return out


def _for_panel(row: ItemDecision | None, figures: dict[str, Any]) -> DecisionForPanel | None:
    if row is None:
        return None
    return decision_for_panel(
        status=figures.get("status"),
        suggested=row.suggested,
        decision=row.decision,
        reason=row.reason,
    )


def decisions_for_panel(study: Study) -> list[tuple[int, Item, DecisionForPanel]]:
    """Every confirmed decision of the study's closed rounds as panellists are told it:
    (round number, item, what the rule found and what the facilitators decided, why)."""
    by_round = {f.number: f.results.get("items", {}) for f in round_figures(study)}
    rows = db.session.execute(
        select(Round.number, ItemDecision)
        .join(Round, Round.id == ItemDecision.round_id)
        .join(Item, Item.id == ItemDecision.item_id)
        .where(Round.study_id == study.id, ItemDecision.decided_at.is_not(None))
        .order_by(Round.number, Item.position)
        # Each decision's item and its versions (for `Item.current`) with it, not one by one.
        .options(joinedload(ItemDecision.item).selectinload(Item.versions))
    ).all()
    out = []
    for number, row in rows:
        status = next(
            (
                e.get("status")
                for e in by_round.get(number, {}).values()
                if e.get("item_id") == row.item_id
            ),
            None,
        )
        out.append((number, row.item, _for_panel(row, {"status": status})))
    return out  # type: ignore[return-value]
