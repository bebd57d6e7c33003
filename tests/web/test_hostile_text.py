"""Text nobody should type never breaks a page: control characters are stripped from every
free-text field as it arrives, and a discussion message, whatever it holds (even one stored
before that rule), renders on the thread, the ballot and the live poll for everyone."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from sqlalchemy import select

from app.extensions import db
from app.models import (
    ApiToken,
    DiscussionMessage,
    DiscussionThread,
    Item,
    Panellist,
    Rating,
    Round,
    StakeholderGroup,
    Study,
)
from app.services.rounds import open_round
from app.text.markdown import ALLOWED_TAGS, render
from tests.conftest import Panel, sign_in
from tests.web.discussion_helpers import BASE, HX, post
from tests.web.helpers import post_form, text_of

CONTROL = "".join(chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)])
BALLOT = "/studies/test-study/rounds/1/ballot"

# Pieces a hostile or unlucky message is made of: the renderer's old placeholders, control
# characters, half-written Markdown, links, mentions, HTML and unusual line breaks.
PIECES = [
    "\x00",
    "\x007\x00",
    "\x000\x00",
    "\x001\x00",
    "\x00999\x00",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\u2028",
    "\r",
    "\r\n",
    "\n",
    "\n\n",
    "\t",
    "**",
    "*",
    "_",
    "- ",
    "1. ",
    "[x](https://a.example/\x00)",
    "[x](https://a.example)",
    "https://a.example/x",
    "https://a.example/\x000\x00",
    "#P1",
    "#I9999",
    "<b>",
    "&amp;",
    "\ufffd",
    "\U0001f984",
    " ",
    "ok",
]

messages = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
    ),
    max_size=60,
).map(lambda parts: "".join(parts)[:4000])


# ---------------------------------------------------------------- the renderer alone


@given(text=messages, mention=st.booleans())
@example(text="ok \x007\x00", mention=False)
@example(text="https://a.example/[x](https://b.example)\x000\x00 #P1", mention=True)
@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), deadline=None)
def test_rendering_any_text_gives_safe_html_without_control_characters(text, mention):
    html = render(text, (lambda ref: f"/studies/s/discussion/{ref}") if mention else lambda r: None)
    assert isinstance(html, Markup)
    assert not any(c in html for c in CONTROL.replace("\x00", "") + "\x00")
    from bs4 import BeautifulSoup

    for tag in BeautifulSoup(str(html), "html.parser").find_all(True):
        assert tag.name in ALLOWED_TAGS, tag


def test_the_old_placeholders_typed_in_a_message_are_just_removed_characters():
    assert render("ok \x007\x00") == Markup("<p>ok 7</p>")
    assert render("**a** \x000\x00 [x](https://a.example)") == Markup(
        '<p><strong>a</strong> 0 <a href="https://a.example" '
        'rel="nofollow noopener noreferrer">x</a></p>'
    )


def test_a_message_the_renderer_cannot_handle_is_shown_as_escaped_text(monkeypatch):
    from app.text import markdown

    def broken(*args, **kwargs):
        raise IndexError("a bug in a rule")

    monkeypatch.setattr(markdown, "_inline", broken)
    assert render("<b>bold</b>\nline two") == Markup("<p>&lt;b&gt;bold&lt;/b&gt;<br>line two</p>")


# ---------------------------------------------------------------- through the pages


def _last_id() -> int:
    return db.session.scalar(
        select(DiscussionMessage.id)
        .where(DiscussionMessage.kind == "message")
        .order_by(DiscussionMessage.id.desc())
    )


def _last_body() -> str:
    return db.session.get(DiscussionMessage, _last_id()).body


@pytest.fixture
def round1(panel: Panel) -> Round:
    return open_round(panel.study, actor=panel.facilitator)


def _pages_answer_for_everyone(client, panel: Panel, expect: str | None = None) -> None:
    thread_id = db.session.scalar(
        select(DiscussionThread.id).where(DiscussionThread.item_id.is_not(None))
    )
    for person in (panel.partners[0].user, panel.partners[1].user, panel.facilitator):
        sign_in(client, person)
        answers = {
            "thread": client.get(f"{BASE}/P1"),
            "ballot": client.get(BALLOT),
            "poll (ballot)": client.get(f"{BASE}/poll?after=0&scope=ballot:1", headers=HX),
            "poll (thread)": client.get(f"{BASE}/poll?after=0&scope=item:{thread_id}"),
        }
        for name, response in answers.items():
            assert response.status_code == 200, (name, person.name)
        if expect is not None:
            assert expect in text_of(answers["thread"])


def test_a_message_with_the_old_placeholders_leaves_every_page_working(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    assert post(client, "P1", "ok \x007\x00").status_code == 303
    assert _last_body() == "ok 7"
    _pages_answer_for_everyone(client, panel, expect="ok 7")


def test_control_characters_are_stripped_from_a_message_as_it_arrives(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    body = "a\x01b\x1b[31mc\x7fd\x85e\tf\r\ng\rh" + "\x00"
    assert post(client, "P1", body).status_code == 303
    assert _last_body() == "ab[31mcde\tf\ng\nh"


def test_a_message_of_control_characters_only_is_refused_as_empty(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    response = post(client, "P1", "\x00\x01\x02")
    assert response.status_code == 422
    assert "Enter a message" in text_of(response)


def test_a_message_stored_with_control_characters_before_the_fix_still_shows(client, panel, round1):
    """Rows written before input was cleaned. PostgreSQL never stored NUL in text."""
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "placeholder")
    message = db.session.get(DiscussionMessage, _last_id())
    nul = "\x00" if db.engine.dialect.name == "sqlite" else ""
    message.body = f"ok {nul}7{nul} \x01\x1b[0m**bold**"
    db.session.commit()
    _pages_answer_for_everyone(client, panel, expect="ok 7 [0m bold")
    sign_in(client, panel.facilitator)
    hidden = client.post(f"{BASE}/messages/{message.id}/hide", data={"reason": "Odd\x00 text"})
    assert hidden.status_code == 303
    assert db.session.get(DiscussionMessage, message.id).hidden_reason == "Odd text"
    _pages_answer_for_everyone(client, panel)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=messages)
@example(body="ok \x007\x00")
def test_any_message_leaves_the_thread_the_ballot_and_the_poll_working(
    app, client, panel, round1, monkeypatch, body
):
    monkeypatch.setitem(app.config, "DISCUSSION_RATE_LIMIT", (10_000, 60))
    sign_in(client, panel.partners[0].user)
    response = post(client, "P1", body)
    assert response.status_code in (303, 422), response.status_code
    _pages_answer_for_everyone(client, panel)


# ---------------------------------------------------------------- every other text field

DIRTY = "Clean\x00 na\x1bme\x7f\x85"


def _no_control(value: str) -> None:
    assert not any(c in value for c in CONTROL), repr(value)
    assert "Clean name" in value


def test_every_form_strips_control_characters_from_free_text(client, panel):
    sign_in(client, panel.facilitator)
    study = panel.study
    data = {
        "title": DIRTY,
        "purpose": DIRTY,
        "scale": "9",
        "rule": "percentage",
        "mode": "rounds",
        "pct_in": "70",
        "pct_out_max": "15",
        "max_iqr": "2",
        "max_rounds": "3",
    }
    assert client.post("/studies/test-study/settings", data=data).status_code == 303
    assert client.post("/studies/test-study/groups", data={"name": DIRTY}).status_code == 303
    new_item = {"kind": "prompt", "theme": DIRTY, "text": DIRTY}
    assert client.post("/studies/test-study/items/new", data=new_item).status_code == 303
    client.post(f"{BASE}/P1/summary", data={"summary": DIRTY})
    client.post("/studies/test-study/api-tokens", data={"label": DIRTY})
    db.session.expire_all()
    study = db.session.get(Study, study.id)
    _no_control(study.title)
    _no_control(study.purpose)
    _no_control(
        db.session.scalars(select(StakeholderGroup.name).order_by(StakeholderGroup.id)).all()[-1]
    )
    item = db.session.scalars(select(Item).order_by(Item.id.desc())).first()
    _no_control(item.theme.name)
    _no_control(item.current.text)
    _no_control(db.session.scalar(select(DiscussionThread.summary)))
    _no_control(db.session.scalar(select(ApiToken.label)))


def test_a_rating_reason_and_a_shared_reason_are_stripped_too(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    version = round1.round_items[0].item_version_id
    post_form(
        client,
        f"{BALLOT[:-7]}/items/{version}/rating",
        data={f"score-{version}": "7", f"reason-{version}": DIRTY},
        headers=HX,
        status=200,
    )
    _no_control(db.session.scalar(select(Rating.reason)))
    shared = client.post(
        f"{BASE}/{round1.round_items[0].item_version.item.ref}/share-reason",
        data={f"reason-{version}": DIRTY},
    )
    assert shared.status_code == 303
    _no_control(_last_body())


def test_an_uploaded_panel_list_is_stripped_too(client, panel):
    sign_in(client, panel.facilitator)
    csv = f"name,email,group,role\n{DIRTY},new\x00@example.test,CQC,partner\n"
    response = client.post(
        "/studies/test-study/panel/import",
        data={"file": (io.BytesIO(csv.encode()), "panel.csv")},
    )
    assert response.status_code < 500
    newest = db.session.scalars(select(Panellist).order_by(Panellist.id.desc())).first()
    _no_control(newest.user.name)
    assert newest.user.email == "new@example.test"
