"""The order a panellist sees a round's items in: the study's order, or a random order of
the items within each theme, fixed for that panellist (against order effects).

The random order is a function of the study, the panellist and the item only: the same in
every round and on every reload, different from one panellist to the next, and an item
added in a later round takes its place without moving the others. It comes from SHA-256
(not Python's `hash`, which changes with every process), so any server, and anyone
auditing the study, gets the same order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

# Part of every key: changing it would reshuffle every panellist's ballot of every study.
ORDER_DOMAIN = "delphi-item-order-v1"


def shuffle_key(study_id: int, panellist_id: int, item_id: int) -> bytes:
    """Where an item falls in a panellist's random order (compare keys to sort)."""
    text = f"{ORDER_DOMAIN}:{study_id}:{panellist_id}:{item_id}"
    return hashlib.sha256(text.encode("ascii")).digest()


def ballot_order(
    entries: Iterable[T],
    *,
    theme_position: Callable[[T], Any],
    item_position: Callable[[T], Any],
    item_id: Callable[[T], int],
    study_id: int,
    panellist_id: int | None,
    shuffle: bool,
) -> list[T]:
    """The entries in the order a panellist's ballot shows them.

    Themes always keep the study's order (``theme_position``), so a theme's items stay
    together. Within a theme: the study's order (``item_position``) unless ``shuffle`` is on
    and there is a panellist (facilitators' pages and previews keep the study's order), then
    the panellist's fixed random order (``shuffle_key``). ``item_id`` must be the item's,
    not its version's: a revised wording keeps its place.
    """
    if not shuffle or panellist_id is None:
        return sorted(entries, key=lambda e: (theme_position(e), item_position(e)))
    return sorted(
        entries,
        key=lambda e: (theme_position(e), shuffle_key(study_id, panellist_id, item_id(e))),
    )
