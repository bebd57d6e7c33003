"""Changing a study's setup after the fact: deleting and reordering items and themes,
renaming and deleting groups, moving and removing panellists.

What is allowed when lives in `delphi.setup`; this module loads what those rules need,
applies the change and audits it, one transaction per call.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    DiscussionMessage,
    DiscussionThread,
    Item,
    ItemDecision,
    ItemVersion,
    Panellist,
    Proposal,
    Rating,
    Round,
    RoundItem,
    StakeholderGroup,
    Study,
    Theme,
    User,
)
from app.services import audit
from app.services.studies import DuplicateGroup
from app.services.transaction import transactional
from delphi import PanelRole, RoundStatus
from delphi.pseudonyms import pseudonym
from delphi.setup import (
    check_can_change_panellist,
    check_can_delete_group,
    check_can_delete_item,
    check_can_rename_group,
    check_can_reorder,
)


def rounds_put_to(item: Item) -> list[int]:
    """The numbers of the opened rounds that put any version of `item` to the panel."""
    return list(
        db.session.scalars(
            select(Round.number)
            .join(RoundItem, RoundItem.round_id == Round.id)
            .join(ItemVersion, ItemVersion.id == RoundItem.item_version_id)
            .where(ItemVersion.item_id == item.id, Round.status != RoundStatus.DRAFT.value)
            .distinct()
        )
    )


def _ratings_of(item: Item) -> int:
    return (
        db.session.scalar(
            select(func.count(Rating.id))
            .join(ItemVersion, ItemVersion.id == Rating.item_version_id)
            .where(ItemVersion.item_id == item.id)
        )
        or 0
    )


def item_deletable(item: Item) -> bool:
    """Whether the Items page offers "Delete" for `item` (the rule still decides on POST)."""
    return not rounds_put_to(item) and not _ratings_of(item)


def put_to_panel(study: Study) -> set[str]:
    """References of the study's items that an opened round has put to the panel: the
    Items page offers "Delete" for the others only."""
    return set(
        db.session.scalars(
            select(Item.ref)
            .join(ItemVersion, ItemVersion.item_id == Item.id)
            .join(RoundItem, RoundItem.item_version_id == ItemVersion.id)
            .join(Round, Round.id == RoundItem.round_id)
            .where(Item.study_id == study.id, Round.status != RoundStatus.DRAFT.value)
        )
    )


@transactional
def delete_item(study: Study, item: Item, *, actor: User) -> None:
    """Delete an item never put to the panel, with its versions, thread and proposals."""
    check_can_delete_item(
        study.study_status,
        ref=item.ref,
        rounds_put_to=rounds_put_to(item),
        ratings=_ratings_of(item),
    )
    ref, text = item.ref, item.current.text
    versions = select(ItemVersion.id).where(ItemVersion.item_id == item.id)
    threads = select(DiscussionThread.id).where(DiscussionThread.item_id == item.id)
    db.session.execute(delete(RoundItem).where(RoundItem.item_version_id.in_(versions)))
    db.session.execute(delete(DiscussionMessage).where(DiscussionMessage.thread_id.in_(threads)))
    db.session.execute(delete(DiscussionThread).where(DiscussionThread.item_id == item.id))
    db.session.execute(delete(ItemDecision).where(ItemDecision.item_id == item.id))
    # A proposal that became this item stays answered; a rewording of it goes with it.
    db.session.execute(
        update(Proposal).where(Proposal.result_item_id == item.id).values(result_item_id=None)
    )
    db.session.execute(delete(Proposal).where(Proposal.item_id == item.id))
    db.session.execute(delete(ItemVersion).where(ItemVersion.item_id == item.id))
    db.session.execute(delete(Item).where(Item.id == item.id))
    db.session.expire(study)
    audit.record(study.id, "item.deleted", by=actor.id, ref=ref, text=text[:200])


def _ordered_items(study: Study) -> list[Item]:
    """Items as the Items page, the ballot of the next round and the specification list
    them: by theme, then by position within the theme."""
    theme_order = {t.id: n for n, t in enumerate(study.themes)}
    return sorted(study.items, key=lambda i: (theme_order.get(i.theme_id, 0), i.position, i.id))


def _renumber(study: Study, items: list[Item]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


@transactional
def move_item(study: Study, item: Item, *, up: bool, actor: User) -> bool:
    """Swap `item` with its neighbour in its theme; False when it is already at that end."""
    check_can_reorder(study.study_status)
    items = _ordered_items(study)
    siblings = [i for i in items if i.theme_id == item.theme_id]
    index = siblings.index(item)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(siblings):
        return False
    a, b = items.index(siblings[index]), items.index(siblings[other])
    items[a], items[b] = items[b], items[a]
    _renumber(study, items)
    audit.record(
        study.id, "item.moved", by=actor.id, ref=item.ref, direction="up" if up else "down"
    )
    return True


@transactional
def move_theme(study: Study, theme: Theme, *, up: bool, actor: User) -> bool:
    """Swap `theme` with its neighbour; items follow their theme's order."""
    check_can_reorder(study.study_status, what="themes")
    themes = list(study.themes)
    index = themes.index(theme)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(themes):
        return False
    themes[index], themes[other] = themes[other], themes[index]
    for position, each in enumerate(themes):
        each.position = position
    db.session.flush()
    db.session.expire(study, ["themes"])
    _renumber(study, _ordered_items(study))
    audit.record(
        study.id, "theme.moved", by=actor.id, theme=theme.name, direction="up" if up else "down"
    )
    return True


