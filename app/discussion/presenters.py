"""How the discussion looks to one viewer: view models with rendered, sanitised Markdown.

Built from the rows `app/services/discussion.py` loads; names reach facilitators only, and a
hidden message's text only its author and the facilitators. Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup

from app.models import DiscussionMessage, DiscussionThread, Item, Study, utcnow
from app.services import discussion as svc
from app.services.discussion import CHANNEL, Viewer, author_of, is_patient
from app.text.markdown import excerpt, render
from delphi.discussion import Category, can_change

MentionUrl = Callable[[str], str | None]

# Messages a thread shows at first, latest last; "Show earlier messages" adds as many again.
WINDOW = 50


def dom_key(key: str) -> str:
    """A thread key as it appears in DOM ids: "channel" or "item-12"."""
    return key.replace(":", "-")


@dataclass(frozen=True)
class Filters:
    voices: str = "all"  # "all", "highlight" or "patients"
    category: str = ""

    @classmethod
    def parse(cls, voices: str | None, category: str | None) -> Filters:
        voices = voices if voices in ("all", "highlight", "patients") else "all"
        category = category if category in {c.value for c in Category} else ""
        return cls(voices, category)

    @property
    def active(self) -> bool:
        return self.voices == "patients" or bool(self.category)

    def keeps(self, message: DiscussionMessage) -> bool:
        if self.voices == "patients" and not is_patient(message):
            return False
        return not self.category or message.category == self.category

    def keeps_head(self, head: svc.MessageHead) -> bool:
        """`keeps`, for a message read as a `MessageHead`."""
        if self.voices == "patients" and not head.patient:
            return False
        return not self.category or head.category == self.category


@dataclass
class Quote:
    author: str
    text: str


@dataclass
class MessageView:
    """One message as one viewer may see it; names only ever reach facilitators."""

    id: int
    key: str
    ref: str
    is_system: bool
    author: str
    group: str
    author_name: str | None
    is_patient: bool
    by_facilitator: bool
    round_label: str
    created_at: datetime
    html: Markup
    body: str
    category: str
    category_label: str
    edited: bool
    deleted: bool
    hidden: bool
    hidden_reason: str | None
    show_body: bool
    is_own: bool
    can_change: bool
    can_moderate: bool
    shared_reason: bool
    reply_to: Quote | None


@dataclass
class ThreadPanel:
    key: str
    item: Item | None
    thread: DiscussionThread | None
    messages: list[MessageView] = field(default_factory=list)
    total: int = 0
    unread: int = 0
    locked: bool = False
    summary: str = ""
    summary_html: Markup = Markup("")
    summary_round: int | None = None
    category_counts: dict[str, int] | None = None
    # Messages (of those the filters keep) before the first one shown.
    earlier: int = 0

    @property
    def dom(self) -> str:
        return dom_key(self.key)

    @property
    def first_id(self) -> int | None:
        return self.messages[0].id if self.messages else None


@dataclass
class Changes:
    cursor: int
    appended: dict[str, list[MessageView]] = field(default_factory=dict)
    replaced: list[MessageView] = field(default_factory=list)
    panels: dict[str, ThreadPanel] = field(default_factory=dict)


def mention_resolver(study_id: int, url_for_ref: Callable[[str], str]) -> MentionUrl:
    """Links for #P7-style mentions of the study's items; other refs stay plain text."""
    refs = svc.item_refs(study_id)
    return lambda ref: url_for_ref(ref) if ref in refs else None


def _quote(parent: DiscussionMessage, viewer: Viewer) -> Quote:
    author = author_of(parent)[0]
    if parent.deleted_at is not None:
        return Quote(author, "This message was deleted.")
    if parent.hidden_at is not None and not viewer.is_facilitator:
        return Quote(author, "This message was hidden by a facilitator.")
    return Quote(author, excerpt(parent.body))


def view_of(
    message: DiscussionMessage, viewer: Viewer, mention_url: MentionUrl, now: datetime
) -> MessageView:
    author, group = author_of(message)
    is_own = message.author_user_id == viewer.user_id and message.kind != "system"
    hidden = message.hidden_at is not None
    deleted = message.deleted_at is not None
    show_body = not deleted and (not hidden or is_own or viewer.is_facilitator)
    category = message.category or ""
    return MessageView(
        id=message.id,
        key=message.thread.key,
        ref=message.thread.item.ref if message.thread.item else CHANNEL,
        is_system=message.kind == "system",
        author=author,
        group=group,
        author_name=(
            message.author_user.name
            if viewer.is_facilitator and message.author_user is not None
            else None
        ),
        is_patient=is_patient(message),
        by_facilitator=message.as_facilitator,
        round_label=f"Round {message.round.number}" if message.round else "Before round 1",
        created_at=message.created_at,
        html=render(message.body, mention_url) if show_body else Markup(""),
        body=message.body if show_body else "",
        category=category,
        category_label=Category(category).label if category else "",
        edited=message.edited_at is not None,
        deleted=deleted,
        hidden=hidden,
        hidden_reason=(
            message.hidden_reason if hidden and (is_own or viewer.is_facilitator) else None
        ),
        show_body=show_body,
        is_own=is_own,
        can_change=can_change(
            is_author=is_own, created_at=message.created_at, now=now, deleted=deleted
        )
        and not hidden
        and message.thread.locked_at is None
        and not viewer.record_final,
        can_moderate=viewer.is_facilitator
        and message.kind != "system"
        and not deleted
        and not viewer.record_final,
        shared_reason=message.rating_id is not None,
        reply_to=_quote(message.parent, viewer) if message.parent is not None else None,
    )


