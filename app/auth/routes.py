"""Signing in and out, invitation links and emailed sign-in links."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.access import membership
from app.auth.forms import AcceptForm, JoinForm, LoginForm, SignInLinkForm
from app.extensions import db
from app.forms_common import field_errors
from app.htmx import render
from app.mail import MailError, mail_enabled, send_mail
from app.models import Invitation, Panellist, User
from app.redirects import safe_next
from app.security import check_password
from app.services import login_limits, sessions
from app.services.panel import accept_invitation, find_invitation, opens_new_account
from app.services.results import rule_description
from app.services.transaction import database_answers
from delphi import Scale, check_record_open

bp = Blueprint("auth", __name__)


def sign_in(user: User, value: str | None = None) -> None:
    """Start a fresh session (so no one can fix a session id in advance) and log the user in.

    `value` is the cookie's value of a session already started on the server."""
    value = value or sessions.sign_in(user, current_app.permanent_session_lifetime)
    session.clear()
    login_user(user)
    # Flask-Login stored get_id(); the cookie holds this session's own key instead, so that
    # signing out can end it on the server.
    session["_user_id"] = value


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """For load balancers: the app answers and the database does too."""
    if not database_answers():  # any database failure means "unhealthy", never a stack trace
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200


# The scales a study may choose (app/studies/forms.py): the guide outside a study shows both.
STUDY_SCALES = (Scale(1, 9), Scale(1, 5))


@bp.get("/how-this-works")
def how_it_works() -> Response:
    """The guide for panellists, outside any study: every scale a study may use."""
    return render("help/how_it_works.html", scales=STUDY_SCALES, study=None, rule=None)


@bp.get("/studies/<slug>/how-this-works")
@login_required
def study_how_it_works(slug: str) -> Response:
    """The guide for one study's panel: its own scale and bands, and its own rule."""
    study = membership(slug).study
    return render(
        "help/how_it_works.html", scales=(study.scale,), study=study, rule=rule_description(study)
    )


@bp.get("/")
def home() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for("studies.index"))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        address = request.remote_addr
        # 429 while a throttle holds, with how long to wait.
        login_limits.check_allowed(email, address=address)
        user = db.session.scalar(select(User).where(User.email == email))
        # Exactly one password check whether or not the address is known (an unknown one is
        # checked against a dummy hash), so the time taken does not tell which is which.
        stored = user.password_hash if user is not None else None
        if check_password(stored, form.password.data or "") and user is not None:
            login_limits.clear_account(email)
            sign_in(user)
            return redirect(safe_next(request.args.get("next"), url_for("studies.index")), 303)
        login_limits.record_failure(email, address=address)
        form.password.errors = ["Email address or password is not right"]
    if form.is_submitted():
        status = 422
    return render("auth/login.html", form=form, errors=field_errors(form), status=status)


@bp.post("/logout")
def logout() -> Response:
    sessions.end(session.get("_user_id"))
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/sign-in-link", methods=["GET", "POST"])
def request_link() -> Response:
    form = SignInLinkForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        # Failed passwords never hold this back: it is how an owner gets in while a throttle
        # holds. Only the number of links sent to one account is capped.
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and mail_enabled() and _may_send_link(user):
            minutes = current_app.config["SIGN_IN_LINK_MINUTES"]
            token = sessions.issue_sign_in_link(user, minutes)
            url = url_for("auth.link_sign_in", token=token, _external=True)
            try:
                send_mail(
                    user.email,
                    "Your sign-in link",
                    f"Use this link to sign in. It works once, for {minutes} minutes:\n{url}\n",
                )
            except MailError:
                current_app.logger.warning("sign-in link could not be emailed")
        # The same answer whether or not the address is known, so nobody can probe the panel.
        return render("auth/link_sent.html", mail=mail_enabled())
    status = 422 if form.is_submitted() else 200
    return render("auth/request_link.html", form=form, errors=field_errors(form), status=status)


def _may_send_link(user: User) -> bool:
    per_quarter_hour = current_app.config["SIGN_IN_LINKS_PER_QUARTER_HOUR"]
    return sessions.links_sent_recently(user) < per_quarter_hour


@bp.get("/sign-in/<token>")
def link_sign_in(token: str) -> Response:
    # A button press (POST) uses the link, so mail scanners that follow links cannot spend it.
    return render("auth/link_confirm.html", token=token)


@bp.post("/sign-in/<token>")
def use_link(token: str) -> Response:
    lifetime = current_app.permanent_session_lifetime
    try:
        user, value = sessions.redeem_sign_in_link(token, lifetime)
    except sessions.SignInLinkInvalid as error:
        # Only wrong links count against the address: a real one (256 random bits) works
        # even while password guesses from the same address are being throttled.
        login_limits.check_allowed(address=request.remote_addr)
        login_limits.record_failure(address=request.remote_addr)
        return render("errors/error.html", status=error.status_code, message=str(error))
    except sessions.SignInLinkTaken as error:
        return render("errors/error.html", status=error.status_code, message=str(error))
    sign_in(user, value)
    return redirect(url_for("studies.index"), 303)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Response:
    invite = find_invitation(token)
    panellist = invite.panellist
    if panellist.joined_at is None:
        # Said before any form is shown: nobody joins a completed study.
        check_record_open(panellist.study.study_status, action="joining the panel")
    page = {"panellist": panellist, "study": panellist.study}
    if current_user.is_authenticated and current_user.id != panellist.user_id:
        # Never switch accounts behind someone's back: they sign out first, on purpose.
        status = 403 if request.method == "POST" else 200
        return render("auth/invitation.html", mode="other_account", status=status, **page)
    if not opens_new_account(invite):
        return _join_existing_account(invite, page)
    form = JoinForm()
    if form.validate_on_submit():
        returning = panellist.joined_at is not None
        accept_invitation(invite, password=form.password.data or None)
        sign_in(panellist.user)
        if returning:
            flash("You are signed in.", "success")
        else:
            _welcome(panellist)
        return redirect(url_for("studies.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render(
        "auth/invitation.html",
        mode="join",
        form=form,
        errors=field_errors(form),
        status=status,
        **page,
    )


def _join_existing_account(invite: Invitation, page: dict[str, Any]) -> Response:
    """An invitation to an account that already exists only adds a membership, accepted by
    its owner once signed in; it never sets a password and never signs anyone in."""
    if not current_user.is_authenticated:
        status = 403 if request.method == "POST" else 200
        return render(
            "auth/invitation.html",
            mode="sign_in",
            login_url=url_for("auth.login", next=request.path),
            status=status,
            **page,
        )
    form = AcceptForm()
    if form.validate_on_submit():
        accept_invitation(invite)
        _welcome(invite.panellist)
        return redirect(url_for("studies.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render("auth/invitation.html", mode="accept", form=form, status=status, **page)


def _welcome(panellist: Panellist) -> None:
    flash(
        f"Welcome to the panel. Others will see you as \u201c{panellist.pseudonym}\u201d.",
        "success",
    )

