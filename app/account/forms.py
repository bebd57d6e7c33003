from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.forms_common import AppForm, new_password_rules
from app.security import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH


class CodeForm(AppForm):
    code = StringField(
        "Code",
        validators=[
            DataRequired("Enter the 6-digit code from your authenticator app"),
            Length(max=20, message="Enter the 6-digit code from your authenticator app"),
        ],
    )


class PasswordForm(AppForm):
    """Set or change one's own password. `current` is asked for only when the account has a
    password (the view removes it otherwise); the new one follows the rule of joining."""

    current = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password"), Length(max=PASSWORD_MAX_LENGTH)],
    )
    new = PasswordField(
        "New password",
        description=f"At least {PASSWORD_MIN_LENGTH} characters.",
        validators=[DataRequired("Enter a new password"), *new_password_rules()],
    )
    confirm = PasswordField(
        "Type the new password again",
        validators=[
            DataRequired("Type the new password again"),
            EqualTo("new", message="The passwords do not match"),
        ],
    )
