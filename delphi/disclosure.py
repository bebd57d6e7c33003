"""What may be disclosed about a stakeholder group: the one anonymity rule for group figures.

No figure for a stakeholder group of fewer than `MIN_GROUP_RATERS` raters is shown to anyone,
anywhere: panellists, facilitators, pages, real-time mode, the API and every export. A median,
a percentage or an alpha from one or two people would reveal what they rated. The web layer
passes every group's figures through `disclose_group` (item figures) or `disclose_group_alpha`
(Krippendorff's alpha), or a whole round's results through `disclose_round_results`, and
renders what comes back; whole-panel figures are not affected.

A disclosed view keeps the keys it was given and adds two: ``withheld`` (bool) and ``note``
(`WITHHELD_NOTE` when withheld). When withheld, every figure, the count of raters included,
is None: people see "fewer than 3 ratings" instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

MIN_GROUP_RATERS: Final = 3
WITHHELD_NOTE: Final = f"fewer than {MIN_GROUP_RATERS} ratings"
WITHHELD_ALPHA_NOTE: Final = f"fewer than {MIN_GROUP_RATERS} raters"

# Not figures: kept in a withheld alpha so readers still know what was measured.
_ALPHA_KEPT = ("level",)


def group_figures_visible(n_raters: object) -> bool:
    """Whether figures drawn from `n_raters` people in one group may be shown to anyone.

    Anything that is not a whole number of at least `MIN_GROUP_RATERS` (None, a bool, a
    fraction, a string) is treated as too few: the rule fails closed.
    """
    if isinstance(n_raters, bool):
        return False
    if isinstance(n_raters, float) and n_raters.is_integer():
        n_raters = int(n_raters)
    return isinstance(n_raters, int) and n_raters >= MIN_GROUP_RATERS


def _disclose(
    figures: Mapping[str, Any], count_key: str, note: str, kept: tuple[str, ...] = ()
) -> dict[str, Any]:
    if figures.get("withheld") is not True and group_figures_visible(figures.get(count_key)):
        shown = dict(figures)
        shown["withheld"] = False
        shown.setdefault("note", None)
        return shown
    withheld: dict[str, Any] = {
        key: (value if key in kept else None)
        for key, value in figures.items()
        if key not in ("withheld", "note")
    }
    withheld[count_key] = None
    withheld["withheld"] = True
    withheld["note"] = note
    return withheld


def disclose_group(figures: Mapping[str, Any]) -> dict[str, Any]:
    """One group's figures for one item, as anyone may see them.

    ``n`` is the number of the group's ratings on the scale (one per rater), from which the
    median, IQR and percentages are drawn. Below `MIN_GROUP_RATERS` every figure is None and
    ``note`` is `WITHHELD_NOTE`. Applying it twice changes nothing.
    """
    return _disclose(figures, "n", WITHHELD_NOTE)


def disclose_group_alpha(alpha: Mapping[str, Any]) -> dict[str, Any]:
    """One group's Krippendorff's alpha (``n_raters`` panellists), as anyone may see it.

    Below `MIN_GROUP_RATERS` raters the value, interval and counts are None and ``note`` is
    `WITHHELD_ALPHA_NOTE` (the level of measurement is kept).
    """
    return _disclose(alpha, "n_raters", WITHHELD_ALPHA_NOTE, _ALPHA_KEPT)


def disclose_round_results(results: Mapping[str, Any]) -> dict[str, Any]:
    """A round's results (the snapshot shape: ``items`` by key, each with ``groups`` by name,
    and ``alpha_groups`` by name) with every group figure passed through this module.

    Everything else, whole-panel figures included, is returned as it was.
    """
    out = dict(results)
    items = results.get("items")
    if isinstance(items, Mapping):
        out["items"] = {key: disclose_item_groups(entry) for key, entry in items.items()}
    alpha_groups = results.get("alpha_groups")
    if isinstance(alpha_groups, Mapping):
        out["alpha_groups"] = {
            name: disclose_group_alpha(a or {}) for name, a in alpha_groups.items()
        }
    # Several criteria: each criterion's alpha per group, ``{criterion: {group: alpha}}``.
    by_criterion = results.get("alpha_criteria_groups")
    if isinstance(by_criterion, Mapping):
        out["alpha_criteria_groups"] = {
            criterion: {name: disclose_group_alpha(a or {}) for name, a in groups.items()}
            for criterion, groups in by_criterion.items()
            if isinstance(groups, Mapping)
        }
    return out


def disclose_item_groups(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One item's figures with its ``groups`` (by name) passed through `disclose_group`, and
    so each of its ``criteria`` (several criteria: one entry per criterion, same shape)."""
    out = dict(entry)
    groups = entry.get("groups")
    if isinstance(groups, Mapping):
        out["groups"] = {name: disclose_group(g or {}) for name, g in groups.items()}
    criteria = entry.get("criteria")
    if isinstance(criteria, list):
        out["criteria"] = [
            disclose_item_groups(c) if isinstance(c, Mapping) else c for c in criteria
        ]
    return out
