"""Personal data: erasure when a study's retention date passes, erasure and access requests.

What goes: a person's name and email (on their account, or as the facilitator typed them
when inviting), their sign-in means (password, sessions, links, invitations, throttling
records keyed by their address), and their name or address wherever it was written into
text that stays (audit details, reasons, messages, proposals, summaries). What stays, for
the record: pseudonymous ratings, reasons and messages, so a study's figures never change.
See docs/data-protection.md.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from app.extensions import db
from app.models import (
    AuditEvent,
    BackgroundAnswer,
    BackgroundQuestion,
    Criterion,
    DiscussionFollow,
    DiscussionMessage,
    DiscussionRead,
    DiscussionThread,
    IdeaComment,
    Invitation,
    Item,
    ItemVersion,
    LoginAttempt,
    OpenQuestion,
    Panellist,
    Proposal,
    Rating,
    RecoveryCode,
    Round,
    SignInLink,
    Study,
    StudyFacilitator,
    User,
    UserSession,
)
from app.services import audit
from app.services.transaction import transactional
from delphi.privacy import mask_identifiers, masked_value, retention_due

ERASED_NAME = "Name erased"
ERASED_DOMAIN = "erased.invalid"


def is_erased(user: User) -> bool:
    return user.email.endswith(f"@{ERASED_DOMAIN}")


def _placeholder_email() -> str:
    # Unique (the column is) and unusable: .invalid never resolves (RFC 2606).
    return f"erased-{secrets.token_hex(8)}@{ERASED_DOMAIN}"


def _identifiers(user: User, panellists: list[Panellist]) -> list[str]:
    found = {user.email, user.name}
    found.update(p.invited_name for p in panellists if p.invited_name)
    return [i for i in found if i and i != ERASED_NAME]


def _mask_text(identifiers: list[str], dry_run: bool, study_ids: list[int] | None = None) -> int:
    """Mask the identifiers in free text that stays, in the given studies (None: all); how
    many texts held one."""
    changed = 0

    def fix(row: Any, *names: str) -> None:
        nonlocal changed
        hit = False
        for name in names:
            value = getattr(row, name)
            if isinstance(value, str) and value:
                masked = mask_identifiers(value, identifiers)
                if masked != value:
                    hit = True
                    if not dry_run:
                        setattr(row, name, masked)
        changed += hit

    def within(query: Any, column: Any) -> Any:
        return query if study_ids is None else query.where(column.in_(study_ids))

    for event in db.session.scalars(within(select(AuditEvent), AuditEvent.study_id)):
        masked = masked_value(event.detail or {}, identifiers)
        if masked != (event.detail or {}):
            changed += 1
            if not dry_run:
                event.detail = masked  # a new dict: a JSON column notices assignment only
    threads = within(select(DiscussionThread), DiscussionThread.study_id)
    for thread in db.session.scalars(threads.where(DiscussionThread.summary != "")):
        fix(thread, "summary")
    messages = select(DiscussionMessage).join(DiscussionThread)
    for message in db.session.scalars(within(messages, DiscussionThread.study_id)):
        fix(message, "body", "hidden_reason")
    ratings = select(Rating).join(Round).where(or_(Rating.reason != "", Rating.change_reason != ""))
    for rating in db.session.scalars(within(ratings, Round.study_id)):
        fix(rating, "reason", "change_reason")
    for proposal in db.session.scalars(within(select(Proposal), Proposal.study_id)):
        fix(proposal, "text", "reason", "response")
    comments = select(IdeaComment).join(Proposal, Proposal.id == IdeaComment.proposal_id)
    for comment in db.session.scalars(within(comments, Proposal.study_id)):
        fix(comment, "text")
    for question in db.session.scalars(within(select(OpenQuestion), OpenQuestion.study_id)):
        fix(question, "text")
    return changed


def _forget_sign_in(user: User, old_email: str) -> None:
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    db.session.execute(delete(SignInLink).where(SignInLink.user_id == user.id))
    _forget_attempts(old_email)
    user.password_hash = None
    user.session_version += 1  # any signed-in browser is signed out
    # Two-step sign-in goes with the account's other ways in.
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(
        update(StudyFacilitator)
        .where(StudyFacilitator.user_id == user.id)
        .values(invited_name=None)
    )


def _forget_attempts(email: str) -> None:
    account = email.strip().lower()
    db.session.execute(
        delete(LoginAttempt).where(
            (LoginAttempt.key == f"email:{account}")
            | LoginAttempt.key.startswith(f"pair:{account}|", autoescape=True)
        )
    )


def _anonymise(user: User) -> None:
    old = user.email
    user.email = _placeholder_email()
    user.name = ERASED_NAME
    user.can_create_studies = False
    user.last_login_at = None
    _forget_sign_in(user, old)


def _erase_panellist_details(panellist: Panellist) -> None:
    panellist.invited_name = None
    # Declared interests are about the person, not the record: they go with the name.
    panellist.interests = ""
    panellist.interests_none = False
    panellist.interests_declared_at = None
    # So are the background answers (role, region, lived experience...): the "Who took
    # part" counts then leave the person out.
    db.session.execute(
        delete(BackgroundAnswer).where(BackgroundAnswer.panellist_id == panellist.id)
    )
    db.session.execute(delete(Invitation).where(Invitation.panellist_id == panellist.id))


# --- erasure requests ---------------------------------------------------------------------


@dataclass
class Erasure:
    """What an erasure request found, and erased unless it was a dry run."""

    email: str
    dry_run: bool
    found: bool = False
    lines: list[str] = field(default_factory=list)


@transactional
def erase_person(email: str, *, dry_run: bool = False) -> Erasure:
    """Erase everything that identifies the holder of `email`, in every study.

    Their ratings, reasons and messages stay under their pseudonyms; their account stays as
    an empty placeholder that nobody can sign in to, so the record keeps its shape. A dry run
    changes nothing and lists what would go."""
    address = email.strip().lower()
    outcome = Erasure(address, dry_run)
    user = db.session.scalar(select(User).where(User.email == address))
    attempts = db.session.scalars(
        select(LoginAttempt.id).where(
            (LoginAttempt.key == f"email:{address}")
            | LoginAttempt.key.startswith(f"pair:{address}|", autoescape=True)
        )
    ).all()
    if attempts:
        outcome.lines.append(f"{len(attempts)} failed sign-in records keyed by the address")
        if not dry_run:
            _forget_attempts(address)
    if user is None:
        return outcome
    outcome.found = True
    panellists = db.session.scalars(select(Panellist).where(Panellist.user_id == user.id)).all()
    facilitated = db.session.scalars(
        select(Study).join(StudyFacilitator).where(StudyFacilitator.user_id == user.id)
    ).all()
    outcome.lines.append(f"account: name and email of user {user.id}, password, sessions, links")
    for panellist in panellists:
        outcome.lines.append(
            f"{panellist.study.slug}: name of {panellist.pseudonym}"
            + (" and the name typed when inviting" if panellist.invited_name else "")
            + "; declared interests and background answers"
            + "; ratings and messages stay under the pseudonym"
        )
    for study in facilitated:
        outcome.lines.append(f"{study.slug}: facilitator's name (actions stay in the audit log)")
    identifiers = _identifiers(user, list(panellists))
    texts = _mask_text(identifiers, dry_run)
    if texts:
        outcome.lines.append(f"{texts} texts (audit details, reasons, messages) naming the person")
    follows = db.session.scalar(
        select(func.count(DiscussionFollow.id)).where(DiscussionFollow.user_id == user.id)
    )
    if follows:
        outcome.lines.append(f"{follows} choices to follow or stop following an item")
    if dry_run:
        return outcome
    # Which items a person follows says what they care about: it goes with the person.
    db.session.execute(delete(DiscussionFollow).where(DiscussionFollow.user_id == user.id))
    for panellist in panellists:
        _erase_panellist_details(panellist)
    _anonymise(user)
    for study_id in {p.study_id for p in panellists} | {s.id for s in facilitated}:
        audit.record(study_id, "privacy.person_erased", by=None, user=user.id)
    return outcome


# --- retention ----------------------------------------------------------------------------


@dataclass
class RetentionOutcome:
    study: str
    panellists: int = 0
    accounts: int = 0
    kept_accounts: int = 0


def _used_elsewhere(user: User, study: Study, today: date) -> bool:
    """The account is still needed: it facilitates, may create studies, or is on a panel of
    a study whose retention has not run out."""
    if user.can_create_studies:
        return True
    if db.session.scalar(
        select(StudyFacilitator.id).where(StudyFacilitator.user_id == user.id).limit(1)
    ):
        return True
    others = db.session.scalars(
        select(Study).join(Panellist).where(Panellist.user_id == user.id, Study.id != study.id)
    ).all()
    return any(not retention_due(other.retention_until, today) for other in others)


def _detach(panellist: Panellist) -> None:
    """Move the panellist (ratings, messages, reads, audit events in this study) to a new
    empty account, so the person's account, used in other studies, no longer names them
    here."""
    placeholder = User(email=_placeholder_email(), name=ERASED_NAME, password_hash=None)
    db.session.add(placeholder)
    db.session.flush()
    person = panellist.user_id
    threads = select(DiscussionThread.id).where(DiscussionThread.study_id == panellist.study_id)
    for message in db.session.scalars(
        select(DiscussionMessage).where(
            DiscussionMessage.author_user_id == person, DiscussionMessage.thread_id.in_(threads)
        )
    ):
        message.author_user_id = placeholder.id
    db.session.execute(
        delete(DiscussionRead).where(
            DiscussionRead.user_id == person, DiscussionRead.thread_id.in_(threads)
        )
    )
    db.session.execute(
        delete(DiscussionFollow).where(
            DiscussionFollow.user_id == person, DiscussionFollow.thread_id.in_(threads)
        )
    )
    for event in db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.user_id == person, AuditEvent.study_id == panellist.study_id
        )
    ):
        event.user_id = placeholder.id
    panellist.user_id = placeholder.id


@transactional
def apply_retention(today: date) -> list[RetentionOutcome]:
    """Erase the panel's names and emails in every study whose retention date has passed.

    An account on no other live study is erased whole (as `erase_person` does); one still
    in use elsewhere keeps its details, and this study's panellist is moved to an empty
    account. Facilitators' accounts stay. Running it again finds nothing more to erase."""
    outcomes = []
    studies = db.session.scalars(
        select(Study).where(Study.retention_until.is_not(None)).order_by(Study.id)
    ).all()
    for study in studies:
        if not retention_due(study.retention_until, today):
            continue
        outcome = RetentionOutcome(study.slug)
        for panellist in db.session.scalars(
            select(Panellist).where(Panellist.study_id == study.id).order_by(Panellist.id)
        ).all():
            user = panellist.user
            if is_erased(user) and not panellist.invited_name:
                continue
            outcome.panellists += 1
            if not is_erased(user):
                identifiers = _identifiers(user, [panellist])
                _mask_text(identifiers, dry_run=False, study_ids=[study.id])
            _erase_panellist_details(panellist)
            if is_erased(user):
                continue
            if _used_elsewhere(user, study, today):
                outcome.kept_accounts += 1
                _detach(panellist)
            else:
                outcome.accounts += 1
                _anonymise(user)
        if outcome.panellists:
            audit.record(
                study.id,
                "privacy.retention_applied",
                by=None,
                panellists=outcome.panellists,
                accounts=outcome.accounts,
            )
            outcomes.append(outcome)
    return outcomes


