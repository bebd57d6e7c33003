from __future__ import annotations

from wtforms import BooleanField

from app.forms_common import AppForm
from delphi.notifications import NotificationKind


class NotificationsForm(AppForm):
    """One checkbox per kind of email; a box left unticked turns that email off."""

    round_opened = BooleanField(
        NotificationKind.ROUND_OPENED.label, description=NotificationKind.ROUND_OPENED.hint
    )
    reminder = BooleanField(
        NotificationKind.REMINDER.label, description=NotificationKind.REMINDER.hint
    )
    round_closed = BooleanField(
        NotificationKind.ROUND_CLOSED.label, description=NotificationKind.ROUND_CLOSED.hint
    )
    discussion = BooleanField(
        NotificationKind.DISCUSSION.label, description=NotificationKind.DISCUSSION.hint
    )
