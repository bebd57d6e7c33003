"""Reading ratings from CSV or XLSX, in long or wide form, with row-naming errors."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from scoring.errors import ScoringInputError
from scoring.ratings import OPTIONAL, REQUIRED, validate_ratings
from scoring.scale import Scale

Form = Literal["long", "wide"]
UNABLE_WORDS = frozenset({"unable", "unable to rate", "utr", "u"})
FIRST_DATA_ROW = 2  # spreadsheet numbering: row 1 is the header


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise ScoringInputError(f"file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            # Everything as text: numbers are checked by validate_ratings, which names rows.
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        elif suffix in (".xlsx", ".xlsm"):
            raw = pd.read_excel(path, dtype=object, engine="openpyxl")
        else:
            raise ScoringInputError(f"{path}: unsupported file type {suffix!r} (use .csv or .xlsx)")
    except ScoringInputError:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as exc:  # parser errors are ValueErrors
        raise ScoringInputError(f"{path}: cannot read the file ({exc})") from exc
    if raw.columns.empty:
        raise ScoringInputError(f"{path}: the file has no header row")
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    duplicated = raw.columns[raw.columns.duplicated()]
    if len(duplicated):
        raise ScoringInputError(f"{path}: column {duplicated[0]!r} appears twice in the header")
    if "score" in raw.columns and "item" in raw.columns:
        # A long file may call the value "score" (the same as "rating"); in a wide file,
        # which has no item column, "score" stays an item name.
        if "rating" in raw.columns:
            raise ScoringInputError(
                f"{path}: the header has both 'rating' and 'score'; keep one (they mean the same)"
            )
        raw = raw.rename(columns={"score": "rating"})
    raw.index = pd.RangeIndex(FIRST_DATA_ROW, FIRST_DATA_ROW + len(raw))
    return raw


def _blank(series: pd.Series) -> pd.Series:
    text = series.astype(object)
    return text.isna() | text.map(lambda v: isinstance(v, str) and not v.strip())


def _unable(series: pd.Series) -> pd.Series:
    return series.astype(object).map(
        lambda v: isinstance(v, str) and v.strip().lower() in UNABLE_WORDS
    )


def detect_form(columns: list[str]) -> Form:
    """``long`` if the header has panellist, item and rating; ``wide`` if it starts with
    panellist; otherwise ScoringInputError."""
    if set(REQUIRED) <= set(columns):
        return "long"
    if columns and columns[0] == "panellist":
        return "wide"
    raise ScoringInputError(
        "cannot tell the form of the file: expected a header panellist,item,rating[,group]"
        "[,round][,criterion] (long) or panellist followed by one column per item (wide); found "
        + ",".join(columns)
    )


def _long(raw: pd.DataFrame) -> pd.DataFrame:
    unknown = [c for c in raw.columns if c not in (*REQUIRED, *OPTIONAL)]
    if unknown:
        raise ScoringInputError(
            f"unknown column {unknown[0]!r}: the long form has columns "
            "panellist, item, rating[, group][, round][, criterion]"
        )
    if "rating" in raw.columns:
        # In the long form a row is an answer, so a blank or "unable" rating is "unable to rate".
        missing = _blank(raw["rating"]) | _unable(raw["rating"])
        raw = raw.assign(rating=raw["rating"].astype(object).where(~missing, np.nan))
    return raw


def _wide(raw: pd.DataFrame) -> pd.DataFrame:
    if not len(raw.columns) or raw.columns[0] != "panellist":
        raise ScoringInputError("the wide form needs 'panellist' as the first column")
    ids = [c for c in raw.columns if c in ("panellist", *OPTIONAL)]
    items = [c for c in raw.columns if c not in ids]
    if not items:
        raise ScoringInputError("the wide form needs at least one item column after panellist")
    raw = raw.rename_axis("file_row").reset_index()
    long = raw.melt(
        id_vars=["file_row", *ids], value_vars=items, var_name="item", value_name="rating"
    )
    # In the wide form an empty cell is "did not answer": no row. "unable" means unable to rate.
    long = long.loc[~_blank(long["rating"])]
    long["rating"] = long["rating"].astype(object).where(~_unable(long["rating"]), np.nan)
    long.index = pd.Index(
        [f"{r} (column {i!r})" for r, i in zip(long["file_row"], long["item"], strict=True)]
    )
    return long.drop(columns="file_row")


def load_ratings(
    path: str | Path, form: Form | None = None, scale: Scale | None = None
) -> pd.DataFrame:
    """Read ratings from a CSV or XLSX file and return the validated long table.

    Long form: header ``panellist,item,rating[,group][,round][,criterion]`` (``score`` may
    stand for ``rating``), one row per answer (per criterion, with a criterion column); a blank
    rating or the word "unable" (also "unable to rate", "UTR", "U") means unable to rate.
    Wide form: first column ``panellist`` (optional ``group`` and ``round`` columns by name),
    then one column per item; an empty cell means the panellist did not answer, "unable" means
    unable to rate. The form is detected from the header unless ``form`` forces it.

    The returned DataFrame is indexed by the file's row number (row 1 = header). Raises
    ScoringInputError naming the problem and the row for a missing or unreadable file, an
    unknown or missing column, text where a number belongs, or a value off the scale.
    """
    scale = scale or Scale()
    raw = _read(Path(path))
    chosen = form or detect_form(list(raw.columns))
    if chosen not in ("long", "wide"):
        raise ScoringInputError(f"unknown form {chosen!r}: use long or wide")
    table = _long(raw) if chosen == "long" else _wide(raw)
    for column in ("panellist", "item", "group", "criterion"):
        if column in table.columns:
            table[column] = (
                table[column].astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
            )
    return validate_ratings(table, scale)
