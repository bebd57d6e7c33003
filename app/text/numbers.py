"""Figures for people: the one number formatter every page and every export uses.

One rounding rule, half away from zero (7.75 reads 7.8 and 8.25 reads 8.3), applied to the
decimal the reader sees, not to the binary float: Python's `round` and `format` round half
to even on the float's binary value, so 8.25 printed 8.2 beside 7.75 printed 7.8 and an
interquartile range "did not add up". Whole numbers print without decimals, a missing
figure as a dash.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

DASH = "\u2013"


def round_half_away(value: float | int, digits: int = 1) -> Decimal:
    """`value` rounded to `digits` decimals, halves away from zero (ROUND_HALF_UP in
    `decimal` rounds away from zero). The float's shortest repr is the decimal people
    meant: Decimal(repr(8.25)) is exactly 8.25."""
    exponent = Decimal(1).scaleb(-digits)
    return Decimal(repr(float(value))).quantize(exponent, rounding=ROUND_HALF_UP)


def num(value: Any, digits: int = 1) -> str:
    """A figure: at most `digits` decimals (trailing zeros dropped), None or "" as a dash,
    a bool as yes/no, text as it is."""
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return DASH
        try:
            rounded = round_half_away(value, digits)
        except InvalidOperation:
            return DASH
        text = f"{rounded:f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    return str(value)


def fixed(value: Any, digits: int = 3) -> str:
    """A figure always with `digits` decimals (Krippendorff's alpha: 0.570, not 0.57)."""
    if value is None or value == "" or isinstance(value, bool):
        return DASH
    try:
        return f"{round_half_away(float(value), digits):f}"
    except (InvalidOperation, ValueError, TypeError):
        return DASH


def pct(value: Any, digits: int = 1) -> str:
    """A percentage ("92%", "66.7%"); a missing one is a dash, never a bare "%"."""
    text = num(value, digits)
    return text if text == DASH else f"{text}%"


def p_value(value: Any) -> str:
    """A test's p-value: three decimals, or "< 0.001" (never 0.000)."""
    if value is None or value == "" or isinstance(value, bool):
        return DASH
    if float(value) < 0.001:
        return "< 0.001"
    return fixed(value, 3)


def signed_pct(value: Any, digits: int = 0) -> str:
    """A change in percent with its sign ("+5%", "-12%", "0%")."""
    text = pct(value, digits)
    return f"+{text}" if text != DASH and not text.startswith(("-", "0%")) else text


def span(low: Any, high: Any) -> str:
    """A range of two figures, "7.8\u20139": an interquartile range as its quartiles, so what
    is printed always adds up."""
    if low is None or high is None:
        return DASH
    return f"{num(low)}\u2013{num(high)}"
