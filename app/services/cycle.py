"""The Delphi cycle between rounds: revising items, who is invited, reminders, stopping."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.mail import MailError, MailServerUnreachable, mail_enabled, send_mail
from app.models import (
    AuditEvent,
    Item,
    ItemDecision,
    ItemVersion,
    Panellist,
    Rating,
    Reminder,
    Round,
    RoundItem,
    RoundSnapshot,
    Study,
    User,
    utcnow,
)
from app.services import audit
from app.services.ratings import expected_answers
from app.services.results import compute_stability
from app.services.studies import theme_named
from app.services.transaction import transactional
from app.text.dates import london
from delphi import (
    InvalidTransition,
    ItemContent,
    ItemKind,
    Outcome,
    PanelRole,
    RoundState,
    RoundStatus,
    StudyStatus,
    check_can_complete,
    check_can_reopen_study,
    check_record_open,
    item_changes,
)
from delphi.items import VERSION_FIELDS

# What a revision may change: the wording, every other field, the kind and the theme.
REVISABLE = ("text", *(f.name for f in VERSION_FIELDS))


@transactional
def revise_item(item: Item, fields: dict[str, str], change_note: str, user: User) -> ItemVersion:
    """A new version of the item; the version being rated in an open round is never changed.

    `fields` may hold any of `REVISABLE`, "kind" (an `ItemKind` value) and "theme" (a theme
    name, created on first use); what it leaves out stays as it was. The version records the
    kind and theme it will be rated under, and so does the one before it."""
    check_record_open(item.study.study_status, action="revising an item")
    if not change_note.strip():
        raise InvalidTransition("Say what changed and why.")
    in_open_round = db.session.scalar(
        select(Round.number)
        .join(RoundItem, RoundItem.round_id == Round.id)
        .where(RoundItem.item_version_id == item.current.id, Round.status == RoundStatus.OPEN)
    )
    if in_open_round is not None:
        raise InvalidTransition(
            f"{item.ref} is being rated in round {in_open_round}. Revise it after the round "
            "closes, so that every rating refers to the same wording."
        )
    current = item.current
    kind = ItemKind(fields.get("kind") or current.item_kind.value)
    theme_name = (fields.get("theme") or "").strip() or current.theme_shown
    # An existing theme however it was typed: "offers research" is "Offers research".
    theme_name = next(
        (t.name for t in item.study.themes if t.name.casefold() == theme_name.casefold()),
        theme_name,
    )
    version = ItemVersion(
        number=current.number + 1,
        change_note=change_note.strip(),
        created_by_id=user.id,
        kind=kind.value,
        theme_name=theme_name,
        **{
            name: (fields[name] if fields.get(name) is not None else getattr(current, name))
            for name in REVISABLE
        },
    )
    if kind is ItemKind.INDICATOR and not version.definition.strip():
        raise InvalidTransition("Enter the indicator's definition")
    if not item_changes(content_of(current), content_of(version, item=item)):
        raise InvalidTransition(
            "Nothing has changed: edit the wording, a field, the type or the theme."
        )
    # The version rated so far keeps the kind and theme it was rated under.
    current.kind, current.theme_name = current.item_kind.value, current.theme_shown
    item.versions.append(version)
    item.kind = kind.value
    item.theme = theme_named(item.study, theme_name)
    db.session.flush()
    audit.record(item.study_id, "item.revised", by=user.id, ref=item.ref, version=version.number)
    return version


def content_of(version: ItemVersion, *, item: Item | None = None) -> ItemContent:
    """A version as rated (`delphi.ItemContent`); `item` for a version not yet added to it."""
    kind = version.kind or (item or version.item).kind
    theme = version.theme_name
    if theme is None:
        theme = (item or version.item).theme.name
    return ItemContent(
        kind=ItemKind(kind),
        theme=theme,
        text=version.text,
        values={f.name: getattr(version, f.name) or "" for f in VERSION_FIELDS},
    )


@dataclass(frozen=True)
class ChangeShown:
    """One field changed between two versions: before, after and the words that changed."""

    label: str
    before: str
    after: str
    parts: list[DiffPart]


def version_changes(old: ItemVersion, new: ItemVersion) -> list[ChangeShown]:
    """Every field panellists are shown that differs between two versions (`item_changes`)."""
    return [
        ChangeShown(c.field.label, c.before, c.after, word_diff(c.before, c.after))
        for c in item_changes(content_of(old), content_of(new))
    ]


@dataclass(frozen=True)
class DiffPart:
    kind: str  # "same", "added", "removed"
    text: str


def word_diff(old: str, new: str) -> list[DiffPart]:
    """Word-level differences, for showing panellists what changed in the wording."""
    a, b = re.findall(r"\S+\s*", old), re.findall(r"\S+\s*", new)
    parts: list[DiffPart] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(DiffPart("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(DiffPart("removed", "".join(a[i1:i2])))
        if j2 > j1:
            parts.append(DiffPart("added", "".join(b[j1:j2])))
    return parts


def _round_before(round_: Round) -> Round | None:
    return next((r for r in round_.study.rounds if r.number == round_.number - 1), None)


def _raters(round_: Round, *columns: Any) -> Any:
    """A query of the study's panellists who can rate and have joined."""
    return select(*columns).where(
        Panellist.study_id == round_.study_id,
        Panellist.role != PanelRole.OBSERVER.value,
        Panellist.joined_at.is_not(None),
        # Withdrawn: not asked, reminded or counted as not responding any more.
        Panellist.withdrawn_at.is_(None),
    )


