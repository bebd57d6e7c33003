"""The demo study, from the seed project: research in the CQC Well-led assessment."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Criterion,
    Panellist,
    Rating,
    Round,
    Study,
    StudyFacilitator,
    User,
    utcnow,
)
from app.security import hash_password
from app.services import audit
from app.services.panel import add_panellist
from app.services.rounds import close_round, open_round, record_decisions
from app.services.studies import ItemFields, add_group, add_item, unique_slug
from app.services.transaction import unit_of_work
from delphi import Decision, ItemKind, PanelRole

OFFERS = "Offers research opportunities for patients"
CONDUCT = "Facilitates implementation and conduct of research"
EQUITY = "Enables equity of research opportunities across specialties"

# (theme, wording, how much the panel tends to like it: mean rating)
PROMPTS = [
    (
        OFFERS,
        "How does the board assure itself that patients in every specialty are offered "
        "the chance to take part in research?",
        8.0,
    ),
    (
        OFFERS,
        "How are patients told about research they could join, in clinics, on wards and online?",
        7.6,
    ),
    (
        OFFERS,
        "How does the trust use patient feedback about taking part in research to "
        "improve what it offers?",
        6.8,
    ),
    (
        OFFERS,
        "Does the trust publish the research studies it is recruiting to in a way "
        "patients can find?",
        5.8,
    ),
    (
        OFFERS,
        "How does the trust involve patients and the public in choosing and designing "
        "the research it hosts?",
        7.4,
    ),
    (OFFERS, "Do patients receive a summary of the results of studies they took part in?", 5.2),
    (OFFERS, "How many patient-facing staff can describe how to refer a patient to research?", 3.0),
    (CONDUCT, "Is research a standing item at board meetings, with a named executive lead?", 7.8),
    (
        CONDUCT,
        "How does the trust make sure that research is included in its strategy and annual plans?",
        7.5,
    ),
    (CONDUCT, "How are clinicians given protected time to lead and deliver research?", 7.0),
    (
        CONDUCT,
        "How quickly does the trust confirm its capacity and capability to deliver new studies?",
        6.2,
    ),
    (CONDUCT, "How does the trust support research delivery staff's careers and training?", 6.6),
    (
        CONDUCT,
        "Does the trust's pharmacy, imaging and pathology capacity allow research to be delivered?",
        5.6,
    ),
    (CONDUCT, "How many commercial studies has the trust hosted in the last year?", 2.6),
    (
        EQUITY,
        "How does the trust know which groups of patients are under-served by its research?",
        7.7,
    ),
    (
        EQUITY,
        "What is the trust doing to offer research to patients in specialties with little "
        "research activity?",
        7.2,
    ),
    (
        EQUITY,
        "Are research opportunities offered in community and mental health services as "
        "well as acute care?",
        6.9,
    ),
    (
        EQUITY,
        "How does the trust make information about research accessible to people with "
        "different languages and abilities?",
        7.3,
    ),
    (
        EQUITY,
        "Does the trust monitor research participation by ethnicity, age, sex and deprivation?",
        6.4,
    ),
    (EQUITY, "Does every clinical directorate have a research champion?", 3.4),
]

INDICATORS = [
    (
        OFFERS,
        "Patients recruited to research studies per 1,000 admissions",
        {
            "definition": "Patients recruited to NIHR portfolio studies in the year, per 1,000 "
            "admissions.",
            "numerator": "Participants recruited to NIHR Clinical Research Network "
            "portfolio studies in the financial year",
            "denominator": "Admitted patient care spells in the financial year, divided by 1,000",
            "data_source": "NIHR CRN Open Data Platform; Hospital Episode Statistics",
            "rationale": "A simple, comparable measure of how often patients are offered research.",
            "reporting_frequency": "Yearly, for the financial year; quarterly figures in year",
            "threshold": "Good: at or above the median of similar trusts. Needs improvement: "
            "in the lowest quarter of similar trusts.",
        },
        7.4,
    ),
    (
        EQUITY,
        "Share of specialties recruiting to at least one study",
        {
            "definition": "Proportion of the trust's clinical specialties that recruited at least "
            "one participant to a research study in the year.",
            "numerator": "Specialties with one or more research participants in the year",
            "denominator": "Specialties with clinical activity in the year",
            "data_source": "NIHR CRN Open Data Platform; trust service line reporting",
            "rationale": "Shows whether research is spread across the trust or concentrated.",
        },
        6.9,
    ),
    (
        CONDUCT,
        "Median days from site selection to first participant recruited",
        {
            "definition": "Median number of days between a site being selected and its first "
            "participant being recruited, for studies opened in the year.",
            "numerator": "Days from site selection to first recruit, per study",
            "denominator": "Studies opened at the trust in the year",
            "data_source": "Local portfolio management system; Edge",
            "rationale": "Set-up speed reflects how well the trust supports research delivery.",
        },
        6.0,
    ),
    (
        CONDUCT,
        "Research income as a share of trust turnover",
        {
            "definition": "Research income received in the year as a percentage of total trust "
            "income.",
            "numerator": "Research income (grants, commercial and CRN funding)",
            "denominator": "Total trust operating income",
            "data_source": "Trust annual accounts",
            "rationale": "Indicates the scale of research activity.",
        },
        3.6,
    ),
]

# What inspectors look for under a prompt ("notes for inspectors"), by the prompt's opening
# words: what good looks like and what needs improvement, as CQC's brief guides put it.
NOTES = {
    "How does the board assure itself": "Good: board papers report research participation by "
    "specialty and act on gaps. Needs improvement: research is reported only as income or "
    "study numbers, or not at all.",
    "How are patients told about research": "Good: patients meet research information in "
    "clinics, on wards and online, in plain language. Needs improvement: information depends "
    "on individual clinicians.",
    "How does the trust involve patients and the public": "Good: patient partners help choose "
    "and shape studies, and are paid for their time. Needs improvement: involvement is "
    "occasional or only at consent.",
    "Is research a standing item": "Good: a named executive lead reports to the board at least "
    "quarterly. Needs improvement: research reaches the board only through committees.",
    "How does the trust make sure that research is included": "Good: the strategy sets "
    "research aims with owners and resources. Needs improvement: research is absent from "
    "the strategy or mentioned without actions.",
    "How does the trust know which groups": "Good: participation is compared with the local "
    "population and gaps are acted on. Needs improvement: no data on who takes part.",
    "What is the trust doing to offer research to patients in specialties": "Good: a plan and "
    "support for low-activity specialties. Needs improvement: research is left to the "
    "specialties that already do it.",
    "How does the trust make information about research accessible": "Good: translated, easy "
    "read and accessible formats are available and used. Needs improvement: English-only, "
    "text-only information.",
}

# The inspectors' guide: how the demo study frames it (study settings, issue 15).
GUIDE = {
    "owner_organisation": "Care Quality Commission",
    "guide_context": (
        "Research is part of good care. Patients in research-active trusts are offered more "
        "treatment options, and staff who take part in research bring new evidence into "
        "everyday practice. Whether a trust offers every patient the chance to take part, "
        "and whether its leaders make that possible, says a lot about how well it is led."
        "\n\n"
        "This brief guide helps inspection teams judge how well an NHS trust supports "
        "research. It sets out the prompts and the indicator agreed by CQC and its partners "
        "(the HRA, the NIHR Clinical Research Network, the MHRA, the NHS R&D Forum, the "
        "Health Research Leadership Organisation) and patient representatives."
    ),
    "framework": (
        "Well-led key question: is the leadership, management and governance of the trust "
        "making sure it provides high-quality care that is based around people's needs, "
        "that it encourages learning and innovation, and that it promotes an open and fair "
        "culture? The prompts support the quality statements on learning, improvement and "
        "innovation, and on governance, management and sustainability."
    ),
    "framework_url": "https://www.cqc.org.uk/assessment/quality-statements/well-led",
    "guide_reporting": (
        "Record evidence under the Well-led key question, against the quality statement on "
        "learning, improvement and innovation, and quote the prompt's reference (for example "
        "P1) in each evidence note. Report the indicator's value with its period and data "
        "source beside the threshold it meets; where the trust's figure is not available, "
        "say so rather than estimate it."
    ),
    "guide_sources": (
        "CQC: the assessment framework and the quality statements of the Well-led key "
        "question\n"
        "NIHR Clinical Research Network: Open Data Platform\n"
        "Health Research Authority: UK Policy Framework for Health and Social Care Research\n"
        "The specification of this study: the evidence of agreement for each prompt and "
        "indicator"
    ),
}

# Reporting settings for the ACCORD checklist (issue 17); the protocol address is the demo's
# own placeholder, not a real registration.
REPORTING = {
    "protocol_link": "https://example.org/research-well-led/protocol",
    "funding": (
        "Carried out by CQC's own staff with its partners' time given in kind; no external "
        "funding. No funder had a say in the items or the decisions."
    ),
    "steering_group": (
        "A CQC inspection policy lead (chair), a research lead from the NIHR Clinical "
        "Research Network, an HRA representative and a patient representative: they drafted "
        "the candidate items, set the consensus rule and decided between rounds."
    ),
    "item_sources": (
        "The seed project's workshops with the partners; CQC's Well-led assessment framework "
        "and quality statements; the NIHR Clinical Research Network's Open Data Platform for "
        "the research-activity indicator."
    ),
    "questionnaire_pilot": (
        "Round 1 was tried by two inspectors and one patient representative who were not on "
        "the panel; two prompts were reworded for clarity."
    ),
    "protocol_deviations": "None so far.",
}

GROUPS = [
    ("CQC", 4),
    ("HRA", 3),
    ("NIHR CRN", 4),
    ("MHRA", 2),
    ("NHS R&D Forum", 4),
    ("HRLO", 3),
    ("Patient representatives", 4),
]

FIRST_NAMES = [
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Eleanor",
    "Farid",
    "Grace",
    "Harpreet",
    "Isla",
    "James",
    "Kofi",
    "Laura",
    "Mohammed",
    "Nia",
    "Owen",
    "Priya",
    "Rosa",
    "Sam",
    "Tom",
    "Uma",
    "Victor",
    "Wen",
    "Yasmin",
    "Zoe",
]
SURNAMES = [
    "Adeyemi",
    "Brown",
    "Clarke",
    "Davies",
    "Evans",
    "Fraser",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Morgan",
    "Nowak",
    "Okafor",
    "Patel",
    "Quinn",
    "Roberts",
    "Singh",
    "Taylor",
    "Usman",
    "Vaughan",
    "Walker",
    "Young",
]

REASONS = {
    "high": [
        "Boards must own this; it is the heart of well-led research.",
        "Patients tell us they were never asked. This prompt gets at that.",
        "Inspectors can check this from existing evidence.",
    ],
    "mid": [
        "Useful, but the wording is broad for an inspection.",
        "Depends on the size of the trust.",
        "Important, though hard for inspectors to judge quickly.",
    ],
    "low": [
        "Counts activity rather than how well research is led.",
        "Would favour large teaching hospitals.",
        "Not something inspectors should judge.",
    ],
}


# Patient representatives speak from their own experience: the feedback's "patient voices"
# filter then finds something of its own. Chosen without the random generator, so the demo's
# ratings stay as they were.
PATIENT_REASONS = {
    "high": [
        "I was never asked about a study while I was being treated; I would have said yes.",
        "Patients trust a trust whose board talks about research openly.",
    ],
    "mid": [
        "It matters to patients, but the question is hard to answer in plain words.",
        "Good aim; patients would need to see what it changes.",
    ],
    "low": [
        "Patients care more about being asked than about counts of studies.",
        "This measures paperwork, not whether patients are offered a chance.",
    ],
}
# A reason the facilitator hid after round 1 (shown to its author with why).
HIDDEN_REASON = "The research lead at my own trust would never manage this."
HIDDEN_WHY = "It points to one person at one trust; please keep reasons general."


def _band_key(score: int) -> str:
    return "high" if score >= 7 else "low" if score <= 3 else "mid"


def _score(rng: random.Random, mean: float, spread: float) -> int:
    return max(1, min(9, round(rng.gauss(mean, spread))))


def _reason(rng: random.Random, score: int) -> str:
    if rng.random() > 0.3:
        return ""
    return rng.choice(REASONS[_band_key(score)])


def seed_demo(seed: int = 20261123) -> Study:
    """Seed the demo study, one step (one transaction) at a time, as people would have."""
    rng = random.Random(seed)
    with unit_of_work():
        facilitator, study, panellists = _panel()
        _seed_consent(study, facilitator, panellists)
        # Round 0: the panel's ideas, curated into some of the items rated from round 1.
        appeal = _ideas_round_and_items(study, facilitator, panellists)
    _seed_background(study, facilitator, panellists, random.Random(seed + 1))
    # The facilitator acts in the story the demo tells (and so in its audit log).
    round1 = open_round(
        study,
        actor=facilitator,
        now=utcnow() - timedelta(days=21),
        instructions=(
            "Rate how important each prompt or indicator is for judging whether a trust is "
            "well-led in supporting research; rate each indicator's validity and feasibility "
            "too."
        ),
    )
    with unit_of_work():
        _rate(rng, round1, panellists[:22], appeal, first=True)  # two did not respond
    _seed_discussion(study, panellists, facilitator)
    close_round(round1.id, actor=facilitator, now=utcnow() - timedelta(days=8))
    from app.models import ItemDecision

    decisions = db.session.scalars(
        select(ItemDecision).where(ItemDecision.round_id == round1.id)
    ).all()
    record_decisions(
        round1, {d.item_id: (Decision(d.suggested), "") for d in decisions}, facilitator
    )

    _pin_summaries(study, facilitator)
    _hide_one_reason(study, round1, facilitator)
    round2 = open_round(
        study,
        actor=facilitator,
        now=utcnow() - timedelta(days=2),
        instructions=(
            "These items did not reach consensus in round 1. Look at how the panel rated them, "
            "then rate them again."
        ),
        closes_at=utcnow() + timedelta(days=10),
    )
    round2_raters = [  # round 2 is under way
        p
        for p in panellists[2:16]
        if p.user.email not in ("patient1@demo.test", "partner1@demo.test")
    ]
    with unit_of_work():
        _rate(rng, round2, round2_raters, appeal, first=False)
    _seed_withdrawal(panellists)
    from app.demo_indicators import seed_indicator_test_data

    seed_indicator_test_data(study, facilitator)
    return study


def _add_co_facilitator(study: Study, facilitator: User) -> None:
    """The study is run by two facilitators, each with their own account (issue 17)."""
    co = db.session.scalar(select(User).where(User.email == CO_FACILITATOR_EMAIL))
    if co is None:
        co = User(email=CO_FACILITATOR_EMAIL, name="Demo Co-facilitator")
        db.session.add(co)
    co.can_create_studies = True
    co.password_hash = hash_password("demo-facilitator")
    db.session.flush()
    db.session.add(StudyFacilitator(study_id=study.id, user_id=co.id, added_at=utcnow()))
    audit.record(
        study.id, "facilitator.added", by=facilitator.id, email=co.email, new_account=False
    )


CO_FACILITATOR_EMAIL = "cofacilitator@demo.test"


def _panel() -> tuple[User, Study, list[Panellist]]:
    facilitator = db.session.scalar(select(User).where(User.email == "facilitator@demo.test"))
    if facilitator is None:
        facilitator = User(email="facilitator@demo.test", name="Demo Facilitator")
        db.session.add(facilitator)
    facilitator.can_create_studies = True
    facilitator.password_hash = hash_password("demo-facilitator")
    study = Study(
        slug=unique_slug("research-well-led")
        if db.session.scalar(select(Study.id).where(Study.slug == "research-well-led"))
        else "research-well-led",
        title="Research in the CQC Well-led assessment",
        purpose=(
            "The Care Quality Commission, the Health Research Authority, the NIHR Clinical "
            "Research Network, the MHRA, the NHS R&D Forum, the Health Research Leadership "
            "Organisation and patient representatives are agreeing the prompts inspectors use "
            "to judge whether an NHS trust is well-led in supporting research, and a pilot "
            "research-activity indicator."
        ),
        max_rounds=3,
        **GUIDE,
        **REPORTING,
    )
    db.session.add(study)
    db.session.flush()
    db.session.add(StudyFacilitator(study_id=study.id, user_id=facilitator.id))
    _add_co_facilitator(study, facilitator)
    _criteria(study)
    groups = {name: add_group(study, name) for name, _ in GROUPS}
    db.session.flush()

    panel_password = hash_password("demo-panellist")
    panellists = []
    counter = {"partner": 0, "patient": 0}
    people = iter(zip(FIRST_NAMES, SURNAMES, strict=True))
    joined = utcnow() - timedelta(days=30)
    for group_name, size in GROUPS:
        for _ in range(size):
            first, last = next(people)
            patient = group_name == "Patient representatives"
            key = "patient" if patient else "partner"
            counter[key] += 1
            email = f"{key}{counter[key]}@demo.test"
            panellist = add_panellist(
                study,
                name=f"{first} {last}",
                email=email,
                group=groups[group_name],
                role=PanelRole.PATIENT_REP if patient else PanelRole.PARTNER,
            )
            panellist.joined_at = joined
            if email in ("patient1@demo.test", "partner1@demo.test"):
                panellist.user.password_hash = panel_password
            panellists.append(panellist)
    # One observer, as real panels often have.
    observer = add_panellist(
        study,
        name="Olivia Observer",
        email="observer1@demo.test",
        group=groups["CQC"],
        role=PanelRole.OBSERVER,
    )
    observer.joined_at = joined
    return facilitator, study, panellists


# The ideas round (round 0, `delphi.ideas`): the facilitators' open questions, the panel's
# ideas (by position in the demo panel; the last two panellists had not yet agreed to take
# part), comments, and what became of each idea.
QUESTIONS = [
    "What should inspectors ask a trust's leaders about research?",
    "What would show that a trust offers research fairly to all of its patients?",
]
# (panellist, question number or "prompt"/"indicator", the idea, the prompt it became by
# the prompt's opening words; None: see IDEAS_MERGED and IDEAS_DECLINED)
IDEAS = [
    (0, 1, "Ask who on the board is accountable for research, and how often research "
     "comes to the board.", "Is research a standing item"),
    (4, 1, "Look at board papers: do they ever report research, and is it more than "
     "income?", "Is research a standing item"),
    (13, 1, "Whether research is in the trust strategy with real resources behind it, not "
     "just a sentence.", "How does the trust make sure that research is included"),
    (20, 2, "Ask patients whether anyone ever offered them a study. Many of us were never "
     "asked.", "How does the board assure itself"),
    (21, 2, "Information about research in other languages and in easy read.",
     "How does the trust make information about research accessible"),
    (7, 2, "Compare who takes part in research with the local population.",
     "How does the trust know which groups"),
    (11, "prompt", "Does the trust have the pharmacy capacity to run trials?",
     "Does the trust's pharmacy"),
    (17, "prompt", "How many commercial studies does the trust host?",
     "How many commercial studies"),
    (21, "prompt", "Send people who took part a thank-you and a summary of the results.",
     "Do patients receive a summary"),
    (8, "indicator", "Research participants by ethnicity against the local population", None),
    (1, "indicator", "Research nurses per 100 beds", None),
]  # fmt: skip
IDEAS_MERGED = {  # idea index: the item it was merged into
    9: "Does the trust monitor research participation",
}
IDEAS_DECLINED = {
    10: "Staffing ratios vary with the case mix and say little about patients; the panel's "
    "indicators measure patients offered research instead.",
}
IDEA_COMMENTS = [  # (idea index, panellist, comment)
    (0, 13, "Agree. A named executive lead makes someone answerable."),
    (0, 20, "As a patient I would want to know the board hears about us, not just money."),
    (3, 21, "Yes. I was only asked once, in ten years of clinic visits."),
    (5, 9, "The CRN can supply the population figures for this."),
    (10, 15, "Would this not favour the large teaching hospitals?"),
]


def _ideas_round_and_items(
    study: Study, facilitator: User, panellists: list[Panellist]
) -> dict[int, float]:
    """The completed ideas round, then the items: those the panel's ideas became are made
    from the ideas by the facilitator's curation (in the facilitator's wording), the rest as
    the steering group drafted them. Refs and order are the same either way."""
    from app.models import Proposal
    from app.services import ideas
    from delphi.ideas import IdeaOutcome

    began = utcnow() - timedelta(days=29)
    ideas.open_ideas_round(study, facilitator)
    questions = [ideas.add_question(study, q, facilitator) for q in QUESTIONS]
    made: list[Proposal] = []
    for n, (who, about, text, _) in enumerate(IDEAS):
        question = questions[about - 1] if isinstance(about, int) else None
        idea = ideas.add_idea(
            study,
            panellists[who],
            question=question,
            kind=about if isinstance(about, str) else "",
            text=text,
        )
        idea.created_at = began + timedelta(hours=6 * n)
        made.append(idea)
    for n, (index, who, text) in enumerate(IDEA_COMMENTS):
        comment = ideas.add_comment(study, made[index], panellists[who], text)
        comment.created_at = began + timedelta(days=3, hours=5 * n)
    ideas.close_ideas_round(study, facilitator)

    appeal: dict[int, float] = {}
    for theme, text, mean in PROMPTS:
        notes = next((n for start, n in NOTES.items() if text.startswith(start)), "")
        sources = [made[i] for i, idea in enumerate(IDEAS) if idea[3] and text.startswith(idea[3])]
        if sources:
            new = ideas.NewItem(kind=ItemKind.PROMPT, theme=theme, text=text)
            item = ideas.curate(study, sources, IdeaOutcome.ACCEPTED, facilitator, new_item=new)
            assert item is not None
            item.current.notes = notes
        else:
            fields = ItemFields(ItemKind.PROMPT, theme, text, notes=notes)
            item = add_item(study, fields, facilitator)
        appeal[item.id] = mean
    for theme, name, details, mean in INDICATORS:
        item = add_item(study, ItemFields(ItemKind.INDICATOR, theme, name, **details), facilitator)
        appeal[item.id] = mean
    for index, start_of in IDEAS_MERGED.items():
        into = next(i for i in study.items if i.current.text.startswith(start_of))
        ideas.curate(
            study,
            [made[index]],
            IdeaOutcome.MERGED,
            facilitator,
            reason="This prompt already asks for participation by ethnicity.",
            merge_into=into,
        )
    for index, reason in IDEAS_DECLINED.items():
        ideas.curate(study, [made[index]], IdeaOutcome.DECLINED, facilitator, reason=reason)
    decided = began + timedelta(days=6)
    for idea in made:
        idea.decided_at = decided
    return appeal


PARTICIPANT_INFORMATION = """\
## Why we are asking you

