"""Item references in addresses: P1 and p1 name the same item on every route that takes one.

References are stored upper case; `app.access.item_of` upper-cases what the address says, so a
reference typed in lower case (or copied from a mention) finds the item everywhere.
"""

from __future__ import annotations

import pytest

from app.services.rounds import close_round, open_round
from tests.conftest import Panel, build_panel, sign_in
from tests.web.discussion_helpers import dom

S = "/studies/test-study"

# URL rule -> (method, who asks, form fields with "{dom}" for the thread's field prefix)
ROUTES = {
    "/studies/<slug>/results/items/<ref>": ("GET", "facilitator", {}),
    "/studies/<slug>/items/<ref>/revise": ("GET", "facilitator", {}),
    "/studies/<slug>/items/<ref>/delete": ("GET", "facilitator", {}),
    "/studies/<slug>/items/<ref>/move": ("POST", "facilitator", {"direction": "down"}),
    "/studies/<slug>/discussion/<ref>": ("GET", "partner", {}),
    "/studies/<slug>/discussion/<ref>/compose": ("GET", "partner", {}),
    "/studies/<slug>/discussion/<ref>/panel": ("GET", "partner", {}),
    "/studies/<slug>/discussion/<ref>/earlier": ("GET", "partner", {}),
    "/studies/<slug>/discussion/<ref>/messages": ("POST", "partner", {"{dom}-body": "Agreed."}),
    "/studies/<slug>/discussion/<ref>/share-reason": ("POST", "partner", {}),
    "/studies/<slug>/discussion/<ref>/summary": ("POST", "facilitator", {"summary": "In."}),
    "/studies/<slug>/discussion/<ref>/lock": ("POST", "facilitator", {}),
    "/studies/<slug>/discussion/<ref>/unlock": ("POST", "facilitator", {}),
    "/studies/<slug>/discussion/<ref>/export.<fmt>": ("GET", "facilitator", {}),
    "/studies/<slug>/discussion/<ref>/read": ("POST", "partner", {}),
    "/studies/<slug>/discussion/<ref>/follow": ("POST", "partner", {"following": "yes"}),
    "/studies/<slug>/rounds/<int:number>/reasons/items/<ref>": ("GET", "partner", {}),
    "/studies/<slug>/rounds/<int:number>/reasons/items/<ref>/summary": (
        "POST",
        "facilitator",
        {"summary": "In."},
    ),
}
# Routes that take only an indicator (I1): method and the answer both cases must give.
INDICATOR_ROUTES = [
    ("/studies/<slug>/items/<ref>/testing", "GET", 200),
    ("/studies/<slug>/items/<ref>/testing/preview", "POST", 422),
    ("/studies/<slug>/items/<ref>/testing", "POST", 422),
    ("/studies/<slug>/items/<ref>/testing/visibility", "POST", 404),
]


@pytest.fixture
def world(app) -> Panel:
    panel = build_panel()
    close_round(open_round(panel.study, actor=panel.facilitator).id, actor=panel.facilitator)
    return panel


def test_every_route_that_takes_a_reference_is_in_the_table(app):
    rules = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "ref" in rule.arguments and "ref" not in (rule.defaults or {})
    }
    assert rules == set(ROUTES) | {rule for rule, _, _ in INDICATOR_ROUTES}


@pytest.mark.parametrize(("rule", "method", "expected"), INDICATOR_ROUTES)
def test_an_indicator_reference_in_lower_case_finds_the_same_indicator(
    app, world, rule, method, expected
):
    for ref in ("I1", "i1"):
        client = app.test_client()
        sign_in(client, world.facilitator)
        path = rule.replace("<slug>", "test-study").replace("<ref>", ref)
        assert client.open(path, method=method, data={}).status_code == expected, ref


@pytest.mark.parametrize("rule", sorted(ROUTES))
def test_a_reference_in_lower_case_finds_the_same_item(app, world, rule):
    method, role, fields = ROUTES[rule]
    user = world.facilitator if role == "facilitator" else world.partners[0].user
    answers = {}
    for ref in ("P1", "p1"):
        client = app.test_client()
        sign_in(client, user)
        path = rule.replace("<slug>", "test-study").replace("<ref>", ref)
        path = path.replace("<fmt>", "csv").replace("<int:number>", "1")
        data = {key.format(dom=dom("P1")): value for key, value in fields.items()}
        response = client.open(path, method=method, data=data)
        answers[ref] = response.status_code
    assert answers["P1"] < 400, answers
    assert answers["p1"] == answers["P1"]


def test_an_unknown_reference_is_not_found_in_either_case(app, world, client):
    sign_in(client, world.facilitator)
    assert client.get(f"{S}/results/items/P99").status_code == 404
    assert client.get(f"{S}/results/items/p99").status_code == 404