def _completed_previous(round_: Round) -> set[int] | None:
    """Under the rule "completed_previous", who rated every item of the round before;
    None when every rater is invited."""
    if round_.invite_rule != "completed_previous":
        return None
    previous = _round_before(round_)
    if previous is None:
        return None
    needed = expected_answers(previous.id)
    return {
        pid
        for pid, n in db.session.execute(
            select(Rating.panellist_id, func.count(Rating.id))
            .where(Rating.round_id == previous.id)
            .group_by(Rating.panellist_id)
        )
        if n >= needed
    }


def invited_panellists(round_: Round) -> list[Panellist]:
    """Who may rate this round: every rater, or only those who completed the previous round."""
    raters = db.session.scalars(
        _raters(round_, Panellist)
        .order_by(Panellist.id)
        .options(joinedload(Panellist.user), joinedload(Panellist.group))
    ).all()
    done = _completed_previous(round_)
    return list(raters) if done is None else [p for p in raters if p.id in done]


def is_invited(round_: Round, panellist: Panellist) -> bool:
    """The rule of ``invited_panellists`` for one panellist, without loading the whole panel
    (it runs on every autosave)."""
    if (
        panellist.study_id != round_.study_id
        or panellist.role == PanelRole.OBSERVER.value
        or panellist.joined_at is None
        or panellist.withdrawn_at is not None
    ):
        return False
    if round_.invite_rule != "completed_previous":
        return True
    previous = _round_before(round_)
    if previous is None:
        return True
    rated = db.session.scalar(
        select(func.count(Rating.id)).where(
            Rating.round_id == previous.id, Rating.panellist_id == panellist.id
        )
    )
    return (rated or 0) >= expected_answers(previous.id)


def _answered(round_: Round) -> dict[int, int]:
    """Panellist id -> how many answers (item x criterion) they have given in the round."""
    return dict(
        db.session.execute(
            select(Rating.panellist_id, func.count(Rating.id))
            .where(Rating.round_id == round_.id)
            .group_by(Rating.panellist_id)
        ).all()
    )


def non_responders(round_: Round) -> list[Panellist]:
    """Invited panellists who have not yet rated every item of the round (on every criterion
    asked of it)."""
    needed = expected_answers(round_.id)
    answered = _answered(round_)
    return [p for p in invited_panellists(round_) if answered.get(p.id, 0) < needed]


def non_responder_count(round_: Round) -> int:
    """How many `non_responders` there are, without loading the panel (the dashboard)."""
    needed = expected_answers(round_.id)
    answered = _answered(round_)
    done = _completed_previous(round_)
    return sum(
        1
        for pid in db.session.scalars(_raters(round_, Panellist.id))
        if (done is None or pid in done) and answered.get(pid, 0) < needed
    )


def last_reminders(round_: Round) -> dict[int, Reminder]:
    rows = db.session.scalars(
        select(Reminder).where(Reminder.round_id == round_.id).order_by(Reminder.sent_at)
    )
    return {r.panellist_id: r for r in rows}


