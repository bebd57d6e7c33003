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
from tests.web.helpers import get_page, text_of

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
    "facilitator_id": "1",
    "theme_id": "1",
    "group_id": "1",
    "proposal_id": "1",
    "idea_id": "<idea>",
    "question_id": "<question>",
    "criterion_id": "1",
    "rating_id": "1",
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
    "seven",
    "\u0661\u0662",  # Arabic-Indic digits: int() reads them, no id is written so
    "\x00",
    "a\nb",
    "\x1b[31m\x7f\x85",
    "x" * 5000,
]

_PART = re.compile(r"<(?:[^:<>]+:)?([a-z_]+)>")


# The integer and free-form arguments pages read from the query string or the form.
ARGUMENTS = [
    "after",
    "reply_to",
    "page",
    "revoke",
    "scope",
    "next",
    "voices",
    "category",
    "format",
    "for",
    "names",
    "label",
    "parent_id",
    "show",
]
SHORT = [HUGE, "-1", "\x00", "a\nb", "x" * 5000]


def _routes(app) -> list[tuple[str, list[str], list[str]]]:
    """(rule, methods it takes, its URL parts) for every route."""
    return [
        (rule.rule, sorted(rule.methods - {"HEAD", "OPTIONS"}), sorted(rule.arguments))
        for rule in app.url_map.iter_rules()
    ]


def _address(rule: str, argument: str | None, value: str, ids: dict[str, str]) -> str:
    def part(match: re.Match[str]) -> str:
        name = match.group(1)
        raw = value if name == argument else ids.get(DEFAULTS[name], DEFAULTS[name])
        return quote(raw, safe="/" if name == "filename" and name != argument else "")

    return _PART.sub(part, rule)


def _check(client, failures: list, method: str, target: str, **kwargs) -> None:
    response = client.open(target, method=method, **kwargs)
    if response.status_code >= 500:
        failures.append((method, target[:80], kwargs.get("data", ""), response.status_code))
    elif response.status_code >= 400:
        assert response.get_data(as_text=True).strip(), (method, target, "a refusal says why")


@pytest.mark.parametrize("role", ["anonymous", "partner", "facilitator"])
def test_no_url_part_of_any_route_makes_a_500(app, world, role):
    """Every URL part of every route, with each hostile value, by GET and POST."""
    panel, users, ids = world
    client = app.test_client()
    if users[role] is not None:
        sign_in(client, users[role])
    failures: list = []
    routes = [r for r in _routes(app) if r[2]]
    assert len(routes) > 40
    for rule, methods, arguments in routes:
        for argument in arguments:
            for method in ("GET", "POST"):
                # The methods a route does not take answer 405; a few values suffice there.
                for value in HOSTILE if method in methods else SHORT:
                    _check(client, failures, method, _address(rule, argument, value, ids))
    assert failures == []


@pytest.mark.parametrize("role", ["anonymous", "partner", "facilitator"])
def test_no_query_or_form_argument_of_any_route_makes_a_500(app, world, role):
    """Every route, at a real address, given hostile integer and text arguments."""
    panel, users, ids = world
    client = app.test_client()
    if users[role] is not None:
        sign_in(client, users[role])
    failures: list = []
    for rule, methods, _ in _routes(app):
        if rule in ("/logout", "/login"):  # signing out or failing sign-in changes who asks
            continue
        target = _address(rule, None, "", ids)
        for method in methods:
            for value in HOSTILE:
                data = {name: value for name in ARGUMENTS}
                data["scope"] = f"ballot:{value}"
                if method == "GET":
                    _check(client, failures, method, target, query_string=data)
                else:
                    _check(client, failures, method, target, query_string=data, data=data)
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
        response = get_page(client, path, query_string={"reply_to": value})
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
