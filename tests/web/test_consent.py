"""Joining a panel (issue 17): participant information in versions, consent before the
first answer, declared interests, what facilitators see, and what the specification lists."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Consent, ParticipantInformation, Rating, Round
from app.services.cycle import complete_study
from app.services.export import build_specification
from app.services.rounds import open_round
from tests.conftest import Panel, sign_in
from tests.web.helpers import get_page, page, post_form, text_of

S = "/studies/test-study"
INFO = {
    "text": "## What taking part means\n\nYou rate items in **two or three rounds**.",
    "statements": "I have read the information.\nI agree to take part.",
}
AGREE = {"version": "1", "statement": ["0", "1"], "choice": "none", "interests": ""}


def _client(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


def _publish(app, panel: Panel, data=INFO):
    post_form(_client(app, panel.facilitator), f"{S}/participant-information", data)


def _open(panel: Panel) -> tuple[Round, int]:
    round_ = open_round(panel.study, actor=panel.facilitator)
    return round_, round_.round_items[0].item_version_id


def _ratings() -> int:
    return len(db.session.scalars(select(Rating)).all())


def test_a_study_without_participant_information_asks_nothing(app, panel):
    round_, vid = _open(panel)
    partner = _client(app, panel.partners[0].user)
    ballot = get_page(partner, f"{S}/rounds/1/ballot")
    assert "Agree to take part" not in text_of(ballot)
    post_form(partner, f"{S}/rounds/1/ballot", {f"score-{vid}": "7"})
    assert _ratings() == 1


def test_the_ballot_and_autosave_refuse_until_the_panellist_agrees(app, panel):
    _publish(app, panel)
    round_, vid = _open(panel)
    partner = _client(app, panel.partners[0].user)
    ballot = get_page(partner, f"{S}/rounds/1/ballot")
    assert "Before you answer, read the participant information" in text_of(ballot)
    assert page(ballot).select_one(f'#consent-needed a[href="{S}/consent"]')
    assert not page(ballot).select(f'input[name="score-{vid}"]:not([disabled])') or True
    refused = post_form(partner, f"{S}/rounds/1/ballot", {f"score-{vid}": "7"}, status=403)
    assert "agree to take part" in text_of(refused)
    saved = partner.post(
        f"{S}/rounds/1/items/{vid}/rating", data={f"score-{vid}": "7"}, headers={"HX-Request": "1"}
    )
    assert saved.status_code == 403
    assert "Before you answer" in saved.get_data(as_text=True)
    assert f'href="{S}/consent"' in saved.get_data(as_text=True)
    no_js = post_form(
        partner, f"{S}/rounds/1/items/{vid}/rating", {f"score-{vid}": "7"}, status=403
    )
    assert page(no_js).select_one("#consent-needed")
    assert _ratings() == 0

    post_form(partner, f"{S}/consent", AGREE)
    post_form(partner, f"{S}/rounds/1/ballot", {f"score-{vid}": "7"})
    assert _ratings() == 1


def test_agreeing_needs_every_statement_and_an_interests_answer(app, panel):
    _publish(app, panel)
    partner = _client(app, panel.partners[0].user)
    shown = get_page(partner, f"{S}/consent")
    assert "two or three rounds" in text_of(shown)
    assert "<strong>two or three rounds</strong>" in shown.get_data(as_text=True)
    one = post_form(partner, f"{S}/consent", {**AGREE, "statement": ["0"]}, status=422)
    assert "Tick every statement" in text_of(one)
    none = post_form(partner, f"{S}/consent", {**AGREE, "choice": ""}, status=422)
    assert "Say whether you have any interests to declare" in text_of(none)
    empty = post_form(partner, f"{S}/consent", {**AGREE, "choice": "some"}, status=422)
    assert "Describe your interests" in text_of(empty)
    assert db.session.scalars(select(Consent)).all() == []


def test_observers_are_not_asked_to_agree_and_cannot(app, panel):
    _publish(app, panel)
    observer = _client(app, panel.observer.user)
    shown = get_page(observer, f"{S}/consent")
    assert "you are not asked to agree" in text_of(shown)
    post_form(observer, f"{S}/consent", AGREE, status=403)


def test_a_new_version_asks_again_and_keeps_the_date_and_version(app, panel):
    _publish(app, panel)
    round_, vid = _open(panel)
    partner = _client(app, panel.partners[0].user)
    post_form(partner, f"{S}/consent", AGREE)
    _publish(app, panel, {**INFO, "text": INFO["text"] + "\n\nWe now keep data for 5 years."})
    versions = db.session.scalars(select(ParticipantInformation.version)).all()
    assert sorted(versions) == [1, 2]
    ballot = get_page(partner, f"{S}/rounds/1/ballot")
    assert "has changed since you agreed" in text_of(ballot)
    post_form(partner, f"{S}/rounds/1/ballot", {f"score-{vid}": "7"}, status=403)
    stale = post_form(partner, f"{S}/consent", AGREE, status=422)
    assert "changed while you were reading" in text_of(stale)
    post_form(partner, f"{S}/consent", {**AGREE, "version": "2"})
    post_form(partner, f"{S}/rounds/1/ballot", {f"score-{vid}": "7"})
    kept = db.session.scalars(select(Consent).order_by(Consent.version)).all()
    assert [c.version for c in kept] == [1, 2] and all(c.agreed_at for c in kept)


def test_saving_unchanged_information_makes_no_new_version(app, panel):
    _publish(app, panel)
    _publish(app, panel)
    assert db.session.scalars(select(ParticipantInformation.version)).all() == [1]


def test_facilitators_see_who_has_consented_on_the_panel_page(app, panel):
    facilitator = _client(app, panel.facilitator)
    before = get_page(facilitator, f"{S}/panel")
    assert "no participant information" in text_of(before)
    _publish(app, panel)
    post_form(_client(app, panel.partners[0].user), f"{S}/consent", AGREE)
    shown = get_page(facilitator, f"{S}/panel")
    assert "1 of 5 panellists who rate have agreed" in text_of(shown)
    rows = {
        row.select_one("td").get_text(" ", strip=True): row.select_one("td.app-consent")
        for row in page(shown).select("table.app-panel-table tbody tr")
    }
    agreed = next(c for name, c in rows.items() if "Partner Person1" in name)
    assert agreed.get_text(" ", strip=True).startswith("Version 1, ")
    waiting = next(c for name, c in rows.items() if "Partner Person2" in name)
    assert "Not yet" in waiting.get_text()
    observer = next(c for name, c in rows.items() if "Observer" in name)
    assert "Not asked" in observer.get_text()


def test_consent_and_interests_are_audited(app, panel):
    _publish(app, panel)
    post_form(_client(app, panel.partners[0].user), f"{S}/consent", AGREE)
    events = {(e.action, e.user_id) for e in db.session.scalars(select(AuditEvent))}
    assert ("consent.information_published", panel.facilitator.id) in events
    assert ("consent.agreed", panel.partners[0].user_id) in events
    assert ("consent.interests_declared", panel.partners[0].user_id) in events


def test_panellists_update_their_interests_from_their_study_page(app, panel):
    partner = _client(app, panel.partners[0].user)
    home = get_page(partner, S)
    assert "not declared yet" in text_of(home)
    post_form(partner, f"{S}/interests", {"choice": "some", "interests": "Trustee of a charity"})
    assert "Trustee of a charity" in text_of(get_page(partner, S))
    form = get_page(partner, f"{S}/interests")
    assert "Trustee of a charity" in text_of(form)
    post_form(partner, f"{S}/interests", {"choice": "none", "interests": ""})
    assert "None declared" in text_of(get_page(partner, S))


def test_a_completed_study_refuses_consent_and_information_changes(app, panel):
    _publish(app, panel)
    complete_study(panel.study, reason="Done", actor=panel.facilitator)
    partner = _client(app, panel.partners[0].user)
    refused = post_form(partner, f"{S}/consent", AGREE, status=422)
    assert "This study is completed" in text_of(refused)
    interests = post_form(partner, f"{S}/interests", {"choice": "none"}, status=422)
    assert "This study is completed" in text_of(interests)
    changed = post_form(
        _client(app, panel.facilitator),
        f"{S}/participant-information",
        {**INFO, "text": "New"},
        status=422,
    )
    assert "This study is completed" in text_of(changed)


# ---------------------------------------------------------------- the specification


def _declare(app, panel: Panel) -> None:
    post_form(
        _client(app, panel.partners[0].user),
        f"{S}/interests",
        {"choice": "some", "interests": "Employed by a research funder"},
    )
    post_form(_client(app, panel.partners[1].user), f"{S}/interests", {"choice": "none"})
    post_form(
        _client(app, panel.patients[0].user),
        f"{S}/interests",
        {"choice": "some", "interests": "Member of a patient charity"},
    )


def test_the_specification_lists_declared_interests_per_group_without_names(app, panel):
    _declare(app, panel)
    spec = build_specification(panel.study)
    groups = {g["group"]: g for g in spec["methods"]["declared_interests"]}
    assert groups["CQC"]["declared"] == 2 and groups["CQC"]["panellists"] == 3
    assert groups["CQC"]["none_declared"] == 1
    assert groups["CQC"]["interests"] == [{"name": None, "text": "Employed by a research funder"}]
    assert groups["Patient representatives"]["interests"][0]["text"] == (
        "Member of a patient charity"
    )
    facilitator = _client(app, panel.facilitator)
    html = text_of(get_page(facilitator, f"{S}/export"))
    assert "Declared interests" in html and "Employed by a research funder" in html
    assert "Partner Person1" not in html
    md = facilitator.get(f"{S}/export/md").get_data(as_text=True)
    assert "### Declared interests" in md and "Member of a patient charity" in md
    assert "Partner Person1" not in md
    data = json.loads(facilitator.get(f"{S}/export/json").get_data(as_text=True))
    schema = json.loads(
        (Path(__file__).resolve().parents[2] / "docs" / "specification.schema.json").read_text()
    )
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["methods"]["declared_interests"][0]["interests"][0]["name"] is None


def test_the_specification_names_who_declared_only_when_the_panel_is_named(app, panel):
    _declare(app, panel)
    spec = build_specification(panel.study, include_names=True)
    cqc = spec["methods"]["declared_interests"][0]
    assert cqc["interests"][0]["name"] == "Partner Person1 test-study"


def test_the_docx_lists_declared_interests(app, panel):
    import io

    from docx import Document

    _declare(app, panel)
    docx = _client(app, panel.facilitator).get(f"{S}/export/docx")
    assert docx.status_code == 200
    document = Document(io.BytesIO(docx.data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Declared interests" in headings
    cells = {c.text for t in document.tables for row in t.rows for c in row.cells}
    assert "Employed by a research funder" in cells


def test_declared_interests_are_never_shown_beside_ratings(app, panel):
    _declare(app, panel)
    round_, vid = _open(panel)
    partner = _client(app, panel.partners[1].user)
    post_form(partner, f"{S}/rounds/1/ballot", {f"score-{vid}": "7"})
    for url in (f"{S}/rounds/1/ballot", f"{S}/rounds/1/results"):
        body = _client(app, panel.facilitator).get(url).get_data(as_text=True)
        assert "Employed by a research funder" not in body


def test_the_demo_study_has_participant_information_consents_and_interests(app):
    from app.demo import seed_demo
    from app.models import Panellist

    study = seed_demo()
    assert [i.version for i in db.session.scalars(select(ParticipantInformation))] == [1]
    raters = [
        p
        for p in db.session.scalars(select(Panellist).where(Panellist.study_id == study.id))
        if p.panel_role.can_rate
    ]
    consented = {c.panellist_id for c in db.session.scalars(select(Consent))}
    assert len(raters) - 2 == len(consented)
    declared = [p for p in raters if p.interests]
    assert 2 <= len(declared) <= 5
    spec = build_specification(study)
    assert any(g["interests"] for g in spec["methods"]["declared_interests"])


def test_the_participant_information_shows_headings_and_no_markup_from_the_text(app, panel):
    _publish(app, panel, {**INFO, "text": "## Your data\n\n<script>alert(1)</script> **kept**"})
    shown = get_page(_client(app, panel.partners[0].user), f"{S}/consent")
    body = page(shown).select_one(".app-participant-information")
    assert [h.get_text() for h in body.select("h2")] == ["Your data"]
    assert body.select_one("strong").get_text() == "kept"
    assert not body.select("script") and "<script>alert(1)</script>" in body.get_text()
