"""Inviting the panel, and joining through an invitation link.

Links are the web layer's business: the caller passes `link_for(token) -> URL`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update

from app.extensions import db
from app.mail import MailError, MailServerUnreachable, mail_enabled, send_mail
from app.models import (
    Invitation,
    Panellist,
    StakeholderGroup,
    Study,
    StudyFacilitator,
    User,
    utcnow,
)
from app.security import link_token, new_link_seed, token_hash
from app.services import audit, sessions
from app.services.studies import group_named
from app.services.tabular import ImportReport, TableError, read_table
from app.services.transaction import transactional
from app.settings import settings
from delphi import PanelRole, StudyStatus, check_record_open
from delphi.errors import DomainError
from delphi.pseudonyms import pseudonym

ROLE_WORDS = {
    "partner": PanelRole.PARTNER,
    "patient_rep": PanelRole.PATIENT_REP,
    "patient representative": PanelRole.PATIENT_REP,
    "observer": PanelRole.OBSERVER,
}


class InvitationInvalid(DomainError):
    status_code = 404


class InvitationExpired(DomainError):
    status_code = 410


class InvitationUsed(DomainError):
    """A link that worked once: the page says so rather than "not found"."""

    status_code = 410


LinkFor = Callable[[str], str]  # an invitation token -> the link to send


@dataclass
class InviteOutcome:
    """Who was emailed, whose link the facilitator is to pass on (listed on the panel page),
    and why sending failed."""

    emailed: list[str] = field(default_factory=list)  # names
    to_pass_on: list[str] = field(default_factory=list)  # names
    mail_errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OpenLink:
    """An invitation link waiting to be passed on: unused, unexpired, not replaced."""

    panellist: Panellist
    url: str
    expires_at: datetime


def normalise_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValueError(str(error)) from error


def _next_pseudonym(study: Study, role: PanelRole, group: StakeholderGroup) -> str:
    query = select(func.count(Panellist.id)).where(
        Panellist.study_id == study.id, Panellist.role == role.value
    )
    if role is PanelRole.PARTNER:
        query = query.where(Panellist.group_id == group.id)
    number = (db.session.scalar(query) or 0) + 1
    label = pseudonym(role, group.name, number)
    while db.session.scalar(
        select(Panellist.id).where(Panellist.study_id == study.id, Panellist.pseudonym == label)
    ):
        number += 1
        label = pseudonym(role, group.name, number)
    return label


def add_panellist(
    study: Study, *, name: str, email: str, group: StakeholderGroup, role: PanelRole
) -> Panellist:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name)
        db.session.add(user)
        db.session.flush()
    elif db.session.scalar(
        select(Panellist.id).where(Panellist.study_id == study.id, Panellist.user_id == user.id)
    ):
        raise DomainError(f"{email} is already on this panel.")
    panellist = Panellist(
        study_id=study.id,
        user_id=user.id,
        group_id=group.id,
        role=role.value,
        pseudonym=_next_pseudonym(study, role, group),
        invited_name=name,
    )
    db.session.add(panellist)
    db.session.flush()
    return panellist


def issue_invitation(panellist: Panellist, now: datetime | None = None) -> str:
    """A new single-use link; earlier unused links for this panellist stop working.

    Its token derives from a random seed kept with it (`app.security.link_token`) until
    `deliver` emails it; a link to pass on keeps it, so the panel page can list it."""
    now = now or utcnow()
    for old in db.session.scalars(
        select(Invitation).where(
            Invitation.panellist_id == panellist.id, Invitation.used_at.is_(None)
        )
    ):
        old.expires_at = min(old.expires_at, now)
        old.link_seed = None
    seed = new_link_seed()
    token = link_token(seed, settings().link_secret)
    days = settings().invitation_days
    db.session.add(
        Invitation(
            panellist_id=panellist.id,
            token_hash=token_hash(token),
            link_seed=seed,
            expires_at=now + timedelta(days),
        )
    )
    return token


@transactional
def invite_panellist(
    study: Study,
    *,
    name: str,
    email: str,
    group: StakeholderGroup,
    role: PanelRole,
    actor: User,
    link_for: LinkFor,
) -> InviteOutcome:
    """Add someone to the panel and send (or hand back) their invitation link."""
    check_record_open(study.study_status, action="inviting a panellist")
    panellist = add_panellist(study, name=name, email=email, group=group, role=role)
    token = issue_invitation(panellist)
    audit.record(study.id, "panel.invited", by=actor.id, pseudonym=panellist.pseudonym)
    return deliver(study, [(panellist, token)], link_for)


@transactional
def reinvite_panellist(panellist: Panellist, *, actor: User, link_for: LinkFor) -> InviteOutcome:
    """A new link; the old one stops working.

    For someone who has not joined, it is a new invitation. For someone who has, it is a
    sign-in link (`link_signs_in`): the way back in for a panellist who joined without a
    password and has no email set up. It is sent or listed like an invitation, and works
    after the study is completed, so that they can see its outcome."""
    if panellist.joined_at is None:
        check_record_open(panellist.study.study_status, action="inviting a panellist")
        action = "panel.reinvited"
    elif not link_signs_in(panellist):
        raise DomainError(
            f"{panellist.name} has a password or another account with us, so a link from you "
            "cannot sign them in: they sign in with their password, or ask for an emailed "
            "sign-in link on the sign-in page."
        )
    else:
        action = "panel.sign_in_link"
    token = issue_invitation(panellist)
    audit.record(panellist.study_id, action, by=actor.id, pseudonym=panellist.pseudonym)
    return deliver(panellist.study, [(panellist, token)], link_for)


def deliver(
    study: Study, panellists: list[tuple[Panellist, str]], link_for: LinkFor
) -> InviteOutcome:
    """Email each link when mail is configured; otherwise, or when sending fails, the link
    stays listed on the panel page for the facilitator to pass on. An emailed link's seed is
    erased: nobody but the invitee can see it again."""
    outcome = InviteOutcome()
    unreachable = False
    for panellist, token in panellists:
        if not mail_enabled() or unreachable:
            outcome.to_pass_on.append(panellist.name)
            continue
        try:
            send_mail(
                panellist.user.email,
                f"Invitation: {study.title}",
                invitation_text(study, panellist, link_for(token)),
            )
        except MailError as error:
            outcome.mail_errors.append(str(error))
            outcome.to_pass_on.append(panellist.name)
            # The rest would wait for the same timeout and fail: their links are listed too.
            unreachable = isinstance(error, MailServerUnreachable)
            continue
        invitation = db.session.scalar(
            select(Invitation).where(Invitation.token_hash == token_hash(token))
        )
        if invitation is not None:
            invitation.sent_at = utcnow()
            invitation.link_seed = None
        outcome.emailed.append(panellist.name)
    return outcome


def open_links(
    study: Study, link_for: LinkFor, now: datetime | None = None
) -> tuple[list[OpenLink], int]:
    """The study's links waiting to be passed on, oldest first, and how many of them can no
    longer be shown (made under another SECRET_KEY: their seed gives another token)."""
    now = now or utcnow()
    query = (
        select(Invitation)
        .join(Panellist, Panellist.id == Invitation.panellist_id)
        .where(
            Panellist.study_id == study.id,
            Invitation.used_at.is_(None),
            Invitation.expires_at > now,
            Invitation.link_seed.is_not(None),
        )
        .order_by(Invitation.created_at, Invitation.id)
    )
    if study.study_status is StudyStatus.COMPLETED:
        # Nobody can join a completed study: only sign-in links for its panel still work.
        query = query.where(Panellist.joined_at.is_not(None))
    invitations = db.session.scalars(query).all()
    secret = settings().link_secret
    links, unavailable = [], 0
    for invitation in invitations:
        assert invitation.link_seed is not None
        token = link_token(invitation.link_seed, secret)
        if token_hash(token) != invitation.token_hash:
            unavailable += 1
            continue
        links.append(OpenLink(invitation.panellist, link_for(token), invitation.expires_at))
    return links, unavailable


def invitation_text(study: Study, panellist: Panellist, url: str) -> str:
    days = settings().invitation_days
    return (
        f"Dear {panellist.name},\n\n"
        f"You are invited to join the expert panel of the Delphi study "
        f'"{study.title}" as a {panellist.panel_role.label.lower()} '
        f"({panellist.group.name}).\n\n"
        f"{study.purpose}\n\n"
        f"Follow this link to join (it works once and expires in {days} days):\n{url}\n\n"
        "Other panellists will see you only as an anonymous name such as "
        f'"{panellist.pseudonym}". Your individual ratings are never shown to them.\n'
    )


def parse_role(text: str) -> PanelRole | None:
    return ROLE_WORDS.get(text.strip().lower().replace("-", "_"))


@transactional
def import_panel(
    study: Study, filename: str, data: bytes, *, actor: User, link_for: LinkFor
) -> tuple[ImportReport, InviteOutcome | None]:
    """All rows or none, with a line-by-line report of what is wrong; everyone imported is
    invited (the outcome is None when nothing was imported)."""
    check_record_open(study.study_status, action="inviting panellists")
    report = ImportReport()
    try:
        rows = read_table(filename, data, ["name", "email", "group", "role"])
    except TableError as error:
        report.errors.extend(error.lines)
        return report, None
    seen: set[str] = set()
    wanted = []
    existing = set(
        db.session.scalars(
            select(User.email)
            .join(Panellist, Panellist.user_id == User.id)
            .where(Panellist.study_id == study.id)
        )
    )
    for line, row in rows:
        problems = []
        if not row.get("name"):
            problems.append("name is empty")
        elif len(row["name"]) > 200:
            problems.append("name is longer than 200 characters")
        email = ""
        try:
            email = normalise_email(row.get("email", ""))
        except ValueError:
            problems.append(f"'{row.get('email', '')}' is not an email address")
        if email and (email in seen or email in existing):
            problems.append(f"{email} is already on the panel")
        seen.add(email)
        group = group_named(study, row.get("group", ""))
        if group is None:
            known = ", ".join(g.name for g in study.groups) or "none yet"
            problems.append(f"group '{row.get('group', '')}' is not one of this study's ({known})")
        role = parse_role(row.get("role", ""))
        if role is None:
            problems.append("role must be partner, patient_rep or observer")
        if problems:
            report.errors.append(f"Row {line}: " + "; ".join(problems) + ".")
        else:
            wanted.append((row["name"], email, group, role))
    if report.errors:
        return report, None
    invited = []
    for name, email, group, role in wanted:
        panellist = add_panellist(study, name=name, email=email, group=group, role=role)
        invited.append((panellist, issue_invitation(panellist)))
        report.created += 1
    audit.record(study.id, "panel.imported", by=actor.id, count=report.created, filename=filename)
    return report, deliver(study, invited, link_for)


def find_invitation(token: str, now: datetime | None = None) -> Invitation:
    """The invitation behind a link, or a domain error that says what to do."""
    now = now or utcnow()
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    )
    if invitation is None:
        raise InvitationInvalid(
            "This invitation link is not valid. Check you copied the whole link, "
            "or ask the study's facilitator for a new one."
        )
    if invitation.used_at is not None:
        raise InvitationUsed("This invitation link has already been used. Sign in to take part.")
    if invitation.expires_at <= now:
        raise InvitationExpired(
            "This invitation link has expired. Ask the study's facilitator for a new one."
        )
    return invitation


def opens_new_account(invitation: Invitation) -> bool:
    """Whether following this link may set up the account and sign its holder in.

    Only when the account exists for this invitation alone: no password, never signed in,
    facilitating nothing and on no other panel. Any other account belongs to someone who
    must sign in with their own credentials to accept: a link a facilitator can see must
    never open an account that has anything in it. A panellist who has joined is the
    exception `link_signs_in` describes.
    """
    panellist = invitation.panellist
    if panellist.joined_at is not None:
        return link_signs_in(panellist)
    if panellist.user.last_login_at is not None:
        return False
    return _only_this_panel(panellist)


def link_signs_in(panellist: Panellist) -> bool:
    """Whether a link from the facilitators may sign this joined panellist in.

    Only when the account has nothing but this panel: no password, facilitating nothing, on
    no other panel. It was set up by this study's invitation, so a new link from the same
    facilitators gives them no more than the first one did; the audit log keeps who made
    it. Anyone else signs in with their password or an emailed link."""
    return _only_this_panel(panellist)


def panellists_a_link_signs_in(panellists: list[Panellist]) -> set[int]:
    """The ids of those joined `panellists` whom `link_signs_in` allows, in three queries
    however large the panel (the Panel page asks it of everyone)."""
    joined = [p for p in panellists if p.joined_at]
    users = {p.user_id for p in joined}
    if not users:
        return set()
    facilitators = set(
        db.session.scalars(
            select(StudyFacilitator.user_id).where(StudyFacilitator.user_id.in_(users))
        )
    )
    places: dict[int, int] = {}
    for user_id in db.session.scalars(
        select(Panellist.user_id).where(Panellist.user_id.in_(users))
    ):
        places[user_id] = places.get(user_id, 0) + 1
    return {
        p.id
        for p in joined
        if p.user.password_hash is None
        and not p.user.can_create_studies
        and p.user_id not in facilitators
        and places.get(p.user_id, 0) == 1
    }


def _only_this_panel(panellist: Panellist) -> bool:
    user = panellist.user
    if user.password_hash is not None or user.can_create_studies:
        return False
    facilitates = db.session.scalar(
        select(StudyFacilitator.id).where(StudyFacilitator.user_id == user.id).limit(1)
    )
    elsewhere = db.session.scalar(
        select(Panellist.id)
        .where(Panellist.user_id == user.id, Panellist.id != panellist.id)
        .limit(1)
    )
    return facilitates is None and elsewhere is None


@transactional
def accept_invitation(
    invitation: Invitation, *, password: str | None = None, now: datetime | None = None
) -> Panellist:
    """Join the panel through the link (once); `password`, if given, is the new account's.

    Audited as done by the person joining."""
    now = now or utcnow()
    panellist = invitation.panellist
    returning = panellist.joined_at is not None
    if not returning:
        check_record_open(panellist.study.study_status, action="joining the panel")
    # A conditional update, so two clicks racing on one link cannot both use it.
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now, link_seed=None)
    ).rowcount
    if claimed != 1:
        raise InvitationUsed("This invitation link has already been used. Sign in to take part.")
    panellist.joined_at = panellist.joined_at or now
    if password:
        sessions.set_password(panellist.user, password)
    audit.record(
        panellist.study_id,
        "panel.signed_in_with_link" if returning else "panel.joined",
        by=panellist.user_id,
        pseudonym=panellist.pseudonym,
    )
    return panellist
