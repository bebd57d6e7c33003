"""Reading pages the way a person does: visible text, links, form errors.

`get_page` and `post_form` fetch a page and check what every page owes its reader (after
GOV.UK Notify's `client_request`): the expected status, one `<h1>` on a full page, unique
element ids, the CSP nonce on every inline script, an error summary on a 422, and
`Vary: HX-Request` on pages that `app/htmx.py` renders (every HTML page but the error page).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from bs4 import BeautifulSoup
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from jinja2_fragments.flask import template_block_rendered
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import Round
from tests.conftest import Panel, sign_in

ERROR_PAGE = "errors/error.html"
_NONCE = re.compile(r"'nonce-([^']+)'")


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


def get_page(client: FlaskClient, url: str, *, status: int = 200, **kwargs: Any) -> TestResponse:
    """GET `url`, check the answer is `status` and a sound page (`check_page`)."""
    return _checked(client, "GET", url, status, kwargs)


def post_form(
    client: FlaskClient, url: str, data: Any = None, *, status: int = 303, **kwargs: Any
) -> TestResponse:
    """POST `data` to `url`, check the answer is `status` and, if a page, a sound one."""
    return _checked(client, "POST", url, status, {"data": data, **kwargs})


def _checked(
    client: FlaskClient, method: str, url: str, status: int, kwargs: dict[str, Any]
) -> TestResponse:
    drawn: list[str] = []

    def page_drawn(sender: Any, template: Any, context: Any, **extra: Any) -> None:
        drawn.append(template.name)

    def block_drawn(sender: Any, template_name: str, **extra: Any) -> None:
        drawn.append(template_name)

    app = client.application
    with (
        template_rendered.connected_to(page_drawn, app),
        template_block_rendered.connected_to(block_drawn, app),
    ):
        response = client.open(url, method=method, **kwargs)
    check_page(response, status, drawn=drawn)
    return response


def check_page(response: TestResponse, status: int = 200, *, drawn: list[str]) -> None:
    """What every answer owes its reader. `drawn`: the templates the request rendered (a
    page from a view's template comes through app/htmx.py; the error page does not)."""
    assert response.status_code == status, (response.status_code, response.data[:500])
    if response.mimetype != "text/html" or 300 <= status < 400:
        return  # not a page; a redirect's body is Werkzeug's
    body = response.get_data(as_text=True)
    if not body.strip():
        return
    soup = BeautifulSoup(body, "html.parser")
    ids = Counter(tag["id"] for tag in soup.find_all(id=True))
    assert not [i for i, n in ids.items() if n > 1], f"ids used twice: {ids.most_common(3)}"
    nonces = _NONCE.findall(response.headers.get("Content-Security-Policy", ""))
    for script in soup.find_all("script", src=False):
        assert script.get("nonce") in nonces, f"inline script without the CSP nonce: {script}"
    if soup.find("html") is not None:
        headings = [h.get_text(" ", strip=True) for h in soup("h1")]
        assert len(headings) == 1, f"a full page has one <h1>, not {headings}"
        if status == 422:
            assert soup.select(".nhsuk-error-summary"), "a 422 page without an error summary"
    attachment = "attachment" in response.headers.get("Content-Disposition", "")
    if drawn and ERROR_PAGE not in drawn and not attachment:
        assert "HX-Request" in response.vary, "a page from app/htmx.py without Vary: HX-Request"
# The answer to "Close round N?": a close sent without it only asks the question.
CLOSE = {"confirm": "yes"}
