"""Signing in and out, invitation links and emailed sign-in links."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select, update
from werkzeug.wrappers import Response

from app.auth.forms import JoinForm, LoginForm, SignInLinkForm
from app.extensions import db
from app.forms_common import field_errors
from app.htmx import render
from app.mail import MailError, mail_enabled, send_mail
from app.models import SignInLink, User, utcnow
from app.redirects import safe_next
from app.security import check_password, hash_password, new_token, token_hash
from app.services import login_limits
from app.services.panel import accept_invitation, find_invitation

bp = Blueprint("auth", __name__)


def sign_in(user: User) -> None:
    """Start a fresh session (so no one can fix a session id in advance) and log the user in."""
    session.clear()
    login_user(user)
    user.last_login_at = utcnow()
    db.session.commit()


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """For load balancers: the app answers and the database does too."""
    try:
        db.session.execute(select(1))
    except Exception:  # any database failure means "unhealthy", never a stack trace
        db.session.rollback()
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200


@bp.get("/how-this-works")
def how_it_works() -> Response:
    return render("help/how_it_works.html")


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
        login_limits.check_allowed(email)  # 429 once an account or address fails too often
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and check_password(user.password_hash, form.password.data or ""):
            login_limits.clear_account(email)
            sign_in(user)
            return redirect(safe_next(request.args.get("next"), url_for("studies.index")), 303)
        check_password(None, form.password.data or "")
        login_limits.record_failure(email)
        form.password.errors = ["Email address or password is not right"]
    if form.is_submitted():
        status = 422
    return render("auth/login.html", form=form, errors=field_errors(form), status=status)


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/sign-in-link", methods=["GET", "POST"])
def request_link() -> Response:
    form = SignInLinkForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        login_limits.check_allowed(email)
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and mail_enabled():
            token, digest = new_token()
            minutes = current_app.config["SIGN_IN_LINK_MINUTES"]
            db.session.add(
                SignInLink(
                    user_id=user.id,
                    token_hash=digest,
                    expires_at=utcnow() + timedelta(minutes=minutes),
                )
            )
            db.session.commit()
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


@bp.get("/sign-in/<token>")
def link_sign_in(token: str) -> Response:
    # A button press (POST) uses the link, so mail scanners that follow links cannot spend it.
    return render("auth/link_confirm.html", token=token)


@bp.post("/sign-in/<token>")
def use_link(token: str) -> Response:
    now = utcnow()
    login_limits.check_allowed()
    link = db.session.scalar(select(SignInLink).where(SignInLink.token_hash == token_hash(token)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        login_limits.record_failure()
        return render(
            "errors/error.html",
            status=410,
            message="This sign-in link has expired or has been used. Ask for a new one.",
        )
    claimed = db.session.execute(
        update(SignInLink)
        .where(SignInLink.id == link.id, SignInLink.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        return render("errors/error.html", status=410, message="This sign-in link has been used.")
    sign_in(link.user)
    return redirect(url_for("studies.index"), 303)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Response:
    invite = find_invitation(token)
    panellist = invite.panellist
    form = JoinForm()
    if form.validate_on_submit():
        accept_invitation(invite)
        user = panellist.user
        if form.password.data:
            user.password_hash = hash_password(form.password.data)
        db.session.commit()
        sign_in(user)
        flash(
            f"Welcome to the panel. Others will see you as \u201c{panellist.pseudonym}\u201d.",
            "success",
        )
        return redirect(url_for("studies.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render(
        "auth/invitation.html",
        form=form,
        errors=field_errors(form),
        panellist=panellist,
        study=panellist.study,
        status=status,
    )


@bp.get("/account")
@login_required
def account() -> Response:
    return redirect(url_for("studies.index"))
