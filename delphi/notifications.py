"""Who is emailed what, and when: the kinds of email, the reminder window, the digest.

Pure rules; the web layer (`app/services/notifications.py`) loads the rows, asks these
functions and sends the mail.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta


class NotificationKind(enum.Enum):
    """An email a person may turn off on their account page (and by one-click unsubscribe).

    Invitations, sign-in links and the study's outcome are not listed: they are answers to
    something the person or the study team asked for, not notifications."""

    ROUND_OPENED = "round_opened"
    REMINDER = "reminder"
    ROUND_CLOSED = "round_closed"
    DISCUSSION = "discussion"

    @property
    def label(self) -> str:
        return _LABELS[self][0]

    @property
    def hint(self) -> str:
        return _LABELS[self][1]


_LABELS = {
    NotificationKind.ROUND_OPENED: (
        "A round opens",
        "With the link to the ratings and the deadline.",
    ),
    NotificationKind.REMINDER: (
        "Reminder before the deadline",
        "Once, two days before a round closes, if you have not rated every item.",
    ),
    NotificationKind.ROUND_CLOSED: (
        "A round closes and its feedback is ready",
        "With the link to the round's feedback.",
    ),
    NotificationKind.DISCUSSION: (
        "Daily discussion digest",
        "Replies to your messages and new messages about the items you follow, at most once a day.",
    ),
}

# Automatic reminders go out this long before a round's deadline, and never earlier.
REMINDER_WINDOW = timedelta(days=2)
# A first digest looks back this far (a person has had none before).
FIRST_DIGEST_LOOKBACK = timedelta(days=1)


def reminder_due(*, now: datetime, closes_at: datetime | None, already_reminded: bool) -> bool:
    """An automatic reminder is due once, inside the window before the deadline.

    No deadline, no automatic reminder (the facilitator can still remind by hand); a round
    past its deadline is closing, not waiting for a reminder."""
    if closes_at is None or already_reminded:
        return False
    return closes_at - REMINDER_WINDOW <= now < closes_at


def digest_since(*, last_digest_at: datetime | None, now: datetime) -> datetime:
    """Where a person's next digest starts: after their last one, else a day back."""
    return last_digest_at if last_digest_at is not None else now - FIRST_DIGEST_LOOKBACK


# An item mentioned in a message: "#P7", "#i2". The Markdown renderer links the same
# mentions (`app/text/markdown.py` uses this pattern on escaped text, hence `&` and `;`).
MENTION = re.compile(r"(?<![\w&;#/])#([PpIi]\d{1,4})\b")


def mentioned_refs(text: str) -> set[str]:
    """The item references a message mentions, upper-cased ("#p7" is P7)."""
    return {m.upper() for m in MENTION.findall(text)}


class DigestReason(enum.Enum):
    """Why a message is in someone's digest, in the order the digest lists them."""

    REPLY = "Replies to you"
    FOLLOWED = "New messages about items you follow"
    MENTION = "Items you follow mentioned elsewhere"


@dataclass(frozen=True)
class MessageFacts:
    """A discussion message as the digest rule needs it."""

    author_user_id: int | None
    parent_author_user_id: int | None
    # The item the thread is about, by reference; None for the study channel.
    thread_ref: str | None
    body: str
    visible: bool  # neither hidden by a facilitator nor deleted by its author
    system: bool = False


def follows(*, posted: bool, choice: bool | None) -> bool:
    """Whether a person follows an item: their explicit choice ("Follow this item" /
    "Stop following") when they made one, else whether they have written in its thread.

    The choice wins either way: someone who posted can stop following, and someone who
    never posted can follow."""
    return choice if choice is not None else posted


def followed_refs(posted_in: Iterable[str], choices: Mapping[str, bool]) -> set[str]:
    """The items a person follows, by reference: those they wrote in (`posted_in`) and
    those they chose to follow, without those they chose to stop following (`choices`)."""
    posted = set(posted_in)
    return {
        ref
        for ref in posted | set(choices)
        if follows(posted=ref in posted, choice=choices.get(ref))
    }


def digest_reason(
    message: MessageFacts, *, user_id: int, followed: Iterable[str]
) -> DigestReason | None:
    """Why `user_id` hears of this message in their digest, or None when they do not.

    Nobody hears of their own messages, of system notices, or of a message others no longer
    see (hidden or deleted). `followed` holds the references of the items the person
    follows (`followed_refs`)."""
    if not message.visible or message.system or message.author_user_id == user_id:
        return None
    if message.parent_author_user_id == user_id:
        return DigestReason.REPLY
    following = set(followed)
    if message.thread_ref is not None and message.thread_ref in following:
        return DigestReason.FOLLOWED
    if mentioned_refs(message.body) & following:
        return DigestReason.MENTION
    return None
