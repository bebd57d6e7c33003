from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from app.forms_common import AppForm
from delphi import ItemKind
from delphi.ideas import IdeaOutcome


class IdeaForm(AppForm):
    """An answer to an open question, or a candidate prompt or indicator."""

    about = SelectField("What kind of idea?", validate_choice=False)
    text = TextAreaField(
        "Your idea", validators=[DataRequired("Enter your idea"), Length(max=2000)]
    )
    theme = StringField(
        "Theme (optional)",
        description="For a candidate item: which part of the topic it belongs to.",
        validators=[Length(max=200)],
    )


class CommentForm(AppForm):
    text = TextAreaField(
        "Your comment", validators=[DataRequired("Enter your comment"), Length(max=2000)]
    )


class QuestionForm(AppForm):
    text = TextAreaField(
        "Open question",
        description="For example: What should inspectors ask a trust about research?",
        validators=[DataRequired("Enter the question"), Length(max=1000)],
    )


class CurateForm(AppForm):
    """Several ideas become one item, join an existing item, or are declined with a reason."""

    ideas = SelectMultipleField("Ideas", coerce=int, validate_choice=False)
    outcome = RadioField(
        "What becomes of the ideas chosen?",
        choices=[
            (IdeaOutcome.ACCEPTED.value, "Make one new item from them"),
            (IdeaOutcome.MERGED.value, "Merge them into an existing item"),
            (IdeaOutcome.DECLINED.value, "Decline them, with a reason the authors will see"),
        ],
        validators=[InputRequired("Choose what becomes of the ideas")],
    )
    kind = RadioField(
        "Type of the new item",
        choices=[(kind.value, kind.label) for kind in ItemKind],
        default=ItemKind.PROMPT.value,
    )
    theme = StringField("Theme of the new item", validators=[Length(max=200)])
    text = TextAreaField(
        "Wording of the new item",
        description="Edit the ideas' wording into one item.",
        validators=[Length(max=2000)],
    )
    definition = TextAreaField("Definition (indicators)", validators=[Length(max=2000)])
    merge_into = SelectField("Existing item", validate_choice=False)
    reason = TextAreaField(
        "Note to the authors",
        description="Needed when declining: the authors see it beside their idea.",
        validators=[Length(max=2000)],
    )

    def validate_ideas(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError("Choose at least one idea")

    def validate_text(self, field: TextAreaField) -> None:
        if self.outcome.data == IdeaOutcome.ACCEPTED and not (field.data or "").strip():
            raise ValidationError("Enter the wording of the new item")

    def validate_definition(self, field: TextAreaField) -> None:
        if (
            self.outcome.data == IdeaOutcome.ACCEPTED
            and self.kind.data == ItemKind.INDICATOR
            and not (field.data or "").strip()
        ):
            raise ValidationError("Enter the indicator's definition")

    def validate_merge_into(self, field: SelectField) -> None:
        if self.outcome.data == IdeaOutcome.MERGED and not field.data:
            raise ValidationError("Choose the item to merge the ideas into")

    def validate_reason(self, field: TextAreaField) -> None:
        if self.outcome.data == IdeaOutcome.DECLINED and not (field.data or "").strip():
            raise ValidationError("Give the reason the authors will see")


class ActionForm(AppForm):
    """A button that changes something: the CSRF token only."""
