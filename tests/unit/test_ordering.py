"""A panellist's item order (delphi.ordering): fixed per panellist, themes kept together,
different between panellists, roughly uniform, independent of Python's hash seed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from scipy import stats

from delphi.ordering import ballot_order, shuffle_key

# (theme position, item position, item id): two themes, the second listed first on purpose.
ITEMS = [(1, k, 100 + k) for k in range(6)] + [(0, k, 200 + k) for k in range(5)]


def order(panellist_id: int | None, shuffle: bool = True, items=ITEMS, study_id: int = 7):
    return ballot_order(
        items,
        theme_position=lambda e: e[0],
        item_position=lambda e: e[1],
        item_id=lambda e: e[2],
        study_id=study_id,
        panellist_id=panellist_id,
        shuffle=shuffle,
    )


def test_the_key_is_the_documented_sha256():
    expected = hashlib.sha256(b"delphi-item-order-v1:7:3:101").digest()
    assert shuffle_key(7, 3, 101) == expected


def test_off_or_without_a_panellist_the_order_is_the_study_order():
    study_order = sorted(ITEMS)
    assert order(3, shuffle=False) == study_order
    assert order(None, shuffle=True) == study_order


def test_each_panellist_gets_a_permutation_with_themes_kept_together_in_study_order():
    for panellist in range(1, 30):
        shown = order(panellist)
        assert sorted(shown) == sorted(ITEMS)
        assert [e[0] for e in shown] == [0] * 5 + [1] * 6


def test_the_order_is_the_same_on_every_call_and_differs_between_panellists():
    assert order(3) == order(3) == order(3, items=list(reversed(ITEMS)))
    orders = {tuple(order(p)) for p in range(1, 21)}
    # 5! × 6! orders: twenty panellists sharing fewer than 18 would be a broken shuffle.
    assert len(orders) >= 18
    # The study is part of the key: the same panellist id in another study is reshuffled.
    assert any(order(p) != order(p, study_id=8) for p in range(1, 6))


def test_an_item_added_later_leaves_the_others_in_their_order():
    before = order(5)
    after = order(5, items=[*ITEMS, (1, 6, 106)])
    assert [e for e in after if e[2] != 106] == before


def test_every_position_is_about_equally_likely():
    # 4 items in one theme, 2,400 panellists: where item 0 lands, chi-square against uniform.
    items = [(0, k, k) for k in range(4)]
    landed = Counter([e[2] for e in order(p, items=items)].index(0) for p in range(1, 2401))
    assert stats.chisquare([landed[k] for k in range(4)]).pvalue > 0.001


def test_the_order_does_not_depend_on_pythons_hash_seed():
    code = (
        "from delphi.ordering import ballot_order\n"
        "items = [(0, k, 300 + k) for k in range(8)]\n"
        "print([e[2] for e in ballot_order(items, theme_position=lambda e: e[0], "
        "item_position=lambda e: e[1], item_id=lambda e: e[2], study_id=1, panellist_id=2, "
        "shuffle=True)])\n"
    )
    root = Path(__file__).resolve().parents[2]
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(runs) == 1
    items = [(0, k, 300 + k) for k in range(8)]
    assert runs.pop().strip() == str([e[2] for e in order(2, items=items, study_id=1)])
