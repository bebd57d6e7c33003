"""Withdrawal (issue 17): a panellist leaves from their own page, or a facilitator records it
for them; they choose whether their answers stay. What stops, what is counted, what stays."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEvent,
    DiscussionMessage,
    ItemDecision,
    Panellist,
    Rating,
    Round,
    RoundSnapshot,
    utcnow,
)
from app.services.cycle import complete_study, invited_panellists, non_responders
from app.services.results import participation
from app.services.rounds import close_round, open_round
from tests.conftest import Panel, sign_in
from tests.web.discussion_helpers import post
from tests.web.helpers import (
    error_summary,
    get_page,
    open_and_rate_round_one,
    page,
    post_form,
    text_of,
)

S = "/studies/test-study"
SCORES = {
    "P1": [9, 8, 8, 7, 9],
    "P2": [1, 2, 1, 2, 3],
    "P3": [5, 8, 2, 7, 4],
    "I1": [7, 7, 8, 8, 9],
}


def _client(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


def _round_one_closed(app, panel: Panel) -> Round:
    facilitator = _client(app, panel.facilitator)
    open_and_rate_round_one(app, facilitator, panel, SCORES)
    return close_round(panel.study.rounds[0].id, actor=panel.facilitator)


def _confirm_decisions() -> None:
    for decision in db.session.scalars(select(ItemDecision)):
        decision.decided_at = decision.item.created_at
    db.session.commit()


def _round_two(panel: Panel) -> Round:
    """Round 2, after every suggested decision of round 1 is confirmed as it stands."""
    _confirm_decisions()
    return open_round(panel.study, actor=panel.facilitator)


def _ratings(panellist: Panellist) -> int:
    return db.session.scalar(
        select(func.count(Rating.id)).where(Rating.panellist_id == panellist.id)
    )


def test_a_panellist_withdraws_keeping_their_answers_and_answers_no_more(app, panel):
    _round_one_closed(app, panel)
    round_two = _round_two(panel)
    vid = round_two.round_items[0].item_version_id
    leaver = panel.partners[0]
    partner = _client(app, leaver.user)
    home = get_page(partner, S)
    assert page(home).select_one(f'a[href="{S}/withdraw"]')
    shown = get_page(partner, f"{S}/withdraw")
    # The confirm page says closed rounds' stored results are not rewritten.
    assert "are not rewritten" in text_of(shown)
    assert "4 ratings" in text_of(shown)
    post_form(partner, f"{S}/withdraw", {"answers": "keep"})

    db.session.expire_all()
    assert leaver.withdrawn_at is not None and not leaver.answers_removed
    assert _ratings(leaver) == 4
    home = get_page(partner, S)
    assert "You withdrew from this study on" in text_of(home)
    assert "Rate the items" not in text_of(home)
    assert not page(home).select_one(f'a[href="{S}/withdraw"]')
    # Answers no more: the ballot says why, autosave and submit refuse, nothing is stored.
    ballot = get_page(partner, f"{S}/rounds/2/ballot")
    assert "You withdrew from this study" in text_of(ballot)
    assert not page(ballot).select(f'input[name="score-{vid}"]')
    refused = partner.post(
        f"{S}/rounds/2/items/{vid}/rating", data={f"score-{vid}": "7"}, headers={"HX-Request": "1"}
    )
    assert refused.status_code == 403
    assert "You have withdrawn" in refused.get_data(as_text=True)
    post_form(partner, f"{S}/rounds/2/ballot", {f"score-{vid}": "7"}, status=422)
    assert _ratings(leaver) == 4
    # Posts no more.
    assert post(partner, "P1", "One more thought").status_code == 403
    written = select(func.count(DiscussionMessage.id)).where(
        DiscussionMessage.author_panellist_id == leaver.id
    )
    assert db.session.scalar(written) == 0
    # Not invited, not reminded, not a non-responder; counted as having withdrawn.
    assert leaver.id not in {p.id for p in invited_panellists(round_two)}
    assert leaver.id not in {p.id for p in non_responders(round_two)}
    cqc = next(row for row in participation(round_two) if row["group"] == "CQC")
    assert cqc == {"group": "CQC", "panel": 3, "responded": 0, "completed": 0, "withdrew": 1}
    # Audited as the panellist, with the pseudonym only.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "panel.withdrew"))
    assert event.user_id == leaver.user_id
    assert event.detail["answers"] == "kept" and event.detail["pseudonym"] == leaver.pseudonym
    assert leaver.user.name not in str(event.detail)


def test_removing_the_answers_leaves_closed_rounds_results_as_stored(app, panel):
    _round_one_closed(app, panel)
    stored = db.session.scalar(select(RoundSnapshot.payload))
    leaver = panel.patients[0]
    _round_two(panel)
    patient = _client(app, leaver.user)
    assert post(patient, "P1", "My own view, to go with me").status_code == 303
    post_form(patient, f"{S}/withdraw", {"answers": "remove"})
    db.session.expire_all()
    assert leaver.answers_removed and _ratings(leaver) == 0
    message = db.session.scalar(
        select(DiscussionMessage).where(DiscussionMessage.author_panellist_id == leaver.id)
    )
    assert message.deleted_at is not None and message.body == ""
    facilitator = _client(app, panel.facilitator)
    assert "My own view" not in get_page(facilitator, f"{S}/discussion/P1").get_data(as_text=True)
    assert db.session.scalar(select(RoundSnapshot.payload)) == stored
    # The round-one participation, as stored when it closed, still counts them.
    round_one = db.session.scalar(select(Round).where(Round.number == 1))
    results = text_of(get_page(facilitator, f"{S}/rounds/1/results"))
    assert "2 of 2" in results
    assert round_one.status == "closed"


def test_a_facilitator_records_a_withdrawal_for_a_panellist_with_their_choice(app, panel):
    _round_one_closed(app, panel)
    leaver = panel.partners[1]
    facilitator = _client(app, panel.facilitator)
    panel_page = get_page(facilitator, f"{S}/panel")
    link = f"{S}/panel/{leaver.id}/withdraw"
    assert page(panel_page).select_one(f'a[href="{link}"]')
    # Removing after round 1 points to recording a withdrawal instead.
    refused = get_page(facilitator, f"{S}/panel/{leaver.id}/remove")
    assert "record their withdrawal instead" in text_of(refused)
    assert page(refused).select_one(f'a[href="{link}"]')
    assert "Choose whether" in " ".join(error_summary(post_form(facilitator, link, {}, status=422)))
    post_form(facilitator, link, {"answers": "keep"})
    db.session.expire_all()
    assert leaver.withdrawn_at is not None and leaver.withdrawal_recorded_by_facilitator
    shown = text_of(get_page(facilitator, f"{S}/panel"))
    assert "Withdrew" in shown and "answers kept (recorded by a facilitator)" in shown
    # Once only.
    again = post_form(facilitator, link, {"answers": "remove"}, status=409)
    assert "already withdrawn" in text_of(again)
    assert _ratings(leaver) == 4
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "panel.withdrawal_recorded")
    )
    assert event.user_id == panel.facilitator.id


def test_nobody_withdraws_from_a_completed_study(app, panel):
    _round_one_closed(app, panel)
    _confirm_decisions()
    complete_study(panel.study, "Agreed enough", actor=panel.facilitator)
    partner = _client(app, panel.partners[0].user)
    shown = get_page(partner, f"{S}/withdraw")
    assert "nobody can withdraw" in text_of(shown)
    assert not page(shown).select("input[name=answers]")
    post_form(partner, f"{S}/withdraw", {"answers": "keep"}, status=409)
    facilitator = _client(app, panel.facilitator)
    post_form(
        facilitator, f"{S}/panel/{panel.partners[0].id}/withdraw", {"answers": "keep"}, status=409
    )
    db.session.expire_all()
    assert panel.partners[0].withdrawn_at is None


def test_a_withdrawal_is_counted_in_the_specification_participation(app, panel):
    from app.services.export import build_specification

    _round_one_closed(app, panel)
    _round_two(panel)
    post_form(_client(app, panel.partners[2].user), f"{S}/withdraw", {"answers": "keep"})
    db.session.expire_all()
    spec = build_specification(panel.study)
    rows = {(p["round"], p["group"]): p for p in spec["methods"]["participation"]}
    assert rows[(1, "CQC")]["withdrew"] == 0 and rows[(1, "CQC")]["invited"] == 3
    assert rows[(1, "CQC")]["finished"] == 3 and rows[(2, "CQC")]["finished"] == 0
    assert rows[(2, "CQC")]["withdrew"] == 1 and rows[(2, "CQC")]["invited"] == 3
    facilitator = _client(app, panel.facilitator)
    html = text_of(get_page(facilitator, f"{S}/export/html"))
    assert "1 withdrew" in html
    data = facilitator.get(f"{S}/export/data")
    with zipfile.ZipFile(io.BytesIO(data.data)) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("panel.csv").decode("utf-8-sig"))))
    shown = {r["pseudonym"]: (r["withdrawn"], r["answers_removed"]) for r in rows}
    assert shown[panel.partners[2].pseudonym] == ("True", "False")
    assert shown[panel.partners[0].pseudonym] == ("False", "False")


def test_hostile_text_in_a_withdrawal_page_is_escaped(app, panel):
    _round_one_closed(app, panel)
    leaver = panel.partners[0]
    leaver.user.name = "<script>alert(1)</script>"
    db.session.commit()
    facilitator = _client(app, panel.facilitator)
    body = get_page(facilitator, f"{S}/panel/{leaver.id}/withdraw").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_a_withdrawn_panellist_is_neither_reminded_nor_told_the_outcome(app, panel, smtp):
    from app.services.cycle import tell_panel_of_completion
    from app.services.withdrawal import withdraw
    from delphi.withdrawal import AnswersChoice

    round_one = open_round(panel.study, actor=panel.facilitator)
    # The automatic reminder goes in the two days before the deadline (delphi.notifications).
    round_one.closes_at = utcnow() + timedelta(days=1)
    db.session.commit()
    leaver = panel.partners[0]
    withdraw(leaver, AnswersChoice.KEEP, actor=panel.facilitator, by_facilitator=True)
    result = app.test_cli_runner().invoke(args=["send-reminders", "test-study"])
    assert result.exit_code == 0, result.output
    reminded = {m["To"] for m in smtp.messages}
    assert reminded == {p.user.email for p in panel.raters if p is not leaver}
    close_round(round_one.id, actor=panel.facilitator)
    _confirm_decisions()
    complete_study(panel.study, "Enough", actor=panel.facilitator)
    smtp.messages.clear()
    tell_panel_of_completion(panel.study, actor=panel.facilitator, study_url="http://x/")
    told = {m["To"] for m in smtp.messages}
    assert leaver.user.email not in told and panel.partners[1].user.email in told
