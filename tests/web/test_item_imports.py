"""Importing items from CSV and XLSX: the same rules as the item form, no silent duplicates,
formulas read or named, and a file too large answered on the Items page."""

from __future__ import annotations

import io
import re
import zipfile

from openpyxl import Workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Item
from tests.conftest import Panel, sign_in
from tests.web.helpers import error_summary, post_form, text_of

URL = "/studies/test-study/items/import"


def _items() -> int:
    return db.session.scalar(select(func.count(Item.id)))


def _upload(client, filename: str, data: bytes, status: int = 422):
    return post_form(
        client,
        URL,
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        status=status,
    )


def test_an_imported_indicator_needs_a_definition_as_the_form_does(client, panel: Panel):
    sign_in(client, panel.facilitator)
    csv = "kind,theme,text,definition\nprompt,Equity,A fine prompt?,\nindicator,Equity,Recruits,\n"
    response = _upload(client, "items.csv", csv.encode())
    assert "Row 3: definition is empty (an indicator needs one)." in text_of(response)
    assert _items() == 4


def test_duplicate_rows_in_one_file_are_refused_naming_the_row_they_repeat(client, panel):
    sign_in(client, panel.facilitator)
    csv = "kind,theme,text\nprompt,Equity,New prompt?\nprompt,Equity,new  prompt\n"
    response = _upload(client, "items.csv", csv.encode())
    assert "Row 3: repeats row 2." in text_of(response)
    assert "Row 3: repeats row 2." in error_summary(response)
    assert _items() == 4


def test_importing_the_same_file_twice_refuses_the_second_naming_each_item(client, panel):
    sign_in(client, panel.facilitator)
    csv = "kind,theme,text\nprompt,Equity,New prompt?\nprompt,Equity,Another prompt?\n"
    _upload(client, "items.csv", csv.encode(), status=303)
    assert _items() == 6
    response = _upload(client, "items.csv", csv.encode())
    shown = text_of(response)
    assert "Row 2: the study already has this prompt as P4." in shown
    assert "Row 3: the study already has this prompt as P5." in shown
    assert _items() == 6


def _book_with_formula() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["kind", "theme", "text"])
    sheet.append(["prompt", "Equity", '="Is research " & "reported?"'])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _with_cached_value(data: bytes, value: str) -> bytes:
    """The workbook as Excel saves it: the formula cell also holds its last value."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                xml = content.decode()
                xml, n = re.subn(
                    r'<c r="C2"([^>]*)><f>(.*?)</f><v\s*/?>(</v>)?</c>',
                    rf'<c r="C2" t="str"><f>\2</f><v>{value}</v></c>',
                    xml,
                )
                assert n == 1, xml
                content = xml.encode()
            target.writestr(info, content)
    return out.getvalue()


def test_an_xlsx_formula_without_a_saved_value_is_named_as_a_formula(client, panel: Panel):
    sign_in(client, panel.facilitator)
    response = _upload(client, "items.xlsx", _book_with_formula())
    shown = text_of(response)
    assert "text is empty" not in shown
    assert "Row 2: the text cell (C2) holds a formula with no saved value" in shown
    assert _items() == 4


def test_an_xlsx_formula_with_a_saved_value_imports_the_value(client, panel: Panel):
    sign_in(client, panel.facilitator)
    data = _with_cached_value(_book_with_formula(), "Is research reported?")
    _upload(client, "items.xlsx", data, status=303)
    texts = db.session.scalars(select(Item).order_by(Item.id.desc())).first().current.text
    assert texts == "Is research reported?"


def test_a_file_over_the_size_limit_is_refused_on_the_items_page(client, app, panel, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    sign_in(client, panel.facilitator)
    big = b"kind,theme,text\n" + b"prompt,Equity,x\n" * 70_000
    response = _upload(client, "items.csv", big, status=413)
    assert "Upload a file of 1 MB or less" in " ".join(error_summary(response))
    assert "Items" in [h.get_text(strip=True) for h in _h1(response)]
    assert _items() == 4


def test_a_file_over_the_size_limit_is_not_shown_to_a_non_facilitator(
    client, app, panel, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    sign_in(client, panel.partners[0].user)
    response = client.post(
        URL,
        data={"file": (io.BytesIO(b"x" * 4096), "items.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (403, 413)
    assert "Test study" not in text_of(response)


def _h1(response):
    from tests.web.helpers import page

    return page(response)("h1")


def test_a_panel_file_over_the_size_limit_is_refused_on_the_panel_page(
    client, app, panel, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    sign_in(client, panel.facilitator)
    big = b"name,email,group,role\n" + b"A B,a@example.test,CQC,partner\n" * 40_000
    response = post_form(
        client,
        "/studies/test-study/panel/import",
        data={"file": (io.BytesIO(big), "panel.csv")},
        content_type="multipart/form-data",
        status=413,
    )
    assert "Upload a file of 1 MB or less" in " ".join(error_summary(response))
    assert [h.get_text(strip=True) for h in _h1(response)] == ["Panel"]
