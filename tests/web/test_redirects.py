"""After an action people are sent only to a page of this site, whatever a link or form says.

Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so
"/\\t/evil.example" in a Location header takes them to //evil.example.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from app.extensions import db
from app.redirects import safe_next
from app.security import hash_password
from app.services.rounds import open_round
from tests.conftest import PASSWORD, Panel, sign_in
from tests.web.discussion_helpers import BASE
from tests.web.helpers import get_page, page

HOSTILE = [
    "//evil.example",
    "///evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/\x00/evil.example",
    "/\x0b/evil.example",
    "/\x85/evil.example",
    "/\u2028/evil.example",
    "/\u00a0/evil.example",
    "https://evil.example",
    "https:/evil.example",
    "http:evil.example",
    "HTTPS://evil.example/studies",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "studies",
    "",
    "/" + "a" * 5000,
]

# Those a browser can send in a header (no line breaks or NUL).
IN_A_HEADER = [t for t in HOSTILE if not any(c in t for c in "\r\n\x00")]

SAME_SITE = ["/studies", "/studies/test-study/discussion/P1?voices=patients#compose-item-1"]


@pytest.mark.parametrize("target", HOSTILE)
def test_a_target_that_is_not_a_plain_same_site_path_gives_the_fallback(target):
    assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", SAME_SITE)
def test_a_plain_same_site_path_is_kept(target):
    assert safe_next(target, "/fallback") == target


def _lands_on_this_site(location: str) -> None:
    """What a browser would follow stays here: no scheme or host, one leading slash, nothing
    a browser drops or rewrites (whitespace, control characters, backslashes)."""
    assert not any(c == "\\" or c.isspace() or not c.isprintable() for c in location), location
    parts = urlsplit(location)
    assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), location
    assert parts.path.startswith("/") and not parts.path.startswith("//"), location


@pytest.fixture
def round1(panel: Panel):
    return open_round(panel.study, actor=panel.facilitator)


def test_a_message_posted_with_a_hostile_next_returns_to_its_thread(
    app, client, panel, round1, monkeypatch
):
    monkeypatch.setitem(app.config, "DISCUSSION_RATE_LIMIT", (1000, 60))
    sign_in(client, panel.partners[0].user)
    for target in HOSTILE:
        response = client.post(
            f"{BASE}/channel/messages", data={"channel-body": "Hello", "channel-next": target}
        )
        assert response.status_code == 303, repr(target)
        location = response.headers["Location"]
        _lands_on_this_site(location)
        assert urlsplit(location).path == BASE, repr(target)


def test_a_message_posted_from_the_ballot_returns_to_the_ballot(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    ballot = "/studies/test-study/rounds/1/ballot"
    response = client.post(
        f"{BASE}/channel/messages", data={"channel-body": "Hello", "channel-next": ballot}
    )
    assert urlsplit(response.headers["Location"]).path == ballot


def test_the_reply_form_never_carries_a_hostile_page_address(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    for target in IN_A_HEADER:
        response = get_page(
            client,
            f"{BASE}/channel/compose",
            headers={"HX-Request": "true", "HX-Current-URL": f"http://localhost{target}"},
        )
        _lands_on_this_site(page(response).select_one("input[name=channel-next]")["value"])


def test_signing_in_with_a_hostile_next_lands_on_the_studies_page(client, panel):
    panel.facilitator.password_hash = hash_password(PASSWORD)
    db.session.commit()
    for target in HOSTILE:
        response = client.post(
            "/login",
            query_string={"next": target},
            data={"email": panel.facilitator.email, "password": PASSWORD},
        )
        assert response.status_code == 303, repr(target)
        _lands_on_this_site(response.headers["Location"])
        assert urlsplit(response.headers["Location"]).path == "/studies", repr(target)


def test_an_ended_session_never_sends_sign_in_on_to_a_hostile_page(client, panel):
    for target in IN_A_HEADER:
        response = client.post(
            "/studies/test-study/rounds/1/items/1/rating",
            data={"score-1": "7"},
            headers={"HX-Request": "true", "HX-Current-URL": f"http://localhost{target}"},
        )
        assert response.status_code == 401
        query = parse_qs(urlsplit(response.headers["HX-Redirect"]).query)
        for following in query.get("next", []):
            _lands_on_this_site(following)
