"""A completed study's record is final: every route that would change it refuses, with a
message that says so (never a 500), and the specification stays as it was. Only an explicit
reopening, with a reason, makes it changeable again, and the record says it was reopened."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEvent,
    BackgroundAnswer,
    BackgroundQuestion,
    DiscussionMessage,
    DiscussionThread,
    Invitation,
    Item,
    ItemDecision,
    ItemVersion,
    LiveSnapshot,
    Panellist,
    Proposal,
    Rating,
    ReasonReview,
    Round,
    StakeholderGroup,
    Study,
    Theme,
)
from app.services.cycle import complete_study
from app.services.discussion import Viewer
from app.services.discussion_writes import post_message
from app.services.export import build_specification
from app.services.panel import add_panellist, issue_invitation
from app.services.proposals import propose
from app.services.rounds import close_round, open_round, record_decisions
from delphi import Decision, PanelRole
from tests.conftest import Panel, build_panel, sign_in
from tests.web.helpers import get_page, page, post_form, text_of

S = "/studies/test-study"
FINAL = "This study is completed"
RECORD = [
    StakeholderGroup,
    Theme,
    Item,
    ItemVersion,
    Panellist,
    Invitation,
    Round,
    Rating,
    ItemDecision,
    Proposal,
    DiscussionThread,
    DiscussionMessage,
    ReasonReview,
    LiveSnapshot,
    BackgroundQuestion,
    BackgroundAnswer,
]


def _completed_study() -> dict[str, Any]:
    """Round 1 rated, discussed (a panellist's message, a facilitator's reply), a proposal
    pending, decided and the study completed; one invitee never joined."""
    panel = build_panel()
    study = panel.study
    study.proposals_open = True
    late = add_panellist(
        study,
        name="Late Person",
        email="late@example.test",
        group=study.groups[0],
        role=PanelRole.PARTNER,
    )
    late_token = issue_invitation(late)
    db.session.commit()
    round_ = open_round(study, actor=panel.facilitator)
    for panellist in panel.raters:
        for ri in round_.round_items:
            db.session.add(
                Rating(
                    round_id=round_.id,
                    panellist_id=panellist.id,
                    item_version_id=ri.item_version_id,
                    score=8,
                    reason="Matters to patients",
                )
            )
    db.session.commit()
    author = panel.partners[0]
    proposal = propose(
        study, author, kind="prompt", item=None, theme="New", text="A new prompt?", reason="Gap"
    )
    p1 = next(i for i in study.items if i.ref == "P1")
    message = post_message(study, p1, Viewer(author.user_id, author, False), "I rate it high.")
    reply = post_message(
        study, None, Viewer(panel.facilitator.id, None, True), "Thank you all for rating."
    )
    close_round(round_.id, actor=panel.facilitator)
    choices = {
        d.item_id: (Decision(d.suggested), "")
        for d in db.session.scalars(select(ItemDecision).where(ItemDecision.round_id == round_.id))
    }
    assert record_decisions(round_, choices, panel.facilitator) == []
    complete_study(study, "Every item was decided.", actor=panel.facilitator)
    return {
        "panel": panel,
        "late": late,
        "late_token": late_token,
        "proposal": proposal.id,
        "message": message.id,
        "reply": reply.id,
        "version": round_.round_items[0].item_version_id,
        "item_id": p1.id,
        "rating": db.session.scalar(select(Rating.id).where(Rating.round_id == round_.id)),
    }


def _record() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count(model.id))) for model in RECORD}


def _specification(study: Study) -> dict[str, Any]:
    db.session.expire_all()
    spec = build_specification(db.session.get(Study, study.id))
    spec.pop("generated_at", None)
    spec.get("study", {}).pop("generated_at", None)
    return spec


def _csv(text: str, name: str) -> dict[str, Any]:
    return {"file": (io.BytesIO(text.encode()), name)}


Route = tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str]


def _facilitator_routes(w: dict[str, Any]) -> list[Route]:
    panel: Panel = w["panel"]
    group, item = panel.study.groups[0].id, w["item_id"]
    return [
        (
            f"{S}/settings",
            {
                "title": "Renamed afterwards",
                "purpose": "Changed",
                "scale": "9",
                "rule": "percentage",
                "pct_in": "70",
                "pct_out_max": "15",
                "max_iqr": "2",
                "max_rounds": "3",
                "mode": "rounds",
            },
        ),
        (f"{S}/groups", {"name": "A late group"}),
        (f"{S}/items/new", {"kind": "prompt", "theme": "Late", "text": "A late item?"}),
        (f"{S}/items/import", _csv("kind,theme,text\nprompt,Late,Imported late?\n", "i.csv")),
        (f"{S}/items/P1/revise", {"text": "Reworded afterwards?", "change_note": "Later"}),
        (
            f"{S}/panel/invite",
            {
                "name": "Too Late",
                "email": "toolate@example.test",
                "group": group,
                "role": "partner",
            },
        ),
        (
            f"{S}/panel/import",
            _csv("name,email,group,role\nImp Late,imp@example.test,CQC,partner\n", "p.csv"),
        ),
        (f"{S}/panel/{w['late'].id}/reinvite", {}),
        (f"{S}/rounds/open", {}),
        (f"{S}/rounds/1/reopen", {"reason": "One more look"}),
        (f"{S}/rounds/1/decisions", {f"decision-{item}": "exclude", f"reason-{item}": "Later"}),
        # (this study runs in rounds: freezing is refused for that first)
        (f"{S}/rounds/1/freeze", {"label": "late"}, "for real-time studies"),
        (f"{S}/proposals/{w['proposal']}/decide", {"outcome": "declined", "response": "Late"}),
        (f"{S}/discussion/P1/summary", {"summary": "A summary written afterwards"}),
        (f"{S}/discussion/P1/lock", {}),
        (f"{S}/discussion/channel/unlock", {}),
        (f"{S}/discussion/rounds/1/lock", {}),
        (f"{S}/discussion/messages/{w['message']}/hide", {"reason": "Afterwards"}),
        (f"{S}/discussion/messages/{w['message']}/unhide", {}),
        (f"{S}/discussion/channel/messages", {"channel-body": "A late word from us"}),
        (f"{S}/rounds/1/reasons/ratings/{w['rating']}/hide", {"reason": "Afterwards"}),
        (f"{S}/rounds/1/reasons/ratings/{w['rating']}/show", {}),
        (f"{S}/rounds/1/reasons/items/P1/summary", {"summary": "Arguments, afterwards"}),
        (f"{S}/background-questions", {"action": "presets", "preset": "region"}),
        (
            f"{S}/background-questions",
            {"action": "own", "text": "Late?", "options": "Yes\nNo"},
        ),
        (f"{S}/panel/{panel.partners[1].id}/withdraw", {"answers": "keep"}),
    ]


def _panellist_routes(w: dict[str, Any]) -> list[Route]:
    vid, item_key = w["version"], f"item-{w['item_id']}"
    return [
        # The closed round's own refusal may come first for ratings: both say nothing changes.
        (f"{S}/rounds/1/ballot", {f"score-{vid}": "2"}, "closed"),
        (f"{S}/rounds/1/items/{vid}/rating", {"score": "2"}, "closed"),
        (f"{S}/proposals", {"kind": "prompt", "theme": "Late", "text": "Late?", "reason": "Why"}),
        (f"{S}/discussion/channel/messages", {"channel-body": "A late message"}),
        (
            f"{S}/discussion/P1/messages",
            {f"{item_key}-body": "A late reply", f"{item_key}-parent_id": str(w["message"])},
        ),
        (f"{S}/discussion/messages/{w['message']}/edit", {"body": "Edited afterwards"}),
        (f"{S}/discussion/messages/{w['message']}/delete", {}),
        (f"{S}/discussion/P1/share-reason", {f"reason-{vid}": "Shared afterwards"}),
        (f"{S}/discussion/P1/follow", {"following": "yes"}),
        (f"{S}/withdraw", {"answers": "remove"}),
        (f"{S}/background", {}),
    ]


def _refused(client, url: str, data: dict[str, Any]) -> str:
    """POST and return what the person is shown; fails on a 500 or an answer that did it."""
    response = client.post(url, data=data)
    assert response.status_code < 500, (url, response.status_code)
    if response.status_code in (302, 303):
        assert response.status_code == 303, url
        shown = client.get(response.headers["Location"])
        assert shown.status_code == 200, url
        return text_of(shown)
    assert 400 <= response.status_code < 500, (url, response.status_code)
    return text_of(response)


@pytest.mark.parametrize("who", ["facilitator", "panellist"])
def test_every_change_to_a_completed_study_is_refused_and_the_specification_is_unchanged(
    app, client, who
):
    w = _completed_study()
    panel: Panel = w["panel"]
    before, spec = _record(), _specification(panel.study)
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    if who == "facilitator":
        sign_in(client, panel.facilitator)
        routes = _facilitator_routes(w)
    else:
        sign_in(client, panel.partners[0].user)
        routes = _panellist_routes(w)
    for url, data, *other in routes:
        shown = _refused(client, url, data)
        assert FINAL in shown or (other and other[0] in shown), (url, shown[:600])
    db.session.expire_all()
    assert _record() == before
    assert _specification(panel.study) == spec
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events
    assert db.session.get(Study, panel.study.id).title == "Test study"


def test_a_late_invitation_cannot_join_a_completed_study(app, client):
    w = _completed_study()
    opened = client.get(f"/invitation/{w['late_token']}")
    assert opened.status_code == 409 and FINAL in text_of(opened)
    response = client.post(f"/invitation/{w['late_token']}", data={})
    assert response.status_code == 409
    assert FINAL in text_of(response) and "joining the panel is not possible" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Panellist, w["late"].id).joined_at is None


def test_a_completed_study_s_pages_offer_no_changes_and_say_why(app, client):
    w = _completed_study()
    panel: Panel = w["panel"]
    sign_in(client, panel.facilitator)
    for url in (S, f"{S}/items", f"{S}/panel", f"{S}/settings", f"{S}/items/new"):
        shown = get_page(client, url)
        assert "its record is final" in text_of(shown), url
        assert page(shown).find("a", string="reopen the study") is not None, url
    dashboard = page(get_page(client, S))
    assert dashboard.select(f"form[action='{S}/groups']") == []
    assert page(get_page(client, f"{S}/items")).select(f"form[action='{S}/items/import']") == []
    panel_page = page(get_page(client, f"{S}/panel"))
    assert panel_page.select(f"form[action='{S}/panel/invite']") == []
    assert panel_page.select(f"form[action='{S}/panel/{w['late'].id}/reinvite']") == []
    assert page(get_page(client, f"{S}/settings")).find("button", string="Save study") is None
    thread = page(get_page(client, f"{S}/discussion/P1"))
    assert thread.select(f"form[action='{S}/discussion/P1/summary']") == []
    assert thread.select(f"form[action='{S}/discussion/P1/lock']") == []
    assert thread.find("a", string=lambda s: s and s.startswith("Hide")) is None
    assert "part of the final record" in thread.get_text()
    results = page(get_page(client, f"{S}/rounds/1/results"))
    assert results.find("button", string="Confirm decisions") is None

    panellist = client.application.test_client()
    sign_in(panellist, panel.partners[0].user)
    thread = page(get_page(panellist, f"{S}/discussion/P1"))
    assert thread.select("textarea") == []
    assert thread.select(f"form[action='{S}/discussion/P1/follow']") == []
    assert thread.find("a", string=lambda s: s and s.startswith("Edit")) is None
    assert "part of the final record" in thread.get_text()
    proposals = text_of(get_page(panellist, f"{S}/proposals"))
    assert "completed, so it no longer takes proposals" in proposals


def test_reopening_asks_for_a_reason_and_confirmation_and_the_record_says_so(app, client):
    w = _completed_study()
    panel: Panel = w["panel"]
    sign_in(client, panel.facilitator)
    link = page(get_page(client, S)).find("a", string="Reopen the study")
    assert link["href"] == f"{S}/reopen"
    assert "Every item was decided." in text_of(get_page(client, link["href"]))

    empty = post_form(client, f"{S}/reopen", {"reason": ""}, status=422)
    assert "Give the reason for reopening the study" in text_of(empty)
    reason = "A partner's ratings were entered against the wrong item"
    question = post_form(client, f"{S}/reopen", {"reason": reason}, status=200)
    assert "Reopen the study?" in text_of(question) and reason in text_of(question)
    db.session.expire_all()
    assert db.session.get(Study, panel.study.id).status == "completed"

    post_form(client, f"{S}/reopen", {"reason": reason, "confirm": "yes"}, status=303)
    db.session.expire_all()
    study = db.session.get(Study, panel.study.id)
    assert study.status == "active" and study.completed_at is None
    (event,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "study.reopened")
    ).all()
    assert event.user_id == panel.facilitator.id
    assert event.detail["reason"] == reason
    assert event.detail["stop_reason"] == "Every item was decided."
    assert "Reopened the completed study" in text_of(get_page(client, f"{S}/audit"))
    assert "Reopened after completion" in text_of(get_page(client, S))
    assert reason in text_of(get_page(client, S))
    stopping = build_specification(study)["methods"]["stopping"]
    assert "reopened the completed study on" in stopping and reason in stopping

    # Open again: a group can be added, and completing again is possible.
    post_form(client, f"{S}/groups", {"name": "A late group"}, status=303)
    again = post_form(client, f"{S}/complete", {"reason": "Corrected.", "confirm": "yes"})
    assert again.status_code == 303
    db.session.expire_all()
    study = db.session.get(Study, panel.study.id)
    assert study.status == "completed"
    assert reason in build_specification(study)["methods"]["stopping"]


def test_a_study_that_is_not_completed_cannot_be_reopened(app, client, panel):
    sign_in(client, panel.facilitator)
    assert "nothing to reopen" in text_of(get_page(client, f"{S}/reopen"))
    refused = post_form(client, f"{S}/reopen", {"reason": "Why not", "confirm": "yes"}, status=422)
    assert "not completed, so there is nothing to reopen" in text_of(refused)
