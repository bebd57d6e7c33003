"""Panel characteristics (issue 17): facilitators choose background questions, panellists
answer them when joining and may change them, and the specification counts the answers per
stakeholder group under 'Who took part', never beside ratings and never from fewer than 3."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, BackgroundAnswer, BackgroundQuestion
from app.services.export import build_specification
from tests.conftest import Panel, sign_in
from tests.web.helpers import error_summary, get_page, page, post_form, text_of

S = "/studies/test-study"


def _client(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


def _ask(app, panel: Panel, *presets: str) -> list[BackgroundQuestion]:
    facilitator = _client(app, panel.facilitator)
    post_form(
        facilitator, f"{S}/background-questions", {"action": "presets", "preset": list(presets)}
    )
    return list(db.session.scalars(select(BackgroundQuestion).order_by(BackgroundQuestion.id)))


def _answer(app, panellist, answers: dict[int, str]) -> None:
    client = _client(app, panellist.user)
    post_form(client, f"{S}/background", {f"q-{qid}": a for qid, a in answers.items()})


def test_a_facilitator_adds_preset_and_own_questions_and_removes_one(app, panel):
    facilitator = _client(app, panel.facilitator)
    shown = get_page(facilitator, f"{S}/background-questions")
    assert "Where do you mainly work or live?" in text_of(shown)
    asked = _ask(app, panel, "role", "region", "lived_experience")
    assert [q.preset for q in asked] == ["role", "region", "lived_experience"]
    assert asked[2].patients_only
    # Asking a preset twice adds nothing.
    _ask(app, panel, "role")
    assert len(db.session.scalars(select(BackgroundQuestion)).all()) == 3
    own = {"action": "own", "text": "Which board do you sit on?", "options": "Trust\nICB\n"}
    post_form(facilitator, f"{S}/background-questions", own)
    mine = db.session.scalar(select(BackgroundQuestion).where(BackgroundQuestion.preset == ""))
    assert mine.option_list == ["Trust", "ICB"]
    one = post_form(
        facilitator,
        f"{S}/background-questions",
        {**own, "options": "Only one"},
        status=422,
    )
    assert "at least two options" in " ".join(error_summary(one))
    twice = post_form(
        facilitator, f"{S}/background-questions", {**own, "options": "A\na"}, status=422
    )
    assert "listed twice" in text_of(twice)
    blank = post_form(facilitator, f"{S}/background-questions", {**own, "text": "   "}, status=422)
    assert page(blank).select_one("#text-error") is not None
    assert "Enter the question" in " ".join(error_summary(blank))
    post_form(facilitator, f"{S}/background-questions", {"action": "remove", "question": mine.id})
    assert db.session.get(BackgroundQuestion, mine.id) is None
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "background.questions_changed")
    ).all()
    assert len(actions) == 3  # presets once, own, removal: a repeat adding nothing is not


def test_a_panellist_answers_after_agreeing_and_can_change_their_answers(app, panel):
    role, region, lived = _ask(app, panel, "role", "region", "lived_experience")
    post_form(
        _client(app, panel.facilitator),
        f"{S}/participant-information",
        {"text": "What taking part means", "statements": "I agree."},
    )
    partner = _client(app, panel.partners[0].user)
    agreed = post_form(
        partner,
        f"{S}/consent",
        {"version": "1", "statement": ["0"], "choice": "none", "interests": ""},
    )
    # Joining goes on to the questions about them.
    assert agreed.headers["Location"].endswith(f"{S}/background")
    shown = get_page(partner, f"{S}/background")
    # A partner is not asked the patient representatives' question.
    assert "lived experience" not in text_of(shown)
    assert "Prefer not to say" in text_of(shown)
    missing = post_form(partner, f"{S}/background", {f"q-{role.id}": "Other"}, status=422)
    assert "Where do you mainly work or live?" in " ".join(error_summary(missing))
    bad = post_form(
        partner,
        f"{S}/background",
        {f"q-{role.id}": "Astronaut", f"q-{region.id}": "London"},
        status=422,
    )
    assert "Choose one of the options" in text_of(bad)
    _answer(app, panel.partners[0], {role.id: "Other", region.id: "Prefer not to say"})
    stored = {a.question_id: a.answer for a in db.session.scalars(select(BackgroundAnswer))}
    assert stored == {role.id: "Other", region.id: ""}
    again = get_page(partner, f"{S}/background")
    assert (
        page(again).select_one(f'input[name="q-{region.id}"][value="Prefer not to say"]')["checked"]
        is not None
    )
    _answer(app, panel.partners[0], {role.id: "Regulator or inspector", region.id: "London"})
    db.session.expire_all()
    stored = {a.question_id: a.answer for a in db.session.scalars(select(BackgroundAnswer))}
    assert stored == {role.id: "Regulator or inspector", region.id: "London"}
    # The audit log says that they answered, never what.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "background.answered"))
    assert "London" not in str(event.detail)
    patient = _client(app, panel.patients[0].user)
    assert "lived experience" in text_of(get_page(patient, f"{S}/background"))


def test_the_specification_counts_answers_per_group_and_withholds_small_groups(app, panel):
    (role,) = _ask(app, panel, "role")
    # CQC: 3 partners answer; patient representatives: 2, fewer than 3.
    for partner, answer in zip(
        panel.partners, ["Regulator or inspector", "Regulator or inspector", "Other"], strict=True
    ):
        _answer(app, partner, {role.id: answer})
    for patient in panel.patients:
        _answer(app, patient, {role.id: "Patient or public contributor"})
    spec = build_specification(panel.study)
    (question,) = spec["methods"]["who_took_part"]
    cqc, patients = question["groups"]
    assert cqc["counts"]["Regulator or inspector"] == 2 and cqc["counts"]["Other"] == 1
    assert cqc["answered"] == 3
    assert patients["withheld"] and patients["counts"] is None
    # The whole panel would give the two patients' answers away by subtraction.
    assert question["panel"] is None and question["combined"] is None
    facilitator = _client(app, panel.facilitator)
    html = get_page(facilitator, f"{S}/export/html")
    body = text_of(html)
    assert "Who took part" in body
    assert (
        "Not shown on their own (fewer than 3 panellists answered): Patient representatives" in body
    )
    assert "Patient or public contributor" in body  # the option, with no count for the group
    assert "CQC (n=3)" in body
    md = facilitator.get(f"{S}/export/md").get_data(as_text=True)
    assert "### Who took part" in md and "| Regulator or inspector | 2 |" in md
    accord = {row["item"]: row["reported_in"] for row in spec["reporting"]["accord"]}
    assert "Who took part" in accord[26]
    # Not in the data export's rating rows, nor anywhere in it.
    data = facilitator.get(f"{S}/export/data")
    with zipfile.ZipFile(io.BytesIO(data.data)) as archive:
        everything = "".join(
            archive.read(n).decode("utf-8", "replace")
            for n in archive.namelist()
            if n.endswith((".csv", ".json"))
        )
    assert "Regulator or inspector" not in everything


def test_with_a_third_patient_the_group_is_shown_and_the_whole_panel_too(app, panel):
    from app.services.panel import add_panellist
    from delphi import PanelRole

    third = add_panellist(
        panel.study,
        name="Patient Three",
        email="patient3@example.test",
        group=panel.study.groups[1],
        role=PanelRole.PATIENT_REP,
    )
    third.joined_at = panel.patients[0].joined_at
    db.session.commit()
    (role,) = _ask(app, panel, "role")
    for panellist in [*panel.partners, *panel.patients, third]:
        _answer(app, panellist, {role.id: "Other"})
    (question,) = build_specification(panel.study)["methods"]["who_took_part"]
    assert [g["answered"] for g in question["groups"]] == [3, 3]
    assert question["panel"]["Other"] == 6 and question["answered"] == 6


def test_observers_are_not_asked_and_others_cannot_change_the_questions(app, panel):
    _ask(app, panel, "role")
    observer = _client(app, panel.observer.user)
    get_page(observer, f"{S}/background", status=403)
    partner = _client(app, panel.partners[0].user)
    post_form(
        partner, f"{S}/background-questions", {"action": "presets", "preset": "region"}, status=403
    )


def test_hostile_question_text_is_escaped_everywhere(app, panel):
    facilitator = _client(app, panel.facilitator)
    hostile = "<img src=x onerror=alert(1)>"
    post_form(
        facilitator,
        f"{S}/background-questions",
        {"action": "own", "text": hostile, "options": f"{hostile}\nNo"},
    )
    for client, url in [
        (facilitator, f"{S}/background-questions"),
        (_client(app, panel.partners[0].user), f"{S}/background"),
        (facilitator, f"{S}/export/html"),
    ]:
        body = get_page(client, url).get_data(as_text=True)
        assert "<img src=x" not in body, url
