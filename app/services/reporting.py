"""Reporting the study as a board or a journal expects: the attrition-bias check and the
ACCORD checklist, with the study settings they need that the app does not otherwise hold.

ACCORD (ACcurate COnsensus Reporting Document; Gattrell et al., PLoS Med 2024;21(1):
e1004326) lists 35 items: title (1), introduction (3), methods (21), results (5),
discussion (2) and other information (3). The specification's methods end with each item
and where this document reports it, or "Not reported" and why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Round, RoundSnapshot, Study, User
from app.services import audit
from app.services.results import ratings_frame, round_items_loaded, summarise
from app.services.transaction import transactional
from delphi import MIN_GROUP_RATERS
from delphi.disclosure import group_figures_visible
from scoring import Scale
from scoring.attrition import attrition_bias

SIGNIFICANCE = 0.05
FEWER = f"fewer than {MIN_GROUP_RATERS}"

ATTRITION_NOTE = (
    "Did the people who left the panel rate differently from those who stayed? For each "
    "item, the ratings given in the earlier round by panellists who went on to answer the "
    "later round (stayed) are compared with those of panellists who did not (left): the "
    "median of each, and a two-sided Mann-Whitney U test. An item is flagged when the test "
    f"finds a difference (p < {SIGNIFICANCE}): the later round's agreement may then partly "
    "reflect who remained rather than a change of view. Only group figures are shown; a side "
    f"of {FEWER} people reads “{FEWER}” and is not tested."
)


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class ReportingSettings:
    """What the reporting settings form sets (each may be empty)."""

    protocol_link: str = ""
    funding: str = ""
    steering_group: str = ""
    item_sources: str = ""
    questionnaire_pilot: str = ""
    protocol_deviations: str = ""


SETTING_LABELS = {
    "protocol_link": "Protocol or registration",
    "funding": "Funding",
    "steering_group": "Steering group",
    "item_sources": "Sources of the candidate items",
    "questionnaire_pilot": "Pilot of the questionnaire",
    "protocol_deviations": "Deviations from the protocol",
}


def reporting_settings_of(study: Study) -> ReportingSettings:
    return ReportingSettings(
        **{name: getattr(study, name) or "" for name in ReportingSettings.__annotations__}
    )


@transactional
def change_reporting_settings(
    study: Study, settings: ReportingSettings, *, actor: User | None
) -> None:
    """Save what the study reports about itself. Like the guide settings these describe the
    study for its readers and are not part of the consensus record (setup, panel, items,
    ratings, discussion), so they may be completed after the study ends: funding or a
    deviation from the protocol is often written up then."""
    for name, value in asdict(settings).items():
        setattr(study, name, value.strip())
    audit.record(study.id, "study.reporting_settings_changed", by=audit.actor_id(actor))


def conduct(study: Study) -> list[dict[str, str]]:
    """The settings as the specification states them, in order, empty ones included."""
    return [
        {"name": name, "label": label, "text": (getattr(study, name) or "").strip()}
        for name, label in SETTING_LABELS.items()
    ]


# ---------------------------------------------------------------- attrition bias


def _side(n: int) -> tuple[bool, int | None]:
    visible = group_figures_visible(n)
    return visible, n if visible else None


def attrition_pair(earlier: Round, later: Round) -> dict[str, Any]:
    """The attrition-bias check between two rounds, with only group figures: a side of fewer
    than `MIN_GROUP_RATERS` people shows no count, median or test (`delphi.disclosure`)."""
    before = ratings_frame(earlier)
    after = ratings_frame(later)
    stayed_ids = set(after["panellist"])
    everyone = set(before["panellist"])
    study = earlier.study
    scale = Scale(low=study.scale_min, high=study.scale_max)
    table = (
        attrition_bias(before[["panellist", "item", "rating"]], stayed_ids, scale, SIGNIFICANCE)
        if len(before)
        else None
    )
    stayed_visible, stayed_n = _side(len(everyone & stayed_ids))
    left_visible, left_n = _side(len(everyone - stayed_ids))
    rows = []
    for ri in round_items_loaded(earlier):
        version_id = ri.item_version_id
        if table is None or version_id not in table.index:
            continue
        figures = table.loc[version_id]
        s_ok, n_stayed = _side(int(figures["n_stayed"]))
        l_ok, n_left = _side(int(figures["n_left"]))
        tested = s_ok and l_ok
        p = float(figures["p_value"]) if tested else None
        flagged = bool(tested and figures["flagged"])
        if not int(figures["n_left"]):
            verdict = "Nobody who rated it left"
        elif not tested:
            verdict = f"Not tested: {FEWER} people on one side"
        elif flagged:
            verdict = "Those who left rated it differently"
        else:
            verdict = "No difference found"
        rows.append(
            {
                "ref": ri.item_version.item.ref,
                "n_stayed": n_stayed,
                "n_left": n_left,
                "median_stayed": float(figures["median_stayed"]) if s_ok else None,
                "median_left": float(figures["median_left"]) if l_ok else None,
                "stayed_withheld": not s_ok,
                "left_withheld": not l_ok,
                "u_statistic": float(figures["u_statistic"]) if tested else None,
                "p_value": p,
                "flagged": flagged,
                "verdict": verdict,
            }
        )
    return {
        "from_round": earlier.number,
        "to_round": later.number,
        "stayed": stayed_n,
        "left": left_n,
        "stayed_withheld": not stayed_visible,
        "left_withheld": not left_visible,
        "items": rows,
        "flagged_items": sum(1 for row in rows if row["flagged"]),
        "tested_items": sum(1 for row in rows if row["p_value"] is not None),
    }


def attrition_checks(study: Study) -> list[dict[str, Any]]:
    """The check for every pair of consecutive closed rounds: leaving is only known once the
    later round has closed. Read from the later round's snapshot, where closing it stored the
    check (`rounds.round_payload`: both rounds' ratings are frozen by then); a round closed
    before the check was stored has it computed here and kept."""
    closed = sorted((r for r in study.rounds if r.closed_at), key=lambda r: r.number)
    if len(closed) < 2:
        return []
    stored = {
        round_id: (snapshot_id, summary)
        for snapshot_id, round_id, summary in db.session.execute(
            select(RoundSnapshot.id, RoundSnapshot.round_id, RoundSnapshot.summary).where(
                RoundSnapshot.round_id.in_([r.id for r in closed[1:]])
            )
        )
    }
    out = []
    for earlier, later in zip(closed, closed[1:], strict=False):
        snapshot_id, summary = stored.get(later.id, (None, None))
        figures = (summary or {}).get("attrition")
        if figures is None or figures.get("from_round") != earlier.number:
            figures = attrition_pair(earlier, later)
            if snapshot_id is not None:
                keep_attrition(snapshot_id, figures)
        out.append(figures)
    return out


@transactional
def keep_attrition(snapshot_id: int, figures: dict[str, Any]) -> None:
    """Store the check of a round closed before it was stored (group figures only)."""
    snapshot = db.session.get(RoundSnapshot, snapshot_id)
    if snapshot is None:
        return
    snapshot.keep_attrition(figures)
    if snapshot.summary is None:  # kept with it, or the next reading computes it again
        snapshot.summary = summarise(snapshot.results)


# ---------------------------------------------------------------- ACCORD

NOT_REPORTED = "Not reported"

# (item number, section, topic) in the checklist's order.
ACCORD_ITEMS: list[tuple[int, str, str]] = [
    (1, "Title", "Identify the report as a consensus exercise and name the method used"),
    (2, "Introduction", "Background: why a consensus method was chosen"),
    (3, "Introduction", "Overall research aim: the aim and the question addressed"),
    (4, "Introduction", "Scope: the topic, setting and people the consensus concerns"),
    (5, "Methods", "Registration or protocol: where, and its identifier"),
    (6, "Methods", "Steering group: who planned and ran the process, and their role"),
    (7, "Methods", "Selection of participants: eligibility and the expertise sought"),
    (8, "Methods", "Recruitment: how participants were identified and invited"),
    (9, "Methods", "Composition of the panel: stakeholder groups and numbers"),
    (10, "Methods", "Evidence search: the sources of the candidate items"),
    (11, "Methods", "Other preparatory work: interviews, workshops, earlier studies"),
    (12, "Methods", "The consensus method and how it was adapted"),
    (13, "Methods", "Number of rounds, planned and how the number was decided"),
    (14, "Methods", "What each round asked: the items, the rating scale and its anchors"),
    (15, "Methods", "Pilot of the questionnaire"),
    (16, "Methods", "Definition of consensus, set in advance"),
    (17, "Methods", "Feedback given to participants between rounds"),
    (18, "Methods", "Anonymity of participants and their responses"),
    (19, "Methods", "How items were changed, added or dropped between rounds"),
    (20, "Methods", "Interaction between participants: discussion and its moderation"),
    (21, "Methods", "When and why the process stopped"),
    (22, "Methods", "Quantitative analysis: the statistics used"),
    (23, "Methods", "Qualitative analysis: how comments and discussion were used"),
    (24, "Methods", "Role of the facilitators, and whether they took part in rating"),
    (25, "Methods", "Ethics approval and participants' consent"),
    (26, "Results", "Participants: number and characteristics in each round"),
    (27, "Results", "Response and attrition in each round, and its possible effect"),
    (28, "Results", "Results of each round: items rated, agreed, dropped"),
    (29, "Results", "Final outcome: the agreed items in full"),
    (30, "Results", "Deviations from the protocol"),
    (31, "Discussion", "Summary of the findings and their interpretation"),
    (32, "Discussion", "Strengths and limitations of the process"),
    (33, "Other information", "Funding, and the role of the funder"),
    (34, "Other information", "Conflicts of interest of those involved"),
    (35, "Other information", "Availability of the data and materials"),
]


def _setting(study: Study, name: str, *, because: str) -> str:
    if (getattr(study, name) or "").strip():
        return f"Methods: Study conduct ({SETTING_LABELS[name]})"
    return f"{NOT_REPORTED}: {because}"


def accord_checklist(study: Study, methods: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ACCORD item with where this document reports it, or why it does not."""
    attrition = (
        "Methods: Panel and participation; Methods: Attrition-bias check"
        if methods.get("attrition_bias")
        else "Methods: Panel and participation (the attrition-bias check needs two closed rounds)"
    )
    no_setting = "the study's reporting settings do not state it"
    # The ideas round is preparatory work that made items (delphi.ideas), when there was one.
    ideas = "Methods: Ideas round" if methods.get("ideas_round") else ""
    preparatory = _setting(study, "item_sources", because=no_setting)
    if ideas:
        preparatory = ideas + (
            f"; {preparatory}" if not preparatory.startswith(NOT_REPORTED) else ""
        )
    outside = "a report of the study's findings, written outside this tool"
    where = {
        1: "Title page",
        2: f"{NOT_REPORTED}: {outside}",
        3: "Title page (Purpose)",
        4: "Title page (Purpose, Partners)",
        5: _setting(study, "protocol_link", because=no_setting),
        6: _setting(study, "steering_group", because=no_setting),
        7: "Methods: Panel and participation (stakeholder groups and roles)",
        8: f"{NOT_REPORTED}: panellists joined by personal invitation; how they were "
        "identified is not recorded in this tool",
        9: "Methods: Panel and participation",
        10: _setting(study, "item_sources", because=no_setting),
        11: preparatory,
        12: "Title page; Methods: Rounds",
        13: "Methods: Consensus rule (maximum rounds); Methods: Rounds",
        14: "Methods: Consensus rule (scale); Agreed prompts and indicators; Appendix C",
        15: _setting(study, "questionnaire_pilot", because=no_setting),
        16: "Methods: Consensus rule",
        17: "Methods: Anonymity (feedback between rounds)",
        18: "Methods: Anonymity",
        19: "; ".join(filter(None, [ideas, "Methods: Rounds; Appendix D (revision history)"])),
        20: "Methods: Discussion summaries",
        21: "Methods: Rounds",
        22: "Methods: Consensus rule; Agreement between panellists; Stability between "
        "rounds; Attrition-bias check",
        23: "Methods: Discussion summaries",
        24: f"{NOT_REPORTED}: the facilitators' role is not recorded in this tool",
        25: f"{NOT_REPORTED}: ethics approval and consent are not recorded in this tool",
        26: "Methods: Panel and participation; Methods: Who took part"
        if methods.get("who_took_part")
        else "Methods: Panel and participation (no background questions were asked)",
        27: attrition,
        28: "Methods: Rounds; Appendix A",
        29: "Summary; Agreed prompts and indicators",
        30: _setting(study, "protocol_deviations", because=no_setting),
        31: f"{NOT_REPORTED}: {outside}",
        32: f"{NOT_REPORTED}: {outside}",
        33: _setting(study, "funding", because=no_setting),
        34: "Methods: Declared interests (the panel's, by stakeholder group)"
        if any(g.get("declared") for g in methods.get("declared_interests") or [])
        else f"{NOT_REPORTED}: no panellist has declared interests yet",
        35: "The data export (ratings, items and results, pseudonymous) that accompanies "
        "this document",
    }
    return [
        {"item": number, "section": section, "topic": topic, "reported_in": where[number]}
        for number, section, topic in ACCORD_ITEMS
    ]
