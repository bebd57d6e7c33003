"""The audit log: who did what to a study."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import AuditEvent, User
from app.services.transaction import transactional

# How each action reads on the audit page; unknown actions show their code.
DESCRIPTIONS = {
    "study.created": "Created the study",
    "study.settings_changed": "Changed the study's settings",
    "study.guide_settings_changed": "Changed the inspectors' guide settings",
    "study.reporting_settings_changed": "Changed the reporting settings",
    "study.item_order_changed": "Changed the order panellists see the items in",
    "group.added": "Added a stakeholder group",
    "criterion.added": "Added a rating criterion",
    "criterion.changed": "Changed a rating criterion",
    "criterion.removed": "Removed a rating criterion",
    "item.added": "Added an item",
    "item.deleted": "Deleted an item",
    "item.moved": "Moved an item",
    "theme.moved": "Moved a theme",
    "group.renamed": "Renamed a stakeholder group",
    "group.deleted": "Deleted a stakeholder group",
    "panel.changed": "Moved a panellist to another group or role",
    "panel.removed": "Removed a panellist",
    "item.revised": "Revised an item",
    "items.imported": "Imported items",
    "panel.invited": "Invited a panellist",
    "panel.reinvited": "Sent a new invitation link",
    "panel.imported": "Imported a panel list",
    "panel.links_downloaded": "Downloaded the invitation links to send",
    "panel.joined": "A panellist joined",
    "panel.sign_in_link": "Made a new sign-in link for a panellist",
    "panel.signed_in_with_link": "A panellist signed in with a link from the facilitators",
    "round.opened": "Opened a round",
    "round.closed": "Closed a round",
    "round.reopened": "Reopened a round",
    "round.decided": "Recorded decisions on items",
    "round.reminded": "Sent reminders",
    "round.open_emailed": "Emailed the panel that a round is open",
    "round.close_emailed": "Emailed the panel that a round's feedback is ready",
    "round.snapshot_frozen": "Froze a snapshot of the results",
    "study.completed": "Completed the study",
    "study.reopened": "Reopened the completed study",
    "study.outcome_emailed": "Emailed the panel the study's outcome",
    "proposal.made": "A panellist proposed an item",
    "proposal.accepted": "Accepted a proposed item",
    "proposal.merged": "Merged a proposed item",
    "proposal.declined": "Declined a proposed item",
    "ideas.opened": "Opened the ideas round",
    "ideas.closed": "Closed the ideas round",
    "ideas.question_added": "Added an open question to the ideas round",
    "ideas.question_removed": "Removed an open question from the ideas round",
    "ideas.idea_added": "A panellist added an idea",
    "ideas.accepted": "Made an item from ideas",
    "ideas.merged": "Merged ideas into an existing item",
    "ideas.declined": "Declined ideas, with a reason",
    "discussion.message_hidden": "Hid a message",
    "discussion.message_shown": "Showed a hidden message again",
    "discussion.summary_pinned": "Pinned a discussion summary",
    "discussion.summary_removed": "Removed a discussion summary",
    "discussion.locked": "Locked a discussion",
    "discussion.unlocked": "Unlocked a discussion",
    "reason.hidden": "Hid a rating's reason from the panel",
    "reason.shown": "Showed a hidden rating reason to the panel again",
    "export.downloaded": "Downloaded the specification",
    "export.names_included": "Exported with panellists' names",
    "api_token.created": "Created an API token",
    "api_token.revoked": "Revoked an API token",
    "audit.exported": "Exported the audit log",
    "consent.information_published": "Published a version of the participant information",
    "consent.agreed": "A panellist agreed to take part",
    "panel.withdrew": "A panellist withdrew from the study",
    "panel.withdrawal_recorded": "Recorded a panellist's withdrawal",
    "background.questions_changed": "Changed the background questions",
    "background.answered": "A panellist answered the background questions",
    "consent.interests_declared": "A panellist declared their interests",
    "study.retention_set": "Set the date after which the panel's personal data is erased",
    "privacy.retention_applied": "Erased the panel's names and emails (retention date passed)",
    "privacy.person_erased": "Erased a person's name and email (erasure request)",
    "facilitator.added": "Added a facilitator",
    "facilitator.removed": "Removed a facilitator",
    "study.two_step_required": "Required two-step sign-in of the study's facilitators",
    "study.two_step_not_required": "Stopped requiring two-step sign-in of the facilitators",
    "account.two_step_on": "Turned on two-step sign-in",
    "account.two_step_off": "Turned off two-step sign-in",
    "account.recovery_code_used": "Signed in with a recovery code",
    "account.recovery_codes_replaced": "Made new recovery codes",
    "account.password_set": "Set a password",
    "account.password_changed": "Changed their password",
}


def record(study_id: int | None, action: str, *, by: int | None, **detail: Any) -> None:
    """Add an event to the current transaction; it commits with the change it describes.

    `by` is the acting user's id, passed in by the caller: None is the system (a deadline
    passing, a scheduled job), shown as "The system".
    """
    db.session.add(AuditEvent(study_id=study_id, user_id=by, action=action, detail=detail))


def actor_id(user: User | None) -> int | None:
    """The id `record` wants for an acting user; None for the system."""
    return user.id if user is not None else None


@transactional
def log(study_id: int | None, action: str, *, by: int | None, **detail: Any) -> None:
    """An event that is a transaction of its own, e.g. downloading the audit log."""
    record(study_id, action, by=by, **detail)


def describe(action: str) -> str:
    """The action in words, e.g. "Closed a round"."""
    if action in DESCRIPTIONS:
        return DESCRIPTIONS[action]
    area, _, verb = action.partition(".")
    return f"{area.replace('_', ' ').capitalize()}: {verb.replace('_', ' ')}" if verb else action
