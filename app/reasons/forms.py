"""Forms of the reasons review. CSRFProtect guards every POST (as the discussion's forms)."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms_common import AppForm
from delphi.reasons import MAX_HIDE_REASON


class HideReasonForm(AppForm):
    class Meta:
        csrf = False

    reason = TextAreaField(
        "Why are you hiding this reason?",
        description=(
            "Its author reads this beside their reason; other panellists no longer see the "
            "reason. It is kept in the audit log."
        ),
        validators=[
            DataRequired("Enter why you are hiding the reason"),
            Length(
                max=MAX_HIDE_REASON,
                message=f"The reason must be {MAX_HIDE_REASON:,} characters or fewer",
            ),
        ],
    )
