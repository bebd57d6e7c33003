"""When a study completes, its panellists are told: their study page shows the outcome (agreed,
excluded, no consensus), the last round's feedback and, if the study shares it, the
specification; and everyone who joined is emailed when mail is set up. A mail server that
fails never undoes the completion: the facilitator is told what was not sent."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ItemDecision, Rating, Study
from app.services.cycle import complete_study
from app.services.rounds import close_round, open_round, record_decisions
from delphi import Decision
from tests.conftest import Panel, sign_in
from tests.web.conftest import free_port
from tests.web.helpers import get_page, page, post_form, text_of

S = "/studies/test-study"


def decided(panel: Panel) -> None:
    """Round 1 rated: P1 and I1 agreed, P2 excluded, P3 with no consensus; decisions confirmed."""
    round_ = open_round(panel.study, actor=panel.facilitator)
    scores = [8, 2, 5, 8]
    for panellist in panel.raters:
        for ri, score in zip(round_.round_items, scores, strict=True):
            db.session.add(
                Rating(
                    round_id=round_.id,
                    panellist_id=panellist.id,
                    item_version_id=ri.item_version_id,
                    score=score,
                )
            )
    db.session.commit()
    close_round(round_.id, actor=panel.facilitator)
    choices = {
        d.item_id: (Decision(d.suggested), "")
        for d in db.session.scalars(select(ItemDecision).where(ItemDecision.round_id == round_.id))
    }
    assert record_decisions(round_, choices, panel.facilitator) == []


def test_a_panellist_s_page_shows_the_outcome_once_the_study_is_completed(client, panel):
    decided(panel)
    sign_in(client, panel.partners[0].user)
    before = text_of(get_page(client, S))
    assert "you will hear when the next round opens" in before

    complete_study(panel.study, "Every item was decided.", actor=panel.facilitator)
    shown = get_page(client, S)
    words = text_of(shown)
    assert "The study is completed" in words and "Every item was decided." in words
    assert "you will hear when the next round opens" not in words
    assert "2 items agreed, 1 excluded, 1 with no consensus" in words
    soup = page(shown)
    agreed = [li.get_text(" ", strip=True) for li in soup.select(".app-outcome-agreed li")]
    assert agreed == ["P1 Prompt number 1?", "I1 Indicator 1"]
    assert [li.get_text(" ", strip=True) for li in soup.select(".app-outcome-excluded li")] == [
        "P2 Prompt number 2?"
    ]
    assert [li.get_text(" ", strip=True) for li in soup.select(".app-outcome-no_consensus li")] == [
        "P3 Prompt number 3?"
    ]
    feedback = soup.find("a", string=lambda s: s and "feedback from round 1" in s)
    assert feedback["href"] == f"{S}/rounds/1/feedback"
    get_page(client, feedback["href"])
    # Not shared by the study's settings: no link, and the page refuses.
    assert soup.find("a", string="Read the specification") is None
    refused = client.get(f"{S}/specification")
    assert refused.status_code == 403
    assert "have not shared the specification" in text_of(refused)


def test_a_study_that_shares_its_specification_shows_it_to_the_panel_without_names(client, panel):
    panel.study.share_specification = True
    db.session.commit()
    decided(panel)
    sign_in(client, panel.partners[0].user)
    assert client.get(f"{S}/specification").status_code == 403  # not completed yet
    complete_study(panel.study, "Every item was decided.", actor=panel.facilitator)
    link = page(get_page(client, S)).find("a", string="Read the specification")
    spec = text_of(get_page(client, link["href"]))
    assert "Prompt number 1?" in spec
    for person in panel.raters[1:]:  # the page's header names the reader only
        assert person.name not in spec


def test_the_share_setting_is_saved_from_the_settings_page(client, panel):
    sign_in(client, panel.facilitator)
    form = {
        "title": "Test study",
        "purpose": "To agree prompts.",
        "scale": "9",
        "rule": "percentage",
        "pct_in": "70",
        "pct_out_max": "15",
        "max_iqr": "2",
        "max_rounds": "3",
        "mode": "rounds",
        "share_specification": "y",
    }
    post_form(client, f"{S}/settings", form, status=303)
    db.session.expire_all()
    assert db.session.get(Study, panel.study.id).share_specification is True
    assert (
        page(get_page(client, f"{S}/settings")).select_one("#share_specification")["checked"] == ""
    )


def test_completing_emails_everyone_who_joined_the_outcome(client, panel, smtp):
    decided(panel)
    sign_in(client, panel.facilitator)
    done = post_form(client, f"{S}/complete", {"reason": "All decided.", "confirm": "yes"})
    shown = text_of(get_page(client, done.headers["Location"]))
    assert "The outcome was emailed to 6 panellists." in shown
    assert sorted(m["To"] for m in smtp.messages) == sorted(
        p.user.email for p in [*panel.raters, panel.observer]
    )
    body = smtp.messages[0].get_payload(decode=True).decode().replace("\r\n", "\n")
    assert "is completed" in body
    assert "Agreed (consensus in) (2):\n- P1: Prompt number 1?\n- I1: Indicator 1" in body
    assert "Excluded (consensus out) (1):\n- P2: Prompt number 2?" in body
    assert "http://localhost/studies/test-study" in body
    (event,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "study.outcome_emailed")
    ).all()
    assert event.detail == {"sent": 6, "failed": 0}


def test_a_failing_mail_server_does_not_undo_the_completion_and_the_facilitator_is_told(
    client, panel, app
):
    decided(panel)
    sign_in(client, panel.facilitator)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    try:
        done = client.post(f"{S}/complete", data={"reason": "All decided.", "confirm": "yes"})
        assert done.status_code == 303
        shown = text_of(client.get(done.headers["Location"]))
    finally:
        app.config.update(MAIL_SERVER="")
    db.session.expire_all()
    assert db.session.get(Study, panel.study.id).status == "completed"
    assert "The study is completed." in shown
    assert "The outcome could not be emailed to 6 panellists" in shown
    assert "Could not send email to" in shown


def test_without_mail_the_facilitator_is_told_the_panel_sees_the_outcome_on_its_page(client, panel):
    decided(panel)
    sign_in(client, panel.facilitator)
    done = post_form(client, f"{S}/complete", {"reason": "All decided.", "confirm": "yes"})
    shown = text_of(get_page(client, done.headers["Location"]))
    assert "Email is not set up, so the panel was not emailed" in shown