@transactional
def set_retention(study: Study, until: date | None, actor: User) -> None:
    """Set or clear the day after which the panel's personal data is erased. Allowed on a
    completed study too: it decides how long names are kept, not what the record says."""
    study.retention_until = until
    audit.record(
        study.id,
        "study.retention_set",
        by=actor.id,
        until=until.isoformat() if until else "none",
    )


# --- access requests ----------------------------------------------------------------------


def export_person(email: str) -> dict[str, Any] | None:
    """Everything the app holds about the holder of `email`, as JSON-ready data (a subject
    access request); None if no account has that address."""
    address = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == address))
    if user is None:
        return None

    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    panels = []
    panellists = db.session.scalars(
        select(Panellist).where(Panellist.user_id == user.id).order_by(Panellist.id)
    ).all()
    for panellist in panellists:
        ratings = db.session.scalars(
            select(Rating).where(Rating.panellist_id == panellist.id).order_by(Rating.id)
        ).all()
        panels.append(
            {
                "study": panellist.study.slug,
                "study_title": panellist.study.title,
                "group": panellist.group.name,
                "role": panellist.role,
                "pseudonym": panellist.pseudonym,
                "invited_name": panellist.invited_name,
                "declared_interests": (
                    "none" if panellist.interests_none else panellist.interests or None
                ),
                "background": [
                    {"question": question, "answer": answer or "Prefer not to say"}
                    for question, answer in db.session.execute(
                        select(BackgroundQuestion.text, BackgroundAnswer.answer)
                        .join(BackgroundQuestion)
                        .where(BackgroundAnswer.panellist_id == panellist.id)
                        .order_by(BackgroundQuestion.position, BackgroundQuestion.id)
                    )
                ],
                "invited_at": when(panellist.invited_at),
                "joined_at": when(panellist.joined_at),
                "withdrawn_at": when(panellist.withdrawn_at),
                "answers_removed_on_withdrawal": panellist.answers_removed,
                "retention_until": when(panellist.study.retention_until),
                "ratings": [
                    {
                        "round": _round_number(rating),
                        "item": _item_ref(rating),
                        "version": _version_number(rating),
                        "criterion": _criterion_name(rating),
                        "score": rating.score,
                        "unable_to_rate": rating.unable,
                        "reason": rating.reason,
                        "reason_for_change": rating.change_reason,
                        "updated_at": when(rating.updated_at),
                    }
                    for rating in ratings
                ],
                "proposals": [
                    {
                        "text": p.text,
                        "reason": p.reason,
                        "status": p.status,
                        "response": p.response,
                        "created_at": when(p.created_at),
                    }
                    for p in db.session.scalars(
                        select(Proposal).where(Proposal.panellist_id == panellist.id)
                    )
                ],
                "comments_on_ideas": [
                    {"text": c.text, "created_at": when(c.created_at)}
                    for c in db.session.scalars(
                        select(IdeaComment).where(IdeaComment.panellist_id == panellist.id)
                    )
                ],
            }
        )
    messages = db.session.scalars(
        select(DiscussionMessage)
        .where(DiscussionMessage.author_user_id == user.id)
        .order_by(DiscussionMessage.id)
    ).all()
    follows = db.session.execute(
        select(DiscussionFollow, DiscussionThread.study_id, Item.ref)
        .join(DiscussionThread, DiscussionThread.id == DiscussionFollow.thread_id)
        .outerjoin(Item, Item.id == DiscussionThread.item_id)
        .where(DiscussionFollow.user_id == user.id)
        .order_by(DiscussionFollow.id)
    ).all()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.user_id == user.id).order_by(AuditEvent.id)
    ).all()
    pseudonyms = {p.pseudonym for p in panellists}
    about = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.study_id.in_([p.study_id for p in panellists]),
            (AuditEvent.user_id != user.id) | AuditEvent.user_id.is_(None),
        )
        .order_by(AuditEvent.id)
    ).all()
    about_them = [
        e
        for e in about
        if (e.detail or {}).get("pseudonym") in pseudonyms
        and any(p.study_id == e.study_id for p in panellists)
    ]
    facilitated = db.session.scalars(
        select(Study.slug).join(StudyFacilitator).where(StudyFacilitator.user_id == user.id)
    ).all()
    return {
        "account": {
            "email": user.email,
            "name": user.name,
            "has_password": user.password_hash is not None,
            "can_create_studies": user.can_create_studies,
            "created_at": when(user.created_at),
            "last_login_at": when(user.last_login_at),
            "facilitates": list(facilitated),
        },
        "panels": panels,
        "messages": [
            {
                "study": _study_slug(m.thread.study_id),
                "thread": m.thread.key,
                "body": m.body,
                "as_facilitator": m.as_facilitator,
                "created_at": when(m.created_at),
                "edited_at": when(m.edited_at),
                "deleted_at": when(m.deleted_at),
                "hidden_at": when(m.hidden_at),
            }
            for m in messages
        ],
        "discussion_follows": [
            {
                "study": _study_slug(study_id),
                "item": ref,
                "following": row.following,
                "chosen_at": when(row.chosen_at),
            }
            for row, study_id, ref in follows
        ],
        "audit_events": [
            {
                "study": e.study_id and _study_slug(e.study_id),
                "action": e.action,
                "what": audit.describe(e.action),
                "by_them": e.user_id == user.id,
                "detail": e.detail,
                "at": when(e.created_at),
            }
            for e in sorted([*events, *about_them], key=lambda e: e.id)
        ],
    }


def _study_slug(study_id: int) -> str | None:
    return db.session.scalar(select(Study.slug).where(Study.id == study_id))


def _criterion_name(rating: Rating) -> str | None:
    criterion = db.session.get(Criterion, rating.criterion_id)
    return criterion.name if criterion is not None else None


def _round_number(rating: Rating) -> int | None:
    return db.session.scalar(select(Round.number).where(Round.id == rating.round_id))


def _item_ref(rating: Rating) -> str | None:
    return db.session.scalar(
        select(Item.ref).join(ItemVersion).where(ItemVersion.id == rating.item_version_id)
    )


def _version_number(rating: Rating) -> int | None:
    return db.session.scalar(
        select(ItemVersion.number).where(ItemVersion.id == rating.item_version_id)
    )
