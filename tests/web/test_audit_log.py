"""The audit log: who did what to a study, for its facilitators, newest first, as CSV too."""

from __future__ import annotations

import csv
import io

from app.extensions import db
from app.models import AuditEvent
from app.services.rounds import close_round, open_round
from tests.conftest import Panel, sign_in
from tests.web.helpers import get_page, page, text_of


def test_opening_and_closing_a_round_appear_newest_first_with_who_did_it(client, panel: Panel):
    round_ = open_round(panel.study, actor=panel.facilitator)
    close_round(round_.id, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    response = get_page(client, "/studies/test-study/audit")
    rows = [
        [td.get_text(" ", strip=True) for td in tr.select("td")]
        for tr in page(response).select("table.app-audit-log tbody tr")
    ]
    assert [r[2] for r in rows[:2]] == ["Closed a round", "Opened a round"]
    assert "round: 1" in rows[0][3]


def test_the_log_is_paginated_fifty_to_a_page(client, panel: Panel):
    for n in range(120):
        db.session.add(AuditEvent(study_id=panel.study.id, action="group.added", detail={"n": n}))
    db.session.commit()
    sign_in(client, panel.facilitator)
    first = client.get("/studies/test-study/audit")
    assert "120 events, page 1 of 3" in text_of(first)
    assert len(page(first).select("table.app-audit-log tbody tr")) == 50
    assert "n: 119" in text_of(first)
    last = client.get("/studies/test-study/audit?page=3")
    assert len(page(last).select("table.app-audit-log tbody tr")) == 20
    assert "n: 0" in text_of(last)
    get_page(client, "/studies/test-study/audit?page=banana")
    get_page(client, "/studies/test-study/audit?page=-4")


def test_the_csv_export_has_every_event_and_neutralises_formulas(client, panel: Panel):
    db.session.add(
        AuditEvent(study_id=panel.study.id, action='=HYPERLINK("http://evil")', detail={})
    )
    db.session.commit()
    sign_in(client, panel.facilitator)
    response = get_page(client, "/studies/test-study/audit.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["when (UTC)", "who", "email", "action"]
    assert rows[1][3].startswith("'=HYPERLINK")
    # Exporting is itself recorded.
    assert db.session.scalar(db.select(AuditEvent.id).where(AuditEvent.action == "audit.exported"))


def test_panellists_cannot_see_the_log(client, panel: Panel):
    sign_in(client, panel.partners[0].user)
    assert client.get("/studies/test-study/audit").status_code == 403
    assert client.get("/studies/test-study/audit.csv").status_code == 403