def _panel_meta(panel: ThreadPanel, thread: DiscussionThread | None, mention: MentionUrl) -> None:
    panel.thread = thread
    if thread is None:
        return
    panel.locked = thread.locked_at is not None
    panel.summary = thread.summary
    panel.summary_html = render(thread.summary, mention) if thread.summary else Markup("")
    panel.summary_round = thread.summary_round.number if thread.summary_round else None


def thread_panels(
    study: Study,
    items: Iterable[Item | None],
    viewer: Viewer,
    mention: MentionUrl,
    filters: Filters = Filters(),
    *,
    window: int | None = WINDOW,
    before: int | None = None,
    with_messages: bool = True,
) -> dict[str, ThreadPanel]:
    """Panels for the channel (None) and/or items, with messages and unread counts batched.

    Each panel shows the latest `window` messages the filters keep (all when None), of those
    before message `before` when given; `earlier` says how many more there are. Without
    messages (`with_messages=False`, the ballot, which loads a thread when it is opened) a
    panel has only its counts, summary and lock."""
    panels: dict[str, ThreadPanel] = {}
    for item in items:
        key = svc.key_of(item)
        panels[key] = ThreadPanel(key=key, item=item, thread=None)
    threads = svc.threads_with_keys(study.id, list(panels))
    by_id = {t.id: t for t in threads}
    for thread in threads:
        _panel_meta(panels[thread.key], thread, mention)
    if not threads:
        return panels
    if not with_messages:
        for thread_id, total in svc.message_totals(list(by_id)).items():
            panels[by_id[thread_id].key].total = total
    else:
        _fill_messages(panels, by_id, viewer, mention, filters, window, before)
    for key, unread in svc.unread_counts(viewer.user_id, list(by_id)).items():
        panels[by_id[key].key].unread = unread
    return panels


def _fill_messages(
    panels: dict[str, ThreadPanel],
    by_id: dict[int, DiscussionThread],
    viewer: Viewer,
    mention: MentionUrl,
    filters: Filters,
    window: int | None,
    before: int | None,
) -> None:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    kept: dict[str, list[int]] = defaultdict(list)
    # Count and filter on plain rows; load whole messages only for the windows shown.
    for head in svc.message_heads(list(by_id)):
        panel = panels[by_id[head.thread_id].key]
        if not head.deleted and head.kind == "message":
            panel.total += 1
            counts[panel.key][head.category or "none"] += 1
        if filters.keeps_head(head) and (before is None or head.id < before):
            kept[panel.key].append(head.id)
    windows = {key: ids[-window:] if window else ids for key, ids in kept.items()}
    loaded = {m.id: m for m in svc.messages_by_id([i for ids in windows.values() for i in ids])}
    now = utcnow()
    for key, shown in windows.items():
        panels[key].earlier = len(kept[key]) - len(shown)
        # Rendering Markdown is the costly part: only for the messages shown.
        panels[key].messages = [view_of(loaded[i], viewer, mention, now) for i in shown]
    if viewer.is_facilitator:
        for key, panel in panels.items():
            panel.category_counts = {c.value: counts[key].get(c.value, 0) for c in Category} | {
                "none": counts[key].get("none", 0)
            }


def changes_since(
    study: Study,
    after: int,
    keys: set[str],
    viewer: Viewer,
    mention: MentionUrl,
    filters: Filters = Filters(),
) -> Changes:
    """What a page showing threads `keys` must add or replace since event `after`."""
    events = svc.events_after(study.id, after)
    changes = Changes(cursor=max([after] + [e.id for e in events]))
    posted: dict[int, str] = {}
    changed: set[int] = set()
    touched: dict[str, DiscussionThread] = {}
    for _event_id, kind, message_id, thread in events:
        if thread.key not in keys:
            continue
        touched[thread.key] = thread
        if kind == "posted" and message_id:
            posted[message_id] = thread.key
        elif kind == "changed" and message_id:
            changed.add(message_id)
    wanted = set(posted) | changed
    if wanted:
        now = utcnow()
        for message in svc.messages_by_id(list(wanted)):
            if message.id in posted:
                if filters.keeps(message):
                    changes.appended.setdefault(posted[message.id], []).append(
                        view_of(message, viewer, mention, now)
                    )
            else:
                changes.replaced.append(view_of(message, viewer, mention, now))
    if touched:
        items = svc.items_by_id([t.item_id for t in touched.values() if t.item_id])
        unread = svc.unread_counts(viewer.user_id, [t.id for t in touched.values()])
        for key, thread in touched.items():
            panel = ThreadPanel(key=key, item=items.get(thread.item_id or 0), thread=None)
            _panel_meta(panel, thread, mention)
            panel.unread = unread.get(thread.id, 0)
            panel.total = svc.message_total(thread.id)
            changes.panels[key] = panel
    return changes
