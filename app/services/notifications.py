"""Email notifications: a round opens, a round closes, the daily discussion digest; each
person's choice of them; one-click unsubscribe links (RFC 8058).

Who is told what, and when, is `delphi.notifications`. Emails about a change of state
(a round opening or closing) are sent after that change has committed, in a transaction of
their own: a mail server that fails never undoes or half-does the change, and the caller is
told what failed so that it can say so and offer the link to pass on by hand.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, has_request_context, url_for
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from app.extensions import db
from app.mail import MailError, MailServerUnreachable, mail_enabled, send_mail
from app.models import (
    DiscussionFollow,
    DiscussionMessage,
    DiscussionThread,
    Item,
    NotificationSettings,
    Panellist,
    Round,
    Study,
    StudyFacilitator,
    User,
    utcnow,
)
from app.services import audit
from app.services.discussion import author_of
from app.services.discussion_writes import ensure_thread
from app.services.transaction import transactional
from app.text.dates import london
from delphi import RoundStatus, check_record_open
from delphi.notifications import (
    DigestReason,
    MessageFacts,
    NotificationKind,
    digest_reason,
    digest_since,
    followed_refs,
    follows,
)

# A token made for unsubscribing is good for nothing else (itsdangerous salts by purpose).
UNSUBSCRIBE_SALT = "notifications.unsubscribe"
# Without PUBLIC_URL and outside a request (cron), links name the development server.
FALLBACK_BASE = "http://127.0.0.1:5000"


# ---------------------------------------------------------------- preferences


def settings_of(user_id: int) -> NotificationSettings:
    """The person's settings; when they have never chosen, every email on (not saved)."""
    found = db.session.get(NotificationSettings, user_id)
    if found is not None:
        return found
    return NotificationSettings(
        user_id=user_id, round_opened=True, reminder=True, round_closed=True, discussion=True
    )


def wants(user_id: int, kind: NotificationKind) -> bool:
    return bool(getattr(settings_of(user_id), kind.value))


def _settings_row(user_id: int) -> NotificationSettings:
    row = db.session.get(NotificationSettings, user_id)
    if row is None:
        row = settings_of(user_id)
        db.session.add(row)
    return row


@transactional
def set_preferences(user_id: int, chosen: dict[NotificationKind, bool]) -> None:
    """Save which emails the person wants. Turning the digest on starts it from now, so
    that it does not bring back everything said while it was off."""
    row = _settings_row(user_id)
    if chosen.get(NotificationKind.DISCUSSION) and not row.discussion:
        row.last_digest_at = utcnow()
    for kind, on in chosen.items():
        setattr(row, kind.value, bool(on))


@transactional
def unsubscribe(user_id: int, kind: NotificationKind) -> None:
    """Turn one kind of email off, and nothing else (what a one-click link may do)."""
    setattr(_settings_row(user_id), kind.value, False)


def unsubscribe_token(user_id: int, kind: NotificationKind) -> str:
    return _serializer().dumps({"u": user_id, "k": kind.value})


def read_unsubscribe_token(token: str) -> tuple[User, NotificationKind] | None:
    """The person and kind a token names; None for anything tampered with or unknown."""
    try:
        data = _serializer().loads(token)
    except BadData:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    try:
        kind = NotificationKind(data.get("k"))
    except ValueError:
        return None
    user = db.session.get(User, data["u"])
    return (user, kind) if user is not None else None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


# ---------------------------------------------------------------- links and sending


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for an email: under PUBLIC_URL when set, else this request's host."""
    base = current_app.config.get("PUBLIC_URL") or ""
    if not base and has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context("/", base_url=base or FALLBACK_BASE):
        return url_for(endpoint, _external=True, **values)


