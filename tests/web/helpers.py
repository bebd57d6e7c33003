"""Reading pages the way a person does: visible text, links, form errors."""

from __future__ import annotations

from collections.abc import Callable

from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import Round
from tests.conftest import Panel, sign_in


def page(response: TestResponse) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(response: TestResponse) -> str:
    soup = page(response)
    for hidden in soup.select("script, style"):
        hidden.decompose()
    return " ".join(soup.get_text(" ").split())


def error_summary(response: TestResponse) -> list[str]:
    return [li.get_text(" ", strip=True) for li in page(response).select(".nhsuk-error-summary li")]


def open_and_rate_round_one(
    app: Flask,
    facilitator: FlaskClient,
    panel: Panel,
    scores: dict[str, list[int]],
    extra: Callable[[int, dict[str, int]], dict[str, str]] = lambda index, vids: {},
) -> dict[str, int]:
    """The facilitator (signed in) opens round 1 and each rater, in `panel.raters` order,
    submits a score per item ref (plus `extra(index, vids)` form fields); item versions by ref."""
    slug = panel.study.slug
    assert facilitator.post(f"/studies/{slug}/rounds/open", data={}).status_code == 303
    round_ = db.session.scalar(
        select(Round).where(Round.study_id == panel.study.id, Round.number == 1)
    )
    vids = {ri.item_version.item.ref: ri.item_version_id for ri in round_.round_items}
    for index, panellist in enumerate(panel.raters):
        rater = app.test_client()
        sign_in(rater, panellist.user)
        form = {f"score-{vids[ref]}": str(s[index]) for ref, s in scores.items()}
        form.update(extra(index, vids))
        assert rater.post(f"/studies/{slug}/rounds/1/ballot", data=form).status_code == 303
    return vids


# The answer to "Close round N?": a close sent without it only asks the question.
CLOSE = {"confirm": "yes"}
