"""Cells of the spreadsheets the app hands out (CSV and XLSX): the one guard against
formula injection, used by the data export, the audit log and discussion exports."""

from __future__ import annotations

from typing import TypeVar

# A spreadsheet runs a cell that starts with one of these as a formula (a tab or carriage
# return can hide one); a leading single quote makes it show the text instead.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

T = TypeVar("T")


def neutralise_formula(value: T) -> T | str:
    """Text that a spreadsheet would run as a formula, with a leading single quote; anything
    else (numbers included, a negative median say) unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
