"""Anonymity and sanitising: names reach facilitators only; no payload ever runs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import DiscussionMessage, Round
from app.services.rounds import open_round
from app.text.markdown import render
from tests.conftest import Panel, sign_in
from tests.web.discussion_helpers import BASE, HX, post
from tests.web.helpers import get_page, page

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '[x](https://ok.example" onmouseover="alert(1))',
    'https://ok.example/"onmouseover="alert(1)',
    '<iframe src="https://evil.example"></iframe>',
    "<body onload=alert(1)>",
    "**<b onclick=alert(1)>bold</b>**",
    "*<i onmouseover=alert(1)>em</i>*",
    "- <details open ontoggle=alert(1)>",
    "<style>body{display:none}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '"><script>alert(document.cookie)</script>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<a href="&#106;avascript:alert(1)">x</a>',
    "#P1<script>alert(1)</script>",
    "<form action=https://evil.example><button>Go</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "`<script>alert(1)</script>`",
]


@pytest.fixture
def round1(panel: Panel) -> Round:
    return open_round(panel.study, actor=panel.facilitator)


def assert_inert(fragment) -> None:
    for tag in fragment.find_all(True):
        assert tag.name in {"p", "br", "strong", "em", "ul", "ol", "li", "a", "div"}, tag
        for attribute, value in tag.attrs.items():
            assert not attribute.lower().startswith("on"), tag
            text = " ".join(value) if isinstance(value, list) else value
            assert "javascript:" not in text.lower() and "data:" not in text.lower(), tag
        if tag.name == "a" and tag.get("href"):
            assert tag["href"].startswith(("https://", "http://", "mailto:", "/studies/")), tag


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_script_event_handler_or_javascript_link_survives(client, panel, round1, payload):
    sign_in(client, panel.partners[0].user)
    assert post(client, "P1", payload).status_code == 303
    sign_in(client, panel.partners[1].user)
    for response in (
        client.get(f"{BASE}/P1"),
        client.get(
            f"{BASE}/poll?after=0&scope=item:{db.session.scalar(select(DiscussionMessage.thread_id))}"
        ),
        client.get("/studies/test-study/rounds/1/ballot"),
    ):
        for body in page(response).select(".app-message__body"):
            assert_inert(body)
        assert "<script>alert" not in response.get_data(as_text=True)


@pytest.mark.parametrize("payload", XSS_PAYLOADS[:6])
def test_payloads_in_a_reply_quote_and_a_summary_are_inert(client, panel, round1, payload):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", payload)
    parent = db.session.scalar(select(DiscussionMessage).where(DiscussionMessage.kind == "message"))
    post(client, "P1", "reply", parent_id=str(parent.id))
    sign_in(client, panel.facilitator)
    client.post(f"{BASE}/P1/summary", data={"summary": payload})
    sign_in(client, panel.partners[1].user)
    soup = page(get_page(client, f"{BASE}/P1"))
    for quote in soup.select(".app-message__quote"):
        assert not quote.find_all(["script", "img", "svg", "a", "iframe"])
    assert_inert(soup.select_one(".app-summary__body"))


def test_the_markdown_subset_renders_emphasis_lists_and_links():
    html = render(
        "Intro with *em*, _also em_ and **strong**.\n\n- one\n- two\n\n1. first\n2. second\n"
        "See [the guide](https://example.org/guide?a=1&b=2) or https://nhs.uk."
    )
    assert "<em>em</em>" in html and "<em>also em</em>" in html
    assert "<strong>strong</strong>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert 'href="https://example.org/guide?a=1&amp;b=2"' in html
    assert 'href="https://nhs.uk"' in html  # the full stop is not part of the link
    assert 'rel="nofollow noopener noreferrer"' in html


def test_plain_text_stays_plain():
    assert render("2 * 3 * 4 and snake_case_name") == "<p>2 * 3 * 4 and snake_case_name</p>"
    assert render("<b>not bold</b>") == "<p>&lt;b&gt;not bold&lt;/b&gt;</p>"


def test_other_panellists_see_pseudonyms_and_never_names(client, panel, round1):
    viewer = panel.partners[1]
    names = [
        p.user.name for p in panel.partners + panel.patients + [panel.observer] if p is not viewer
    ] + [panel.facilitator.name]
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Partner one speaking")
    sign_in(client, panel.patients[0].user)
    post(client, "P1", "Patient one speaking")
    sign_in(client, panel.facilitator)
    post(client, "P1", "Facilitator speaking")
    post(client, "channel", "Announcement")
    sign_in(client, viewer.user)
    pages = [
        client.get(f"{BASE}/P1"),
        client.get(BASE),
        client.get("/studies/test-study/rounds/1/ballot"),
        client.get(f"{BASE}/poll?after=0&scope=ballot:1", headers=HX),
        client.get(f"{BASE}/poll?after=0&scope=channel", headers=HX),
        client.get(f"{BASE}/poll?after=0", headers={"Accept": "application/json"}),
    ]
    for response in pages:
        body = response.get_data(as_text=True)
        for name in names:
            assert name not in body, (response.request.path, name)
    text = pages[0].get_data(as_text=True)
    assert "CQC partner 1" in text and "Patient representative 1" in text
    assert "Facilitator" in text


def test_facilitators_see_names_beside_pseudonyms(client, panel, round1):
    sign_in(client, panel.patients[0].user)
    post(client, "P1", "Hello")
    sign_in(client, panel.facilitator)
    meta = page(get_page(client, f"{BASE}/P1")).select("li.app-message .app-message__name")
    assert meta[-1].get_text() == f"({panel.patients[0].user.name})"


def test_error_responses_never_expose_a_stack_trace(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    for url in (
        f"{BASE}/P404",
        f"{BASE}/messages/999/edit",
        f"{BASE}/P1/export.xml",
        f"{BASE}/poll?after=abc",
        f"{BASE}/P1/compose?reply_to=zzz",
    ):
        response = client.get(url)
        assert response.status_code < 500, url
    response = client.post(f"{BASE}/messages/999/delete")
    assert response.status_code == 404
    response = post(client, "P1", "x", parent_id="not-a-number")
    assert response.status_code == 422