def unsubscribe_headers(user_id: int, kind: NotificationKind) -> dict[str, str]:
    """RFC 2369 and RFC 8058 headers: mail programs offer a one-click "unsubscribe"."""
    link = external_url("notifications.unsubscribe", token=unsubscribe_token(user_id, kind))
    return {
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def footer(user_id: int, kind: NotificationKind) -> str:
    """The end of every notification: why it came and how to stop it."""
    link = external_url("notifications.unsubscribe", token=unsubscribe_token(user_id, kind))
    return (
        f'\n--\nYou get this email because "{kind.label}" is on in your account.\n'
        f"Stop these emails: {link}\n"
        f"Choose which emails you get: {external_url('account.index')}\n"
    )


def send_notification(user: User, kind: NotificationKind, subject: str, body: str) -> None:
    """Send one notification with its unsubscribe link and headers (raises `MailError`)."""
    send_mail(
        user.email,
        subject,
        body + footer(user.id, kind),
        headers=unsubscribe_headers(user.id, kind),
    )


@dataclass
class MailOutcome:
    """What became of emailing the panel: `mail` False when email is not set up."""

    mail: bool = True
    sent: int = 0
    turned_off: int = 0  # people who turned this kind of email off
    not_sent: int = 0  # people not emailed because sending failed
    failed: list[str] = field(default_factory=list)
    link: str = ""  # what the email carried, for the facilitator to pass on by hand


def _send_each(
    people: list[tuple[User, str]], kind: NotificationKind, subject: str, outcome: MailOutcome
) -> None:
    """Email each (user, body) who wants `kind`; stop at a server that does not answer
    (everyone else would wait for the same timeout)."""
    wanted = [(user, body) for user, body in people if wants(user.id, kind)]
    outcome.turned_off += len(people) - len(wanted)
    for index, (user, body) in enumerate(wanted):
        try:
            send_notification(user, kind, subject, body)
        except MailError as error:
            outcome.failed.append(str(error))
            if isinstance(error, MailServerUnreachable):
                outcome.not_sent += len(wanted) - index
                return
            outcome.not_sent += 1
            continue
        outcome.sent += 1


def deadline_sentence(round_: Round) -> str:
    if round_.closes_at is None:
        return "It has no deadline: the facilitators will close it and tell you."
    return f"It closes on {london(round_.closes_at, '%-d %B %Y at %H:%M')} (UK time)."


@transactional
def notify_round_opened(round_id: int, *, actor: User | None) -> MailOutcome:
    """Email everyone invited to rate a round that has just opened: the link and deadline."""
    from app.services.cycle import invited_panellists

    round_ = db.session.get(Round, round_id)
    assert round_ is not None
    study = round_.study
    outcome = MailOutcome(link=external_url("ballot.show", slug=study.slug, number=round_.number))
    if not mail_enabled():
        outcome.mail = False
        return outcome
    people = [
        (
            p.user,
            f'Dear {p.name},\n\nRound {round_.number} of "{study.title}" is open. '
            f"{deadline_sentence(round_)}\n\nRate the items here:\n{outcome.link}\n"
            + (f"\nFrom the facilitators:\n{round_.instructions}\n" if round_.instructions else "")
            + "\nThank you for taking part.\n",
        )
        for p in invited_panellists(round_)
    ]
    _send_each(
        people,
        NotificationKind.ROUND_OPENED,
        f"Round {round_.number} of {study.title} is open",
        outcome,
    )
    _audit(study.id, "round.open_emailed", actor, round_.number, outcome)
    return outcome


@transactional
def notify_round_closed(round_id: int, *, actor: User | None) -> MailOutcome:
    """Email the panel (observers too: they read the feedback) that a round has closed and
    its feedback is ready, with the link to it."""
    round_ = db.session.get(Round, round_id)
    assert round_ is not None
    study = round_.study
    outcome = MailOutcome(
        link=external_url("study_results.feedback", slug=study.slug, number=round_.number)
    )
    if not mail_enabled():
        outcome.mail = False
        return outcome
    panel = db.session.scalars(
        select(Panellist)
        .where(Panellist.study_id == study.id, Panellist.joined_at.is_not(None))
        .order_by(Panellist.id)
        .options(joinedload(Panellist.user))
    ).all()
    people = [
        (
            p.user,
            f'Dear {p.name},\n\nRound {round_.number} of "{study.title}" has closed and its '
            f"feedback is ready: how the panel rated each item, beside your own ratings if "
            f"you rated.\n\nRead the feedback here:\n{outcome.link}\n\n"
            "Thank you for taking part.\n",
        )
        for p in panel
    ]
    _send_each(
        people,
        NotificationKind.ROUND_CLOSED,
        f"Round {round_.number} of {study.title} has closed: feedback is ready",
        outcome,
    )
    _audit(study.id, "round.close_emailed", actor, round_.number, outcome)
    return outcome


def _audit(
    study_id: int, action: str, actor: User | None, number: int, outcome: MailOutcome
) -> None:
    if outcome.sent or outcome.not_sent:
        audit.record(
            study_id,
            action,
            by=audit.actor_id(actor),
            round=number,
            sent=outcome.sent,
            failed=outcome.not_sent,
        )


def mail_failure_message(outcome: MailOutcome, what: str) -> str:
    """The facilitator's message when some emails failed: what, why, and the link to copy."""
    first = outcome.failed[0] if outcome.failed else "mail failed"
    more = len(outcome.failed) - 1
    people = f"{outcome.not_sent} panellist{'' if outcome.not_sent == 1 else 's'}"
    return (
        f"Email failed, so {people} were not told {what} ({first}"
        f"{f', and {more} more failures' if more > 0 else ''}). "
        f"Copy this link and send it to them yourself: {outcome.link}"
    )


# ---------------------------------------------------------------- the daily digest


@dataclass(frozen=True)
class DigestEntry:
    study: str
    reason: DigestReason
    where: str  # "P3" or "the study channel"
    author: str  # pseudonym and group, never a name
    excerpt: str
    link: str


@dataclass
class DigestRun:
    sent: int = 0
    empty: int = 0
    failed: list[str] = field(default_factory=list)


def digest_for(user_id: int, *, since: datetime, until: datetime) -> list[DigestEntry]:
    """What a person hears of in their digest: visible messages in the studies they belong
    to (as a joined panellist who has not withdrawn, or a facilitator), posted in
    (since, until], that reply to them, are in the thread of an item they follow, or mention
    such an item."""
    studies = db.session.scalars(
        select(Study)
        .where(
            Study.id.in_(
                select(Panellist.study_id).where(
                    Panellist.user_id == user_id,
                    Panellist.joined_at.is_not(None),
                    # A withdrawn panellist is no longer on the panel: not mailed about it.
                    Panellist.withdrawn_at.is_(None),
                )
            )
            | Study.id.in_(
                select(StudyFacilitator.study_id).where(StudyFacilitator.user_id == user_id)
            )
        )
        .order_by(Study.title)
    ).all()
    entries: list[DigestEntry] = []
    parent = aliased(DiscussionMessage)
    for study in studies:
        followed = followed_refs(*_follow_facts(user_id, study.id))
        rows = db.session.execute(
            select(DiscussionMessage, parent.author_user_id, Item.ref)
            .join(DiscussionThread, DiscussionThread.id == DiscussionMessage.thread_id)
            .outerjoin(Item, Item.id == DiscussionThread.item_id)
            .outerjoin(parent, parent.id == DiscussionMessage.parent_id)
            .where(
                DiscussionThread.study_id == study.id,
                DiscussionMessage.created_at > since,
                DiscussionMessage.created_at <= until,
            )
            .order_by(DiscussionMessage.id)
            .options(joinedload(DiscussionMessage.author_panellist).joinedload(Panellist.group))
        ).all()
        for message, parent_author, ref in rows:
            reason = digest_reason(
                MessageFacts(
                    author_user_id=message.author_user_id,
                    parent_author_user_id=parent_author,
                    thread_ref=ref,
                    body=message.body,
                    visible=message.hidden_at is None and message.deleted_at is None,
                    system=message.kind == "system",
                ),
                user_id=user_id,
                followed=followed,
            )
            if reason is None:
                continue
            author, group = author_of(message)
            text = " ".join(message.body.split())
            entries.append(
                DigestEntry(
                    study=study.title,
                    reason=reason,
                    where=ref or "the study channel",
                    author=f"{author} ({group})",
                    excerpt=text if len(text) <= 200 else text[:199] + "\u2026",
                    link=external_url("discussion.thread", slug=study.slug, ref=ref or "channel"),
                )
            )
    return entries


def _written_by(user_id: int) -> tuple[Any, ...]:
    """The person's own messages that count as having posted in a thread (not a deleted
    one, not a system event): one definition for the digest and the thread page."""
    return (
        DiscussionMessage.author_user_id == user_id,
        DiscussionMessage.kind == "message",
        DiscussionMessage.deleted_at.is_(None),
    )


def _follow_facts(user_id: int, study_id: int) -> tuple[set[str], dict[str, bool]]:
    """The items of the study whose threads the person wrote in (a deleted message does not
    count), and their explicit follow choices, by reference: `followed_refs` decides."""
    posted = set(
        db.session.scalars(
            select(Item.ref)
            .join(DiscussionThread, DiscussionThread.item_id == Item.id)
            .join(DiscussionMessage, DiscussionMessage.thread_id == DiscussionThread.id)
            .where(
                DiscussionThread.study_id == study_id,
                *_written_by(user_id),
            )
        )
    )
    choices = {
        ref: bool(following)
        for ref, following in db.session.execute(
            select(Item.ref, DiscussionFollow.following)
            .join(DiscussionThread, DiscussionThread.item_id == Item.id)
            .join(DiscussionFollow, DiscussionFollow.thread_id == DiscussionThread.id)
            .where(DiscussionThread.study_id == study_id, DiscussionFollow.user_id == user_id)
        )
    }
    return posted, choices


# ---------------------------------------------------------------- following an item


def is_following(user_id: int, thread: DiscussionThread | None) -> bool:
    """Whether the person follows the item whose thread this is (`delphi.notifications.
    follows`); nobody follows a thread nobody has written in or chosen to follow yet."""
    if thread is None:
        return False
    posted = (
        db.session.scalar(
            select(DiscussionMessage.id)
            .where(
                DiscussionMessage.thread_id == thread.id,
                *_written_by(user_id),
            )
            .limit(1)
        )
        is not None
    )
    choice = db.session.scalar(
        select(DiscussionFollow.following).where(
            DiscussionFollow.thread_id == thread.id, DiscussionFollow.user_id == user_id
        )
    )
    return follows(posted=posted, choice=None if choice is None else bool(choice))


@transactional
def set_following(study: Study, item: Item, user_id: int, following: bool) -> None:
    """Record the person's choice to follow the item (or to stop): it overrides whether they
    wrote in its thread. A completed study's discussion is over, so there is nothing left
    to follow (the digest has nothing new to tell of it)."""
    check_record_open(study.study_status, action="following an item's discussion")
    thread = ensure_thread(study.id, item.id)
    db.session.flush()
    chosen = select(DiscussionFollow).where(
        DiscussionFollow.thread_id == thread.id, DiscussionFollow.user_id == user_id
    )
    row = db.session.scalar(chosen)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    DiscussionFollow(thread_id=thread.id, user_id=user_id, following=following)
                )
            return
        except IntegrityError:
            # Another request of the same person's chose first: this, later, choice wins.
            row = db.session.scalar(chosen)
            assert row is not None
    row.following = following
    row.chosen_at = utcnow()


