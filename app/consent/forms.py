"""Forms for participant information and declared interests."""

from __future__ import annotations

from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length

from app.forms_common import AppForm

INTEREST_CHOICES = [
    ("none", "I have no interests to declare"),
    ("some", "I have interests to declare"),
]


class InformationForm(AppForm):
    text = TextAreaField(
        "Participant information",
        description=(
            "What taking part involves, how answers are used and kept, and who to contact. "
            "Markdown: **bold**, *italic*, lists and links. Saving a change makes a new "
            "version, and every panellist is asked to agree again before their next answer."
        ),
        validators=[InputRequired("Enter the participant information"), Length(max=50_000)],
    )
    statements = TextAreaField(
        "Consent statements",
        description="One a line. Panellists tick each one to agree to take part.",
        validators=[Length(max=50_000)],
    )


class InterestsForm(AppForm):
    choice = RadioField(
        "Do you have any interests to declare?",
        description=(
            "For example employment, funding, advisory roles or personal connections "
            "relevant to the study. The specification lists declarations by stakeholder "
            "group; they are never shown beside ratings."
        ),
        choices=INTEREST_CHOICES,
        validators=[InputRequired("Say whether you have any interests to declare")],
    )
    interests = TextAreaField("Your interests", validators=[Length(max=4000)])
