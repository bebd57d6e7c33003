"""Validation of the long ratings table every public function accepts.

Columns: ``panellist``, ``item``, ``rating`` (a scale point, or NaN/None for "unable to rate"),
optional ``group``, ``round`` and ``criterion`` (what the rating judges, e.g. "importance").
An absent row means the panellist did not answer the item.
Errors name the row by the DataFrame index label (``load_ratings`` sets it to the file's row
number, so the message points at the spreadsheet row).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from scoring.errors import ScoringInputError
from scoring.scale import Scale

REQUIRED = ("panellist", "item", "rating")
OPTIONAL = ("group", "round", "criterion")
NO_GROUP = "(no group)"


def _row(label: Hashable) -> str:
    return f"row {label}"


def _first(mask: pd.Series) -> Any:
    """Index label of the first True in ``mask`` (the row an error message names)."""
    return mask.idxmax()


def _is_blank(value: object) -> bool:
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    return isinstance(value, float) and value != value  # NaN is the only float unequal to itself


def _blank(series: pd.Series) -> pd.Series:
    """Missing or whitespace-only cells; checks each distinct value once (tables are long)."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.isna()
    blanks = [v for v in pd.unique(series) if _is_blank(v)]
    return series.isna() | series.isin(blanks)


def _numeric_ratings(raw: pd.Series) -> pd.Series:
    """Ratings as float, NaN for blank; raise naming the first value that is not a number."""
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype(float)
    as_object = raw.astype(object)
    blank = _blank(as_object)
    converted = pd.to_numeric(as_object.where(~blank, np.nan), errors="coerce")
    bad = converted.isna() & ~blank
    if bad.any():
        label = _first(bad)
        raise ScoringInputError(f"{_row(label)}: rating {raw.loc[label]!r} is not a number")
    return converted.astype(float)


def _is_id(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _check_criteria(column: pd.Series) -> pd.Series:
    """Criteria are names (text) or whole-number ids, one kind per table; return the column
    with names trimmed and ids as Python ints, or raise naming the row.

    Refused: an empty cell; a fraction, yes/no value or anything else; names mixed with
    numbers (a number typed into a column of names is more likely a rating in the wrong
    column than a criterion, and "2" and 2 must never be two criteria).
    """
    values = column.astype(object)
    missing = values.isna()
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "integer", "empty"):
        # The usual table: one kind of value, checked in C; the few distinct names once.
        text = ~missing if kind == "string" else pd.Series(False, index=values.index)
        ids = ~missing if kind == "integer" else pd.Series(False, index=values.index)
        blanks = [v for v in pd.unique(values[text]) if not v.strip()] if kind == "string" else []
        empty = missing | values.isin(blanks)
    else:
        # Mixed or odd values (the error path): one isinstance per cell, which also copes
        # with an unhashable cell (a list) and keeps 1, 1.0 and True apart.
        text = values.map(lambda v: isinstance(v, str))
        ids = values.map(_is_id)
        empty = missing | (text & values.map(lambda v: isinstance(v, str) and not v.strip()))
    if empty.any():
        raise ScoringInputError(
            f"{_row(_first(empty))}: criterion is empty (with a criterion column every row "
            "names the criterion its rating judges)"
        )
    bad = ~(text | ids)
    if bad.any():
        label = _first(bad)
        value = values[bad.to_numpy()].iloc[0]
        if isinstance(value, bool | np.bool_):
            kind = "a yes/no value"
        elif isinstance(value, float | np.floating):
            kind = "a number with a fraction"
        else:
            kind = f"of type {type(value).__name__}"
        raise ScoringInputError(
            f"{_row(label)}: criterion {value!r} is {kind}; a criterion is a name (text such "
            "as 'importance') or a whole-number id"
        )
    if text.any() and ids.any():
        # The row where the kind first changes is the one that breaks the pattern.
        odd = ids if bool(text.iloc[0]) else text
        label = _first(odd)
        value = values[odd.to_numpy()].iloc[0]
        first = values.iloc[0]
        raise ScoringInputError(
            f"{_row(label)}: criterion {value!r} mixes "
            + ("a number with names" if bool(text.iloc[0]) else "a name with numbers")
            + f" (the first row has {first!r}); a criterion column holds names or ids, not both"
        )
    if text.any():
        names = {v: v.strip() for v in pd.unique(values)}
        return values.map(names)
    return values.map({v: int(v) for v in pd.unique(values)})


