"""Your account page (which emails you get) and one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.extensions import csrf
from app.forms_common import field_errors
from app.htmx import render
from app.models import User
from app.notifications.forms import NotificationsForm
from app.services import notifications
from app.services.notifications import read_unsubscribe_token, set_preferences, settings_of
from delphi.notifications import NotificationKind

bp = Blueprint("notifications", __name__)

BAD_LINK = (
    "This unsubscribe link is not valid: it may have been cut short or changed. Choose which "
    "emails you get on your account page after signing in."
)


@bp.get("/account")
@login_required
def account() -> Response:
    settings = settings_of(current_user.id)
    form = NotificationsForm(
        formdata=None, **{kind.value: getattr(settings, kind.value) for kind in NotificationKind}
    )
    return _page(form)


@bp.post("/account/notifications")
@login_required
def save() -> Response:
    form = NotificationsForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    set_preferences(
        current_user.id,
        {kind: bool(getattr(form, kind.value).data) for kind in NotificationKind},
    )
    flash("Your email choices are saved.", "success")
    return redirect(url_for("notifications.account"), 303)


def _page(form: NotificationsForm, *, status: int = 200) -> Response:
    return render(
        "notifications/account.html",
        form=form,
        kinds=list(NotificationKind),
        errors=field_errors(form),
        status=status,
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
