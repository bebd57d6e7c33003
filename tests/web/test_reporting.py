"""Reporting (issue 17): the attrition-bias check on the results across rounds and in the
specification's methods, and the ACCORD checklist with the study settings it needs."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from docx import Document
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ItemDecision, Rating, Round
from app.services.export import build_specification
from app.services.reporting import ACCORD_ITEMS
from app.services.rounds import close_round, open_round, record_decisions
from delphi import Decision
from tests.conftest import Panel, build_panel, sign_in
from tests.web.helpers import get_page, page, post_form, text_of

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "specification.schema.json").read_text()
)
SLUG = "attrition"
URL = f"/studies/{SLUG}"


def _rate(round_: Round, raters, scores: dict[str, list[int]]) -> None:
    by_ref = {ri.item_version.item.ref: ri.item_version_id for ri in round_.round_items}
    for ref, values in scores.items():
        for panellist, score in zip(raters, values, strict=True):
            db.session.add(
                Rating(
                    round_id=round_.id,
                    panellist_id=panellist.id,
                    item_version_id=by_ref[ref],
                    score=score,
                    unable=False,
                )
            )
    db.session.commit()


def _two_rounds(left: int) -> Panel:
    """Eight raters in round 1; all but `left` of them answer round 2. On P1 those who stay
    rated 8-9 and those who leave 1-3; on P2 both sides rated alike."""
    panel = build_panel(slug=SLUG, partners=5, patients=3, prompts=2, indicators=0)
    raters = panel.raters
    assert len(raters) == 8
    stay = 8 - left
    round1 = open_round(panel.study, actor=panel.facilitator)
    p1 = [9, 9, 8, 8, 9, 8][:stay] + [2, 1, 2, 3, 1, 2][:left]
    p2 = [7, 8, 7, 8, 7, 8, 7, 8]
    _rate(round1, raters, {"P1": p1, "P2": p2})
    close_round(round1.id, actor=panel.facilitator)
    rows = db.session.scalars(select(ItemDecision).where(ItemDecision.round_id == round1.id))
    record_decisions(
        round1,
        {d.item_id: (Decision.CARRY_FORWARD, "Ask again") for d in rows},
        panel.facilitator,
    )
    round2 = open_round(panel.study, actor=panel.facilitator)
    _rate(round2, raters[:stay], {"P1": [8] * stay, "P2": [8] * stay})
    close_round(round2.id, actor=panel.facilitator)
    return panel


@pytest.fixture
def four_left(app) -> Panel:
    return _two_rounds(left=4)


@pytest.fixture
def two_left(app) -> Panel:
    return _two_rounds(left=2)


# ---------------------------------------------------------------- the attrition-bias check


def test_the_results_page_flags_an_item_those_who_left_rated_differently(client, four_left):
    sign_in(client, four_left.facilitator)
    response = get_page(client, f"{URL}/results")
    text = text_of(response)
    assert "Did those who left rate differently?" in text
    assert "Mann-Whitney" in text and "stayed" in text  # the plain-words explanation
    assert "Round 1 to round 2: 4 stayed and 4 left." in text
    rows = {
        tr.select_one("th").get_text(" ", strip=True): [
            td.get_text(" ", strip=True) for td in tr.select("td")
        ]
        for tr in page(response).select("table.app-attrition tbody tr")
    }
    # P1: stayed 9, 9, 8, 8 (median 8.5) against left 2, 1, 2, 3 (median 2): every stayed
    # rating is higher, exact p = 2 / C(8, 4) = 0.029.
    assert rows["P1"][:5] == ["4", "8.5", "4", "2", "0.029"]
    assert rows["P1"][5].startswith("Flagged")
    assert rows["P2"][4] != "" and "No difference found" in rows["P2"][5]


def test_a_side_of_fewer_than_three_people_shows_no_figure(client, two_left):
    sign_in(client, two_left.facilitator)
    response = get_page(client, f"{URL}/results")
    text = text_of(response)
    assert "6 stayed and fewer than 3 left" in text
    row = page(response).select_one("table.app-attrition tbody tr")
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    # The two who left rated 2 and 1: neither their count, median nor a test is shown.
    assert cells[2:4] == ["fewer than 3", "fewer than 3"]
    assert cells[4] == "–"
    assert "Not tested" in cells[5]
    pair = build_specification(two_left.study)["methods"]["attrition_bias"][0]
    assert pair["left"] is None and pair["left_withheld"]
    p1 = pair["items"][0]
    assert (p1["n_left"], p1["median_left"], p1["p_value"], p1["flagged"]) == (
        None,
        None,
        None,
        False,
    )


def test_the_check_waits_for_two_closed_rounds(client, app):
    panel = build_panel(slug=SLUG)
    round1 = open_round(panel.study, actor=panel.facilitator)
    _rate(round1, panel.raters, {"P1": [9] * len(panel.raters)})
    close_round(round1.id, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    assert "only then is it known who left" in text_of(get_page(client, f"{URL}/results"))


def test_panellists_cannot_see_the_check(client, four_left):
    sign_in(client, four_left.raters[0].user)
    assert client.get(f"{URL}/results").status_code == 403


# ---------------------------------------------------------------- every export format


def _download(client, fmt: str):
    response = client.get(f"{URL}/export/{fmt}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def test_the_json_carries_every_accord_item_and_validates(client, four_left):
    sign_in(client, four_left.facilitator)
    spec = json.loads(_download(client, "json").get_data(as_text=True))
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        spec
    )
    accord = spec["reporting"]["accord"]
    assert [a["item"] for a in accord] == list(range(1, 36))
    assert all(set(a) >= {"item", "topic", "reported_in"} and a["reported_in"] for a in accord)
    sections = [a["section"] for a in accord]
    counts = {s: sections.count(s) for s in dict.fromkeys(sections)}
    # ACCORD's 35 items: title 1, introduction 3, methods 21, results 5, discussion 2, other 3.
    assert counts == {
        "Title": 1,
        "Introduction": 3,
        "Methods": 21,
        "Results": 5,
        "Discussion": 2,
        "Other information": 3,
    }
    by_item = {a["item"]: a["reported_in"] for a in accord}
    assert by_item[5].startswith("Not reported: ")  # no protocol link set
    assert "Attrition-bias check" in by_item[27]
    pair = spec["methods"]["attrition_bias"][0]
    assert (pair["stayed"], pair["left"], pair["flagged_items"]) == (4, 4, 1)


def test_every_document_format_ends_its_methods_with_the_checklist(client, four_left):
    sign_in(client, four_left.facilitator)
    topic = ACCORD_ITEMS[14][2]  # the pilot of the questionnaire

    html = text_of(_download(client, "html"))
    assert "ACCORD reporting checklist" in html and topic in html
    assert "Attrition-bias check" in html and "Flagged: Those who left rated it" in html
    assert html.index("ACCORD reporting checklist") > html.index("Attrition-bias check")
    assert html.index("ACCORD reporting checklist") < html.rindex("Appendix A: figures")

    md = _download(client, "md").get_data(as_text=True)
    assert "### ACCORD reporting checklist" in md and "### Attrition-bias check" in md
    assert f"| 15 | Methods | {topic} |" in md
    assert md.index("### ACCORD reporting checklist") < md.index("## Appendix A")

    doc = Document(io.BytesIO(_download(client, "docx").data))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "ACCORD reporting checklist" in headings and "Attrition-bias check" in headings
    cells = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    assert any(row[:3] == ["15", "Methods", topic] for row in cells)

    pdf = _download(client, "pdf").data
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        assert "ACCORD reporting checklist" in text and "Attrition-bias check" in text


# ---------------------------------------------------------------- the reporting settings

SETTINGS = {
    "protocol_link": "https://osf.io/abcde",
    "funding": "NIHR Research for Patient Benefit.",
    "steering_group": "Two CQC inspectors and a patient representative.",
    "item_sources": "A scoping review of research in inspection frameworks.",
    "questionnaire_pilot": "Piloted with four inspectors.",
    "protocol_deviations": "None.",
}


def test_reporting_settings_are_saved_audited_and_stated_in_the_checklist(client, four_left):
    sign_in(client, four_left.facilitator)
    form = page(get_page(client, f"{URL}/export/reporting-settings"))
    assert form.select_one("input[name=protocol_link]")
    assert page(get_page(client, f"{URL}/export")).select_one(
        "a[href$='/export/reporting-settings']"
    )
    post_form(client, f"{URL}/export/reporting-settings", SETTINGS)
    assert db.session.query(AuditEvent).filter_by(
        action="study.reporting_settings_changed"
    ).count() == 1
    spec = json.loads(_download(client, "json").get_data(as_text=True))
    conduct = {c["name"]: c["text"] for c in spec["methods"]["conduct"]}
    assert conduct == SETTINGS
    by_item = {a["item"]: a["reported_in"] for a in spec["reporting"]["accord"]}
    assert by_item[5] == "Methods: Study conduct (Protocol or registration)"
    assert by_item[33] == "Methods: Study conduct (Funding)"
    md = _download(client, "md").get_data(as_text=True)
    assert "- **Funding:** NIHR Research for Patient Benefit." in md


def test_a_protocol_link_that_is_not_a_web_address_is_refused(client, four_left):
    sign_in(client, four_left.facilitator)
    response = post_form(
        client,
        f"{URL}/export/reporting-settings",
        {"protocol_link": "javascript:alert(1)"},
        status=422,
    )
    assert "Enter a web address that starts with https://" in text_of(response)


def test_reporting_settings_stay_editable_once_the_study_is_completed(client, four_left):
    from app.services.cycle import complete_study

    round2 = max(four_left.study.rounds, key=lambda r: r.number)
    rows = db.session.scalars(select(ItemDecision).where(ItemDecision.round_id == round2.id))
    record_decisions(
        round2, {d.item_id: (Decision.ACCEPT, "Agreed") for d in rows}, four_left.facilitator
    )
    complete_study(four_left.study, "Done", actor=four_left.facilitator)
    sign_in(client, four_left.facilitator)
    post_form(client, f"{URL}/export/reporting-settings", {"funding": "Added after the end."})
    assert four_left.study.funding == "Added after the end."


def test_the_demo_states_every_reporting_setting_in_its_checklist(app):
    from app.demo import seed_demo

    spec = build_specification(seed_demo())
    assert all(c["text"] for c in spec["methods"]["conduct"])
    by_item = {a["item"]: a["reported_in"] for a in spec["reporting"]["accord"]}
    for number in (5, 6, 10, 15, 30, 33):
        assert by_item[number].startswith("Methods: Study conduct"), number
    # The demo's panellists declared interests, so the checklist points to them.
    assert by_item[34].startswith("Methods: Declared interests")
    jsonschema.Draft202012Validator(SCHEMA).validate(spec)


def test_the_check_is_stored_when_the_later_round_closes(four_left, monkeypatch):
    """Pages read the check from round 2's snapshot; a round closed before it was stored
    has it computed once and kept."""
    from app.models import RoundSnapshot
    from app.services import reporting

    study = four_left.study
    computed = reporting.attrition_checks(study)
    round1, round2 = sorted(study.rounds, key=lambda r: r.number)
    assert computed == [reporting.attrition_pair(round1, round2)]

    def unwanted(*args):
        raise AssertionError("the stored check was computed again")

    monkeypatch.setattr(reporting, "attrition_pair", unwanted)
    assert reporting.attrition_checks(study) == computed
    snapshot = db.session.scalar(select(RoundSnapshot).where(RoundSnapshot.round_id == round2.id))
    assert snapshot.summary["attrition"] == computed[0]
    # A snapshot from before the check was stored: computed on first reading, then kept.
    snapshot.payload = {k: v for k, v in snapshot.payload.items() if k != "attrition"}
    snapshot.summary = {k: v for k, v in snapshot.summary.items() if k != "attrition"}
    db.session.commit()
    monkeypatch.undo()
    assert reporting.attrition_checks(study) == computed
    monkeypatch.setattr(reporting, "attrition_pair", unwanted)
    db.session.expire_all()
    assert reporting.attrition_checks(study) == computed
