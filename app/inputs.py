"""What people send, made safe once: text without control characters, integers and path
segments bounded to what the databases hold.

- `clean_text` strips control characters (C0 except tab and newline, DEL, C1) from free
  text; every form's text fields run it as a filter (`app.forms_common.AppForm`), and views
  that read a free-text field straight from the request use `form_text`.
- `parse_int` / `int_arg` read an integer from a query or form value: anything that is not
  a whole number from 0 to `MAX_INT` is None, never an exception or a database overflow.
- `install_converters` makes `<int:...>` URL parts refuse numbers above `MAX_INT` and plain
  `<...>` parts refuse control characters and very long segments: such URLs are 404s.
"""

from __future__ import annotations

import re

from flask import Flask, request
from werkzeug.routing import BaseConverter, IntegerConverter, Map

# The largest id both SQLite and PostgreSQL's INTEGER columns hold.
MAX_INT = 2**31 - 1
# The longest path segment a route takes (slugs, item refs, tokens, formats).
MAX_SEGMENT = 200

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_DIGITS = re.compile(r"[0-9]{1,10}")


def clean_text(value: str) -> str:
    """`value` with line breaks as \\n and no control characters other than tab and newline.

    NUL, escape sequences, DEL and C1 controls never reach the database or a page.
    """
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def clean_filter(value: object) -> object:
    """The WTForms filter form of `clean_text` (fields hold None until given data)."""
    return clean_text(value) if isinstance(value, str) else value


def form_text(name: str, default: str = "") -> str:
    """A free-text field read straight from the submitted form, cleaned."""
    return clean_text(request.form.get(name, default))


def parse_int(value: str | None) -> int | None:
    """A whole number from 0 to MAX_INT written in ASCII digits, else None."""
    if value is None:
        return None
    value = value.strip()
    if not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_INT else None


def int_arg(name: str, *, form: bool = False) -> int | None:
    """A query-string (or, with form=True, form) integer; None when absent or not valid."""
    source = request.form if form else request.args
    return parse_int(source.get(name))


class BoundedIntConverter(IntegerConverter):
    """`<int:...>`: ASCII digits up to MAX_INT (a bigger number is no page, not a crash)."""

    regex = r"[0-9]{1,10}"

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_INT,
        signed: bool = False,
    ) -> None:
        bound = MAX_INT if max is None or max > MAX_INT else max
        super().__init__(map, fixed_digits, min, bound, signed)


class SegmentConverter(BaseConverter):
    """`<name>`: one path segment of at most MAX_SEGMENT characters, no control characters."""

    regex = rf"[^/\x00-\x1f\x7f-\x9f]{{1,{MAX_SEGMENT}}}"
    part_isolating = True  # one segment, though the regex mentions "/"


def install_converters(app: Flask) -> None:
    """Before any blueprint is registered: rules bind their converters when added."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_map.converters["default"] = SegmentConverter
    app.url_map.converters["string"] = SegmentConverter
