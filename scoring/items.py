"""Per-item and per-group figures and consensus status."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.errors import ScoringInputError
from scoring.percentiles import FloatArray, IntArray, percentile_centi
from scoring.ratings import single_criterion, single_round, validate_ratings
from scoring.rules import (
    CONSENSUS_IN,
    CONSENSUS_OUT,
    NO_CONSENSUS,
    NOT_RATED,
    ItemFigures,
    Rule,
    Status,
)
from scoring.scale import Scale

# RAND/UCLA manual (Fitch et al. 2001, ch. 8): IPRAS = IPRr + AI × CF with IPRr = 2.35 (the
# IPR needed for disagreement under perfect symmetry), AI = |5 − IPRCP|, CF = 1.5.
IPR_REQUIRED = 2.35
ASYMMETRY_FACTOR = 1.5
RAND_LOW, RAND_HIGH = 1, 9

FIGURE_COLUMNS = (
    "mean",
    "median",
    "q1",
    "q3",
    "iqr",
    "pct_bottom",
    "pct_middle",
    "pct_top",
    "ipr_low",
    "ipr_high",
    "ipr",
    "iprcp",
    "ipras",
    "di",
)
COLUMNS = (
    "n",
    "n_unable",
    "mean",
    "median",
    "q1",
    "q3",
    "iqr",
    "n_bottom",
    "n_middle",
    "n_top",
    "pct_bottom",
    "pct_middle",
    "pct_top",
    "counts",
    "ipr_low",
    "ipr_high",
    "ipr",
    "iprcp",
    "ipras",
    "di",
    "disagreement",
    "status",
)


def _codes(values: pd.Series, order: Sequence[Hashable]) -> npt.NDArray[np.intp]:
    """Position of each value in ``order`` (hash lookup, vectorised)."""
    return np.asarray(pd.Index(cast(Any, list(order))).get_indexer(cast(Any, values)))


def _count_matrix(
    codes: npt.NDArray[np.intp], k: int, ratings: pd.Series, scale: Scale
) -> tuple[IntArray, IntArray]:
    """Counts per (key code, scale point) and "unable to rate" counts per key code."""
    rated = ratings.notna().to_numpy()
    v = scale.n_points
    values = ratings.to_numpy(dtype=float)
    flat = codes[rated] * v + (values[rated] - scale.low).astype(np.int64)
    counts = np.bincount(flat, minlength=k * v).reshape(k, v).astype(np.int64)
    unable = np.bincount(codes[~rated], minlength=k).astype(np.int64)
    return counts, unable


def rand_disagreement(
    ipr_low: FloatArray, ipr_high: FloatArray, scale: Scale
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """IPR, IPRCP, IPRAS and DI from the 30th and 70th percentiles (arrays or scalars).

    IPR = P70 − P30, IPRCP = (P30 + P70) / 2, IPRAS = 2.35 + 1.5 × |5 − IPRCP|,
    DI = IPR / IPRAS (DI > 1: disagreement). The manual's constants are for a 1-9 scale. On
    another scale the IPR central point is mapped linearly onto 1-9 before the asymmetry
    index is taken and IPRAS is mapped back, so DI (a ratio) is the same as for the rescaled
    ratings; on 1-9 this is exactly the manual's formula.
    """
    low = np.asarray(ipr_low, dtype=float)
    high = np.asarray(ipr_high, dtype=float)
    stretch = (RAND_HIGH - RAND_LOW) / (scale.high - scale.low)
    ipr = high - low
    iprcp = (low + high) / 2
    iprcp_on_1_9 = RAND_LOW + (iprcp - scale.low) * stretch
    ipras = (IPR_REQUIRED + ASYMMETRY_FACTOR * np.abs(5.0 - iprcp_on_1_9)) / stretch
    return ipr, iprcp, ipras, ipr / ipras


def _figures(counts: IntArray, unable: IntArray, scale: Scale) -> dict[str, Any]:
    points = np.asarray(scale.points, dtype=np.int64)
    n = counts.sum(axis=1)
    safe_n = np.maximum(n, 1)
    bottom = points <= scale.bottom
    top = points >= scale.top
    n_bottom = counts[:, bottom].sum(axis=1)
    n_top = counts[:, top].sum(axis=1)
    n_middle = n - n_bottom - n_top
    centi = {pct: percentile_centi(counts, points, pct) for pct in (25, 30, 50, 70, 75)}
    # Differences of exact centi values, divided once: IPR and IQR carry no rounding noise.
    ipr = (centi[70] - centi[30]) / 100
    iprcp = (centi[30] + centi[70]) / 200
    _, _, ipras, _ = rand_disagreement(centi[30] / 100, centi[70] / 100, scale)
    return {
        "n": n,
        "n_unable": unable,
        "mean": (counts * points).sum(axis=1) / safe_n,
        "median": centi[50] / 100,
        "q1": centi[25] / 100,
        "q3": centi[75] / 100,
        "iqr": (centi[75] - centi[25]) / 100,
        "n_bottom": n_bottom,
        "n_middle": n_middle,
        "n_top": n_top,
        "pct_bottom": 100.0 * n_bottom / safe_n,
        "pct_middle": 100.0 * n_middle / safe_n,
        "pct_top": 100.0 * n_top / safe_n,
        "ipr_low": centi[30] / 100,
        "ipr_high": centi[70] / 100,
        "ipr": ipr,
        "iprcp": iprcp,
        "ipras": ipras,
        "di": ipr / ipras,
    }


def _table(
    counts: IntArray, unable: IntArray, index: pd.Index, scale: Scale, rule: Rule
) -> pd.DataFrame:
    fig = _figures(counts, unable, scale)
    n = fig["n"]
    statuses: list[Status] = []
    for i in range(len(n)):
        if n[i] == 0:
            statuses.append(NOT_RATED)
            continue
        item = ItemFigures(
            n=int(n[i]),
            n_bottom=int(fig["n_bottom"][i]),
            n_top=int(fig["n_top"][i]),
            median=float(fig["median"][i]),
            iqr=float(fig["iqr"][i]),
            di=float(fig["di"][i]),
        )
        statuses.append(rule.classify(item, scale))
    columns: dict[str, pd.Series] = {}
    for column in COLUMNS:
        if column == "status":
            values: list[Any] = list(statuses)
        elif column == "counts":
            values = [[int(c) for c in row] for row in counts]
        elif column == "disagreement":
            values = [bool(d > 1.0) if k > 0 else None for d, k in zip(fig["di"], n, strict=True)]
        elif column in FIGURE_COLUMNS:
            values = [float(x) if k > 0 else None for x, k in zip(fig[column], n, strict=True)]
        else:
            values = [int(x) for x in fig[column]]
        # Undefined figures (no ratings) are None, never NaN: object columns keep them so.
        dtype = "int64" if column in ("n", "n_unable", "n_bottom", "n_middle", "n_top") else object
        columns[column] = pd.Series(values, index=index, dtype=dtype)
    table = pd.DataFrame(columns, index=index)
    return table


def _item_order(df: pd.DataFrame) -> list[Hashable]:
    return list(pd.unique(df["item"]))


def item_summary(
    df: pd.DataFrame, scale: Scale, rule: Rule, require_all_groups: bool = False
) -> pd.DataFrame:
    """Figures and consensus status per item, for one round.

    Returns one row per item (index ``item``, in order of first appearance) with columns
    ``n`` (ratings on the scale), ``n_unable`` ("unable to rate", excluded from every
    denominator), ``mean``, ``median``, ``q1``, ``q3``, ``iqr`` (type-7 percentiles, see
    ``scoring.percentiles``), ``n_bottom``/``n_middle``/``n_top`` and ``pct_*`` (per cent of
    ``n``), ``counts`` (list of ints per scale point low..high), ``ipr_low``/``ipr_high`` (30th
    and 70th percentiles), ``ipr``, ``iprcp``, ``ipras``, ``di`` (RAND/UCLA, see
    ``rand_disagreement``), ``disagreement`` (DI > 1), ``status`` (``consensus_in``,
    ``consensus_out``, ``no_consensus`` or ``not_rated``) and ``groups_agree``.

    Edge cases: an item with n == 0 (only "unable to rate" answers) is ``not_rated`` and its
    figures are None; a single rating gives IQR 0 and DI 0; an empty table gives an empty frame
    with these columns. With ``require_all_groups`` an item keeps consensus in/out only if
    every stakeholder group in the round, on its own ratings, reaches the same status; a group
    that did not rate the item cannot confirm it, so the item falls to ``no_consensus``
    (``groups_agree`` says which happened; it is None when not required). Raises
    ScoringInputError for invalid ratings, several rounds, or ``require_all_groups`` without a
    ``group`` column.
    """
    clean = validate_ratings(df, scale)
    single_round(clean, "item_summary")
    single_criterion(clean, "item_summary")
    order = _item_order(clean)
    counts, unable = _count_matrix(_codes(clean["item"], order), len(order), clean["rating"], scale)
    table = _table(counts, unable, pd.Index(order, name="item"), scale, rule)
    table["groups_agree"] = pd.Series([None] * len(table), index=table.index, dtype=object)
    if not require_all_groups:
        return table
    if "group" not in clean.columns:
        raise ScoringInputError("require_all_groups needs a 'group' column in the ratings")
    per_group = _group_table(clean, order, scale, rule)
    for item in table.index:
        overall = table.at[item, "status"]
        if overall not in (CONSENSUS_IN, CONSENSUS_OUT):
            continue
        group_statuses = per_group.xs(item, level="item")["status"]
        agree = bool((group_statuses == overall).all())
        table.at[item, "groups_agree"] = agree
        if not agree:
            table.at[item, "status"] = NO_CONSENSUS
    return table


def _group_table(
    clean: pd.DataFrame, order: Sequence[Hashable], scale: Scale, rule: Rule
) -> pd.DataFrame:
    groups = sorted(clean["group"].unique())
    pairs = pd.MultiIndex.from_product([groups, list(order)], names=["group", "item"])
    codes = _codes(clean["group"], groups) * len(order) + _codes(clean["item"], order)
    counts, unable = _count_matrix(codes, len(pairs), clean["rating"], scale)
    return _table(counts, unable, pairs, scale, rule)


def group_summary(df: pd.DataFrame, scale: Scale, rule: Rule) -> pd.DataFrame:
    """The ``item_summary`` figures per stakeholder group, for one round.

    Index (group, item): every group × every item in the round (groups sorted, items in order
    of first appearance), so a group that did not rate an item has a ``not_rated`` row with
    None figures. Ratings with an empty group count under "(no group)". Raises
    ScoringInputError if there is no ``group`` column, plus the ``item_summary`` errors.
    """
    clean = validate_ratings(df, scale)
    single_round(clean, "group_summary")
    single_criterion(clean, "group_summary")
    if "group" not in clean.columns:
        raise ScoringInputError("group_summary needs a 'group' column in the ratings")
    return _group_table(clean, _item_order(clean), scale, rule)
