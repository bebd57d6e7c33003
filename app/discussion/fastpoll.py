"""The cheap "nothing new" answer for live discussion pages.

Every open page polls every few seconds, and almost always nothing has changed. This WSGI
layer answers those polls with 204 and no body after one SQL query that checks, together,
the signed session's user (and its session version), membership of the study and whether
any discussion event is newer than the page's cursor. Anything else — not signed in, not a
member, something new, a malformed request — falls through to the Flask view, which does
the full checks and renders the changes. Nothing is kept in memory between requests except
the engine and the cookie serializer, so any number of workers give the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from flask import Flask
from sqlalchemy import text

from app.inputs import parse_int
from app.security import token_hash
from app.services import sessions

_PATH = re.compile(r"^/studies/([A-Za-z0-9_-]{1,80})/discussion/poll$")
_QUERY = text(
    """
    SELECT
      EXISTS (SELECT 1 FROM users u JOIN user_sessions us ON us.user_id = u.id
              WHERE u.id = :uid AND u.session_version = :ver
              AND us.token_hash = :key AND us.ended_at IS NULL),
      (EXISTS (SELECT 1 FROM study_facilitators f WHERE f.study_id = s.id AND f.user_id = :uid)
       OR EXISTS (SELECT 1 FROM panellists p WHERE p.study_id = s.id AND p.user_id = :uid
                  AND p.joined_at IS NOT NULL)),
      EXISTS (SELECT 1 FROM discussion_events e WHERE e.study_id = s.id AND e.id > :after)
    FROM studies s WHERE s.slug = :slug
    """
)
_HEADERS = [
    ("Cache-Control", "no-store"),
    ("Vary", "HX-Request, Cookie"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Length", "0"),
]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class FastPoll:
    def __init__(self, flask_app: Flask, inner: WSGIApp) -> None:
        self.flask_app = flask_app
        self.inner = inner
        self._engine: Any = None
        self._serializer: Any = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET":
            match = _PATH.match(environ.get("PATH_INFO", ""))
            if match and self._nothing_new(match.group(1), environ):
                start_response("204 No Content", list(_HEADERS))
                return [b""]
        return self.inner(environ, start_response)

    def _nothing_new(self, slug: str, environ: dict[str, Any]) -> bool:
        try:
            after = parse_int(parse_qs(environ.get("QUERY_STRING", "")).get("after", ["0"])[0])
            if after is None:
                return False
            user_id, version, key = self._user(environ)
            with self._get_engine().connect() as connection:
                row = connection.execute(
                    _QUERY,
                    {"uid": user_id, "ver": version, "key": key, "after": after, "slug": slug},
                ).first()
        except Exception:  # noqa: BLE001 - anything odd gets the full view and its checks
            return False
        return row is not None and bool(row[0]) and bool(row[1]) and not bool(row[2])

    def _user(self, environ: dict[str, Any]) -> tuple[int, int, str]:
        app = self.flask_app
        name = app.config["SESSION_COOKIE_NAME"]
        cookies = environ.get("HTTP_COOKIE", "")
        value = next(
            part.split("=", 1)[1]
            for part in (p.strip() for p in cookies.split(";"))
            if part.startswith(name + "=")
        )
        if self._serializer is None:
            self._serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        data = self._serializer.loads(
            value.strip('"'), max_age=int(app.permanent_session_lifetime.total_seconds())
        )
        parsed = sessions.parse(data["_user_id"])
        if parsed is None:
            raise ValueError("not a session this app issued")
        user_id, version, key = parsed
        return user_id, version, token_hash(key)

    def _get_engine(self) -> Any:
        if self._engine is None:
            from app.extensions import db

            with self.flask_app.app_context():
                self._engine = db.engine
        return self._engine


def install(app: Flask) -> None:
    app.wsgi_app = FastPoll(app, app.wsgi_app)  # type: ignore[method-assign]
