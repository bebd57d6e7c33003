"""Your account: two-step sign-in (set up with a QR code, recovery codes, turn off)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.account.forms import CodeForm
from app.forms_common import field_errors
from app.htmx import render
from app.redirects import safe_next
from app.services import two_step

bp = Blueprint("account", __name__, url_prefix="/account")


def _next() -> str | None:
    target = request.args.get("next")
    return safe_next(target, "") or None


@bp.get("")
@login_required
def index() -> Response:
    return render(
        "account/index.html",
        codes_left=two_step.recovery_codes_left(current_user) if current_user.has_two_step else 0,
        requiring=two_step.studies_requiring(current_user),
        off_form=CodeForm(formdata=None, prefix="off"),
        codes_form=CodeForm(formdata=None, prefix="codes"),
        errors=[],
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
    off_form = forms.get("off_form") or CodeForm(formdata=None, prefix="off")
    codes_form = forms.get("codes_form") or CodeForm(formdata=None, prefix="codes")
    return render(
        "account/index.html",
        codes_left=two_step.recovery_codes_left(current_user) if current_user.has_two_step else 0,
        requiring=two_step.studies_requiring(current_user),
        off_form=off_form,
        codes_form=codes_form,
        errors=field_errors(off_form) + field_errors(codes_form),
        status=422,
    )
