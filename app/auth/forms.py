from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from app.forms_common import AppForm, new_password_rules


class LoginForm(AppForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address"),
            Email("Enter an email address in the correct format, like name@example.com"),
            Length(max=254),
        ],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password"), Length(max=200)]
    )


class SignInLinkForm(AppForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address"),
            Email("Enter an email address in the correct format, like name@example.com"),
            Length(max=254),
        ],
    )


class JoinForm(AppForm):
    password = PasswordField(
        "Choose a password (optional)",
        validators=[
            Optional(),
            *new_password_rules(),
        ],
    )
    confirm = PasswordField(
        "Type the password again",
        validators=[EqualTo("password", message="The passwords do not match")],
    )


class AcceptForm(AppForm):
    """Joining a panel from an account that is already signed in: nothing to fill in."""
