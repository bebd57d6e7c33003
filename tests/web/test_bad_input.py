"""Bad input never breaks anything: every form and JSON endpoint, fed hypothesis-generated
junk (wrong types, huge strings, unicode, missing fields, negative ids, other studies' ids),
answers with a message and a 4xx (or does what a valid request would), never a 500, and a
4xx never changes data."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from app.extensions import db
from tests.conftest import sign_in
from tests.web import test_permissions
from tests.web.test_permissions import ROUTES, _concrete

world = test_permissions.world  # the same seeded world as the permission table

FIELDS = (
    "body category change_note closes_on confirm data_source definition denominator email "
    "file group instructions invite_rule item kind max_iqr max_rounds merge_into mode name "
    "next notes numerator outcome parent_id password pct_in pct_out_max proposals_open "
    "purpose rationale reason reporting_frequency require_all_groups response role rule "
    "summary text theme threshold title scale_max decision format page after names "
    "channel-body score-1 reason-1 score-5 score-2 decision-1 reason-2 csrf_token"
).split()

NASTY = [
    "",
    " ",
    "-1",
    "0",
    "-9223372036854775809",
    "99999999999999999999",
    "1e309",
    "NaN",
    "inf",
    "unable",
    "null",
    "[]",
    "{}",
    "true",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://evil.example","click")',
    "\x00",
    "' OR 1=1 --",
    "../../etc/passwd",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ☃ مرحبا 日本語",
    "a" * 100_000,
    "2026-02-31",
    "other-study",
    "P999",
]

values = st.one_of(
    st.sampled_from(NASTY),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
)
forms = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)

# Tables whose rows a refused request may legitimately add: failed sign-ins are counted.
MAY_GROW_ON_REFUSAL = {"login_attempts", "alembic_version"}

FORM_ROUTES = [(m, p) for m, p, _ in ROUTES if m == "POST"] + [
    (m, p) for m, p, _ in ROUTES if m == "GET" and ("api" in p or "poll" in p or "audit" in p)
]


def fingerprint() -> dict[str, tuple[int, int]]:
    """Row count and a checksum of every table (what a 4xx must leave alone)."""
    out = {}
    for table in db.metadata.sorted_tables:
        if table.name in MAY_GROW_ON_REFUSAL:
            continue
        rows = db.session.execute(select(table)).all()
        out[table.name] = (len(rows), hash(tuple(sorted(map(repr, rows)))))
    db.session.rollback()
    return out


@pytest.mark.parametrize("method,path", FORM_ROUTES, ids=[f"{m} {p}" for m, p in FORM_ROUTES])
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "6")),  # raise it for a deep run
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=forms, as_role=st.sampled_from(["facilitator", "partner"]), htmx=st.booleans())
def test_junk_gets_a_4xx_with_a_message_and_changes_nothing(
    app, world, method, path, data, as_role, htmx
):
    panel, users, ids = world
    client = app.test_client()
    sign_in(client, users[as_role])
    headers = {"HX-Request": "true"} if htmx else {}
    target = _concrete(path, ids)
    before = fingerprint()
    if method == "GET":
        response = client.get(target, query_string=data, headers=headers)
    else:
        response = client.post(target, data=data, headers=headers)
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)[:300]
    if status >= 400:
        body = response.get_data(as_text=True)
        assert len(body.strip()) > 0, "a refusal must say why"
        assert "Traceback" not in body
        assert fingerprint() == before, f"{status} answer changed data"


@pytest.mark.parametrize(
    "path",
    [
        "/studies/test-study/rounds/-1/ballot",
        "/studies/test-study/rounds/0/results",
        "/studies/test-study/rounds/99999999999999999999/ballot",
        "/studies/test-study/discussion/messages/-5/edit",
        "/studies/test-study/items/P999/revise",
        "/studies/test-study/discussion/P999",
        "/studies/%F0%9F%A6%84/rounds/1/ballot",
        "/studies/" + "x" * 5000,
    ],
)
def test_impossible_ids_in_addresses_are_404s(app, world, path):
    _, users, _ = world
    client = app.test_client()
    sign_in(client, users["facilitator"])
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True) or response.status_code == 404


def test_rating_another_studys_item_is_refused_and_stores_nothing(app, world):
    panel, users, _ = world
    client = app.test_client()
    sign_in(client, users["partner"])
    other_version = db.session.scalar(
        text(
            "SELECT item_versions.id FROM item_versions JOIN items ON items.id = item_id "
            "JOIN studies ON studies.id = items.study_id WHERE studies.slug = 'other-study'"
        )
    )
    before = db.session.scalar(select(func.count()).select_from(db.metadata.tables["ratings"]))
    response = client.post(
        f"/studies/test-study/rounds/2/items/{other_version}/rating",
        data={f"score-{other_version}": "7"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 404
    assert "not part of this round" in response.get_data(as_text=True)
    after = db.session.scalar(select(func.count()).select_from(db.metadata.tables["ratings"]))
    assert after == before


@pytest.mark.parametrize(
    "score,message",
    [
        ("0", "Select a rating from 1 to 9"),
        ("10", "Select a rating from 1 to 9"),
        ("seven", None),
        ("-3", "Select a rating from 1 to 9"),
        ("", None),
    ],
)
def test_out_of_range_scores_are_refused_with_a_message(app, world, score, message):
    panel, users, _ = world
    client = app.test_client()
    sign_in(client, users["partner"])
    version = panel.study.rounds[-1].round_items[0].item_version_id
    response = client.post(
        f"/studies/test-study/rounds/2/items/{version}/rating",
        data={f"score-{version}": score},
        headers={"HX-Request": "true"},
    )
    assert 400 <= response.status_code < 500
    if message:
        assert message in response.get_data(as_text=True)


# --- uploads ---------------------------------------------------------------------------------

ITEM_HEADER = "kind,theme,text"
PANEL_HEADER = "name,email,group,role"


def _upload(client, path: str, filename: str, content: bytes):
    return client.post(path, data={"file": (io.BytesIO(content), filename)})


@pytest.mark.parametrize("target", ["items", "panel"])
@pytest.mark.parametrize(
    "filename,content,expected",
    [
        ("list.csv", "kind,theme,text\n".encode("utf-16"), "UTF-8"),
        ("list.csv", b"\xff\xfe\x00garbage\x80\x81", "UTF-8"),
        ("list.csv", b"colour,size\nred,big\n", "The first row must name the columns"),
        ("list.csv", b"", "empty"),
        ("list.xlsx", b"PK\x03\x04 not really a workbook", "Excel"),
        ("list.pdf", b"%PDF-1.4", "must be a CSV"),
    ],
)
def test_unreadable_uploads_get_a_clear_error(app, world, target, filename, content, expected):
    _, users, _ = world
    client = app.test_client()
    sign_in(client, users["facilitator"])
    before = fingerprint()
    response = _upload(client, f"/studies/test-study/{target}/import", filename, content)
    assert response.status_code == 422
    assert expected.lower() in response.get_data(as_text=True).lower()
    assert fingerprint() == before


@pytest.mark.parametrize("target,header", [("items", ITEM_HEADER), ("panel", PANEL_HEADER)])
def test_a_hundred_thousand_rows_are_refused_with_the_limit(app, world, target, header):
    _, users, _ = world
    client = app.test_client()
    sign_in(client, users["facilitator"])
    row = "prompt,Theme,Text?" if target == "items" else "A B,a{n}@example.test,CQC,partner"
    body = header + "\n" + "\n".join(row.format(n=n) for n in range(100_000))
    before = fingerprint()
    response = _upload(client, f"/studies/test-study/{target}/import", "big.csv", body.encode())
    assert response.status_code in (413, 422)
    text_ = response.get_data(as_text=True)
    assert "the most one upload takes is 5000" in text_ or "5 MB or less" in text_
    assert fingerprint() == before


def test_formula_cells_in_an_item_upload_are_stored_as_text_never_run(app, world):
    panel, users, _ = world
    client = app.test_client()
    sign_in(client, users["facilitator"])
    evil = '=HYPERLINK("http://evil.example","Click me")'
    content = f'{ITEM_HEADER}\nprompt,Theme,"{evil.replace(chr(34), chr(34) * 2)}"\n'.encode()
    response = _upload(client, "/studies/test-study/items/import", "items.csv", content)
    assert response.status_code < 500
    page = client.get("/studies/test-study/items").get_data(as_text=True)
    assert '<a href="http://evil.example' not in page
