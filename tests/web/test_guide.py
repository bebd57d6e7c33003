"""The inspectors' brief guide: a second document from the same study (issue 15)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from docx import Document
from docx.shared import Mm

from app.demo import seed_demo
from app.export.service import export_formats
from app.extensions import db
from app.models import AuditEvent
from delphi import StudyStatus
from tests.conftest import sign_in
from tests.web.helpers import get_page, page, post_form, text_of
from tests.web.test_export import study  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "guide.schema.json").read_text())


def _guide(client, fmt: str, slug: str = "test-study"):
    return client.get(f"/studies/{slug}/export/{fmt}?document=guide")


def test_the_guide_json_follows_its_schema_and_holds_only_agreed_items(client, study):  # noqa: F811
    sign_in(client, study.facilitator)
    response = _guide(client, "json")
    assert response.status_code == 200
    assert 'filename="test-study-guide-draft.json"' in response.headers["Content-Disposition"]
    guide = json.loads(response.get_data(as_text=True))
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        guide
    )
    refs = [p["ref"] for t in guide["themes"] for p in t["prompts"] + t["indicators"]]
    assert refs == ["P1", "P3"]  # P2 excluded and I1 without consensus are left out
    prompts = {p["ref"]: p for t in guide["themes"] for p in t["prompts"]}
    assert prompts["P1"]["look_for"] == "Ask for the board papers."
    assert prompts["P3"]["text"] == "Prompt number 3, in every specialty?"  # the agreed wording
    assert guide["status"] == "draft" and guide["draft_note"]
    assert guide["context"] == "To agree prompts."  # the purpose, when no context is set


def test_the_guide_has_no_statistics_beyond_how_it_was_agreed(client, study):  # noqa: F811
    sign_in(client, study.facilitator)
    text = _guide(client, "md").get_data(as_text=True)
    assert text.startswith("# Inspectors' brief guide: Test study")
    for figure in ("median", "IQR", "% rated", "Krippendorff", "consensus in round"):
        assert figure not in text
    assert "## How these were agreed" in text and "full specification" in text
    assert "test-study-specification-draft.pdf" in text


def test_a_draft_guide_is_marked_on_every_page_in_every_format(client, study):  # noqa: F811
    sign_in(client, study.facilitator)
    assert "> **DRAFT**" in _guide(client, "md").get_data(as_text=True)
    html = _guide(client, "html").get_data(as_text=True)
    assert "@top-center" in html and "DRAFT" in html  # printed at the top of every PDF page
    doc = Document(io.BytesIO(_guide(client, "docx").data))
    assert "DRAFT" in doc.sections[0].header.paragraphs[0].text  # Word's header: every page
    assert abs(doc.sections[0].page_width - Mm(210)) < Mm(1)
    assert doc.core_properties.title.startswith("Inspectors' brief guide: Test study")
    assert doc.core_properties.author == study.facilitator.name
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "Why this matters" in headings and "How these were agreed" in headings


def test_a_completed_study_gives_a_final_guide(client, study):  # noqa: F811
    study.study.status = StudyStatus.COMPLETED.value
    db.session.commit()
    sign_in(client, study.facilitator)
    response = _guide(client, "md")
    assert 'filename="test-study-guide.md"' in response.headers["Content-Disposition"]
    assert "DRAFT" not in response.get_data(as_text=True)
    assert "@top-center" not in _guide(client, "html").get_data(as_text=True)


def test_the_guide_has_no_data_export(client, study):  # noqa: F811
    sign_in(client, study.facilitator)
    assert _guide(client, "data").status_code == 404
    assert client.get("/studies/test-study/export/md?document=nonsense").status_code == 404
    response = client.get("/studies/test-study/export/download?format=data&document=guide")
    assert response.status_code == 303 and response.headers["Location"].endswith("#downloads")


def test_the_export_page_offers_both_documents(client, study):  # noqa: F811
    sign_in(client, study.facilitator)
    soup = page(get_page(client, "/studies/test-study/export"))
    assert [r["value"] for r in soup.select("input[name=document]")] == [
        "specification",
        "guide",
    ]
    response = client.get("/studies/test-study/export/download?format=docx&document=guide")
    assert response.headers["Location"].endswith("/export/docx?document=guide")
    assert soup.select_one("a[href$='/export/guide-settings']")


def test_guide_settings_are_saved_and_shape_the_guide(client, study):  # noqa: F811
    sign_in(client, study.facilitator)
    get_page(client, "/studies/test-study/export/guide-settings")
    fields = {
        "owner_organisation": "Care Quality Commission",
        "guide_context": "Research is part of good care.\n\nSecond paragraph.",
        "framework": "Well-led key question.",
        "framework_url": "https://www.cqc.org.uk/assessment/quality-statements/well-led",
        "guide_reporting": "Record evidence under Well-led.",
        "guide_sources": "CQC assessment framework\nNIHR Open Data Platform",
    }
    response = post_form(client, "/studies/test-study/export/guide-settings", fields)
    assert response.status_code == 303
    guide = json.loads(_guide(client, "json").get_data(as_text=True))
    assert guide["study"]["owner_organisation"] == "Care Quality Commission"
    assert guide["context"].startswith("Research is part of good care.")
    assert guide["framework"]["url"].startswith("https://www.cqc.org.uk/")
    text = _guide(client, "md").get_data(as_text=True)
    assert "Published by Care Quality Commission." in text
    assert "- NIHR Open Data Platform" in text
    doc = Document(io.BytesIO(_guide(client, "docx").data))
    assert doc.core_properties.author == "Care Quality Commission"
    assert db.session.query(AuditEvent).filter_by(action="study.guide_settings_changed").count()


def test_a_framework_address_that_is_not_a_web_address_is_refused(client, study):  # noqa: F811
    sign_in(client, study.facilitator)
    get_page(client, "/studies/test-study/export/guide-settings")
    response = post_form(
        client,
        "/studies/test-study/export/guide-settings",
        {"framework_url": "javascript:alert(1)"},
        status=422,
    )
    assert "Enter a web address that starts with https://" in text_of(response)


def test_flask_export_writes_the_guide(app, study, tmp_path):  # noqa: F811
    runner = app.test_cli_runner()
    target = tmp_path / "guide.md"
    result = runner.invoke(
        args=["export", "test-study", "--document", "guide", "--format", "md", "-o", target]
    )
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("# Inspectors' brief guide")
    result = runner.invoke(args=["export", "test-study", "--document", "guide", "--format", "data"])
    assert result.exit_code != 0 and "the guide comes as html, md, docx, pdf, json" in result.output


@pytest.fixture
def demo(app):
    return seed_demo()


def test_the_demo_fills_every_section_of_the_guide(app, demo):
    [exported] = export_formats(demo, ["json"], actor=None, document="guide")
    guide = json.loads(exported.body)
    assert guide["study"]["owner_organisation"] == "Care Quality Commission"
    assert guide["context"] and guide["framework"]["text"] and guide["framework"]["url"]
    assert guide["reporting"] and len(guide["sources"].splitlines()) >= 3
    prompts = [p for t in guide["themes"] for p in t["prompts"]]
    assert prompts and all(p["look_for"].startswith("Good:") for p in prompts)
    indicators = [i for t in guide["themes"] for i in t["indicators"]]
    assert indicators and all(i["threshold"] and i["reporting_frequency"] for i in indicators)
