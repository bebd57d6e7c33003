"""What panellists are told about the facilitators' decisions, the items they rate and how to
propose: every decision with what the rule found and the reason (issue 13, points 6 and 9)."""

from __future__ import annotations

from app.extensions import db
from app.models import Rating, Round
from app.services.rounds import close_round, open_round, record_decisions
from delphi import Decision
from tests.conftest import Panel, sign_in
from tests.web.helpers import get_page, page, text_of

SCORES = [
    [8, 9, 7, 8, 9],  # P1 consensus in
    [1, 2, 2, 3, 1],  # P2 consensus out
    [2, 5, 8, 9, 4],  # P3 no consensus
    [7, 8, 5, 9, 8],  # I1 consensus in
]
REASON = "Inspectors already ask this under the governance prompt"


def rate_and_close(panel: Panel, round_: Round, scores: list[list[int]] = SCORES) -> None:
    for ri, row in zip(round_.round_items, scores, strict=True):
        for panellist, score in zip(panel.raters, row, strict=True):
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


def decided_round_one(panel: Panel) -> dict[str, int]:
    """Round 1 closed; P1 (consensus in) left out by the facilitators, with a reason."""
    round_ = open_round(panel.study, actor=panel.facilitator)
    rate_and_close(panel, round_)
    ids = {ri.item_version.item.ref: ri.item_version.item_id for ri in round_.round_items}
    problems = record_decisions(
        round_,
        {
            ids["P1"]: (Decision.EXCLUDE, REASON),
            ids["P2"]: (Decision.EXCLUDE, ""),
            ids["P3"]: (Decision.CARRY_FORWARD, ""),
            ids["I1"]: (Decision.CARRY_FORWARD, "Rate the revised threshold"),
        },
        panel.facilitator,
    )
    assert problems == []
    return ids


def test_an_override_is_shown_on_the_feedback_with_what_the_rule_found_and_the_reason(
    client, panel
):
    ids = decided_round_one(panel)
    sign_in(client, panel.patients[0].user)
    response = get_page(client, "/studies/test-study/rounds/1/feedback")
    soup = page(response)
    p1 = " ".join(soup.select_one(f"#fb-{ids['P1']}-decision").get_text(" ").split())
    assert "Agreed" not in p1
    assert "Left out by the facilitators" in p1
    assert "What the rule found Consensus in, so the rule suggested to accept it." in p1
    assert "Leave it out, which differs from the rule's suggestion." in p1
    assert f"Their reason {REASON}" in p1
    # A decision that follows the rule says so, and is "agreed".
    p2 = " ".join(soup.select_one(f"#fb-{ids['P2']}-decision").get_text(" ").split())
    assert "Agreed: left out" in p2
    assert "Leave it out, as the rule suggested." in p2
    assert "Their reason" not in p2


def test_the_study_page_lists_each_decision_with_the_rule_and_the_reason(client, panel):
    decided_round_one(panel)
    sign_in(client, panel.partners[0].user)
    response = get_page(client, "/studies/test-study")
    soup = page(response)
    row = " ".join(soup.select_one("#decision-1-P1").get_text(" ").split())
    assert row == (
        "P1 Prompt number 1? Consensus in, so the rule suggested to accept it. Left out by the "
        f"facilitators Leave it out, which differs from the rule's suggestion. {REASON}"
    )
    # Collapsed to a count of each decision, so that a phone need not scroll past every row.
    summary = soup.select_one("details.app-decisions-round summary").get_text(" ", strip=True)
    assert summary.startswith("Decisions after round 1: ")
    assert "1 left out by the facilitators" in summary
    assert "What the panel thought in round 1" in text_of(response)
    assert soup.select_one("a[href='/studies/test-study/rounds/1/feedback']") is not None


def test_the_ballot_shows_last_rounds_decision_when_the_facilitators_gave_a_reason(
    client, panel
):
    ids = decided_round_one(panel)
    open_round(panel.study, actor=panel.facilitator)
    sign_in(client, panel.partners[0].user)
    response = get_page(client, "/studies/test-study/rounds/2/ballot")
    soup = page(response)
    vid = next(
        ri.item_version_id
        for ri in panel.study.rounds[1].round_items
        if ri.item_version.item_id == ids["I1"]
    )
    block = " ".join(soup.select_one(f"#decision-{vid}").get_text(" ").split())
    assert "Consensus in, so the rule suggested to accept it." in block
    assert "Rate it again in the next round, which differs from the rule's suggestion." in block
    assert "Rate the revised threshold" in block


def test_a_study_taking_proposals_leads_panellists_to_them_from_study_page_and_ballot(
    client, panel
):
    panel.study.proposals_open = True
    db.session.commit()
    round_ = open_round(panel.study, actor=panel.facilitator)
    sign_in(client, panel.partners[0].user)
    home = page(get_page(client, "/studies/test-study"))
    assert home.find("a", string="Propose a new item or better wording")["href"] == (
        "/studies/test-study/proposals"
    )
    ballot = page(get_page(client, "/studies/test-study/rounds/1/ballot"))
    assert ballot.find("a", string="Propose a new item or better wording") is not None
    link = ballot.find("a", string="Suggest better wording for P2")
    assert link["href"] == "/studies/test-study/proposals?item=P2"
    form = page(get_page(client, link["href"]))
    assert form.select_one("input[name='kind'][value='rewording']").has_attr("checked")
    assert form.select_one("select[name='item'] option[selected]")["value"] == "P2"
    per_item = ballot.find_all("a", string=lambda s: s and s.startswith("Suggest better wording"))
    assert len(per_item) == len(round_.round_items)


def test_without_proposals_no_link_is_shown_and_observers_never_see_one(client, panel):
    open_round(panel.study, actor=panel.facilitator)
    sign_in(client, panel.partners[0].user)
    assert "Propose" not in text_of(get_page(client, "/studies/test-study/rounds/1/ballot"))
    panel.study.proposals_open = True
    db.session.commit()
    sign_in(client, panel.observer.user)
    assert "Propose" not in text_of(get_page(client, "/studies/test-study"))
    assert "better wording" not in text_of(get_page(client, "/studies/test-study/rounds/1/ballot"))
