"""Forms for withdrawal and background questions."""

from __future__ import annotations

from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from app.forms_common import AppForm
from delphi.background import MAX_QUESTION
from delphi.withdrawal import AnswersChoice


class WithdrawForm(AppForm):
    answers = RadioField(
        "What should happen to the answers given so far?",
        choices=[(c.value, c.label) for c in AnswersChoice],
        validators=[InputRequired("Choose whether the answers so far stay or are removed")],
    )


class PresetsForm(AppForm):
    presets = SelectMultipleField("Questions to ask", choices=[])


class OwnQuestionForm(AppForm):
    text = StringField(
        "Your question",
        validators=[InputRequired("Enter the question"), Length(max=MAX_QUESTION)],
    )
    options = TextAreaField(
        "Options",
        description=("One a line, at least two. \u201cPrefer not to say\u201d is always offered."),
        validators=[InputRequired("Give at least two options, one a line")],
    )
    patients_only = BooleanField("Ask patient representatives only")
