"""Small helpers shared by forms, and the base class every form of the app uses."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, Form, PasswordField, StringField

from app.inputs import clean_filter


class AppForm(FlaskForm):
    """A Flask-WTF form whose text fields drop control characters as they are read.

    Every field built on StringField (text, text areas, email, hidden) runs
    `app.inputs.clean_text` before its own filters and validators, so NUL, escape sequences
    and C1 controls never reach the database or a page. Passwords are left exactly as typed.
    """

    class Meta(FlaskForm.Meta):
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            field_class = unbound_field.field_class
            if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
                own = tuple(unbound_field.kwargs.get("filters", ()))
                options = {**options, "filters": (clean_filter, *own)}
            return super().bind_field(form, unbound_field, options)


def field_errors(form: Form) -> list[tuple[str, str]]:
    """(field id, message) pairs for the NHS.UK error summary, in form order."""
    out = []
    for field in form:
        assert isinstance(field, Field)
        for message in field.errors:
            out.append((field.id, str(message)))
    return out
