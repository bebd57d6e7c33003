from wtforms import DateField, RadioField, TextAreaField
from wtforms.validators import Length, Optional

from app.forms_common import AppForm


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
