"""Who is emailed what, and when (`delphi.notifications`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from delphi.notifications import (
    DigestReason,
    MessageFacts,
    digest_reason,
    digest_since,
    followed_refs,
    follows,
    mentioned_refs,
    reminder_due,
)

DEADLINE = datetime(2027, 3, 10, 23, 59, tzinfo=UTC)


def test_the_reminder_is_due_only_in_the_two_days_before_the_deadline():
    just_before_window = DEADLINE - timedelta(days=2, minutes=1)
    assert not reminder_due(now=just_before_window, closes_at=DEADLINE, already_reminded=False)
    assert reminder_due(
        now=DEADLINE - timedelta(days=2), closes_at=DEADLINE, already_reminded=False
    )
    assert reminder_due(
        now=DEADLINE - timedelta(hours=1), closes_at=DEADLINE, already_reminded=False
    )
    assert not reminder_due(now=DEADLINE, closes_at=DEADLINE, already_reminded=False)


def test_the_reminder_is_never_sent_twice_nor_without_a_deadline():
    inside = DEADLINE - timedelta(days=1)
    assert not reminder_due(now=inside, closes_at=DEADLINE, already_reminded=True)
    assert not reminder_due(now=inside, closes_at=None, already_reminded=False)


def test_a_digest_starts_after_the_last_one_or_a_day_back():
    now = datetime(2027, 3, 10, 7, 0, tzinfo=UTC)
    last = now - timedelta(days=3)
    assert digest_since(last_digest_at=last, now=now) == last
    assert digest_since(last_digest_at=None, now=now) == now - timedelta(days=1)


def test_mentions_are_item_references_after_a_hash():
    assert mentioned_refs("See #P7 and #i2, not P3 or a#P4 or #X1") == {"P7", "I2"}


def _message(**fields):
    values = dict(
        author_user_id=2, parent_author_user_id=None, thread_ref="P1", body="", visible=True
    )
    values.update(fields)
    return MessageFacts(**values)


def test_why_a_message_is_in_a_digest():
    me = 1
    assert digest_reason(_message(parent_author_user_id=me), user_id=me, followed=[]) is (
        DigestReason.REPLY
    )
    assert digest_reason(_message(), user_id=me, followed=["P1"]) is DigestReason.FOLLOWED
    assert digest_reason(_message(), user_id=me, followed=["P2"]) is None
    mention = _message(thread_ref=None, body="Compare with #p2.")
    assert digest_reason(mention, user_id=me, followed=["P2"]) is DigestReason.MENTION
    assert digest_reason(mention, user_id=me, followed=["P1"]) is None


def test_nobody_hears_of_their_own_hidden_or_system_messages():
    me = 1
    assert digest_reason(_message(author_user_id=me), user_id=me, followed=["P1"]) is None
    hidden = _message(parent_author_user_id=me, visible=False)
    assert digest_reason(hidden, user_id=me, followed=["P1"]) is None
    system = _message(author_user_id=None, system=True)
    assert digest_reason(system, user_id=me, followed=["P1"]) is None


def test_an_explicit_choice_to_follow_wins_over_having_posted():
    assert follows(posted=True, choice=None) is True
    assert follows(posted=False, choice=None) is False
    assert follows(posted=False, choice=True) is True  # followed without posting
    assert follows(posted=True, choice=False) is False  # posted, then stopped following
    assert follows(posted=True, choice=True) is True
    assert follows(posted=False, choice=False) is False


def test_the_items_a_person_follows():
    posted_in = ["P1", "P2"]
    choices = {"P2": False, "P3": True, "P4": False}
    assert followed_refs(posted_in, choices) == {"P1", "P3"}
    assert followed_refs([], {}) == set()
    # What they follow is what the digest reads: a message on P2 is no longer news to them.
    on_p2 = MessageFacts(
        author_user_id=2, parent_author_user_id=None, thread_ref="P2", body="", visible=True
    )
    assert digest_reason(on_p2, user_id=1, followed=followed_refs(posted_in, choices)) is None
    on_p3 = MessageFacts(
        author_user_id=2, parent_author_user_id=None, thread_ref="P3", body="", visible=True
    )
    assert digest_reason(on_p3, user_id=1, followed=followed_refs(posted_in, choices)) is (
        DigestReason.FOLLOWED
    )
