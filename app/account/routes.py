"""Your account: which emails you get, your password (set a first one, or change it), and
two-step sign-in (set up with a QR code, recovery codes, turn off)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.account.forms import CodeForm, PasswordForm
from app.auth.routes import sign_in
from app.forms_common import field_errors
from app.htmx import render
from app.notifications.forms import NotificationsForm
from app.redirects import safe_next
from app.services import accounts, login_limits, two_step
from app.services.notifications import set_preferences, settings_of
from delphi.notifications import NotificationKind

bp = Blueprint("account", __name__, url_prefix="/account")


def _next() -> str | None:
    target = request.args.get("next")
    return safe_next(target, "") or None


@bp.get("")
@login_required
def index() -> Response:
    return account_page()


@bp.post("/notifications")
@login_required
def save_emails() -> Response:
    form = NotificationsForm()
    if not form.validate_on_submit():
        return account_page(email_form=form, status=422)
    set_preferences(
        current_user.id,
        {kind: bool(getattr(form, kind.value).data) for kind in NotificationKind},
    )
    flash("Your email choices are saved.", "success")
    return redirect(url_for("account.index", _anchor="emails"), 303)


def _password_form(**kwargs: Any) -> PasswordForm:
    """The password form; without a password yet there is no current one to ask for."""
    form = PasswordForm(prefix="password", **kwargs)
    if current_user.password_hash is None:
        del form.current
    return form


@bp.post("/password")
@login_required
def change_password() -> Response:
    user = current_user._get_current_object()
    form = _password_form()
    status = 422
    if form.validate_on_submit():
        had_password = user.password_hash is not None
        # Errors about the password typed go by the field that asks for it.
        asked = form.current if had_password else form.new
        # Only guesses at a current password are throttled, as sign-in's are; setting a
        # first one guesses nothing.
        limit = (
            accounts.limited(user, address=request.remote_addr) if had_password else nullcontext()
        )
        try:
            with limit:
                value = accounts.change_password(
                    user,
                    form.new.data or "",
                    current_password=form.current.data if had_password else None,
                    cookie_value=session.get("_user_id"),
                    lifetime=current_app.permanent_session_lifetime,
                )
        except accounts.WrongPassword as error:
            asked.errors = [str(error)]
        except (login_limits.TooManyAttempts, accounts.SignInAgain) as error:
            asked.errors = [str(error)]
            status = error.status_code
        else:
            # Every session of the account has ended, this one too: carry on in a new one.
            sign_in(user, value)
            flash(
                f"Your password is {'changed' if had_password else 'set'}. Anywhere else you "
                "were signed in (another browser or device) is now signed out.",
                "success",
            )
            return redirect(url_for("account.index", _anchor="password"), 303)
    return account_page(password_form=form, status=status)


def account_page(
    *,
    email_form: NotificationsForm | None = None,
    password_form: PasswordForm | None = None,
    off_form: CodeForm | None = None,
    codes_form: CodeForm | None = None,
    status: int = 200,
) -> Response:
    """The account page, with any form that failed shown with its errors."""
    if email_form is None:
        settings = settings_of(current_user.id)
        email_form = NotificationsForm(
            formdata=None,
            **{kind.value: getattr(settings, kind.value) for kind in NotificationKind},
        )
    password_form = password_form or _password_form(formdata=None)
    off_form = off_form or CodeForm(formdata=None, prefix="off")
    codes_form = codes_form or CodeForm(formdata=None, prefix="codes")
    return render(
        "account/index.html",
        codes_left=two_step.recovery_codes_left(current_user) if current_user.has_two_step else 0,
        requiring=two_step.studies_requiring(current_user),
        email_form=email_form,
        kinds=list(NotificationKind),
        password_form=password_form,
        may_set_password=accounts.may_set_first_password(current_user, session.get("_user_id")),
        first_password_minutes=int(accounts.FIRST_PASSWORD_WITHIN.total_seconds() // 60),
        off_form=off_form,
        codes_form=codes_form,
        errors=field_errors(email_form)
        + field_errors(password_form)
        + field_errors(off_form)
        + field_errors(codes_form),
        status=status,
    )


@bp.route("/two-step", methods=["GET", "POST"])
@login_required
def set_up() -> Response:
    if current_user.has_two_step:
        return redirect(url_for("account.index"), 303)
    form = CodeForm()
    if form.is_submitted() and two_step.secret_being_set_up(current_user) is None:
        # Nothing shown yet to scan (the form came from elsewhere): show it, change nothing.
        return redirect(url_for("account.set_up", next=_next()), 303)
    if form.validate_on_submit():
        try:
            with two_step.limited(current_user, address=request.remote_addr):
                codes = two_step.confirm(
                    current_user, form.code.data or "", keep_session=session.get("_user_id")
                )
        except two_step.WrongCode as error:
            form.code.errors = [str(error)]
        else:
            # Shown once, in this answer: only their digests are kept.
            return render("account/recovery_codes.html", codes=codes, next=_next(), first=True)
    secret = two_step.pending_secret(current_user)
    uri = two_step.provisioning_uri(current_user, secret)
    status = 422 if form.is_submitted() else 200
    return render(
        "account/two_step.html",
        form=form,
        errors=field_errors(form),
        # segno's own markup: the address is only encoded in the drawing, never as text.
        qr=Markup(two_step.qr_svg(uri)),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        requiring=two_step.studies_requiring(current_user),
        next=_next(),
        status=status,
    )


@bp.post("/two-step/off")
@login_required
def turn_off() -> Response:
    form = CodeForm(prefix="off")
    if form.validate_on_submit():
        try:
            with two_step.limited(current_user, address=request.remote_addr):
                two_step.turn_off(current_user, form.code.data or "")
        except two_step.WrongCode as error:
            form.code.errors = [str(error)]
        except two_step.TwoStepRequired as error:
            form.code.errors = [str(error)]
        else:
            flash("Two-step sign-in is off.", "success")
            return redirect(url_for("account.index"), 303)
    return _account_with_errors(off_form=form)


@bp.post("/two-step/recovery-codes")
@login_required
def new_recovery_codes() -> Response:
    form = CodeForm(prefix="codes")
    if form.validate_on_submit() and current_user.has_two_step:
        try:
            with two_step.limited(current_user, address=request.remote_addr):
                codes = two_step.replace_recovery_codes(current_user, form.code.data or "")
        except two_step.WrongCode as error:
            form.code.errors = [str(error)]
        else:
            return render("account/recovery_codes.html", codes=codes, next=None, first=False)
    elif form.is_submitted() and not current_user.has_two_step:
        form.code.errors = ["Two-step sign-in is off: there are no recovery codes to replace."]
    return _account_with_errors(codes_form=form)


def _account_with_errors(**forms: CodeForm) -> Response:
    return account_page(
        off_form=forms.get("off_form"), codes_form=forms.get("codes_form"), status=422
    )
