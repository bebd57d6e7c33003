"""The inspectors' guide settings form."""

from __future__ import annotations

from typing import Any

from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional, Regexp

from app.forms_common import AppForm


def _web_address() -> list[Any]:
    """An optional http(s) address of at most 500 characters."""
    return [
        Optional(),
        Length(max=500, message="Enter at most 500 characters"),
        Regexp(
            r"^https?://\S+$", message="Enter a web address that starts with https:// or http://"
        ),
    ]


class GuideForm(AppForm):
    owner_organisation = StringField(
        "Organisation that owns the study",
        description="Named as the publisher of the guide and the author of the Word files, "
        "for example Care Quality Commission. Left empty, the facilitator's name is used.",
        validators=[Length(max=200, message="Enter at most 200 characters")],
    )
    guide_context = TextAreaField(
        "Why this matters",
        description="The guide's opening: why the subject matters to the quality of care. "
        "Left empty, the study's purpose is used. A blank line starts a new paragraph.",
        validators=[Length(max=5000, message="Enter at most 5,000 characters")],
    )
    framework = TextAreaField(
        "Link to the assessment framework",
        description="Where the prompts sit in the framework, for example the Well-led key "
        "question and its quality statements.",
        validators=[Length(max=3000, message="Enter at most 3,000 characters")],
    )
    framework_url = StringField(
        "Web address of the framework (optional)",
        validators=_web_address(),
    )
    guide_reporting = TextAreaField(
        "What to report and where",
        description="Where inspectors record evidence and how to report the indicators.",
        validators=[Length(max=3000, message="Enter at most 3,000 characters")],
    )
    guide_sources = TextAreaField(
        "Sources",
        description="One source a line.",
        validators=[Length(max=3000, message="Enter at most 3,000 characters")],
    )


class ReportingForm(AppForm):
    """What the ACCORD checklist needs that the app does not otherwise hold."""

    protocol_link = StringField(
        "Protocol or registration (optional)",
        description="The web address of the published protocol or the registry entry, for "
        "example on the Open Science Framework.",
        validators=_web_address(),
    )
    funding = TextAreaField(
        "Funding (optional)",
        description="Who funded the study, and what part the funder played.",
        validators=[Length(max=3000, message="Enter at most 3,000 characters")],
    )
    steering_group = TextAreaField(
        "Steering group (optional)",
        description="Who planned and oversaw the study, and their role.",
        validators=[Length(max=3000, message="Enter at most 3,000 characters")],
    )
    item_sources = TextAreaField(
        "Sources of the candidate items (optional)",
        description="Where the prompts and indicators first put to the panel came from: a "
        "literature review, earlier work, workshops.",
        validators=[Length(max=5000, message="Enter at most 5,000 characters")],
    )
    questionnaire_pilot = TextAreaField(
        "Pilot of the questionnaire (optional)",
        description="Who tried the questionnaire before round 1, and what changed.",
        validators=[Length(max=3000, message="Enter at most 3,000 characters")],
    )
    protocol_deviations = TextAreaField(
        "Deviations from the protocol (optional)",
        description="What was done differently from the protocol, and why.",
        validators=[Length(max=3000, message="Enter at most 3,000 characters")],
    )
