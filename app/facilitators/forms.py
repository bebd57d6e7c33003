from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.forms_common import AppForm


class AddFacilitatorForm(AppForm):
    email = EmailField(
        "Email address",
        description="If they have an account with this address, they sign in with it as usual.",
        validators=[
            DataRequired("Enter their email address"),
            Email("Enter an email address in the correct format, like name@example.com"),
            Length(max=254),
        ],
    )
    name = StringField(
        "Their name",
        description="Shown to the study's facilitators until they sign in.",
        validators=[DataRequired("Enter their name"), Length(max=200)],
    )


class RemoveFacilitatorForm(AppForm):
    """A button: nothing to fill in."""


class RequireTwoStepForm(AppForm):
    require_two_step = BooleanField("Facilitators must use two-step sign-in")
    code = StringField(
        "Code from your authenticator app",
        description="Needed only to stop requiring two-step sign-in.",
        validators=[Optional(), Length(max=20)],
    )
