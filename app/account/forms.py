from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.forms_common import AppForm


class CodeForm(AppForm):
    code = StringField(
        "Code",
        validators=[
            DataRequired("Enter the 6-digit code from your authenticator app"),
            Length(max=20, message="Enter the 6-digit code from your authenticator app"),
        ],
    )