@dataclass
class ReminderOutcome:
    sent: int = 0
    failed: list[str] | None = None
    # Panellists not reminded because mail failed (not recorded as reminded).
    not_sent: int = 0
    # Panellists who turned reminders off on their account page.
    turned_off: int = 0


def reminder_text(round_: Round, panellist: Panellist, ballot_url: str) -> str:
    deadline = ""
    if round_.closes_at:
        deadline = f" It closes on {london(round_.closes_at, '%-d %B %Y at %H:%M')} (UK time)."
    return (
        f'Dear {panellist.name},\n\nRound {round_.number} of "{round_.study.title}" is '
        f"open and we have not yet had all your ratings.{deadline}\n\n"
        f"Rate the items here:\n{ballot_url}\n\nThank you for taking part.\n"
    )


@transactional
def send_reminders(
    round_: Round, user: User | None, *, ballot_url: str, automatic_at: datetime | None = None
) -> ReminderOutcome:
    """Email every non-responder of an open round a link to `ballot_url`; each sending is
    recorded. `user` None is the system.

    `automatic_at` (the time now) makes it the automatic reminder run by cron
    (`flask send-reminders`): only inside the window before the deadline, and only to those
    who have not had an automatic reminder for this round (`delphi.notifications`). Those
    who turned reminders off are never emailed, by hand or automatically."""
    from app.services.notifications import send_notification, wants
    from delphi.notifications import NotificationKind, reminder_due

    if round_.round_status is not RoundStatus.OPEN:
        raise InvalidTransition("Reminders are sent while a round is open.")
    if not mail_enabled():
        raise InvalidTransition(
            "Email is not set up (MAIL_SERVER), so reminders cannot be sent. "
            "Contact the panellists another way."
        )
    outcome = ReminderOutcome(failed=[])
    study = round_.study
    if automatic_at is not None:
        # One cron run at a time per round: a second waits here, then sees the first's rows.
        db.session.scalar(select(Round.id).where(Round.id == round_.id).with_for_update())
    waiting = non_responders(round_)
    if automatic_at is not None:
        reminded = set(
            db.session.scalars(
                select(Reminder.panellist_id).where(
                    Reminder.round_id == round_.id, Reminder.sent_by_id.is_(None)
                )
            )
        )
        waiting = [
            p
            for p in waiting
            if reminder_due(
                now=automatic_at, closes_at=round_.closes_at, already_reminded=p.id in reminded
            )
        ]
    wanted = [p for p in waiting if wants(p.user_id, NotificationKind.REMINDER)]
    outcome.turned_off = len(waiting) - len(wanted)
    for index, panellist in enumerate(wanted):
        try:
            send_notification(
                panellist.user,
                NotificationKind.REMINDER,
                f"Reminder: round {round_.number} of {study.title}",
                reminder_text(round_, panellist, ballot_url),
            )
        except MailError as error:
            assert outcome.failed is not None
            outcome.failed.append(str(error))
            if isinstance(error, MailServerUnreachable):
                # Nobody else would get one either; do not wait for each to time out.
                outcome.not_sent += len(wanted) - index
                break
            outcome.not_sent += 1
            continue
        db.session.add(
            Reminder(
                round_id=round_.id, panellist_id=panellist.id, sent_by_id=user.id if user else None
            )
        )
        outcome.sent += 1
    if automatic_at is None or outcome.sent or outcome.not_sent:
        # An hourly cron run that had no one to remind leaves no trace in the audit log.
        audit.record(
            study.id,
            "round.reminded",
            by=audit.actor_id(user),
            round=round_.number,
            sent=outcome.sent,
            failed=outcome.not_sent,
        )
    return outcome


def undecided_items(study: Study) -> list[Item]:
    return [i for i in study.items if i.decision is None]


