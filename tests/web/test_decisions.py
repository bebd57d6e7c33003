"""Deciding on each item after a round: a refused form keeps every choice and says which
row needs what."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import ItemDecision, Rating, Round
from app.services.rounds import close_round, open_round
from tests.conftest import Panel, sign_in
from tests.web.helpers import error_summary, page

SCORES = [
    [8, 9, 7, 8, 9],  # P1 consensus in: accept suggested
    [1, 2, 2, 3, 1],  # P2 consensus out: exclude suggested
    [2, 5, 8, 9, 4],  # P3 no consensus: carry forward suggested
    [7, 8, 5, 9, 8],  # I1 consensus in
]


def closed_round(panel: Panel) -> Round:
    round_ = open_round(panel.study, actor=panel.facilitator)
    for ri, scores in zip(round_.round_items, SCORES, strict=True):
        for panellist, score in zip(panel.raters, scores, strict=True):
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
    return round_


def test_a_decision_sent_without_its_reason_keeps_every_choice_and_marks_its_row(client, panel):
    round_ = closed_round(panel)
    ids = {ri.item_version.item.ref: ri.item_version.item_id for ri in round_.round_items}
    sign_in(client, panel.facilitator)
    form = {
        f"decision-{ids['P1']}": "carry_forward",  # differs, no reason
        f"reason-{ids['P1']}": "   ",
        f"decision-{ids['P2']}": "exclude",
        f"decision-{ids['P3']}": "accept",  # differs, with a reason
        f"reason-{ids['P3']}": "Strong support in the discussion",
        f"decision-{ids['I1']}": "accept",
    }
    response = client.post("/studies/test-study/rounds/1/decisions", data=form)

    assert response.status_code == 422
    soup = page(response)
    chosen = {
        ref: soup.select_one(f"#decision-{item_id} option[selected]")["value"]
        for ref, item_id in ids.items()
    }
    assert chosen == {"P1": "carry_forward", "P2": "exclude", "P3": "accept", "I1": "accept"}
    assert soup.select_one(f"#reason-{ids['P3']}")["value"] == "Strong support in the discussion"
    # The summary at the top links to the reason that is missing.
    assert error_summary(response) == [
        "Give a reason for carrying forward P1: the suggestion was to accept it"
    ]
    link = soup.select_one(".nhsuk-error-summary a")
    assert link["href"] == f"#reason-{ids['P1']}"
    # Its row is marked, with the message beside the field.
    row = soup.select_one(f"#reason-{ids['P1']}").find_parent("tr")
    assert row.select_one(".nhsuk-form-group--error") is not None
    assert "Give a reason for carrying forward P1" in row.select_one(".nhsuk-error-message").text
    assert soup.select_one(f"#reason-{ids['P1']}")["aria-describedby"] == (
        f"reason-{ids['P1']}-error"
    )
    other = soup.select_one(f"#reason-{ids['P3']}").find_parent("tr")
    assert other.select_one(".nhsuk-error-message") is None
    assert soup.title.get_text().startswith("Error: ")
    confirmed = select(func.count(ItemDecision.id)).where(ItemDecision.decided_at.is_not(None))
    assert db.session.scalar(confirmed) == 0


def test_decisions_sent_again_with_the_reason_are_saved(client, panel):
    round_ = closed_round(panel)
    ids = {ri.item_version.item.ref: ri.item_version.item_id for ri in round_.round_items}
    sign_in(client, panel.facilitator)
    form = {f"decision-{item_id}": "accept" for item_id in ids.values()}
    form[f"decision-{ids['P2']}"] = "exclude"
    form[f"decision-{ids['P3']}"] = "carry_forward"
    form[f"decision-{ids['P1']}"] = "carry_forward"
    form[f"reason-{ids['P1']}"] = "Wording needs work with patients"
    assert client.post("/studies/test-study/rounds/1/decisions", data=form).status_code == 303
    stored = db.session.scalar(select(ItemDecision).where(ItemDecision.item_id == ids["P1"]))
    assert (stored.decision, stored.reason) == ("carry_forward", "Wording needs work with patients")
