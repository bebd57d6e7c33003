from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.forms_common import AppForm
from delphi import ItemKind


class ReviseForm(AppForm):
    """Every field an item presents, its type and theme (`delphi.items`): what panellists
    rate is what the specification presents, so each of them can be revised."""

    kind = RadioField(
        "Type of item",
        choices=[(kind.value, kind.label) for kind in ItemKind],
        validators=[DataRequired("Choose prompt or indicator")],
    )
    theme = StringField("Theme", validators=[DataRequired("Enter the theme"), Length(max=200)])
    text = TextAreaField(
        "Wording", validators=[DataRequired("Enter the wording of the item"), Length(max=2000)]
    )
    notes = TextAreaField(
        "Notes for inspectors",
        description="Guidance on using the prompt or indicator: what to look for, evidence.",
        validators=[Length(max=2000)],
    )
    definition = TextAreaField("Definition", validators=[Length(max=2000)])
    numerator = TextAreaField("Numerator", validators=[Length(max=2000)])
    denominator = TextAreaField("Denominator", validators=[Length(max=2000)])
    data_source = TextAreaField("Data source", validators=[Length(max=2000)])
    reporting_frequency = TextAreaField(
        "Reporting frequency",
        description="For example: quarterly, annually.",
        validators=[Length(max=2000)],
    )
    threshold = TextAreaField(
        "Threshold between \u201cgood\u201d and \u201cneeds improvement\u201d",
        validators=[Length(max=2000)],
    )
    rationale = TextAreaField("Rationale", validators=[Length(max=2000)])
    change_note = TextAreaField(
        "What changed and why",
        description="Shown to panellists next to the highlighted changes.",
        validators=[DataRequired("Say what changed and why"), Length(max=2000)],
    )

    def validate_definition(self, field: TextAreaField) -> None:
        if self.kind.data == ItemKind.INDICATOR and not (field.data or "").strip():
            raise ValidationError("Enter the indicator's definition")


class CompleteForm(AppForm):
    reason = TextAreaField(
        "Why the study stops",
        validators=[DataRequired("Give the reason the study stops"), Length(max=2000)],
    )


class ReopenStudyForm(AppForm):
    reason = TextAreaField(
        "Why the study reopens",
        description=("Kept in the audit log, and stated in the specification's method section."),
        validators=[DataRequired("Give the reason for reopening the study"), Length(max=2000)],
    )


class ProposalForm(AppForm):
    kind = RadioField(
        "What are you proposing?",
        choices=[(kind.value, f"A new {kind.value}") for kind in ItemKind]
        + [("rewording", "New wording for an existing item")],
        default=ItemKind.PROMPT.value,
        validators=[InputRequired("Choose what you are proposing")],
    )
    item = SelectField("Which item?", validators=[Optional()], validate_choice=False)
    theme = StringField("Theme", validators=[Length(max=200)])
    text = TextAreaField(
        "Your proposed wording",
        validators=[DataRequired("Enter your proposed wording"), Length(max=2000)],
    )
    reason = TextAreaField(
        "Why?", validators=[DataRequired("Say why you propose it"), Length(max=2000)]
    )


class ProposalDecisionForm(AppForm):
    outcome = RadioField(
        "Decision",
        choices=[
            ("accepted", "Accept as a new item"),
            ("merged", "Merge into an existing item"),
            ("declined", "Decline"),
        ],
        validators=[InputRequired("Choose accept, merge or decline")],
    )
    merge_into = SelectField("Merge into", validators=[Optional()], validate_choice=False)
    response = TextAreaField(
        "Reason (the proposer sees this)",
        validators=[DataRequired("Give a reason the proposer will see"), Length(max=2000)],
    )
