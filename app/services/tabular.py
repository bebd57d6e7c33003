"""Reading uploaded CSV/XLSX tables into rows of text, with line numbers for error reports."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from app.inputs import clean_text

MAX_ROWS = 5000


class TableError(Exception):
    """The file cannot be read (wrong type, encoding, columns), with one line per reason."""

    def __init__(self, *lines: str) -> None:
        super().__init__(" ".join(lines))
        self.lines = list(lines)


@dataclass
class ImportReport:
    """What an import did, or line by line why it did nothing."""

    errors: list[str] = field(default_factory=list)
    created: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def read_table(filename: str, data: bytes, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows as (line number, {column: stripped text}); header names are case-insensitive."""
    name = filename.lower()
    formulas: dict[tuple[int, int], str] = {}
    if name.endswith(".xlsx"):
        rows, formulas = _xlsx_rows(data)
    elif name.endswith(".csv") or name.endswith(".txt"):
        rows = _csv_rows(data)
    else:
        raise TableError("The file must be a CSV (.csv) or Excel (.xlsx) file.")
    if not rows:
        raise TableError("The file is empty.")
    header = [clean_text(h).strip().lower() for h in rows[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise TableError(
            "The first row must name the columns "
            + ", ".join(required)
            + f". Missing: {', '.join(missing)}."
        )
    body = rows[1:]
    if len(body) > MAX_ROWS:
        raise TableError(f"The file has {len(body)} rows; the most one upload takes is {MAX_ROWS}.")
    out = []
    unreadable = []
    for offset, row in enumerate(body, start=2):
        named = [
            f"the {h} cell ({get_column_letter(i + 1)}{offset})"
            for i, h in enumerate(header)
            if h and (offset, i) in formulas
        ]
        if named:
            unreadable.append(
                f"Row {offset}: {' and '.join(named)} "
                f"{'holds a formula' if len(named) == 1 else 'hold formulas'} with no saved "
                "value. Open the file in Excel and save it again, or type the text in place "
                "of the formula."
            )
        if not any(cell.strip() for cell in row):
            continue
        padded = list(row) + [""] * (len(header) - len(row))
        out.append((offset, {h: clean_text(padded[i]).strip() for i, h in enumerate(header) if h}))
    if unreadable:
        raise TableError(*unreadable)
    if not out:
        raise TableError("The file has a header row but no data rows.")
    return out


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TableError(
            "The file is not UTF-8 text. In Excel, use 'Save as' and choose 'CSV UTF-8'."
        ) from error
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise TableError(f"The CSV file could not be read: {error}.") from error


def _xlsx_rows(data: bytes) -> tuple[list[list[str]], dict[tuple[int, int], str]]:
    """The first sheet's cells as text, reading each formula's value as Excel last saved it,
    and the formulas that have no saved value (a file written by a program, not by Excel),
    by (line, column index), so that they are reported as formulas rather than as empty."""
    try:
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise TableError("The Excel file could not be opened. Is it a valid .xlsx file?") from error
    rows: list[list[str]] = []
    unsaved: dict[tuple[int, int], str] = {}
    pairs = zip(
        values.worksheets[0].iter_rows(values_only=True),
        formulas.worksheets[0].iter_rows(values_only=True),
        strict=False,
    )
    for line, (row, source) in enumerate(pairs, start=1):
        rows.append(["" if v is None else str(v) for v in row])
        for column, (value, formula) in enumerate(zip(row, source, strict=False)):
            if value is None and isinstance(formula, str) and formula.startswith("="):
                unsaved[(line, column)] = formula
        if len(rows) > MAX_ROWS + 1:
            break
    values.close()
    formulas.close()
    return rows, unsaved
