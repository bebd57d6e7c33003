"""Discussion forms. CSRFProtect guards every POST, so the forms carry no token of their own
(several live on one page, and htmx sends the token in a header)."""

from __future__ import annotations

from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.forms_common import AppForm
from delphi.discussion import MAX_LENGTH, Category

CATEGORY_CHOICES = [("", "No category")] + [(c.value, c.label) for c in Category]
TOO_LONG = f"Your message must be {MAX_LENGTH:,} characters or fewer"


class _Form(AppForm):
    class Meta:
        csrf = False


class MessageForm(_Form):
    body = TextAreaField(
        "Your message",
        validators=[DataRequired("Enter a message"), Length(max=MAX_LENGTH, message=TOO_LONG)],
    )
    category = SelectField("Topic (optional)", choices=CATEGORY_CHOICES, validate_choice=False)
    parent_id = HiddenField(validators=[Optional(), Regexp(r"^\d{1,12}$")])
    next = HiddenField()


class EditForm(_Form):
    body = TextAreaField(
        "Your message",
        validators=[DataRequired("Enter a message"), Length(max=MAX_LENGTH, message=TOO_LONG)],
    )
    category = SelectField("Topic (optional)", choices=CATEGORY_CHOICES, validate_choice=False)


class HideForm(_Form):
    reason = TextAreaField(
        "Why are you hiding this message?",
        description="The author and the facilitators see this reason; it is kept in the audit log.",
        validators=[
            DataRequired("Enter a reason for hiding the message"),
            Length(max=500, message="The reason must be 500 characters or fewer"),
        ],
    )


class SummaryForm(_Form):
    summary = TextAreaField(
        "Summary of the discussion",
        description=(
            "Pinned to the item and shown to panellists with the next round's feedback. "
            "Leave empty to remove it."
        ),
        validators=[
            Length(
                max=MAX_LENGTH, message=f"The summary must be {MAX_LENGTH:,} characters or fewer"
            )
        ],
    )