def stability_between_last_rounds(study: Study) -> dict[str, Any] | None:
    """Per-item stability between the last two closed rounds, on items rated in both:
    ``rounds`` (the two numbers), ``items`` (rows of `results.STABILITY_KEYS` with
    ``item_id``; None when no item was rated in both) and ``all_stable``. Read from the last
    round's snapshot, where closing it stored them; a round closed before they were stored
    has them computed and kept on first reading."""
    closed = [r for r in study.rounds if r.round_status is RoundStatus.CLOSED]
    if len(closed) < 2:
        return None
    snapshot = db.session.scalar(
        select(RoundSnapshot).where(RoundSnapshot.round_id == closed[-1].id)
    )
    if snapshot is None:
        return None
    stored = snapshot.results
    if "stability" in stored:
        figures = stored["stability"]
    else:
        figures = keep_stability(snapshot.id)
    return stability_view(figures)


def stability_view(figures: dict[str, Any] | None) -> dict[str, Any] | None:
    """Stored stability (`results.compute_stability`) as `stability_between_last_rounds`
    gives it: only the items rated in both rounds; None when there are none."""
    both = [row for row in (figures or {}).get("items", []) if row.get("in_both")]
    if not figures or not both:
        return None
    return {
        "rounds": tuple(figures["rounds"]),
        "items": both,
        "all_stable": bool(figures["all_stable"]),
    }


@transactional
def keep_stability(snapshot_id: int) -> dict[str, Any] | None:
    """Compute and store the stability of a round whose snapshot predates stored stability."""
    snapshot = db.session.get(RoundSnapshot, snapshot_id)
    if snapshot is None:
        return None
    round_ = db.session.get(Round, snapshot.round_id)
    assert round_ is not None
    figures = compute_stability(round_)
    snapshot.keep_stability(figures)
    return figures


_LOOK_UP: Any = object()


def stop_reasons(study: Study, stability: dict[str, Any] | None = _LOOK_UP) -> list[str]:
    """Why the study may stop now, in the words shown to the facilitator. `stability`: what
    `stability_between_last_rounds` gave, when the caller has it already."""
    reasons = []
    if study.items and not undecided_items(study):
        reasons.append("Every item has been accepted or excluded.")
    result = stability_between_last_rounds(study) if stability is _LOOK_UP else stability
    if result:
        first, second = result["rounds"]
        rows = result["items"]
        kept = [r for r in rows if not r.get("wording_changed")]
        if result["all_stable"]:
            reasons.append(f"Ratings were stable between rounds {first} and {second}.")
        elif kept and all(r["stable"] is True for r in kept):
            refs = {i.id: i.ref for i in study.items}
            reworded = ", ".join(
                refs.get(r["item_id"], str(r["item_id"])) for r in rows if r.get("wording_changed")
            )
            reasons.append(
                f"Ratings were stable between rounds {first} and {second} for every item rated "
                f"in the same wording in both; the wording of {reworded} changed, so its "
                "stability is not computed."
            )
    closed = [r for r in study.rounds if r.round_status is RoundStatus.CLOSED]
    if len(closed) >= study.max_rounds:
        reasons.append(f"The maximum of {study.max_rounds} rounds has been reached.")
    return reasons


def check_completion(study: Study) -> None:
    """Raise `InvalidTransition` unless the study may be completed now (`delphi`'s rule)."""
    unconfirmed = db.session.scalar(
        select(func.count(ItemDecision.id))
        .join(Round, Round.id == ItemDecision.round_id)
        .where(Round.study_id == study.id, ItemDecision.decided_at.is_(None))
    )
    check_can_complete(
        study_status=study.study_status,
        rounds=[RoundState(r.number, r.round_status, len(r.round_items)) for r in study.rounds],
        unconfirmed_decisions=unconfirmed or 0,
    )


def study_outcome(study: Study) -> dict[Outcome, list[Item]]:
    """The items by where they end up in the specification, in theme and item order."""
    out: dict[Outcome, list[Item]] = {outcome: [] for outcome in Outcome}
    for item in sorted(study.items, key=lambda i: (i.theme.position, i.position)):
        out[Outcome.of(item.decision)].append(item)
    return out


@dataclass
class CompletionNotice:
    """What became of emailing the panel the outcome: `mail` False when email is not set up."""

    mail: bool = True
    emailed: int = 0
    failed: list[str] = field(default_factory=list)


