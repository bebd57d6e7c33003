"""The Delphi cycle between rounds: revising items, who is invited, reminders, stopping."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.mail import MailError, MailServerUnreachable, mail_enabled, send_mail
from app.models import (
    Item,
    ItemDecision,
    ItemVersion,
    Panellist,
    Rating,
    Reminder,
    Round,
    RoundItem,
    Study,
    User,
    utcnow,
)
from app.services import audit
from app.services.results import ratings_frame
from app.services.transaction import transactional
from app.text.dates import london
from delphi import (
    InvalidTransition,
    Outcome,
    PanelRole,
    RoundState,
    RoundStatus,
    StudyStatus,
    check_can_complete,
)
from scoring import Scale, stability

REVISABLE = ("text", "definition", "numerator", "denominator", "data_source", "rationale")


@transactional
def revise_item(item: Item, fields: dict[str, str], change_note: str, user: User) -> ItemVersion:
    """A new version of the item; the version being rated in an open round is never changed."""
    if item.study.study_status is StudyStatus.COMPLETED:
        raise InvalidTransition("This study is completed, so its items can no longer change.")
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
    version = ItemVersion(
        number=current.number + 1,
        change_note=change_note.strip(),
        created_by_id=user.id,
        **{name: fields.get(name, getattr(current, name)) for name in REVISABLE},
        **{
            name: getattr(current, name)
            for name in ("notes", "reporting_frequency", "threshold")
            if hasattr(current, name)
        },
    )
    item.versions.append(version)
    db.session.flush()
    audit.record(item.study_id, "item.revised", by=user.id, ref=item.ref, version=version.number)
    return version


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


def invited_panellists(round_: Round) -> list[Panellist]:
    """Who may rate this round: every rater, or only those who completed the previous round."""
    raters = db.session.scalars(
        select(Panellist)
        .where(
            Panellist.study_id == round_.study_id,
            Panellist.role != PanelRole.OBSERVER.value,
            Panellist.joined_at.is_not(None),
        )
        .order_by(Panellist.id)
    ).all()
    if round_.invite_rule != "completed_previous":
        return list(raters)
    previous = _round_before(round_)
    if previous is None:
        return list(raters)
    needed = len(previous.round_items)
    done = {
        pid
        for pid, n in db.session.execute(
            select(Rating.panellist_id, func.count(Rating.id))
            .where(Rating.round_id == previous.id)
            .group_by(Rating.panellist_id)
        )
        if n >= needed
    }
    return [p for p in raters if p.id in done]


def is_invited(round_: Round, panellist: Panellist) -> bool:
    """The rule of ``invited_panellists`` for one panellist, without loading the whole panel
    (it runs on every autosave)."""
    if (
        panellist.study_id != round_.study_id
        or panellist.role == PanelRole.OBSERVER.value
        or panellist.joined_at is None
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
    return (rated or 0) >= len(previous.round_items)


def non_responders(round_: Round) -> list[Panellist]:
    """Invited panellists who have not yet rated every item of the round."""
    needed = len(round_.round_items)
    answered = dict(
        db.session.execute(
            select(Rating.panellist_id, func.count(Rating.id))
            .where(Rating.round_id == round_.id)
            .group_by(Rating.panellist_id)
        ).all()
    )
    return [p for p in invited_panellists(round_) if answered.get(p.id, 0) < needed]


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


@transactional
def send_reminders(round_: Round, user: User | None, *, ballot_url: str) -> ReminderOutcome:
    """Email every non-responder of an open round a link to `ballot_url`; each sending is
    recorded. `user` None is the system (`flask send-reminders`)."""
    if round_.round_status is not RoundStatus.OPEN:
        raise InvalidTransition("Reminders are sent while a round is open.")
    if not mail_enabled():
        raise InvalidTransition(
            "Email is not set up (MAIL_SERVER), so reminders cannot be sent. "
            "Contact the panellists another way."
        )
    outcome = ReminderOutcome(failed=[])
    study = round_.study
    deadline = ""
    if round_.closes_at:
        deadline = f" It closes on {london(round_.closes_at, '%-d %B %Y at %H:%M')}."
    waiting = non_responders(round_)
    for index, panellist in enumerate(waiting):
        try:
            send_mail(
                panellist.user.email,
                f"Reminder: round {round_.number} of {study.title}",
                f'Dear {panellist.name},\n\nRound {round_.number} of "{study.title}" is '
                f"open and we have not yet had all your ratings.{deadline}\n\n"
                f"Rate the items here:\n{ballot_url}\n\nThank you for taking part.\n",
            )
        except MailError as error:
            assert outcome.failed is not None
            outcome.failed.append(str(error))
            if isinstance(error, MailServerUnreachable):
                # Nobody else would get one either; do not wait for each to time out.
                outcome.not_sent += len(waiting) - index
                break
            outcome.not_sent += 1
            continue
        db.session.add(
            Reminder(
                round_id=round_.id, panellist_id=panellist.id, sent_by_id=user.id if user else None
            )
        )
        outcome.sent += 1
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


def stability_between_last_rounds(study: Study) -> dict[str, object] | None:
    """Per-item stability between the last two closed rounds, on items rated in both."""
    closed = [r for r in study.rounds if r.round_status is RoundStatus.CLOSED]
    if len(closed) < 2:
        return None
    previous, last = closed[-2], closed[-1]
    before, after = ratings_frame(previous), ratings_frame(last)
    # Ratings attach to versions; stability compares the same item across rounds.
    to_item = dict(db.session.execute(select(ItemVersion.id, ItemVersion.item_id)).all())
    before["item"] = before["item"].map(to_item)
    after["item"] = after["item"].map(to_item)
    common = set(before["item"]) & set(after["item"])
    if not common:
        return None
    scale = Scale(low=study.scale_min, high=study.scale_max)
    table = stability(before[before["item"].isin(common)], after[after["item"].isin(common)], scale)
    stable = bool(table["stable"].eq(True).all()) if len(table) else False
    return {"rounds": (previous.number, last.number), "table": table, "all_stable": stable}


def stop_reasons(study: Study) -> list[str]:
    """Why the study may stop now, in the words shown to the facilitator."""
    reasons = []
    if study.items and not undecided_items(study):
        reasons.append("Every item has been accepted or excluded.")
    result = stability_between_last_rounds(study)
    if result and result["all_stable"]:
        first, second = result["rounds"]  # type: ignore[misc]
        reasons.append(f"Ratings were stable between rounds {first} and {second}.")
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
    needed = len(round_.round_items)
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