The partners are agreeing how CQC inspectors judge whether an NHS trust is **well-led in
supporting research**. You were invited for your experience of research in the NHS, as a
professional or as a patient.

## What taking part involves

- two or three rounds of rating, about 20 minutes each, a few weeks apart
- reading how the panel rated each item between rounds, and rating again
- if you wish, commenting in the discussion of each item

## Your answers

Other panellists see you only by a pseudonym. Facilitators see your name. Your ratings,
reasons and comments are kept pseudonymously in the record of the study; your name, email
and declared interests are erased when the study's records are no longer needed.

You can stop at any time without giving a reason.
"""

CONSENT_STATEMENTS = (
    "I have read the participant information for version 1.\n"
    "I understand that my ratings and comments are shown to the panel under a pseudonym.\n"
    "I agree to take part."
)

# A few declarations (by the panellist's position in the demo panel); the rest declare none.
INTERESTS = {
    0: "Employed by the Care Quality Commission; no other interests.",
    8: "Principal investigator on two NIHR-funded studies at my trust.",
    21: "Member of a research charity's patient panel (unpaid).",
}


def _seed_consent(study: Study, facilitator: User, panellists: list[Panellist]) -> None:
    """Participant information version 1; every panellist but the last two agreed to it when
    they joined, and declared their interests."""
    from app.models import Consent
    from app.services.consent import publish_information

    info = publish_information(
        study, text=PARTICIPANT_INFORMATION, statements=CONSENT_STATEMENTS, actor=facilitator
    )
    assert info is not None
    info.created_at = utcnow() - timedelta(days=31)
    db.session.flush()
    agreed = utcnow() - timedelta(days=30)
    for index, panellist in enumerate(panellists[:-2]):
        db.session.add(Consent(panellist_id=panellist.id, version=1, agreed_at=agreed))
        panellist.interests_declared_at = agreed
        panellist.interests_none = index not in INTERESTS
        panellist.interests = INTERESTS.get(index, "")


# Which preset background questions the demo asks (delphi.background.PRESETS).
BACKGROUND = ["role", "organisation", "region", "experience", "lived_experience"]
# The usual answer of each group to the role and organisation questions.
GROUP_ROLE = {
    "CQC": ("Regulator or inspector", "Regulator"),
    "HRA": ("Regulator or inspector", "Regulator"),
    "MHRA": ("Regulator or inspector", "Regulator"),
    "NIHR CRN": ("Research manager or administrator", "Research funder or network"),
    "NHS R&D Forum": ("Research manager or administrator", "NHS trust or health board"),
    "HRLO": ("Policy or governance lead", "NHS trust or health board"),
    "Patient representatives": (
        "Patient or public contributor",
        "Not employed in health or research",
    ),
}


def _seed_background(
    study: Study, facilitator: User, panellists: list[Panellist], rng: random.Random
) -> None:
    """The preset background questions, answered by everyone who agreed to take part (a
    separate random stream, so the ratings stay those of earlier demos)."""
    from app.services.background import add_presets, questions_for, save_answers

    add_presets(study, BACKGROUND, actor=facilitator)
    for panellist in panellists[:-2]:
        role, organisation = GROUP_ROLE[panellist.group.name]
        chosen: dict[int, str] = {}
        for question in questions_for(panellist):
            options = question.option_list
            if rng.random() < 0.08:
                chosen[question.id] = "Prefer not to say"
            elif question.preset == "role":
                chosen[question.id] = role
            elif question.preset == "organisation":
                chosen[question.id] = organisation
            else:
                chosen[question.id] = rng.choice(options)
        save_answers(panellist, chosen)


def _seed_withdrawal(panellists: list[Panellist]) -> None:
    """One panellist who rated round 1 withdraws during round 2, keeping their answers."""
    from app.services.withdrawal import withdraw
    from delphi.withdrawal import AnswersChoice

    leaver = panellists[17]  # rated round 1, not round 2
    withdraw(leaver, AnswersChoice.KEEP, actor=leaver.user, by_facilitator=False)


# Indicators are rated on three criteria, as indicator panels (RAND/UCLA, QOF, NICE) do;
# prompts on Importance only. (name, question, kinds, shift from the item's appeal)
CRITERIA = [
    (
        "Importance",
        "How important is this for judging whether a trust is well-led in research?",
        "prompt,indicator",
        0.0,
    ),
    ("Validity", "Does it measure what it claims to?", "indicator", 0.2),
    (
        "Feasibility",
        "Can trusts and CQC collect it reliably from existing data?",
        "indicator",
        -0.2,
    ),
]


def _criteria(study: Study) -> None:
    importance = study.criteria[0]  # made with the study
    for position, (name, question, kinds, _) in enumerate(CRITERIA):
        criterion = importance if position == 0 else Criterion(study_id=study.id)
        criterion.name, criterion.question = name, question
        criterion.applies_to, criterion.position = kinds, position
        db.session.add(criterion)
    db.session.flush()
    db.session.expire(study, ["criteria"])


def _rate_other_criteria(
    round_: Round, panellists: list[Panellist], appeal: dict[int, float], *, first: bool
) -> None:
    """Validity and feasibility of the indicators, a little below their importance; drawn
    from their own generator so the importance ratings stay as they always were."""
    rng = random.Random(f"criteria-{round_.number}")
    shifts = {name: shift for name, _, _, shift in CRITERIA}
    for criterion in round_.study.criteria[1:]:
        for panellist in panellists:
            for round_item in round_.round_items:
                version = round_item.item_version
                if not criterion.applies(version.item_kind):
                    continue
                mean = appeal[version.item_id] + shifts.get(criterion.name, 0.0)
                unable = first and rng.random() < 0.05
                score = None
                if not unable:
                    spread = 1.3 if first else 0.9
                    score = _score(rng, mean if first else mean + 0.3, spread)
                db.session.add(
                    Rating(
                        round_id=round_.id,
                        panellist_id=panellist.id,
                        item_version_id=version.id,
                        criterion_id=criterion.id,
                        score=score,
                        unable=unable,
                    )
                )


def _rate(
    rng: random.Random,
    round_: Round,
    panellists: list[Panellist],
    appeal: dict[int, float],
    *,
    first: bool,
) -> None:
    """Plausible ratings: in round 1 spread around each item's appeal, some "unable to
    rate"; in round 2 closer together and further from the middle. These are on Importance;
    the indicators' other criteria follow (`_rate_other_criteria`)."""
    importance = round_.study.criteria[0].id
    for panellist in panellists:
        for round_item in round_.round_items:
            mean = appeal[round_item.item_version.item_id]
            if first and rng.random() < 0.03:
                db.session.add(
                    Rating(
                        round_id=round_.id,
                        panellist_id=panellist.id,
                        item_version_id=round_item.item_version_id,
                        criterion_id=importance,
                        unable=True,
                    )
                )
                continue
            if first:
                score = _score(rng, mean, 1.3 if 4 <= mean <= 7 else 0.9)
            else:
                score = _score(rng, mean + (0.4 if mean >= 6 else -0.4), 0.9)
            reason = _reason(rng, score)
            if reason and panellist.role == PanelRole.PATIENT_REP.value:
                options = PATIENT_REASONS[_band_key(score)]
                reason = options[(panellist.id + round_item.item_version_id) % len(options)]
            db.session.add(
                Rating(
                    round_id=round_.id,
                    panellist_id=panellist.id,
                    item_version_id=round_item.item_version_id,
                    criterion_id=importance,
                    score=score,
                    reason=reason,
                )
            )
    _rate_other_criteria(round_, panellists, appeal, first=first)


