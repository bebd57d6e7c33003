"""Request hooks (security headers, CSP nonce, request id, due rounds) and template helpers."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, Response, g, request
from flask_wtf.csrf import generate_csrf

from delphi import MIN_GROUP_RATERS

LONDON = ZoneInfo("Europe/London")


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex[:16]
        g.csp_nonce = secrets.token_urlsafe(16)
        g.started = time.perf_counter()
        if request.path.startswith("/studies/") and request.method == "GET":
            from app.services.rounds import close_due_rounds

            close_due_rounds()

    @app.after_request
    def _headers(response: Response) -> Response:
        nonce = getattr(g, "csp_nonce", "")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self'; img-src 'self' data:; font-src 'self'; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'self'; object-src 'none'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        response.headers["X-Request-Id"] = getattr(g, "request_id", "")
        if not request.path.startswith("/static/"):
            elapsed = (time.perf_counter() - getattr(g, "started", time.perf_counter())) * 1000
            app.logger.info(
                "request id=%s method=%s path=%s status=%s ms=%.1f",
                getattr(g, "request_id", ""),
                request.method,
                request.path,
                response.status_code,
                elapsed,
            )
        if request.path.startswith(("/studies", "/api")) and not request.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def london(value: datetime | None, fmt: str = "%-d %B %Y, %H:%M") -> str:
    """A UTC datetime as people in England read it."""
    if value is None:
        return ""
    return value.astimezone(LONDON).strftime(fmt)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["london"] = london

    # Globals (not a context processor) so that imported macros can use them too.
    app.jinja_env.globals["csp_nonce"] = lambda: getattr(g, "csp_nonce", "")
    app.jinja_env.globals["csrf_token_value"] = generate_csrf
    # The group-disclosure minimum, for text that explains it (the rule is applied in data).
    app.jinja_env.globals["MIN_GROUP_RATERS"] = MIN_GROUP_RATERS
