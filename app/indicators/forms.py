"""Forms for an indicator's test data."""

from __future__ import annotations

from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms_common import AppForm
from app.services.indicator_testing import PERIOD_MAX, SOURCE_MAX


class TestDataSettings(AppForm):
    period = StringField(
        "Period the data cover",
        description="For example “April 2024 to March 2025”.",
        validators=[DataRequired("Enter the period the data cover"), Length(max=PERIOD_MAX)],
    )
    source = TextAreaField(
        "Source of the data",
        description="Where the numbers come from, so readers can check them.",
        validators=[DataRequired("Enter the source of the data"), Length(max=SOURCE_MAX)],
    )
    direction = RadioField(
        "Which is better?",
        choices=[("higher", "A higher value is better"), ("lower", "A lower value is better")],
        default="higher",
        validators=[DataRequired("Choose whether a higher or a lower value is better")],
    )
    per = RadioField(
        "Show values",
        choices=[("100", "As a percentage"), ("1000", "Per 1,000")],
        default="100",
        validators=[DataRequired("Choose how values are shown")],
    )
    method = SelectField(
        "Allowing for trusts differing more than chance",
        choices=[
            ("additive", "Additive (random effects, recommended)"),
            ("multiplicative", "Multiplicative (scale the limits)"),
            ("none", "No adjustment"),
        ],
        default="additive",
    )


class TestDataUploadForm(TestDataSettings):
    file = FileField(
        "Upload the trust-level data",
        description=(
            "A CSV or Excel (.xlsx) file whose first row names the columns code, name, "
            "numerator, denominator and, if you have it, rating."
        ),
        validators=[
            FileRequired("Select a CSV or Excel file"),
            FileAllowed(["csv", "xlsx"], "The file must be a CSV or Excel (.xlsx) file"),
        ],
    )


class TestDataConfirmForm(TestDataSettings):
    rows = HiddenField(validators=[DataRequired("The preview was damaged: upload the file again")])
    filename = HiddenField(validators=[Length(max=255)])
