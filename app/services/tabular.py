"""Reading uploaded CSV/XLSX tables into rows of text, with line numbers for error reports."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from openpyxl import load_workbook

from app.inputs import clean_text

MAX_ROWS = 5000


class TableError(Exception):
    """The file as a whole cannot be read (wrong type, encoding, columns)."""


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
    if name.endswith(".xlsx"):
        rows = _xlsx_rows(data)
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
    for offset, row in enumerate(body, start=2):
        if not any(cell.strip() for cell in row):
            continue
        padded = list(row) + [""] * (len(header) - len(row))
        out.append((offset, {h: clean_text(padded[i]).strip() for i, h in enumerate(header) if h}))
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


def _xlsx_rows(data: bytes) -> list[list[str]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise TableError("The Excel file could not be opened. Is it a valid .xlsx file?") from error
    sheet = book.worksheets[0]
    rows: list[list[str]] = []
    for row in sheet.iter_rows(values_only=True):
        rows.append(["" if v is None else str(v) for v in row])
        if len(rows) > MAX_ROWS + 1:
            break
    book.close()
    return rows
