"""Hostile addresses never break a page: huge, negative or non-numeric ids, control
characters and very long strings in any part of any URL, or in the integer arguments pages
take, answer a 4xx with a message, never a 500.

The world is the permission table's (tests/web/test_permissions.py).
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from app.extensions import db
from app.models import ApiToken
from tests.conftest import sign_in
from tests.web import test_permissions
from tests.web.helpers import text_of

world = test_permissions.world

S = "/studies/test-study"
HUGE = "99999999999999999999999"

# What goes in every URL part when another part is under test: each leads to a real page.
DEFAULTS = {
    "slug": "test-study",
    "ref": "P1",
    "number": "2",
    "version_id": "1",
    "message_id": "<msg>",
    "panellist_id": "1",
    "proposal_id": "1",
    "snapshot_id": "1",
    "token": "not-a-token",
    "fmt": "csv",
    "filename": "css/app.css",
}

HOSTILE = [
    HUGE,
    "2147483648",  # one past the largest id the databases hold
    "-1",
    "0",
    "1.5",
    "seven",
    "\u0661\u0662",  # Arabic-Indic digits: int() reads them, no id is written so
    "\x00",
    "P1\x00",
    "a\nb",
    "\x1b[31m",
    "\x7f\x85",
    "x" * 5000,
    "..",
]

_PART = re.compile(r"<(?:[^:<>]+:)?([a-z_]+)>")


def _rules(app) -> list[tuple[str, str, str]]:
    """(method, rule, argument) for every argument of every route."""
    return [
        (method, rule.rule, argument)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        for argument in sorted(rule.arguments)
    ]


def _address(rule: str, argument: str, value: str, ids: dict[str, str]) -> str:
    def part(match: re.Match[str]) -> str:
        name = match.group(1)
        raw = value if name == argument else ids.get(DEFAULTS[name], DEFAULTS[name])
        return quote(raw, safe="/" if name == "filename" and name != argument else "")

    return _PART.sub(part, rule)


@pytest.mark.parametrize("role", ["anonymous", "partner", "facilitator"])
def test_no_url_part_of_any_route_makes_a_500(app, world, role):
    panel, users, ids = world
    client = app.test_client()
    if users[role] is not None:
        sign_in(client, users[role])
    failures = []
    rules = _rules(app)
    assert len(rules) > 60  # every route with a URL part, and each method it takes
    for method, rule, argument in rules:
        for value in HOSTILE:
            target = _address(rule, argument, value, ids)
            response = client.open(target, method=method)
            if response.status_code >= 500:
                failures.append((method, rule, argument, repr(value[:20]), response.status_code))
            elif response.status_code >= 400:
                assert response.get_data(as_text=True).strip(), (method, target)
    assert failures == []


@pytest.mark.parametrize(
    "method,path,data,status,message",
    [
        ("GET", f"{S}/discussion/poll?after={HUGE}", None, 400, "not a valid"),
        ("GET", f"{S}/discussion/poll?after=-4", None, 400, "not a valid"),
        ("GET", f"{S}/discussion/messages/{HUGE}/edit", None, 404, "Page not found"),
        ("POST", f"{S}/discussion/messages/{HUGE}/edit", {"body": "x"}, 404, "Page not found"),
        ("GET", f"{S}/rounds/1/snapshots/{HUGE}", None, 404, "Page not found"),
        ("GET", f"{S}/rounds/{HUGE}/ballot", None, 404, "Page not found"),
        ("POST", f"{S}/rounds/2/items/{HUGE}/rating", {"score-1": "7"}, 404, "Page not found"),
        ("POST", f"{S}/panel/{HUGE}/reinvite", None, 404, "Page not found"),
        ("POST", f"{S}/api-tokens", {"revoke": HUGE}, 404, "not one of this study's tokens"),
        ("POST", f"{S}/api-tokens", {"revoke": "\u00b2"}, 404, "not one of this study's tokens"),
        ("GET", f"/api/v1/studies/test-study/rounds/{HUGE}/results", None, 404, "not found"),
    ],
)
def test_huge_and_malformed_numbers_are_refused_with_a_message(
    app, world, method, path, data, status, message
):
    panel, users, _ = world
    client = app.test_client()
    sign_in(client, users["facilitator"])
    response = client.open(path, method=method, data=data)
    assert response.status_code == status
    assert message.lower() in text_of(response).lower()


@pytest.mark.parametrize("value", [HUGE, "2147483648", "-3", "1e3", "\u00b2", "x" * 3000])
def test_a_reply_to_that_is_no_message_shows_the_thread_without_a_quote(app, world, value):
    panel, users, _ = world
    client = app.test_client()
    sign_in(client, users["partner"])
    for path in (f"{S}/discussion/P1", f"{S}/discussion"):
        response = client.get(path, query_string={"reply_to": value})
        assert response.status_code == 200
        assert "Replying to" not in text_of(response)
    compose = client.get(f"{S}/discussion/P1/compose", query_string={"reply_to": value})
    assert compose.status_code == 303


def test_revoking_a_token_by_a_huge_number_changes_no_token(app, world):
    panel, users, _ = world
    client = app.test_client()
    sign_in(client, users["facilitator"])
    client.post(f"{S}/api-tokens", data={"label": "kept"})
    client.post(f"{S}/api-tokens", data={"revoke": HUGE})
    assert [t.revoked_at for t in db.session.scalars(db.select(ApiToken))] == [None]
