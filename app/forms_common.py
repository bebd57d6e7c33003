"""Small helpers shared by forms, and the base class every form of the app uses."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DecimalField, Field, Form, IntegerField, PasswordField, StringField
from wtforms.validators import Length, NumberRange, StopValidation

from app.inputs import clean_filter
from app.security import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PASSWORD_TOO_SHORT


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


class _OneNumberMessage:
    """A number field that says one thing when what was typed is not a number.

    WTForms reports "Not a valid decimal value" and then, as the value is missing, the range
    validator's message too: two messages, one of them jargon. Here the field's own range
    message ("Enter a number from 0 to 8") is the only one, and the page shows what was typed
    (`_value()` gives the raw text back) so it can be corrected rather than retyped.
    """

    validators: tuple[Any, ...]
    process_errors: list[Any]
    errors: list[Any]

    def pre_validate(self, form: Form) -> None:
        if self.process_errors:
            self.errors = []
            ranges = [v for v in self.validators if isinstance(v, NumberRange) and v.message]
            raise StopValidation(ranges[0].message if ranges else "Enter a number")


class NumberField(_OneNumberMessage, DecimalField):
    """A decimal number such as 70 or 2.5, with one message for text that is not one."""


class WholeNumberField(_OneNumberMessage, IntegerField):
    """A whole number, with one message for text that is not one."""


def new_password_rules() -> list[Length]:
    """The one rule for a password someone chooses (joining a panel, the account page); the
    numbers live in app/security.py, which the command line uses too."""
    return [
        Length(min=PASSWORD_MIN_LENGTH, message=PASSWORD_TOO_SHORT),
        Length(
            max=PASSWORD_MAX_LENGTH,
            message=f"Your password must be {PASSWORD_MAX_LENGTH} characters or fewer",
        ),
    ]


def field_errors(form: Form) -> list[tuple[str, str]]:
    """(field id, message) pairs for the NHS.UK error summary, in form order."""
    out = []
    for field in form:
        assert isinstance(field, Field)
        for message in field.errors:
            out.append((field.id, str(message)))
    return out
