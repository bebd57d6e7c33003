"""Flask-Login's user loader: the session holds "id:session_version:session key"."""

from __future__ import annotations

from flask import flash, redirect, request
from flask_login import login_url
from werkzeug.wrappers import Response

from app.errors import htmx_signed_out
from app.extensions import login_manager
from app.htmx import is_htmx
from app.models import User
from app.services import sessions


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return sessions.user_for(user_id)


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    """Sign-in needed. A full page goes to the sign-in form and back; an htmx request made
    from a page whose session has ended sends that whole page there instead of swapping the
    sign-in form into a fragment of it."""
    if is_htmx():
        return htmx_signed_out()
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, next_url=request.url))
