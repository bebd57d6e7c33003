"""Template helpers of the discussion: the `ago` filter, and the panels the ballot embeds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_login import current_user
from sqlalchemy import select

from app.access import is_facilitator_of
from app.discussion import bp
from app.discussion.pages import earlier_url, mentions, more_url
from app.discussion.presenters import thread_panels
from app.extensions import db
from app.models import Panellist, Round, Study, utcnow
from app.services import discussion as svc
from app.text.dates import london
from delphi import StudyStatus


@bp.app_template_filter("ago")
def ago(value: datetime | None) -> str:
    """'just now', '3 min ago', '2 hours ago', 'yesterday', '4 days ago', else the date."""
    if value is None:
        return ""
    seconds = (utcnow() - value).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours > 1 else ''} ago"
    days = int(seconds // 86400)
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    return london(value, "%-d %B %Y")


bp.add_app_template_global(earlier_url, "thread_earlier_url")
bp.add_app_template_global(more_url, "thread_more_url")


@bp.app_template_global("discussion_for_ballot")
def discussion_for_ballot(study: Study, round_: Round) -> dict[str, Any]:
    """What ballot.html needs: a panel per item (counts, summary, lock: each thread's
    messages load when it is opened), the live cursor, the viewer."""
    viewer = svc.Viewer(
        current_user.id,
        _panellist_of(study),
        is_facilitator_of(current_user.id, study.id),
        record_final=study.study_status is StudyStatus.COMPLETED,
    )
    items = [ri.item_version.item for ri in round_.round_items]
    panels = thread_panels(study, items, viewer, mentions(study), with_messages=False)
    return {
        "panels": {int(key[5:]): panel for key, panel in panels.items()},
        "viewer": viewer,
        "cursor": svc.latest_event_id(study.id),
        "scope": f"ballot:{round_.number}",
    }


def _panellist_of(study: Study) -> Panellist | None:
    return db.session.scalar(
        select(Panellist).where(
            Panellist.study_id == study.id,
            Panellist.user_id == current_user.id,
            Panellist.joined_at.is_not(None),
        )
    )
