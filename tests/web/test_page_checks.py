"""The checks `get_page` and `post_form` make on every page catch what they are for."""

from __future__ import annotations

import pytest
from werkzeug.wrappers import Response

from tests.web.helpers import ERROR_PAGE, check_page

CSP = {"Content-Security-Policy": "script-src 'self' 'nonce-abc'", "Vary": "HX-Request"}


def _page(body: str, status: int = 200, **headers: str) -> Response:
    return Response(
        f"<!doctype html><html><body>{body}</body></html>",
        status=status,
        mimetype="text/html",
        headers={**CSP, **headers},
    )


def test_a_sound_page_passes():
    check_page(_page('<h1 id="a">Title</h1><script nonce="abc">go()</script>'), drawn=["p.html"])


@pytest.mark.parametrize(
    "body,status,problem",
    [
        ("<h1>One</h1><h1>Two</h1>", 200, "h1"),
        ("<p>No heading</p>", 200, "h1"),
        ('<h1>T</h1><p id="x"></p><p id="x"></p>', 200, "ids used twice"),
        ("<h1>T</h1><script>steal()</script>", 200, "nonce"),
        ('<h1>T</h1><script nonce="old">steal()</script>', 200, "nonce"),
        ("<h1>T</h1><p>Wrong</p>", 422, "error summary"),
    ],
)
def test_a_page_that_fails_a_reader_is_caught(body, status, problem):
    with pytest.raises(AssertionError, match=problem):
        check_page(_page(body, status), status, drawn=["p.html"])


def test_an_unexpected_status_is_caught():
    with pytest.raises(AssertionError):
        check_page(_page("<h1>T</h1>", 200), 303, drawn=[])


def test_a_page_from_a_view_must_vary_on_htmx_but_the_error_page_need_not():
    page = _page("<h1>T</h1>")
    del page.headers["Vary"]
    with pytest.raises(AssertionError, match="Vary"):
        check_page(page, drawn=["studies/show.html"])
    check_page(page, drawn=[ERROR_PAGE])