# (item ref, panellist index, category, text, reply to the previous message?)
DISCUSSION = [
    (
        "P3",
        22,
        "patient_perspective",
        "As a patient I would want to know that feedback *changes* something, not just that it "
        "is collected.",
        False,
    ),
    (
        "P3",
        0,
        "wording",
        "Agree. Could the prompt ask for an example of a change made in the last year?",
        True,
    ),
    (
        "P3",
        9,
        "feasibility",
        "Inspectors can ask for that, but small trusts will have few examples. See #P5 too.",
        True,
    ),
    (
        "P6",
        23,
        "patient_perspective",
        "Nobody ever told me what happened in the study I joined. This matters to people.",
        False,
    ),
    (
        "P6",
        14,
        "evidence",
        "The HRA already expects lay summaries for many studies; the trust "
        "role is making sure they reach participants.",
        True,
    ),
    (
        "I1",
        4,
        "evidence",
        "Recruitment per 1,000 admissions favours trusts with big commercial "
        "portfolios. Could we weight by study complexity?",
        False,
    ),
    (
        "I1",
        20,
        "feasibility",
        "The data are already on the CRN Open Data Platform, which keeps the burden low.",
        True,
    ),
    (
        "P4",
        11,
        "wording",
        '"In a way patients can find" is vague. Public website listing open studies, perhaps?',
        False,
    ),
]

