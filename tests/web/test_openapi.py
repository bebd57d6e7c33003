"""The JSON API against its OpenAPI description (app/api/openapi.json), with schemathesis.

Schemathesis generates requests from the description (examples, boundary values and
hypothesis-generated path parameters) and checks every answer: no 5xx, a status the
description lists, JSON of the described shape, and no answer without credentials. The study
in the description's example has round 1 closed (results) and round 2 open (409).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from sqlalchemy import select

from app.api.routes import OPENAPI
from app.extensions import db
from app.models import ApiToken, Rating, Round
from app.security import new_token
from app.services.rounds import close_round, open_round, record_decisions
from delphi import Decision
from tests.conftest import build_panel

DESCRIPTION: dict[str, Any] = json.loads(OPENAPI.read_text())
SLUG = DESCRIPTION["components"]["parameters"]["slug"]["example"]


@pytest.fixture
def token(app) -> str:
    """A study whose round 1 is closed with results and round 2 open; its API token."""
    panel = build_panel(slug=SLUG)
    first = open_round(panel.study, actor=panel.facilitator)
    for index, rater in enumerate(panel.raters):
        for position, round_item in enumerate(first.round_items):
            score = None if (index + position) % 7 == 6 else 1 + (index * 3 + position) % 9
            db.session.add(
                Rating(
                    round_id=first.id,
                    panellist_id=rater.id,
                    item_version_id=round_item.item_version_id,
                    score=score,
                    unable=score is None,
                )
            )
    db.session.commit()
    close_round(first.id, actor=panel.facilitator)
    choices = {
        ri.item_version.item_id: (Decision.CARRY_FORWARD, "Asked again") for ri in first.round_items
    }
    assert record_decisions(first, choices, panel.facilitator) == []
    open_round(panel.study, actor=panel.facilitator)
    raw, digest = new_token()
    db.session.add(ApiToken(study_id=panel.study.id, token_hash=digest, label="schemathesis"))
    db.session.commit()
    return raw


OPERATIONS = [(path, "GET") for path in DESCRIPTION["paths"]]


@pytest.mark.parametrize("path,method", OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_every_answer_of_the_api_matches_its_description(app, token, path, method):
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]
    headers = {"Authorization": f"Bearer {token}"}
    statuses: list[int] = []

    def check(case: schemathesis.Case) -> None:
        response = case.call_and_validate(headers=headers)
        statuses.append(response.status_code)

    # The description's own example first (the study exists, round 1 has results), then
    # path parameters generated from the description (unknown studies and rounds, boundaries).
    rounds = [1, 2] if "{number}" in path else [None]
    for number in rounds:
        check(operation.Case(path_parameters={"slug": SLUG, "number": number}))

    @given(case=operation.as_strategy())
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    def generated(case: schemathesis.Case) -> None:
        check(case)

    generated()
    # The token opens only its own study: any other slug, real or not, answers 401 alike;
    # an unknown round of its study answers 404.
    expected = {200, 401} if "{number}" not in path else {200, 401, 404, 409}
    assert expected <= set(statuses), statuses
    assert set(statuses) <= {200, 401, 404, 409}, statuses


def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": DESCRIPTION["components"]}
    )


def test_the_examples_answer_200_and_409_with_bodies_of_the_described_shape(client, token):
    headers = {"Authorization": f"Bearer {token}"}
    study = client.get(f"/api/v1/studies/{SLUG}", headers=headers)
    results = client.get(f"/api/v1/studies/{SLUG}/rounds/1/results", headers=headers)
    still_open = client.get(f"/api/v1/studies/{SLUG}/rounds/2/results", headers=headers)
    assert (study.status_code, results.status_code, still_open.status_code) == (200, 200, 409)
    assert list(_validator("Study").iter_errors(study.json)) == []
    assert list(_validator("RoundResults").iter_errors(results.json)) == []
    assert list(_validator("Error").iter_errors(still_open.json)) == []
    statuses = {item["status"] for item in results.json["items"]}
    assert statuses <= {"consensus_in", "consensus_out", "no_consensus", "not_rated"}
    assert db.session.scalar(select(Round.status).where(Round.number == 2)) == "open"


def test_the_description_catches_a_body_of_the_wrong_shape(client, token):
    """The shapes are strict enough to fail: a wrong status or a missing figure is caught."""
    body = client.get(
        f"/api/v1/studies/{SLUG}/rounds/1/results",
        headers={"Authorization": f"Bearer {token}"},
    ).json
    body["items"][0]["status"] = "agreed"
    del body["items"][1]["median"]
    messages = [error.message for error in _validator("RoundResults").iter_errors(body)]
    assert any("'agreed' is not one of" in message for message in messages), messages
    assert any("'median' is a required property" in message for message in messages), messages


def test_the_description_is_served_as_json_to_anyone(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json["openapi"].startswith("3.1")
    assert set(response.json["paths"]) == {
        "/api/v1/studies/{slug}",
        "/api/v1/studies/{slug}/rounds/{number}/results",
    }
