from wtforms import EmailField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length

from app.forms_common import AppForm


class InviteForm(AppForm):
    name = StringField("Full name", validators=[DataRequired("Enter their name"), Length(max=200)])
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter their email address"),
            Email("Enter an email address in the correct format, like name@example.com"),
            Length(max=254),
        ],
    )
    group = SelectField("Stakeholder group", coerce=int, validate_choice=True)
    role = RadioField(
        "Role",
        choices=[
            ("partner", "Partner"),
            ("patient_rep", "Patient representative"),
            ("observer", "Observer (reads, cannot rate)"),
        ],
        default="partner",
        validators=[InputRequired("Choose a role")],
    )


class PanellistForm(AppForm):
    """Moving a panellist to another group or role (before round 1)."""

    group = SelectField("Stakeholder group", coerce=int, validate_choice=True)
    role = RadioField(
        "Role",
        choices=InviteForm.role.kwargs["choices"],
        validators=[InputRequired("Choose a role")],
    )
