"""Every error answers with a page or JSON written for people, never a stack trace."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db
from delphi import DomainError

_MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do that.",
    404: "Page not found.",
    405: "That action is not available here.",
    413: "The file is too large. Upload a file of 5 MB or less.",
    429: "Too many attempts. Wait a few minutes and try again.",
    500: "Sorry, there is a problem with the service. Try again later.",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def error_response(status: int, message: str | None = None) -> tuple[Response | str, int]:
    message = message or _MESSAGES.get(status, "Something went wrong.")
    if _wants_json():
        return jsonify(error=message, status=status), status
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
        return error_response(
            400, "Your form expired or came from another site. Go back, reload and try again."
        )

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> tuple[Response | str, int]:
        db.session.rollback()
        return error_response(error.status_code, str(error))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response | str, int]:
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(InternalServerError.code)
