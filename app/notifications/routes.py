"""One-click unsubscribe (RFC 8058); which emails you get is on the account page
(`app.account.routes`)."""

from __future__ import annotations

from flask import Blueprint, abort
from werkzeug.wrappers import Response

from app.extensions import csrf
from app.htmx import render
from app.models import User
from app.services import notifications
from app.services.notifications import read_unsubscribe_token
from delphi.notifications import NotificationKind

bp = Blueprint("notifications", __name__)

BAD_LINK = (
    "This unsubscribe link is not valid: it may have been cut short or changed. Choose which "
    "emails you get on your account page after signing in."
)


def _token_or_404(token: str) -> tuple[User, NotificationKind]:
    found = read_unsubscribe_token(token)
    if found is None:
        abort(404, description=BAD_LINK)
    return found


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> Response:
    """A question, never the change itself: mail scanners follow links in emails."""
    _, kind = _token_or_404(token)
    return render("notifications/unsubscribe.html", token=token, kind=kind)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: the mail program posts without our form; the token is the proof
def unsubscribe_now(token: str) -> Response:
    """Turn off the one kind of email the signed token names, for the person it names, and
    nothing else: no sign-in, no other setting, no other person."""
    user, kind = _token_or_404(token)
    notifications.unsubscribe(user.id, kind)
    return render("notifications/unsubscribed.html", kind=kind)