def validate_ratings(df: pd.DataFrame, scale: Scale) -> pd.DataFrame:
    """Check a long ratings table and return a clean copy.

    The copy has float ``rating`` (NaN = unable to rate), ``group`` filled with "(no group)"
    where empty (only if the column exists) and integer ``round`` (only if it exists).

    With a ``criterion`` column a panellist may rate an item once per criterion; the
    criterion is kept (names trimmed) and must be a non-empty name or a whole-number id
    (the same kind throughout).

    Raises ScoringInputError naming the row for: a missing column, an empty panellist or item,
    an empty criterion, one that is neither a name nor an id, or a mix of both, a rating that
    is not a number, a rating off the scale or between scale points, a round that is not a
    whole number, a panellist rating the same item twice in a round (on the same criterion),
    or a panellist listed in two groups.
    """
    if not isinstance(df, pd.DataFrame):
        raise ScoringInputError("ratings must be a pandas DataFrame")
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        found = ", ".join(str(c) for c in df.columns) or "none"
        raise ScoringInputError(
            f"missing column {missing[0]!r} (columns found: {found}); "
            "expected panellist, item, rating[, group][, round]"
        )
    out = df.loc[:, [c for c in (*REQUIRED, *OPTIONAL) if c in df.columns]].copy()
    for column in ("panellist", "item"):
        empty = _blank(out[column])
        if empty.any():
            raise ScoringInputError(f"{_row(_first(empty))}: {column} is empty")
    out["rating"] = _numeric_ratings(out["rating"])
    rated = out["rating"].notna()
    values = out.loc[rated, "rating"]
    off = (values < scale.low) | (values > scale.high)
    if off.any():
        label = _first(off)
        raise ScoringInputError(
            f"{_row(label)}: rating {values.loc[label]:g} is outside the scale "
            f"{scale.low}-{scale.high}"
        )
    between = values != np.round(values)
    if between.any():
        label = _first(between)
        raise ScoringInputError(
            f"{_row(label)}: rating {values.loc[label]:g} is not a point on the scale "
            f"{scale.low}-{scale.high} (whole numbers only)"
        )
    keys = ["panellist", "item"]
    if "criterion" in out.columns:
        out["criterion"] = _check_criteria(out["criterion"])
        keys.append("criterion")
    if "round" in out.columns:
        rounds = pd.to_numeric(out["round"].astype(object), errors="coerce")
        bad_round = rounds.isna() | (rounds != np.round(rounds))
        if bad_round.any():
            label = _first(bad_round)
            raise ScoringInputError(
                f"{_row(label)}: round {out.loc[label, 'round']!r} is not a whole number"
            )
        out["round"] = rounds.astype(int)
        keys.append("round")
    duplicated = out.duplicated(subset=keys, keep="first")
    if duplicated.any():
        label = _first(duplicated)
        raise ScoringInputError(
            f"{_row(label)}: panellist {out.loc[label, 'panellist']!r} rated item "
            f"{out.loc[label, 'item']!r} more than once"
            + (
                f" on criterion {out.loc[label, 'criterion']!r}"
                if "criterion" in out.columns
                else ""
            )
            + (" in the same round" if "round" in out.columns else "")
        )
    if "group" in out.columns:
        empty_group = _blank(out["group"])
        out["group"] = out["group"].astype(object).where(~empty_group, NO_GROUP).astype(str)
        per_panellist = out.groupby("panellist", sort=False)["group"].nunique()
        if (per_panellist > 1).any():
            who = _first(per_panellist)
            label = out.index[(out["panellist"] == who).to_numpy()][-1]
            raise ScoringInputError(
                f"{_row(label)}: panellist {who!r} appears in more than one group"
            )
    return out


def single_round(df: pd.DataFrame, what: str) -> None:
    """Raise unless the table holds at most one round (per-round figures must not mix rounds)."""
    if "round" in df.columns and df["round"].nunique() > 1:
        raise ScoringInputError(
            f"{what} needs the ratings of one round; the table holds rounds "
            f"{sorted(int(r) for r in df['round'].unique())} (filter it first)"
        )


def single_criterion(df: pd.DataFrame, what: str) -> None:
    """Raise unless the table holds at most one criterion: alpha, consensus and stability
    computed over ratings of different criteria would mix unlike judgements."""
    if "criterion" in df.columns and df["criterion"].nunique() > 1:
        names = ", ".join(repr(c) for c in pd.unique(df["criterion"]))
        raise ScoringInputError(
            f"{what} needs the ratings of one criterion; the table holds criteria {names} "
            "(use the per-criterion functions in scoring.criteria, or filter it first)"
        )