SUMMARIES = {
    "P3": "Panellists support the prompt but want evidence that feedback leads to change; "
    "patient representatives stressed this. Wording may ask for a recent example.",
    "P6": "Patient representatives see results summaries as essential; partners note that the "
    "HRA already expects lay summaries, so the prompt should focus on delivery.",
    "I1": "Concern that the indicator favours large trusts; support because the data already "
    "exist. Consider a complexity-weighted variant.",
}


def _seed_discussion(study: Study, panellists: list, facilitator: User) -> None:
    """Plausible round-1 discussion, so a new user sees the threads in use."""
    from app.access import item_of
    from app.services.discussion import Viewer
    from app.services.discussion_writes import post_message

    previous = None
    for ref, index, category, text, is_reply in DISCUSSION:
        panellist = panellists[index]
        viewer = Viewer(user_id=panellist.user_id, panellist=panellist, is_facilitator=False)
        message = post_message(
            study,
            item_of(study, ref),
            viewer,
            text,
            category=category,
            parent_id=previous.id if is_reply and previous is not None else None,
        )
        previous = message
    host = Viewer(user_id=facilitator.id, panellist=None, is_facilitator=True)
    post_message(
        study,
        None,
        host,
        "Welcome to the panel. Round 1 is open for three weeks; "
        "please rate every item and say why where you can.",
    )


def _pin_summaries(study: Study, facilitator: User) -> None:
    from app.access import item_of
    from app.services.discussion import Viewer
    from app.services.discussion_writes import pin_summary

    host = Viewer(user_id=facilitator.id, panellist=None, is_facilitator=True)
    for ref, text in SUMMARIES.items():
        pin_summary(study, item_of(study, ref), host, text)


def _hide_one_reason(study: Study, round_: Round, facilitator: User) -> None:
    """The facilitators' review of round 1's reasons: one partner's reason named a person, so
    it was hidden (the audit log and its author's feedback say why)."""
    from app.services.reasons import hide_reason

    rating = db.session.scalar(
        select(Rating)
        .join(Panellist, Panellist.id == Rating.panellist_id)
        .where(
            Rating.round_id == round_.id,
            Rating.reason != "",
            Rating.score <= 3,
            Panellist.role == PanelRole.PARTNER.value,
        )
        .order_by(Rating.id)
        .limit(1)
    )
    if rating is None:
        return
    with unit_of_work():
        rating.reason = HIDDEN_REASON
        hide_reason(study, rating, HIDDEN_WHY, actor_id=facilitator.id)
