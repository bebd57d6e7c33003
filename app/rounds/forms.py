from datetime import datetime

from wtforms import DateField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.forms_common import AppForm
from app.text.dates import LONDON


class OpenRoundForm(AppForm):
    instructions = TextAreaField(
        "Instructions for panellists",
        validators=[Length(max=5000)],
    )
    closes_on = DateField(
        "Closing date (optional)",
        description="Shown to panellists. The round closes at 11:59pm on this day.",
        validators=[Optional()],
    )
    invite_rule = RadioField(
        "Who is invited to rate",
        choices=[
            ("everyone", "Everyone on the panel"),
            ("completed_previous", "Only those who rated every item of the previous round"),
        ],
        default="everyone",
        description="Inviting only completers is the common rule to limit drop-out bias.",
    )


def _today_or_later(form: AppForm, field: DateField) -> None:
    if field.data is not None and field.data < datetime.now(LONDON).date():
        raise ValidationError("The closing date must be today or later")


class ReopenRoundForm(AppForm):
    reason = TextAreaField(
        "Why the round reopens",
        description="Kept in the audit log with the date the round had closed.",
        validators=[DataRequired("Give the reason for reopening the round"), Length(max=2000)],
    )
    closes_on = DateField(
        "New closing date (optional)",
        description=(
            "The round closes at 11:59pm on this day. Leave it empty to keep a closing date "
            "that is still ahead, or to close the round yourself."
        ),
        validators=[Optional(), _today_or_later],
    )
