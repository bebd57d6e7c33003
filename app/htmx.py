"""One place decides whether a view answers with the whole page or one named block.

Templates follow the "template fragments" pattern: a page's swappable regions are blocks
whose name equals the DOM id, and an htmx request asks for one of them.
"""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    template: str, *, block: str | None = None, status: int = 200, **context: Any
) -> Response:
    """The full page, or only `block` when htmx asked; always `Vary: HX-Request`."""
    if block and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response
