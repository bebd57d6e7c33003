"""Co-facilitators: a facilitator adds another by email and removes one while another remains.

Adding an address that already has an account only adds the membership: its owner signs in
with their own credentials, and nothing emailed or shown here can sign anyone into it (the
rule of docs/security.md, finding 1). An address without an account gets a new account that
holds nothing but this study, and a single-use sign-in link for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.mail import MailError, mail_enabled, send_mail
from app.models import SignInLink, Study, StudyFacilitator, User, utcnow
from app.security import new_token
from app.services import audit
from app.services.transaction import transactional
from delphi import DomainError


class AlreadyFacilitator(DomainError):
    status_code = 409


class LastFacilitator(DomainError):
    status_code = 409


@dataclass
class Added:
    facilitator: StudyFacilitator
    new_account: bool
    # A new account's single-use sign-in link token; None for an existing account.
    token: str | None = None


def facilitators_of(study: Study) -> list[StudyFacilitator]:
    return list(
        db.session.scalars(
            select(StudyFacilitator)
            .where(StudyFacilitator.study_id == study.id)
            .order_by(StudyFacilitator.id)
        )
    )


def facilitator_of(study: Study, facilitator_id: int) -> StudyFacilitator | None:
    return db.session.scalar(
        select(StudyFacilitator).where(
            StudyFacilitator.study_id == study.id, StudyFacilitator.id == facilitator_id
        )
    )


@transactional
def add_facilitator(study: Study, *, email: str, name: str, actor: User) -> Added:
    """Make the person at `email` a facilitator of the study.

    Allowed on a completed study too: who runs a study is not part of its record, and a
    completed study may need someone new to reopen it."""
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    new_account = user is None
    if user is None:
        user = User(email=email, name=name or email.split("@")[0])
        db.session.add(user)
        db.session.flush()
    elif facilitator_of_user(study, user) is not None:
        raise AlreadyFacilitator(f"{email} is already a facilitator of this study.")
    now = utcnow()
    facilitator = StudyFacilitator(
        study_id=study.id, user_id=user.id, invited_name=name or None, added_at=now
    )
    db.session.add(facilitator)
    db.session.flush()
    token = None
    if new_account:
        token, digest = new_token()
        days = current_app.config["INVITATION_DAYS"]
        db.session.add(
            SignInLink(user_id=user.id, token_hash=digest, expires_at=now + timedelta(days=days))
        )
    audit.record(study.id, "facilitator.added", by=actor.id, email=email, new_account=new_account)
    return Added(facilitator, new_account, token)


def facilitator_of_user(study: Study, user: User) -> StudyFacilitator | None:
    return db.session.scalar(
        select(StudyFacilitator).where(
            StudyFacilitator.study_id == study.id, StudyFacilitator.user_id == user.id
        )
    )


@transactional
def remove_facilitator(study: Study, facilitator: StudyFacilitator, actor: User) -> None:
    """Remove a facilitator (oneself included); a study always keeps at least one."""
    # Lock the study's row (PostgreSQL) so two facilitators removing each other at once
    # cannot leave it with none; the count after the delete is checked as well.
    db.session.execute(select(Study.id).where(Study.id == study.id).with_for_update())
    email = facilitator.user.email
    db.session.delete(facilitator)
    db.session.flush()
    left = db.session.scalar(
        select(func.count(StudyFacilitator.id)).where(StudyFacilitator.study_id == study.id)
    )
    if not left:
        raise LastFacilitator(
            "A study needs at least one facilitator: add another before removing this one."
        )
    audit.record(study.id, "facilitator.removed", by=actor.id, email=email)


def notify(
    study: Study, added: Added, actor: User, *, study_url: str, link_url: str | None
) -> str | None:
    """Email the new facilitator; returns why it could not be sent, or None when sent.

    An existing account is told where to sign in, with no link that signs anyone in."""
    if not mail_enabled():
        return "Email is not set up on this server."
    user = added.facilitator.user
    opening = f"{actor.name} has added you as a facilitator of the study \u201c{study.title}\u201d."
    if added.new_account and link_url:
        days = current_app.config["INVITATION_DAYS"]
        body = (
            f"{opening}\n\nUse this link to sign in. It works once, for {days} days:\n"
            f"{link_url}\n\n"
            "Afterwards, ask for a sign-in link by email on the sign-in page.\n"
        )
    else:
        body = f"{opening}\n\nSign in as usual to open it:\n{study_url}\n"
    try:
        send_mail(user.email, f"You are a facilitator of {study.title}", body)
    except MailError as error:
        current_app.logger.warning("co-facilitator email could not be sent")
        return str(error)
    return None
