"""Indicator test data: upload, preview, line-by-line errors, the funnel plot page, and what
panellists see once a facilitator shows it."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import AuditEvent, IndicatorTestData, Item
from tests.conftest import sign_in
from tests.web.helpers import get_page, page, post_form, text_of

S = "/studies/test-study"
URL = f"{S}/items/I1/testing"

RATINGS = ["Good", "Outstanding", "Inadequate", "Requires improvement"]
# Twenty trusts near 20% and one far below it: only that one is outside the limits.
GOOD = (
    "code,name,numerator,denominator,rating\n"
    + "".join(
        f"R{i:02d},Trust {i},{100 + (i % 5) * 3 - 6},{500},{RATINGS[i % 4]}\n" for i in range(1, 21)
    )
    + "R21,Tiny Trust,1,400,Inadequate\n"
)


def upload(client, text: str = GOOD, *, status: int = 200, **fields: str):
    data = {
        "file": (io.BytesIO(text.encode()), "trusts.csv"),
        "period": "April 2024 to March 2025",
        "source": "National inpatient survey",
        "direction": "higher",
        "per": "100",
        "method": "additive",
        **fields,
    }
    return post_form(
        client, f"{URL}/preview", data, status=status, content_type="multipart/form-data"
    )


def confirm_fields(response) -> dict[str, str]:
    form = page(response).select_one(f"form[action='{URL}']")
    return {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}


def stored() -> IndicatorTestData | None:
    return db.session.scalar(select(IndicatorTestData))


@pytest.fixture
def facilitator(client, panel):
    sign_in(client, panel.facilitator)
    return client


def save(client) -> None:
    preview = upload(client)
    post_form(client, URL, confirm_fields(preview), status=303)


def test_a_preview_shows_the_funnel_plot_and_saves_nothing(facilitator):
    response = upload(facilitator)
    text = text_of(response)
    assert "Preview: 21 trusts read from trusts.csv" in text
    assert "Nothing is saved yet" in text
    assert "of 21 trusts would be flagged as needing improvement" in text
    assert (
        page(response)
        .select_one(".app-funnel svg title")
        .get_text()
        .startswith("Funnel plot for I1")
    )
    assert stored() is None


def test_saving_the_preview_stores_every_row_and_names_flagged_trusts(facilitator):
    save(facilitator)
    data = stored()
    assert data is not None and len(data.rows) == 21 and not data.shown_to_panel
    assert data.period == "April 2024 to March 2025"
    response = get_page(facilitator, URL)
    text = text_of(response)
    # Tiny Trust (1 of 400) is far below the rest: named as needing improvement.
    items = page(response).select(".app-funnel__flagged li")
    flagged = [li.get_text(" ", strip=True) for li in items]
    assert any(t.startswith("Tiny Trust (R21)") and "needs improvement" in t for t in flagged)
    assert "Do trusts differ more than chance?" in text
    assert "Reliability" in text
    assert "Spearman's rho" in text
    assert "Only facilitators see this" in text
    assert (
        db.session.scalar(
            select(func.count()).where(AuditEvent.action == "indicator.test_data_saved")
        )
        == 1
    )


def test_errors_are_listed_line_by_line_and_nothing_is_imported(facilitator):
    bad = (
        "code,name,numerator,denominator\n"
        "R01,North,10,100\n"
        "R02,,30,100\n"
        "R03,East,60,50\n"
        "R01,Again,1,10\n"
        "R05,Five,x,0\n"
    )
    response = upload(facilitator, bad, status=422)
    errors = [li.get_text(" ", strip=True) for li in page(response).select(".app-import-errors li")]
    assert errors == [
        "Row 3: the trust name is empty.",
        "Row 4: the numerator is more than the denominator.",
        "Row 5: trust code R01 is also on row 2.",
        "Row 6: the numerator must be a whole number (found “x”); the denominator is 0.",
    ]
    assert "Nothing was imported" in text_of(response)
    assert stored() is None


def test_too_few_trusts_is_explained(facilitator):
    response = upload(
        facilitator, "code,name,numerator,denominator\nA,A,1,10\nB,B,2,10\n", status=422
    )
    assert "a funnel plot needs at least 3" in text_of(response)


def test_a_missing_period_or_file_is_a_field_error(facilitator):
    response = post_form(facilitator, f"{URL}/preview", {"period": ""}, status=422)
    text = text_of(response)
    assert "Select a CSV or Excel file" in text
    assert "Enter the period the data cover" in text


def test_an_altered_preview_is_checked_again(facilitator):
    fields = confirm_fields(upload(facilitator))
    rows = json.loads(fields["rows"])
    rows[0]["numerator"] = 1000  # more than its 500
    fields["rows"] = json.dumps(rows)
    response = post_form(facilitator, URL, fields, status=422)
    assert "Row 2: the numerator is more than the denominator." in text_of(response)
    assert stored() is None


def test_panellists_see_it_only_when_the_facilitator_shows_it(app, facilitator, panel):
    save(facilitator)
    partner = app.test_client()
    sign_in(partner, panel.partners[0].user)
    get_page(partner, URL, status=404)
    post_form(facilitator, f"{URL}/visibility", {"shown": "yes"}, status=303)
    assert stored().shown_to_panel
    response = get_page(partner, URL)
    text = text_of(response)
    assert "would be flagged as needing improvement" in text
    assert "Upload test data" not in text and "Replace the test data" not in text
    post_form(facilitator, f"{URL}/visibility", {"shown": "no"}, status=303)
    get_page(partner, URL, status=404)


def test_panellists_cannot_upload_or_change_visibility(app, panel):
    partner = app.test_client()
    sign_in(partner, panel.partners[0].user)
    upload(partner, status=403)
    post_form(partner, f"{URL}/visibility", {"shown": "yes"}, status=403)


def test_a_prompt_has_no_test_data_page(facilitator):
    get_page(facilitator, f"{S}/items/P1/testing", status=404)


def test_a_completed_study_refuses_new_test_data(facilitator, panel):
    preview = upload(facilitator)
    panel.study.status = "completed"
    db.session.commit()
    response = post_form(facilitator, URL, confirm_fields(preview), status=409)
    assert "This study is completed" in text_of(response)
    assert stored() is None
    response = upload(facilitator, status=409)
    assert "This study is completed" in text_of(response)


def test_the_items_page_links_to_each_indicators_test_data(facilitator):
    response = get_page(facilitator, f"{S}/items")
    assert page(response).select_one(f"a[href='{URL}']") is not None


def test_uploading_without_a_csrf_token_is_refused(app, panel):
    strict = create_app({**app.config, "WTF_CSRF_ENABLED": True})
    client = strict.test_client()
    sign_in(client, panel.facilitator)
    response = client.post(f"{URL}/preview", data={"period": "x"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Item.id))) > 0 and stored() is None


def test_the_ballot_and_the_thread_show_the_summary_once_it_is_shown(app, facilitator, panel):
    save(facilitator)
    post_form(facilitator, f"{S}/rounds/open", {}, status=303)
    partner = app.test_client()
    sign_in(partner, panel.partners[0].user)
    ballot = get_page(partner, f"{S}/rounds/1/ballot")
    assert "Tested on trust data" not in text_of(ballot)
    thread = get_page(partner, f"{S}/discussion/I1")
    assert "Tested on trust data" not in text_of(thread)
    post_form(facilitator, f"{URL}/visibility", {"shown": "yes"}, status=303)
    ballot = get_page(partner, f"{S}/rounds/1/ballot")
    brief = page(ballot).select_one(".app-funnel-brief")
    assert brief is not None
    assert "1 of 21 trusts would be flagged as needing improvement" in brief.get_text(" ")
    assert brief.select_one(f"a[href='{URL}']") is not None
    thread = get_page(partner, f"{S}/discussion/I1")
    assert "Tested on trust data" in text_of(thread)
    assert "Tested on trust data" not in text_of(get_page(partner, f"{S}/discussion/P1"))


# --- the specification's "Indicator testing" section -------------------------------------


def _stored_synthetic(panel) -> None:
    from app.services.indicator_testing import Settings, check_rows, save_test_data
    from app.services.tabular import read_table

    item = next(i for i in panel.study.items if i.ref == "I1")
    rows = check_rows(read_table("t.csv", GOOD.encode(), ["code", "name"])).rows
    save_test_data(
        item,
        rows,
        Settings(period="2024/25", source="Made up"),
        filename="t.csv",
        actor=panel.facilitator,
        synthetic=True,
    )


def test_every_export_format_has_the_indicator_testing_section(facilitator, panel):
    import zipfile

    import jsonschema
    from docx import Document

    from tests.web.test_export import SCHEMA

    _stored_synthetic(panel)
    html = get_page(facilitator, f"{S}/export/html").get_data(as_text=True)
    assert "Indicator testing" in html and "Synthetic, for illustration" in html
    assert 'id="testing-I1-plot-title"' in html and "<polyline" in html
    md = get_page(facilitator, f"{S}/export/md").get_data(as_text=True)
    assert "## Indicator testing" in md and "Synthetic, for illustration" in md
    assert "1 of 21 trusts would be flagged as needing improvement" in md
    spec = json.loads(get_page(facilitator, f"{S}/export/json").get_data(as_text=True))
    jsonschema.Draft202012Validator(SCHEMA).validate(spec)
    (section,) = spec["indicator_testing"]
    assert section["synthetic"] and section["label"] == "Synthetic, for illustration"
    assert section["counts"]["needs-improvement"] == 1 and len(section["trusts"]) == 21
    doc = Document(io.BytesIO(get_page(facilitator, f"{S}/export/docx").data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Indicator testing" in text and "Synthetic, for illustration" in text
    assert len(doc.inline_shapes) == 1  # the funnel plot as a picture
    assert get_page(facilitator, f"{S}/export/pdf").data.startswith(b"%PDF")
    data = zipfile.ZipFile(io.BytesIO(get_page(facilitator, f"{S}/export/data").data))
    uploaded = data.read("indicator_test_data.csv").decode()
    assert "Tiny Trust" in uploaded and len(uploaded.splitlines()) == 22
    results = data.read("indicator_results.csv").decode()
    assert "needs-improvement" in results
    assert "indicator_results.csv" in data.read("README.md").decode()
