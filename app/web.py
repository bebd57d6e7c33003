"""Request hooks (security headers, CSP nonce, request id, due rounds) and template helpers."""

from __future__ import annotations

import logging
import re
import secrets
import time
import uuid
from urllib.parse import parse_qsl, quote, urlencode

from flask import Flask, Response, g, request
from flask_wtf.csrf import generate_csrf

from app.text import numbers
from app.text.dates import london
from delphi import MIN_GROUP_RATERS, VOCABULARY, ConsensusStatus

# Links that are secrets in themselves (app/auth/routes.py): whoever reads the log must not
# be able to use them. The token runs to the next separator.
_TOKEN_IN_PATH = re.compile(r"(/(?:invitation|sign-in)/)[^/?#&\s\"]+", re.IGNORECASE)
# A proxy's request id is kept only when it cannot forge or garble a log line.
_PLAIN_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_PATH_SAFE = "/-._~!$&'()*+,;=:@"


# An email address anywhere in a URL (a crafted `?email=`): the log must not be a second
# place that holds who someone is (docs/data-protection.md).
_EMAIL = re.compile(r"[^\s/?&=@]+@[^\s/?&=@]+")


def mask_tokens(text: str) -> str:
    """`text` with every invitation and sign-in token and every email address masked."""
    return _EMAIL.sub("***@***", _TOKEN_IN_PATH.sub(r"\1***", text))


def loggable_url(path: str, query: bytes = b"") -> str:
    """A request's path and query as the log shows them: tokens masked (in the path, in a
    value such as `next=/invitation/...`, and any parameter named like a token), and
    control characters percent-encoded, so the log line stays one line."""
    shown = quote(mask_tokens(path), safe=_PATH_SAFE)
    if query:
        pairs = parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True)
        masked = [
            (mask_tokens(key), "***" if "token" in key.lower() else mask_tokens(value))
            for key, value in pairs
        ]
        shown += "?" + urlencode(masked, safe="/*", quote_via=quote)
    return shown


class MaskTokens(logging.Filter):
    """Masks tokens in any record of the logger it is on (the development server's request
    lines, werkzeug's, hold the raw request line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_tokens(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _mask_tokens_in(logger: logging.Logger) -> None:
    if not any(isinstance(f, MaskTokens) for f in logger.filters):
        logger.addFilter(MaskTokens())


def request_id_from(header: str | None) -> str:
    """The proxy's request id if it is short and plain, otherwise a new one."""
    if header and _PLAIN_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex[:16]


def register_request_hooks(app: Flask) -> None:
    _mask_tokens_in(app.logger)
    _mask_tokens_in(logging.getLogger("werkzeug"))

    @app.before_request
    def _start() -> None:
        g.request_id = request_id_from(request.headers.get("X-Request-Id"))
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
                loggable_url(request.path, request.query_string),
                response.status_code,
                elapsed,
            )
        if request.path.startswith(("/studies", "/api")) and not request.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["london"] = london

    # Globals (not a context processor) so that imported macros can use them too.
    app.jinja_env.globals["csp_nonce"] = lambda: getattr(g, "csp_nonce", "")
    app.jinja_env.globals["csrf_token_value"] = generate_csrf
    # The group-disclosure minimum, for text that explains it (the rule is applied in data).
    app.jinja_env.globals["MIN_GROUP_RATERS"] = MIN_GROUP_RATERS
    # The domain's vocabulary with its words (delphi/model.py): templates compare with these
    # and label by them, never by raw strings, e.g. `study.mode == StudyMode.REALTIME`,
    # `Decision(d.decision).label`, `(entry.status|consensus).label`.
    for vocabulary in VOCABULARY:
        app.jinja_env.globals[vocabulary.__name__] = vocabulary
    app.jinja_env.filters["consensus"] = ConsensusStatus.of
    # The one number formatter (app/text/numbers.py): every figure a page shows goes through it.
    for name in ("num", "pct", "fixed", "span", "p_value", "signed_pct"):
        app.jinja_env.globals[name] = getattr(numbers, name)
