"""Small helpers shared by forms."""

from __future__ import annotations

from wtforms import Field, Form


def field_errors(form: Form) -> list[tuple[str, str]]:
    """(field id, message) pairs for the NHS.UK error summary, in form order."""
    out = []
    for field in form:
        assert isinstance(field, Field)
        for message in field.errors:
            out.append((field.id, str(message)))
    return out
