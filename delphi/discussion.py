"""The discussion's rules: who may post, edit and moderate, and the message limits."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from delphi.errors import DomainError
from delphi.model import PanelRole

MAX_LENGTH = 4000
EDIT_WINDOW = timedelta(minutes=10)


class Category(StrEnum):
    WORDING = "wording"
    EVIDENCE = "evidence"
    FEASIBILITY = "feasibility"
    PATIENT_PERSPECTIVE = "patient_perspective"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class DiscussionError(DomainError):
    """A discussion rule was broken."""


class ThreadLocked(DiscussionError):
    status_code = 409


class NotAllowedToPost(DiscussionError):
    status_code = 403


class TooManyMessages(DiscussionError):
    status_code = 429


class CannotChangeMessage(DiscussionError):
    status_code = 403


def check_can_post(*, role: PanelRole | None, is_facilitator: bool, locked: bool) -> None:
    """Observers read only; nobody adds to a locked thread."""
    if not is_facilitator and (role is None or role is PanelRole.OBSERVER):
        raise NotAllowedToPost("Observers can read the discussion but cannot post messages.")
    if locked:
        raise ThreadLocked(
            "This discussion is locked, so no new messages can be added. "
            "A facilitator locks a discussion when its round closes."
        )


def check_rate(recent: int, *, limit: int, seconds: int) -> None:
    """`recent` is how many messages the person sent in the last `seconds`."""
    if recent >= limit:
        raise TooManyMessages(
            f"You have sent {recent} messages in the last {seconds} seconds. "
            "Wait a minute, then send your message again."
        )


def check_can_change(
    *, is_author: bool, created_at: datetime, now: datetime, deleted: bool, locked: bool
) -> None:
    """Authors edit or delete their own messages within 10 minutes of writing them."""
    if not is_author:
        raise CannotChangeMessage("You can only change your own messages.")
    if deleted:
        raise CannotChangeMessage("That message has been deleted.")
    if locked:
        raise ThreadLocked("This discussion is locked, so its messages cannot be changed.")
    if now - created_at > EDIT_WINDOW:
        raise CannotChangeMessage(
            "You can edit or delete a message for 10 minutes after sending it. "
            "Write a new message to add to or correct it."
        )


def can_change(*, is_author: bool, created_at: datetime, now: datetime, deleted: bool) -> bool:
    return is_author and not deleted and now - created_at <= EDIT_WINDOW
