"""No figure for a stakeholder group of fewer than 3 raters is shown to anyone, anywhere.

One study, every surface that shows group figures: a group of exactly 1 rater ("Solo"), one
of exactly 2 ("Patient representatives") and one of exactly 3 ("CQC"). Solo rates P1 7 and
the pair 7 and 8 while CQC rates 9, 8, 9: below three raters a group's row says "fewer than 3
ratings" and carries no other number; CQC's row shows its median, 9. The rule itself is
`delphi.disclosure` (unit tests: tests/unit/delphi/test_disclosure.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from docx import Document
from sqlalchemy import select

from app.extensions import db
from app.models import ItemDecision, Rating, Round, RoundSnapshot
from app.services.panel import add_panellist
from app.services.rounds import close_round, open_round, record_decisions
from app.services.studies import add_group
from delphi import Decision, PanelRole
from tests.conftest import Panel, build_panel, sign_in
from tests.web.helpers import get_page

TRIO, PAIR, SOLO = "CQC", "Patient representatives", "Solo"
SMALL = (SOLO, PAIR)
WITHHELD = "fewer than 3 ratings"
WITHHELD_ALPHA = "fewer than 3 raters"
# Raters in build_panel order (CQC x3, patients x2), then Solo.
SCORES = {"P1": [9, 8, 9, 7, 8, 7], "P2": [1, 9, 5, 2, 3, 4]}
TRIO_MEDIAN = "9"


def _with_solo(slug: str, *, realtime: bool = False) -> Panel:
    panel = build_panel(slug=slug, prompts=2, indicators=0, observer=False)
    if realtime:
        panel.study.mode = "realtime"
    solo = add_group(panel.study, SOLO)
    db.session.flush()
    lone = add_panellist(
        panel.study,
        name=f"Lone Person {slug}",
        email=f"lone-{slug}@example.test",
        group=solo,
        role=PanelRole.PARTNER,
    )
    lone.joined_at = panel.partners[0].joined_at
    panel.partners.append(lone)  # raters: CQC x3, patients x2, then Solo (see `raters`)
    db.session.commit()
    return panel


def _raters(panel: Panel) -> list:
    return [*panel.partners[:3], *panel.patients, panel.partners[3]]


@pytest.fixture(params=["stored disclosed", "stored before the rule"])
def study(app, request, monkeypatch) -> Panel:
    """Round 1 closed (P1 agreed, P2 carried forward) and round 2 open with P2.

    Its snapshot is stored either as the app stores it now (group figures disclosed) or as
    snapshots were stored before the rule (every group's figures), which readers must
    disclose as they read.
    """
    if request.param == "stored before the rule":
        import app.services.results as results

        monkeypatch.setattr(results, "disclose_round_results", lambda payload: payload)
    panel = _with_solo("small-groups")
    first = open_round(panel.study, actor=panel.facilitator)
    by_ref = {ri.item_version.item.ref: ri.item_version_id for ri in first.round_items}
    for ref, scores in SCORES.items():
        for panellist, score in zip(_raters(panel), scores, strict=True):
            db.session.add(
                Rating(
                    round_id=first.id,
                    panellist_id=panellist.id,
                    item_version_id=by_ref[ref],
                    score=score,
                    unable=False,
                )
            )
    db.session.commit()
    close_round(first.id, actor=panel.facilitator)
    monkeypatch.undo()
    stored = db.session.scalar(
        select(RoundSnapshot.payload).where(RoundSnapshot.round_id == first.id)
    )
    p1 = next(e for e in stored["items"].values() if e["ref"] == "P1")
    assert (p1["groups"][SOLO]["median"] is None) is (request.param == "stored disclosed")
    suggested = {
        d.item_id: d.suggested
        for d in db.session.scalars(select(ItemDecision).where(ItemDecision.round_id == first.id))
    }
    items = {i.ref: i.id for i in panel.study.items}
    assert suggested[items["P1"]] == "accept"  # the whole panel agreed on P1
    assert suggested[items["P2"]] == "carry_forward"
    problems = record_decisions(
        first,
        {items["P1"]: (Decision.ACCEPT, ""), items["P2"]: (Decision.CARRY_FORWARD, "")},
        panel.facilitator,
    )
    assert problems == []
    open_round(panel.study, actor=panel.facilitator)
    return panel


# ------------------------------------------------------------------ reading each surface
#
# Each reader answers {group name: the text of that group's row} for P1 in round 1 (P2 on
# the round 2 ballot, the only item carried forward), read as a person or a program would.


def _soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def _table_rows(table) -> dict[str, str]:
    rows = {}
    for tr in table.select("tbody tr"):
        head = tr.select_one("th")
        if head is not None:
            name = head.get_text(" ", strip=True)
            rows[name] = " ".join(td.get_text(" ", strip=True) for td in tr.select("td"))
    return rows


def _captioned(soup: BeautifulSoup, caption: str) -> dict[str, str]:
    table = next(t for t in soup.select("table") if t.caption and caption in t.caption.get_text())
    return _table_rows(table)


def _as_facilitator(client, panel: Panel) -> None:
    sign_in(client, panel.facilitator)


def _as_panellist(client, panel: Panel) -> None:
    sign_in(client, panel.partners[0].user)


def _feedback_page(client, panel: Panel) -> dict[str, str]:
    _as_panellist(client, panel)
    soup = _soup(get_page(client, "/studies/small-groups/rounds/1/feedback"))
    card = next(s for s in soup.select("section.app-item") if "P1" in s.h3.get_text())
    return _captioned(card, "stakeholder group")


def _ballot_feedback(client, panel: Panel) -> dict[str, str]:
    _as_panellist(client, panel)
    soup = _soup(get_page(client, "/studies/small-groups/rounds/2/ballot"))
    return _table_rows(soup.select_one(".app-group-view table"))


def _item_history(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    soup = _soup(get_page(client, "/studies/small-groups/results/items/P1"))
    return _table_rows(soup.select_one(".app-multiples__item table.app-compact-table"))


MATRIX = "by stakeholder group, in the round each item was agreed"


def _matrix_row(header: list[str], rows: list[list[str]], ref: str = "P1") -> dict[str, str]:
    """The specification's appendix of agreed items by group: one column per group."""
    row = next(r for r in rows if r[0] == ref)
    return dict(zip(header[2:], row[2:], strict=True))


def _html_matrix(soup: BeautifulSoup) -> dict[str, str]:
    table = next(t for t in soup.select("table") if t.caption and MATRIX in t.caption.get_text())
    header = [th.get_text(" ", strip=True) for th in table.select("thead th")]
    rows = [
        [c.get_text(" ", strip=True) for c in tr.select("th, td")]
        for tr in table.select("tbody tr")
    ]
    return _matrix_row(header, rows)


def _specification_page(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    return _html_matrix(_soup(get_page(client, "/studies/small-groups/export")))


def _html_export(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    return _html_matrix(_soup(get_page(client, "/studies/small-groups/export/html")))


def _pdf_export(client, panel: Panel) -> dict[str, str]:
    """The HTML the PDF is printed from (printing it is tested in test_export.py)."""
    from app.export import formats

    printed: list[str] = []

    def capture(self) -> bytes:
        printed.append(self.html)
        return b"%PDF-captured"

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(client.application.config, "PDF_CHROMIUM", "")
        patch.setattr(formats.PdfJob, "result", capture)
        _as_facilitator(client, panel)
        assert client.get("/studies/small-groups/export/pdf").data == b"%PDF-captured"
    return _html_matrix(BeautifulSoup(printed[0], "html.parser"))


def _markdown_export(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    text = client.get("/studies/small-groups/export/md").get_data(as_text=True)
    lines = text.splitlines()
    start = lines.index("## Appendix B: agreed items by stakeholder group")
    table = [line for line in lines[start:] if line.startswith("|")]
    table = table[: next((i for i, line in enumerate(table[1:], 1) if "| Ref |" in line), None)]
    header, _, *rows = ([c.strip() for c in line.strip("|").split("|")] for line in table)
    return _matrix_row(header, rows)


def _docx_export(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    doc = Document(io.BytesIO(client.get("/studies/small-groups/export/docx").data))
    table = next(
        t
        for t in doc.tables
        if [c.text for c in t.rows[0].cells][:2] == ["Ref", "Round"]
        and t.rows[0].cells[2].text != "Version"
    )
    header = [c.text for c in table.rows[0].cells]
    return _matrix_row(header, [[c.text for c in row.cells] for row in table.rows[1:]])


def _values(entry: dict[str, Any], skip: tuple[str, ...] = ("group",)) -> str:
    """A JSON object's figures as one line of text (booleans left out)."""
    return " ".join(
        json.dumps(v) if not isinstance(v, str) else v
        for k, v in entry.items()
        if k not in skip and v is not None and not isinstance(v, bool)
    )


def _json_export(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    spec = json.loads(client.get("/studies/small-groups/export/json").get_data(as_text=True))
    item = next(i for t in spec["themes"] for i in t["items"] if i["ref"] == "P1")
    return {g["group"]: _values(g) for g in item["evidence"]["groups"]}


def _api_results(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    body = client.get("/api/v1/studies/small-groups/rounds/1/results").get_json()
    item = next(i for i in body["items"] if i["ref"] == "P1")
    return {name: _values(g) for name, g in item["groups"].items()}


def _data_export(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/studies/small-groups/export/data").data))
    rows = csv.DictReader(io.StringIO(archive.read("results_by_group.csv").decode()))
    skip = ("round", "item_ref", "item_version", "group")
    return {
        r["group"]: _values({k: v or None for k, v in r.items()}, skip)
        for r in rows
        if r["item_ref"] == "P1" and r["round"] == "1"
    }


SURFACES: dict[str, Callable[[Any, Panel], dict[str, str]]] = {
    "round feedback page": _feedback_page,
    "ballot: last round's feedback": _ballot_feedback,
    "item history page": _item_history,
    "specification page": _specification_page,
    "specification HTML": _html_export,
    "specification PDF (its HTML)": _pdf_export,
    "specification Markdown": _markdown_export,
    "specification DOCX": _docx_export,
    "specification JSON": _json_export,
    "API round results": _api_results,
    "data export results_by_group.csv": _data_export,
}


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)]


def _only_marker(text: str, marker: str) -> bool:
    text = text.lower()
    return marker in text and not re.search(r"\d", text.replace(marker, ""))


def _assert_disclosed(rows: dict[str, str], marker: str = WITHHELD, shown: str = TRIO_MEDIAN):
    assert set(rows) >= {TRIO, *SMALL}, rows
    # Nothing but the marker: no median, IQR, percentage or count of the group.
    leaks = {name: rows[name] for name in SMALL if not _only_marker(rows[name], marker)}
    assert leaks == {}
    assert float(shown) in _numbers(rows[TRIO]), rows[TRIO]
    assert marker not in rows[TRIO].lower()


@pytest.mark.parametrize("surface", list(SURFACES), ids=list(SURFACES))
def test_no_surface_shows_a_figure_of_a_group_below_three_raters(app, study, surface):
    rows = SURFACES[surface](app.test_client(), study)
    if surface.startswith("ballot"):  # the ballot shows P2: CQC rated it 1, 9 and 5
        _assert_disclosed(rows, shown="5")
    else:
        _assert_disclosed(rows)


# ------------------------------------------------------------------ alpha per group


def _alpha_columns(header: list[str], row: list[str]) -> dict[str, str]:
    return dict(zip(header[1:], row[1:], strict=True))


def _alpha_overview(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    soup = _soup(get_page(client, "/studies/small-groups/results"))
    return _captioned(soup, "Alpha per stakeholder group")


def _alpha_html(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    soup = _soup(get_page(client, "/studies/small-groups/export/html"))
    table = next(t for t in soup.select("table") if "Ordinal alpha" in t.caption.get_text())
    header = [th.get_text(" ", strip=True) for th in table.select("thead th")]
    row = [c.get_text(" ", strip=True) for c in table.select("tbody tr")[0].select("th, td")]
    return _alpha_columns(header, row)


def _alpha_markdown(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    lines = client.get("/studies/small-groups/export/md").get_data(as_text=True).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Krippendorff's alpha by"))
    table = [line for line in lines[start + 1 :] if line.startswith("|")][:3]
    header, _, row = ([c.strip() for c in line.strip("|").split("|")] for line in table)
    return _alpha_columns(header, row)


def _alpha_docx(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    doc = Document(io.BytesIO(client.get("/studies/small-groups/export/docx").data))
    table = next(
        t for t in doc.tables if [c.text for c in t.rows[0].cells][:2] == ["Round", "Whole panel"]
    )
    header = [c.text for c in table.rows[0].cells]
    row = [c.text for c in table.rows[1].cells]
    return _alpha_columns(header, row)


def _alpha_json(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    spec = json.loads(client.get("/studies/small-groups/export/json").get_data(as_text=True))
    groups = spec["methods"]["rounds"][0]["alpha_groups"]
    return {name: _values(a, ("level",)) for name, a in groups.items()}


def _alpha_api(client, panel: Panel) -> dict[str, str]:
    _as_facilitator(client, panel)
    body = client.get("/api/v1/studies/small-groups/rounds/1/results").get_json()
    return {name: _values(a, ("level",)) for name, a in body["alpha_groups"].items()}


ALPHA_SURFACES = {
    "results across rounds page": _alpha_overview,
    "specification HTML": _alpha_html,
    "specification Markdown": _alpha_markdown,
    "specification DOCX": _alpha_docx,
    "specification JSON": _alpha_json,
    "API round results": _alpha_api,
}


@pytest.mark.parametrize("surface", list(ALPHA_SURFACES), ids=list(ALPHA_SURFACES))
def test_no_surface_shows_the_alpha_of_a_group_below_three_raters(app, study, surface):
    columns = ALPHA_SURFACES[surface](app.test_client(), study)
    assert set(columns) >= {TRIO, *SMALL}, columns
    leaks = {
        name: columns[name] for name in SMALL if not _only_marker(columns[name], WITHHELD_ALPHA)
    }
    assert leaks == {}
    assert re.search(r"-?\d\.\d{2}", columns[TRIO]), columns[TRIO]


# ------------------------------------------------------------------ real-time mode


def _rate(client, vid: int, value: int):
    return client.post(
        f"/studies/live-groups/rounds/1/items/{vid}/rating",
        data={f"score-{vid}": str(value)},
        headers={"HX-Request": "true"},
    )


def test_the_live_panel_of_a_real_time_study_withholds_groups_below_three(app):
    panel = _with_solo("live-groups", realtime=True)
    round_ = open_round(panel.study, actor=panel.facilitator)
    vid = next(ri.item_version_id for ri in round_.round_items if ri.item_version.item.ref == "P1")
    answer = None
    for panellist, score in zip(_raters(panel), SCORES["P1"], strict=True):
        client = app.test_client()
        sign_in(client, panellist.user)
        answer = _rate(client, vid, score)
    live = _soup(answer).select_one(f"#live-{vid}")
    rows = {
        li.select_one(".app-live__group").get_text(strip=True): li.get_text(" ", strip=True)
        for li in live.select("li")
    }
    rows = {name: text.removeprefix(name).strip(" :") for name, text in rows.items()}
    _assert_disclosed(rows)
    # The same on the page itself, and for the facilitator's live results.
    again = app.test_client()
    sign_in(again, panel.partners[0].user)
    page_text = _soup(get_page(again, "/studies/live-groups/rounds/1/ballot")).select_one(
        f"#live-{vid}"
    )
    assert WITHHELD in page_text.get_text(" ", strip=True).lower()
    assert db.session.scalar(select(Round.number).where(Round.study_id == panel.study.id)) == 1


# ------------------------------------------------------------------ one way in


def test_app_code_reads_stored_results_only_through_the_disclosing_property():
    """`RoundSnapshot.results` / `LiveSnapshot.results` apply the rule to rows stored before
    it (see the "stored before the rule" cases above); reading `.payload` would skip it."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "app"
    readers = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "models.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.payload\b", line)
    ]
    assert readers == []