def _partners_of(group: StakeholderGroup) -> list[Panellist]:
    return list(
        db.session.scalars(
            select(Panellist).where(
                Panellist.group_id == group.id, Panellist.role == PanelRole.PARTNER.value
            )
        )
    )


@transactional
def rename_group(study: Study, group: StakeholderGroup, name: str, *, actor: User) -> None:
    """Rename a group; its partners' pseudonyms ("CQC partner 2") take the new name, keeping
    their numbers, so panellists still recognise one another."""
    check_can_rename_group(study.study_status)
    name = name.strip()
    old = group.name
    if name == old:
        return
    taken = any(g.id != group.id and g.name.casefold() == name.casefold() for g in study.groups)
    if taken:
        raise DuplicateGroup(f"There is already a group called {name}")
    group.name = name
    for partner in _partners_of(group):
        number = partner.pseudonym.rsplit(" ", 1)[-1]
        if number.isdigit():
            partner.pseudonym = pseudonym(PanelRole.PARTNER, name, int(number))
    try:
        db.session.flush()
    except IntegrityError:
        raise DuplicateGroup(f"There is already a group called {name}") from None
    audit.record(study.id, "group.renamed", by=actor.id, old=old, name=name)


def group_members(group: StakeholderGroup) -> int:
    return (
        db.session.scalar(select(func.count(Panellist.id)).where(Panellist.group_id == group.id))
        or 0
    )


@transactional
def delete_group(study: Study, group: StakeholderGroup, *, actor: User) -> None:
    """Delete an empty group; the others close up their order."""
    check_can_delete_group(study.study_status, name=group.name, members=group_members(group))
    name = group.name
    db.session.execute(delete(StakeholderGroup).where(StakeholderGroup.id == group.id))
    db.session.expire(study, ["groups"])
    for position, each in enumerate(study.groups):
        each.position = position
    audit.record(study.id, "group.deleted", by=actor.id, name=name)


def _pseudonym_for(
    study: Study, panellist: Panellist, role: PanelRole, group: StakeholderGroup
) -> str:
    """The next free pseudonym of `role` (in `group` for partners), as inviting gives one."""
    others = select(Panellist.pseudonym).where(
        Panellist.study_id == study.id, Panellist.id != panellist.id
    )
    taken = set(db.session.scalars(others))
    same = others.where(Panellist.role == role.value)
    if role is PanelRole.PARTNER:
        same = same.where(Panellist.group_id == group.id)
    number = len(db.session.scalars(same).all()) + 1
    while pseudonym(role, group.name, number) in taken:
        number += 1
    return pseudonym(role, group.name, number)


@transactional
def change_panellist(
    study: Study,
    panellist: Panellist,
    *,
    group: StakeholderGroup,
    role: PanelRole,
    actor: User,
) -> None:
    """Move a panellist to another group or role before round 1; their pseudonym follows."""
    if group.id == panellist.group_id and role is panellist.panel_role:
        return
    check_can_change_panellist(
        study.study_status, name=panellist.name, round_opened=bool(study.rounds), removing=False
    )
    old_group, old_role = panellist.group.name, panellist.panel_role
    # A placeholder first: the new pseudonym is counted among the others of its role.
    panellist.pseudonym = f"moving-{panellist.id}"
    panellist.group_id, panellist.role = group.id, role.value
    db.session.flush()
    panellist.pseudonym = _pseudonym_for(study, panellist, role, group)
    db.session.expire(panellist, ["group"])
    audit.record(
        study.id,
        "panel.changed",
        by=actor.id,
        panellist=panellist.id,
        group=f"{old_group} \u2192 {group.name}" if old_group != group.name else group.name,
        role=f"{old_role.label} \u2192 {role.label}" if old_role is not role else role.label,
    )


def messages_by(panellist: Panellist) -> int:
    return (
        db.session.scalar(
            select(func.count(DiscussionMessage.id)).where(
                DiscussionMessage.author_panellist_id == panellist.id,
                DiscussionMessage.as_facilitator.is_(False),
            )
        )
        or 0
    )


@transactional
def remove_panellist(study: Study, panellist: Panellist, *, actor: User) -> None:
    """Remove a panellist before round 1: their invitations go; their account stays."""
    check_can_change_panellist(
        study.study_status,
        name=panellist.name,
        round_opened=bool(study.rounds),
        removing=True,
        messages=messages_by(panellist),
    )
    who, group = panellist.pseudonym, panellist.group.name
    db.session.execute(delete(Panellist).where(Panellist.id == panellist.id))
    db.session.expire(study, ["panellists"])
    # The name is not logged: the audit log may be exported; the pseudonym is enough.
    audit.record(study.id, "panel.removed", by=actor.id, pseudonym=who, group=group)