def outcome_text(study: Study, panellist: Panellist, url: str) -> str:
    """The email that tells a panellist the study is completed, and what was agreed."""
    lines = [
        f"Dear {panellist.name},",
        "",
        f'The Delphi study "{study.title}" is completed. Thank you for taking part.',
        "",
    ]
    for outcome, items in study_outcome(study).items():
        if not items:
            continue
        lines.append(f"{outcome.label} ({len(items)}):")
        lines.extend(f"- {item.ref}: {item.current.text}" for item in items)
        lines.append("")
    lines += [f"See the outcome and the last round's feedback here:\n{url}", ""]
    return "\n".join(lines)


@transactional
def tell_panel_of_completion(study: Study, *, actor: User, study_url: str) -> CompletionNotice:
    """Email everyone who joined the panel the outcome, when email is set up.

    Called after `complete_study` has committed: a failed sending never undoes the completion;
    the caller tells the facilitator what failed, and the panel's study page shows the
    outcome whether or not the email arrived."""
    if study.study_status is not StudyStatus.COMPLETED:
        raise InvalidTransition("The panel is told the outcome once the study is completed.")
    if not mail_enabled():
        return CompletionNotice(mail=False)
    notice = CompletionNotice()
    for panellist in study.panellists:
        if panellist.joined_at is None or panellist.withdrawn_at is not None:
            continue
        try:
            send_mail(
                panellist.user.email,
                f"Completed: {study.title}",
                outcome_text(study, panellist, study_url),
            )
        except MailError as error:
            notice.failed.append(str(error))
            continue
        notice.emailed += 1
    audit.record(
        study.id,
        "study.outcome_emailed",
        by=actor.id,
        sent=notice.emailed,
        failed=len(notice.failed),
    )
    return notice


def outcome_counts(study: Study) -> dict[Outcome, int]:
    """How many items the specification would show as agreed, excluded and no consensus."""
    counts = dict.fromkeys(Outcome, 0)
    for item in study.items:
        counts[Outcome.of(item.decision)] += 1
    return counts


@dataclass(frozen=True)
class RoundProgress:
    """Invited raters of a round who have not finished it: none rated, or some."""

    invited: int
    not_started: int
    part_way: int

    @property
    def unfinished(self) -> int:
        return self.not_started + self.part_way


def round_progress(round_: Round) -> RoundProgress:
    needed = expected_answers(round_.id)
    answered = dict(
        db.session.execute(
            select(Rating.panellist_id, func.count(Rating.id))
            .where(Rating.round_id == round_.id)
            .group_by(Rating.panellist_id)
        ).all()
    )
    invited = invited_panellists(round_)
    counts = [answered.get(p.id, 0) for p in invited]
    return RoundProgress(
        invited=len(invited),
        not_started=sum(1 for n in counts if n == 0),
        part_way=sum(1 for n in counts if 0 < n < needed),
    )


@transactional
def complete_study(study: Study, reason: str, *, actor: User) -> None:
    check_completion(study)
    if not reason.strip():
        raise InvalidTransition("Give the reason the study stops.")
    study.status = StudyStatus.COMPLETED.value
    study.stop_reason = reason.strip()
    study.completed_at = utcnow()
    audit.record(study.id, "study.completed", by=actor.id, reason=study.stop_reason)


@transactional
def reopen_study(study: Study, reason: str, *, actor: User) -> None:
    """Make a completed study changeable again, for the reason given (`delphi`'s rule).

    The audit log keeps when it had been completed, why it had stopped and why it reopens;
    the specification's method section states each reopening (`reopenings`)."""
    check_can_reopen_study(study.study_status, reason=reason)
    completed_at = study.completed_at
    audit.record(
        study.id,
        "study.reopened",
        by=actor.id,
        reason=reason.strip(),
        completed_at=completed_at.isoformat() if completed_at else "",
        stop_reason=study.stop_reason or "",
    )
    study.status = (StudyStatus.ACTIVE if study.rounds else StudyStatus.SETUP).value
    study.stop_reason = ""
    study.completed_at = None


def reopenings(study: Study) -> list[tuple[datetime, str]]:
    """When the study was reopened after completion, and why, oldest first."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.study_id == study.id, AuditEvent.action == "study.reopened")
        .order_by(AuditEvent.id)
    )
    return [(event.created_at, str((event.detail or {}).get("reason", ""))) for event in events]
