"""Every error answers with a page or JSON written for people, never a stack trace."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Flask, Response, flash, jsonify, make_response, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db
from app.htmx import is_htmx
from app.redirects import safe_next
from app.web import loggable_url
from delphi import DomainError

_MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do that.",
    404: "Page not found.",
    405: "That action is not available here.",
    413: "The file is too large. Upload a file of 5 MB or less.",
    429: "Too many attempts. Wait a few minutes and try again.",
    500: "Sorry, there is a problem with the service. Try again later.",
    503: "The service is briefly unavailable. Try again in a moment: what you saved before "
    "is kept.",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


SIGNED_OUT = "You were signed out, so your last change was not saved. Sign in to carry on."
SIGNED_OUT_TYPING = (
    "You were signed out, so this was not sent. Your text is still here: copy it, sign in "
    "again in a new tab, then send it."
)


def htmx_failure(status: int, message: str) -> Response:
    """An htmx request's error: nothing is swapped (an error page must not land inside a
    ballot card or a thread); the page is told, and shows the message where the action was
    (static/js/app.js, "app:failed")."""
    response = make_response(message, status)
    response.headers["HX-Reswap"] = "none"
    response.headers["HX-Trigger"] = json.dumps(
        {"app:failed": {"message": message, "status": status}}
    )
    return response


def htmx_signed_out() -> Response:
    """An htmx request from a page whose session has ended.

    A background refresh (GET) gets "nothing new": the page stays as it is until the person
    acts. A ballot answer sends the whole page to sign-in and back to the ballot (the answer
    is one click to give again). Anything else, such as a message being written, stays on
    the page with its text, and the page says what to do.
    """
    if request.method == "GET":
        return make_response("", 204)
    if request.endpoint != "ballot.autosave":
        return htmx_failure(401, SIGNED_OUT_TYPING)
    page = urlsplit(request.headers.get("HX-Current-URL", ""))
    back = safe_next(page.path + (f"?{page.query}" if page.query else ""), "") or None
    flash(SIGNED_OUT, "info")
    response = make_response(SIGNED_OUT, 401)
    response.headers["HX-Redirect"] = url_for("auth.login", next=back)
    return response


# Shown in place of a part of a page (an autosave's status line, say), not as a page.
_HTMX_MESSAGES = {
    404: "This is no longer available to you. Reload the page to see where things stand.",
    400: "This page has expired. Reload it and try again.",
}


def error_response(status: int, message: str | None = None) -> tuple[Response | str, int]:
    htmx = is_htmx() and not _wants_json()
    if not message and htmx:
        message = _HTMX_MESSAGES.get(status)
    message = message or _MESSAGES.get(status, "Something went wrong.")
    if _wants_json():
        return jsonify(error=message, status=status), status
    if htmx:
        return htmx_failure(status, message), status
    return render_template("errors/error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        status = error.code or 500
        # Werkzeug's stock descriptions are replaced by ours; a view's own message is kept.
        own = error.description != type(error).description
        return error_response(status, error.description if own else None)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[Response | str, int]:
        if is_htmx():
            if current_user.is_authenticated:
                return error_response(400)
            # An expired session has no CSRF token either: what the person needs is to sign in.
            signed_out = htmx_signed_out()
            return signed_out, signed_out.status_code
        return error_response(
            400, "Your form expired or came from another site. Go back, reload and try again."
        )

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> tuple[Response | str, int]:
        db.session.rollback()
        return error_response(error.status_code, str(error))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response | str, int]:
        try:
            db.session.rollback()
        except SQLAlchemyError:  # the connection (or the session's transaction) is gone
            db.session.remove()
        if _database_unreachable(error):
            # A restart or failover: pooled connections are checked before use
            # (pool_pre_ping), so this lasts only while the server is down. 503 says "try
            # again", which the ballot's autosave does by itself (static/js/app.js).
            app.logger.warning(
                "database unavailable on %s %s: %s",
                request.method,
                loggable_url(request.path),
                str(error).splitlines()[0] if str(error) else type(error).__name__,
            )
            try:
                body, status = error_response(503)
            except SQLAlchemyError:
                # The page itself needed the database (the signed-in person, for the
                # header): say it in plain text rather than let the server answer 500.
                body, status = _MESSAGES[503], 503
            response = make_response(body, status)
            response.headers["Retry-After"] = "5"
            return response, status
        app.logger.exception("unhandled error on %s %s", request.method, loggable_url(request.path))
        return error_response(InternalServerError.code)


def _database_unreachable(error: Exception) -> bool:
    """The database could not be reached or dropped the connection (not a bad query)."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError)
