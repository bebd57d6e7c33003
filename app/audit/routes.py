"""The audit log page (newest first, paginated) and its CSV export; facilitators only."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response
from flask_login import current_user, login_required
from sqlalchemy import func, select

from app.access import facilitated_study
from app.extensions import db
from app.htmx import render
from app.inputs import int_arg
from app.models import AuditEvent
from app.services import audit
from app.text.cells import neutralise_formula
from app.web import london

bp = Blueprint("audit", __name__, url_prefix="/studies/<slug>")

PER_PAGE = 50


def _page_number() -> int:
    return max(1, min(int_arg("page") or 1, 1_000_000))


@bp.get("/audit")
@login_required
def index(slug: str) -> Response:
    study = facilitated_study(slug)
    total = (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.study_id == study.id))
        or 0
    )
    pages = max(1, -(-total // PER_PAGE))
    page = min(_page_number(), pages)
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.study_id == study.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return render(
        "audit/index.html",
        study=study,
        events=[_row(e) for e in events],
        page=page,
        pages=pages,
        total=total,
    )


@bp.get("/audit.csv")
@login_required
def export(slug: str) -> Response:
    study = facilitated_study(slug)
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.study_id == study.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["when (UTC)", "who", "email", "action", "what happened", "details"])
    for event in events:
        row = _row(event)
        cells = [
            event.created_at.isoformat(timespec="seconds"),
            row["who"],
            event.user.email if event.user else "",
            event.action,
            row["summary"],
            row["details"],
        ]
        writer.writerow([neutralise_formula(c) for c in cells])
    audit.log(study.id, "audit.exported", by=current_user.id, format="csv")
    response = Response("\ufeff" + buffer.getvalue(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{study.slug}-audit-log.csv"'
    return response


def _row(event: AuditEvent) -> dict[str, Any]:
    details = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in (event.detail or {}).items())
    return {
        "when": london(event.created_at, "%-d %b %Y, %H:%M:%S"),
        "who": event.user.name if event.user else "The system",
        # Two facilitators may share a name: the address says which one acted.
        "email": event.user.email if event.user else "",
        "summary": audit.describe(event.action),
        "details": details,
    }