def digest_text(name: str, entries: list[DigestEntry]) -> str:
    """One email: by study, then by why each message is there."""
    lines = [f"Dear {name},", "", "New in the discussions you take part in:"]
    by_study: dict[str, list[DigestEntry]] = defaultdict(list)
    for entry in entries:
        by_study[entry.study].append(entry)
    for study, found in by_study.items():
        lines += ["", f"== {study} =="]
        for reason in DigestReason:
            mine = [e for e in found if e.reason is reason]
            if not mine:
                continue
            lines += ["", f"{reason.value} ({len(mine)}):"]
            for e in mine:
                lines += [f"- {e.where}, {e.author}: {e.excerpt}", f"  {e.link}"]
    return "\n".join(lines) + "\n"


def send_digests(now: datetime | None = None) -> DigestRun:
    """One digest per person with something new since their last one; nothing to those with
    nothing new. Each person's "last digest" moves on only when their email was sent (or
    there was nothing to send), so a failed sending is tried again next time."""
    now = now or utcnow()
    run = DigestRun()
    if not mail_enabled():
        return run
    members = select(Panellist.user_id).where(Panellist.joined_at.is_not(None))
    facilitating = select(StudyFacilitator.user_id)
    user_ids = db.session.scalars(
        select(User.id).where(User.id.in_(members) | User.id.in_(facilitating)).order_by(User.id)
    ).all()
    for user_id in user_ids:
        settings = settings_of(user_id)
        if not settings.discussion:
            continue
        since = digest_since(last_digest_at=settings.last_digest_at, now=now)
        entries = digest_for(user_id, since=since, until=now)
        if not entries:
            run.empty += 1
            _digest_done(user_id, now)
            continue
        user = db.session.get(User, user_id)
        assert user is not None
        count = len(entries)
        try:
            send_notification(
                user,
                NotificationKind.DISCUSSION,
                f"Discussion digest: {count} new message{'' if count == 1 else 's'} for you",
                digest_text(user.name, entries),
            )
        except MailError as error:
            run.failed.append(str(error))
            if isinstance(error, MailServerUnreachable):
                break
            continue
        run.sent += 1
        _digest_done(user_id, now)
    return run


@transactional
def _digest_done(user_id: int, at: datetime) -> None:
    _settings_row(user_id).last_digest_at = at


def open_rounds_with_deadline() -> list[Round]:
    return list(
        db.session.scalars(
            select(Round)
            .where(Round.status == RoundStatus.OPEN.value, Round.closes_at.is_not(None))
            .order_by(Round.id)
        )
    )
