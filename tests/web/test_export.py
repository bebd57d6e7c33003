"""Exporting the specification and the data: every format says the same, checked by opening it."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEvent,
    DiscussionThread,
    ItemDecision,
    ItemVersion,
    Rating,
    Round,
    RoundSnapshot,
)
from app.services.export import build_specification
from app.services.export_data import neutralise
from app.services.rounds import close_round, open_round, record_decisions
from app.text.cells import neutralise_formula
from delphi import Decision
from tests.conftest import Panel, build_panel, make_user, sign_in
from tests.web.helpers import get_page, page, text_of

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "specification.schema.json").read_text()
)
FORMATS = ["html", "md", "docx", "pdf", "json", "data"]


def _rate(round_: Round, panel: Panel, scores: dict[str, list[int | None]], reason: str = ""):
    by_ref = {ri.item_version.item.ref: ri.item_version_id for ri in round_.round_items}
    for ref, values in scores.items():
        for panellist, score in zip(panel.raters, values, strict=True):
            db.session.add(
                Rating(
                    round_id=round_.id,
                    panellist_id=panellist.id,
                    item_version_id=by_ref[ref],
                    score=score,
                    unable=score is None,
                    reason=reason if panellist is panel.raters[0] else "",
                )
            )
    db.session.commit()


def _decide_as_suggested(round_: Round, panel: Panel) -> None:
    rows = db.session.scalars(select(ItemDecision).where(ItemDecision.round_id == round_.id))
    record_decisions(
        round_, {d.item_id: (Decision(d.suggested), "") for d in rows}, panel.facilitator
    )


@pytest.fixture
def study(app) -> Panel:
    """Two closed rounds: P1 agreed in round 1, P2 excluded, P3 revised and agreed in round 2,
    I1 (an indicator with every field) never agreed."""
    panel = build_panel()
    items = {i.ref: i for i in panel.study.items}
    indicator = items["I1"].current
    indicator.numerator = "Patients recruited"
    indicator.denominator = "Admissions / 1,000"
    indicator.data_source = "NIHR CRN Open Data Platform"
    indicator.reporting_frequency = "Quarterly"
    indicator.threshold = "Good: 10 or more per 1,000"
    indicator.rationale = "Comparable across trusts"
    items["P1"].current.notes = "Ask for the board papers."
    db.session.commit()

    round1 = open_round(panel.study, actor=panel.facilitator)
    _rate(
        round1,
        panel,
        {
            "P1": [9, 8, 8, 7, None],
            "P2": [1, 2, 1, 2, 3],
            "P3": [5, 8, 2, 7, 4],
            "I1": [4, 5, 6, 7, 8],
        },
        reason='=HYPERLINK("http://evil.example")',
    )
    close_round(round1.id, actor=panel.facilitator)
    _decide_as_suggested(round1, panel)
    p3 = items["P3"]
    p3.versions.append(
        ItemVersion(
            number=2,
            text="Prompt number 3, in every specialty?",
            change_note="Panel asked for specialties",
        )
    )
    db.session.add(
        DiscussionThread(
            study_id=panel.study.id,
            key=f"item:{items['P1'].id}",
            item_id=items["P1"].id,
            summary="The panel agreed boards must own this.",
            summary_round_id=round1.id,
        )
    )
    db.session.commit()
    round2 = open_round(panel.study, actor=panel.facilitator)
    _rate(round2, panel, {"P3": [8, 8, 9, 7, 8], "I1": [3, 5, 6, 7, 9]})
    close_round(round2.id, actor=panel.facilitator)
    _decide_as_suggested(round2, panel)
    return panel


def _snapshot_entry(round_number: int, ref: str) -> dict:
    round_ = db.session.scalar(select(Round).where(Round.number == round_number))
    payload = db.session.scalar(
        select(RoundSnapshot.payload).where(RoundSnapshot.round_id == round_.id)
    )
    return next(e for e in payload["items"].values() if e["ref"] == ref)


def _download(client, fmt: str, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"/studies/test-study/export/{fmt}" + (f"?{query}" if query else ""))


# ---------------------------------------------------------------- the specification


def test_the_specification_sorts_items_into_agreed_excluded_and_no_consensus(study):
    spec = build_specification(study.study)
    agreed = {i["ref"]: i for t in spec["themes"] for i in t["items"]}
    assert set(agreed) == {"P1", "P3"}
    assert [i["ref"] for i in spec["excluded"]] == ["P2"]
    assert [i["ref"] for i in spec["no_consensus"]] == ["I1"]
    assert agreed["P1"]["consensus_round"] == 1 and agreed["P3"]["consensus_round"] == 2
    assert spec["status"] == "draft"


def test_figures_are_the_stored_round_snapshot(study):
    spec = build_specification(study.study)
    p1 = next(i for t in spec["themes"] for i in t["items"] if i["ref"] == "P1")
    stored = _snapshot_entry(1, "P1")
    for key in ("n", "n_unable", "median", "q1", "q3", "iqr", "pct_top", "status"):
        assert p1["evidence"][key] == stored[key]
    groups = {g["group"]: g for g in p1["evidence"]["groups"]}
    assert groups["CQC"]["median"] == stored["groups"]["CQC"]["median"]
    assert groups["CQC"]["pct_top"] == stored["groups"]["CQC"]["pct_top"]
    assert stored["n_unable"] == 1 and stored["pct_top"] == 100.0


def test_a_revised_item_shows_each_wording_and_what_changed(study):
    spec = build_specification(study.study)
    p3 = next(i for t in spec["themes"] for i in t["items"] if i["ref"] == "P3")
    assert [h["rounds"] for h in p3["history"]] == [[1], [2]]
    assert p3["text"] == "Prompt number 3, in every specialty?"
    assert p3["history"][1]["changes"] == ["Wording changed"]
    # Each changed field whole, before and after, not a list of added and removed words.
    [wording] = p3["history"][1]["changed_fields"]
    assert wording["label"] == "Wording"
    assert wording["before"] == p3["history"][0]["text"]
    assert wording["after"] == "Prompt number 3, in every specialty?"
    assert p3["history"][1]["change_note"] == "Panel asked for specialties"
    assert p3["evidence"]["round"] == 2 and p3["evidence"]["version"] == 2


def test_methods_report_participation_alpha_stability_and_summaries(study):
    m = build_specification(study.study)["methods"]
    flow = {(p["round"], p["group"]): p for p in m["participation"]}
    assert flow[(1, "CQC")] == {
        "round": 1,
        "group": "CQC",
        "invited": 3,
        "responded": 3,
        "retained": 3,
        "finished": 3,
        "withdrew": 0,
    }
    assert flow[(2, "Patient representatives")]["responded"] == 2
    rounds = {r["round"]: r for r in m["rounds"]}
    assert rounds[1]["items_accepted"] == 1 and rounds[1]["items_excluded"] == 1
    assert rounds[2]["items_revised"] == 1
    stored_alpha = _snapshot_payload(1)["alpha"]
    assert rounds[1]["alpha"]["value"] == stored_alpha["value"]
    assert [s["from_round"] for s in m["stability"]] == [1]
    assert {i["ref"] for i in m["stability"][0]["items"]} == {"P3", "I1"}
    assert m["discussion"][0]["summary"] == "The panel agreed boards must own this."
    assert "pseudonym" in m["anonymity"]


def _snapshot_payload(number: int) -> dict:
    round_ = db.session.scalar(select(Round).where(Round.number == number))
    return db.session.scalar(
        select(RoundSnapshot.payload).where(RoundSnapshot.round_id == round_.id)
    )


def test_the_json_export_validates_against_the_published_schema(client, study):
    sign_in(client, study.facilitator)
    response = _download(client, "json")
    assert response.status_code == 200
    data = json.loads(response.get_data(as_text=True))
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    validator.validate(data)
    assert data["panel_names"] is None


def test_a_study_with_no_rounds_still_exports_and_validates(app, client):
    panel = build_panel(slug="empty", title="Empty")
    spec = build_specification(panel.study)
    jsonschema.Draft202012Validator(SCHEMA).validate(spec)
    sign_in(client, panel.facilitator)
    for fmt in FORMATS:
        get_page(client, f"/studies/empty/export/{fmt}")


# ---------------------------------------------------------------- pages and downloads


def test_the_specification_page_shows_agreed_items_and_a_draft_notice(client, study):
    sign_in(client, study.facilitator)
    response = get_page(client, "/studies/test-study/export")
    text = text_of(response)
    assert "Agreed prompts and indicators" in text
    assert "Prompt number 1?" in text and "Ask for the board papers." in text
    assert "Draft. The study is not completed" in text
    assert "Summary" in text and "Excluded (1): P2." in text and "No consensus (1): I1." in text
    assert "Appendix C: excluded items and items with no consensus" in text
    assert "Prompt number 2?" in text and "Indicator 1" in text
    soup = page(response)
    assert [r["value"] for r in soup.select("input[name=format]")] == FORMATS


@pytest.mark.parametrize(
    ("fmt", "content_type", "magic"),
    [
        ("html", "text/html", b"<!DOCTYPE html>"),
        ("md", "text/markdown", b"# Specification"),
        ("docx", "application/vnd.openxmlformats", b"PK"),
        ("pdf", "application/pdf", b"%PDF"),
        ("json", "application/json", b"{"),
        ("data", "application/zip", b"PK"),
    ],
)
def test_each_format_downloads_as_a_named_file(client, study, fmt, content_type, magic):
    sign_in(client, study.facilitator)
    response = _download(client, fmt)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(content_type)
    assert 'attachment; filename="test-study-' in response.headers["Content-Disposition"]
    assert "-draft." in response.headers["Content-Disposition"]
    assert response.data.startswith(magic)


def test_the_download_form_redirects_to_the_chosen_format(client, study):
    sign_in(client, study.facilitator)
    response = client.get("/studies/test-study/export/download?format=md&names=1")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/studies/test-study/export/md?names=1")
    assert client.get("/studies/test-study/export/download?format=exe").status_code == 404
    assert client.get("/studies/test-study/export/exe").status_code == 404


def test_the_docx_has_headings_tables_figures_and_a_contents_field(client, study):
    sign_in(client, study.facilitator)
    doc = Document(io.BytesIO(_download(client, "docx").data))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "Agreed prompts and indicators" in headings
    assert "Offers research" in headings
    assert "P1: Prompt number 1?" in headings
    assert "Methods and participation" in headings
    stored = _snapshot_entry(1, "P1")
    cells = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    assert ["Offers research", "P1", "Prompt number 1?", "Prompt", "1", "100%"] in cells
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"median {stored['median']:g}" in text and "100% rated 7-9 in round 1" in text
    assert "DRAFT" in doc.sections[0].header.paragraphs[0].text


def test_the_markdown_lists_agreed_items_and_the_appendices(client, study):
    sign_in(client, study.facilitator)
    text = _download(client, "md").get_data(as_text=True)
    assert "#### P1: Prompt number 1?" in text
    assert "## Summary" in text and "| Offers research | P1 | Prompt number 1? |" in text
    assert "## Appendix C: excluded items and items with no consensus" in text
    assert "| P2 | Prompt number 2? |" in text and "| I1 | Indicator 1" in text
    assert "## Appendix A: figures per item and round" in text
    assert "### Panel and participation" in text


def _data_zip(client) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(_download(client, "data").data))


def test_the_data_zip_holds_csv_and_xlsx_with_the_stored_figures(client, study):
    sign_in(client, study.facilitator)
    archive = _data_zip(client)
    names = set(archive.namelist())
    assert {"ratings.csv", "items.csv", "results.csv", "data.xlsx", "README.md"} <= names
    ratings = pd.read_csv(archive.open("ratings.csv"))
    assert len(ratings) == db.session.scalar(select(func.count(Rating.id)))
    book = load_workbook(io.BytesIO(archive.read("data.xlsx")), read_only=True)
    assert {"ratings", "items", "results", "results_by_group", "participation"} <= set(
        book.sheetnames
    )
    rows = list(book["results"].iter_rows(values_only=True))
    header = rows[0]
    p1 = dict(zip(header, next(r for r in rows[1:] if r[1] == "P1"), strict=True))
    stored = _snapshot_entry(1, "P1")
    assert (p1["median"], p1["iqr"], p1["pct_top"], p1["n"]) == (
        stored["median"],
        stored["iqr"],
        stored["pct_top"],
        stored["n"],
    )
    assert p1["decision"] == "accept"
    xlsx_ratings = list(book["ratings"].iter_rows(values_only=True))
    assert len(xlsx_ratings) - 1 == len(ratings)
    readme = archive.read("README.md").decode()
    assert "`pseudonym`" in readme and "`pct_top`" in readme


def test_data_exports_carry_pseudonyms_and_no_names(client, study):
    sign_in(client, study.facilitator)
    archive = _data_zip(client)
    everything = " ".join(
        archive.read(n).decode() for n in archive.namelist() if n.endswith((".csv", ".md"))
    )
    assert "CQC partner 1" in everything
    for person in study.raters:
        assert person.user.name not in everything
        assert person.user.email not in everything
    html = _download(client, "html").get_data(as_text=True)
    assert all(p.user.name not in html for p in study.raters)


def test_formula_like_text_is_neutralised_in_csv_and_xlsx(client, study):
    sign_in(client, study.facilitator)
    archive = _data_zip(client)
    ratings = pd.read_csv(archive.open("ratings.csv"), keep_default_na=False)
    reasons = [r for r in ratings["reason"] if r]
    assert reasons and all(r.startswith("'=HYPERLINK") for r in reasons)
    book = load_workbook(io.BytesIO(archive.read("data.xlsx")), read_only=True)
    cells = [c for row in book["ratings"].iter_rows(values_only=True) for c in row]
    assert not any(isinstance(c, str) and c.startswith("=") for c in cells)


# The one table for the formula guard shared by every spreadsheet the app hands out (the
# data export, the audit log's CSV, a discussion thread's CSV): value in, cell out.
FORMULA_CELLS = [
    ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
    ("+1+1", "'+1+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("a = b + c", "a = b + c"),
    ("", ""),
    ("'quoted", "'quoted"),
    (-3, -3),
    (-1.5, -1.5),
    (None, None),
]


@pytest.mark.parametrize("value,cell", FORMULA_CELLS, ids=[repr(v) for v, _ in FORMULA_CELLS])
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(value, cell):
    assert neutralise_formula(value) == cell


def test_neutralising_leaves_numbers_alone_and_quotes_risky_text():
    frame = pd.DataFrame(
        {"score": [-3, 4], "median": [-1.5, 2.0], "text": ["-bad", "fine"], "at": ["@x", "+y"]}
    )
    out = neutralise(frame)
    assert out["score"].tolist() == [-3, 4] and out["median"].tolist() == [-1.5, 2.0]
    assert out["text"].tolist() == ["'-bad", "fine"]
    assert out["at"].tolist() == ["'@x", "'+y"]


def test_including_names_is_opt_in_and_audited(client, study):
    sign_in(client, study.facilitator)
    data = json.loads(_download(client, "json", names=1).get_data(as_text=True))
    names = {p["name"] for p in data["panel_names"]}
    assert study.partners[0].user.name in names
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export.names_included")
    ).all()
    assert len(events) == 1 and events[0].user_id == study.facilitator.id
    assert events[0].detail == {"format": "json"}
    archive = zipfile.ZipFile(io.BytesIO(_download(client, "data", names=1).data))
    assert study.partners[0].user.name in archive.read("panel.csv").decode()


def test_a_completed_study_exports_without_the_draft_mark(client, study):
    study.study.status = "completed"
    db.session.commit()
    sign_in(client, study.facilitator)
    response = _download(client, "html")
    assert "-draft." not in response.headers["Content-Disposition"]
    assert "DRAFT" not in response.get_data(as_text=True)
    assert json.loads(_download(client, "json").data)["status"] == "final"


# ---------------------------------------------------------------- who may export


@pytest.mark.parametrize("path", ["", "/download?format=html", *[f"/{f}" for f in FORMATS]])
def test_panellists_may_not_export(client, study, path):
    sign_in(client, study.partners[0].user)
    assert client.get(f"/studies/test-study/export{path}").status_code == 403


@pytest.mark.parametrize("path", ["", "/json"])
def test_outsiders_get_not_found_and_visitors_are_asked_to_sign_in(client, study, path):
    response = client.get(f"/studies/test-study/export{path}")
    assert response.status_code in (302, 401)
    sign_in(client, make_user("stranger@example.test", "Stranger"))
    assert client.get(f"/studies/test-study/export{path}").status_code == 404


def test_the_dashboard_links_to_the_specification_and_each_download(client, study):
    sign_in(client, study.facilitator)
    soup = page(get_page(client, "/studies/test-study"))
    hrefs = {a["href"] for a in soup.select("a[href]")}
    assert "/studies/test-study/export" in hrefs
    for fmt in FORMATS:
        assert f"/studies/test-study/export/{fmt}" in hrefs


# ---------------------------------------------------------------- command line and form


def test_flask_export_writes_each_format(app, study, tmp_path):
    runner = app.test_cli_runner()
    for fmt in FORMATS:
        target = tmp_path / f"out.{fmt}"
        result = runner.invoke(args=["export", "test-study", "--format", fmt, "-o", str(target)])
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 0
    spec = json.loads((tmp_path / "out.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(spec)
    result = runner.invoke(args=["export", "no-such-study", "--format", "json"])
    assert result.exit_code != 0 and "no study has the slug" in result.output


def test_the_item_form_takes_threshold_frequency_and_notes(client, panel):
    sign_in(client, panel.facilitator)
    response = client.post(
        "/studies/test-study/items/new",
        data={
            "kind": "indicator",
            "theme": "Conduct",
            "text": "Days to first recruit",
            "definition": "Median days from selection to first recruit",
            "reporting_frequency": "Annually",
            "threshold": "Good: under 60 days",
            "notes": "Compare with similar trusts",
        },
    )
    assert response.status_code == 303
    version = db.session.scalar(
        select(ItemVersion).where(ItemVersion.text == "Days to first recruit")
    )
    assert (version.reporting_frequency, version.threshold, version.notes) == (
        "Annually",
        "Good: under 60 days",
        "Compare with similar trusts",
    )


def test_flask_export_all_writes_every_format_into_a_folder(app, study, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["export", "test-study", "--format", "all", "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(
        f"test-study-{'data' if ext == 'zip' else 'specification'}-draft.{ext}"
        for ext in ["html", "md", "docx", "pdf", "json", "zip"]
    )


def test_a_pdf_the_server_cannot_print_is_a_503_with_a_message(client, study, monkeypatch):
    from app.export import formats

    def no_weasyprint(html: str) -> bytes:
        raise formats.ExportUnavailable("PDF export needs Chromium or WeasyPrint on the server.")

    monkeypatch.setitem(client.application.config, "PDF_CHROMIUM", "")
    monkeypatch.setattr(formats, "_pdf_with_weasyprint", no_weasyprint)
    sign_in(client, study.facilitator)
    response = _download(client, "pdf")
    assert response.status_code == 503
    assert "PDF export needs Chromium or WeasyPrint" in text_of(response)


def test_weasyprint_prints_the_pdf_when_chromium_is_not_used(client, study, monkeypatch):
    monkeypatch.setitem(client.application.config, "PDF_ENGINE", "weasyprint")
    sign_in(client, study.facilitator)
    response = _download(client, "pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


# ---------------------------------------------------------------- hostile text in Markdown

EVIL_TITLE = "Study <script>alert(1)</script> | *not em* [click](javascript:alert(1)) `c` #t"
EVIL_PURPOSE = "To agree <img src=x onerror=alert(1)> & ~~more~~\n# not a heading\n- no list"
EVIL_GROUP = "CQC <b onclick=x>|</b> *a*_b_"
EVIL_THEME = "Theme <iframe src=//evil.example></iframe> [t](javascript:alert(1))"
EVIL_TEXT = "Ask <script>x()</script> | **who** [x](javascript:alert(1)) 1. one"
EVIL_NOTE = "Changed <img src=x onerror=y> | `code` \\| back\\slash"
EVIL_NAME = "Mallory <a href=javascript:alert(1)>me</a> | *x*"


@pytest.fixture
def hostile_study(study: Panel) -> Panel:
    """The exported study with HTML and Markdown in every kind of name and text."""
    study.study.title = EVIL_TITLE
    study.study.purpose = EVIL_PURPOSE
    groups = {g.name: g for g in study.study.groups}
    groups["CQC"].name = EVIL_GROUP
    items = {i.ref: i for i in study.study.items}
    items["P1"].theme.name = EVIL_THEME
    items["P1"].current.text = EVIL_TEXT
    items["P2"].current.text = EVIL_TEXT
    items["P3"].current.change_note = EVIL_NOTE
    study.partners[0].user.name = EVIL_NAME
    thread = db.session.scalar(select(DiscussionThread))
    thread.summary = EVIL_NOTE
    decision = db.session.scalar(select(ItemDecision).where(ItemDecision.item_id == items["P2"].id))
    decision.reason = EVIL_NOTE
    db.session.commit()
    return study


def _one_line(text: str) -> str:
    return " ".join(text.split())


def test_names_and_texts_in_the_markdown_stay_text_when_the_markdown_is_rendered(
    client, hostile_study
):
    from markdown_it import MarkdownIt

    sign_in(client, hostile_study.facilitator)
    markdown = _download(client, "md", names=1).get_data(as_text=True)
    renderer = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    tokens = renderer.parse(markdown)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert not kinds & {"html_block", "html_inline", "link_open", "image", "code_inline", "s_open"}
    html = page_of(renderer.render(markdown))
    assert not html.find_all(["script", "img", "iframe", "a", "b", "code", "s"])
    for tag in html.find_all(True):
        assert not any(name.startswith("on") for name in tag.attrs), tag
    # People read the text exactly as it was typed, each in one piece.
    assert html.find("h1").get_text() == f"Specification: {EVIL_TITLE}"
    headings = [h.get_text() for h in html.find_all(["h2", "h3", "h4"])]
    assert EVIL_THEME in headings and f"P1: {EVIL_TEXT}" in headings
    shown = _one_line(html.get_text(" "))
    for text in (EVIL_PURPOSE, EVIL_NOTE, EVIL_NAME):
        assert _one_line(text) in shown, text
    cells = [td.get_text() for td in html.find_all("td")]
    for text in (EVIL_GROUP, EVIL_TEXT, EVIL_NOTE, EVIL_NAME):
        assert text in cells, text
    # Tables keep their shape: a "|" in a name is not a new column.
    for table in html.find_all("table"):
        width = len(table.find("tr").find_all("th"))
        assert all(len(row.find_all("td")) == width for row in table.find_all("tr")[1:])


def test_the_data_zip_readme_title_is_escaped_too(client, hostile_study):
    from markdown_it import MarkdownIt

    sign_in(client, hostile_study.facilitator)
    readme = _data_zip(client).read("README.md").decode()
    heading = page_of(MarkdownIt("commonmark").render(readme)).find("h1")
    assert heading.find_all(True) == []
    assert heading.get_text() == f"Data: {EVIL_TITLE}"


def page_of(html: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")
