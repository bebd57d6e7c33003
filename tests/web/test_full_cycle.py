"""A scripted three-round study through the web layer: proposals, a revision, one item accepted
in round 1, one excluded in round 2, one never reaching consensus, and a stated stop reason."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Item, ItemDecision, Proposal, Rating, Round, RoundSnapshot
from app.services.cycle import invited_panellists, is_invited
from app.services.results import ratings_frame
from scoring import PercentageRule, Scale, item_summary
from tests.conftest import Panel, build_panel, sign_in
from tests.web.helpers import CLOSE, get_page, page, post_form, text_of

# Five raters: three partners then two patient representatives.
SCORES = {
    1: {"P1": [8, 9, 8, 7, 9], "P2": [5, 2, 6, 3, 5], "P3": [2, 8, 5, 9, 4], "I1": [5, 5, 6, 7, 4]},
    2: {"P2": [2, 1, 3, 2, 2], "P3": [3, 7, 5, 8, 5], "I1": [6, 5, 6, 7, 5], "P4": [7, 8, 5, 6, 9]},
    3: {"P3": [4, 7, 5, 8, 6], "I1": [6, 6, 6, 7, 5], "P4": [8, 8, 6, 5, 9]},
}


@pytest.fixture
def study_panel(app) -> Panel:
    panel = build_panel(prompts=3, indicators=1, partners=3, patients=2)
    panel.study.proposals_open = True
    db.session.commit()
    return panel


def ref_to_vid(round_: Round) -> dict[str, int]:
    return {ri.item_version.item.ref: ri.item_version_id for ri in round_.round_items}


def rate_round(app, panel: Panel, number: int) -> None:
    round_ = db.session.scalar(select(Round).where(Round.number == number))
    vids = ref_to_vid(round_)
    assert set(vids) == set(SCORES[number])
    for index, panellist in enumerate(panel.raters):
        client = app.test_client()
        sign_in(client, panellist.user)
        form = {f"score-{vids[ref]}": str(scores[index]) for ref, scores in SCORES[number].items()}
        assert (
            client.post(f"/studies/test-study/rounds/{number}/ballot", data=form).status_code == 303
        )


def confirm_suggestions(client, number: int) -> None:
    round_ = db.session.scalar(select(Round).where(Round.number == number))
    form = {}
    for decision in db.session.scalars(
        select(ItemDecision).where(ItemDecision.round_id == round_.id)
    ):
        form[f"decision-{decision.item_id}"] = decision.suggested
    assert (
        client.post(f"/studies/test-study/rounds/{number}/decisions", data=form).status_code == 303
    )


def statuses(number: int) -> dict[str, str]:
    round_ = db.session.scalar(select(Round).where(Round.number == number))
    snapshot = db.session.scalar(select(RoundSnapshot).where(RoundSnapshot.round_id == round_.id))
    return {entry["ref"]: entry["status"] for entry in snapshot.payload["items"].values()}


def test_a_three_round_study_runs_from_proposals_to_a_stated_stop(app, client, study_panel):
    panel = study_panel
    facilitator = client
    sign_in(facilitator, panel.facilitator)
    assert facilitator.post("/studies/test-study/rounds/open", data={}).status_code == 303

    # Round 1 is open to ideas: a new prompt and a rewording of P3.
    proposer = app.test_client()
    sign_in(proposer, panel.patients[0].user)
    assert (
        proposer.post(
            "/studies/test-study/proposals",
            data={
                "kind": "prompt",
                "theme": "Offers research",
                "text": "Are patients thanked?",
                "reason": "Feeling valued keeps people in research.",
            },
        ).status_code
        == 303
    )
    assert (
        proposer.post(
            "/studies/test-study/proposals",
            data={
                "kind": "rewording",
                "item": "P3",
                "text": "Prompt number three, in plain words?",
                "reason": "Clearer for the public.",
            },
        ).status_code
        == 303
    )
    new, rewording = db.session.scalars(select(Proposal).order_by(Proposal.id)).all()
    review = text_of(get_page(facilitator, "/studies/test-study/proposals"))
    assert "Are patients thanked?" in review and "Rewording of P3" in review
    assert (
        facilitator.post(
            f"/studies/test-study/proposals/{new.id}/decide",
            data={"outcome": "accepted", "response": "Added as a new prompt."},
        ).status_code
        == 303
    )
    assert (
        facilitator.post(
            f"/studies/test-study/proposals/{rewording.id}/decide",
            data={
                "outcome": "merged",
                "merge_into": "P3",
                "response": "We will use this wording in round 2.",
            },
        ).status_code
        == 303
    )
    mine = text_of(get_page(proposer, "/studies/test-study/proposals"))
    assert "Added as a new prompt." in mine and "Merged" in mine

    rate_round(app, panel, 1)
    assert facilitator.post("/studies/test-study/rounds/1/close", data=CLOSE).status_code == 303
    assert statuses(1) == {
        "P1": "consensus_in",
        "P2": "no_consensus",
        "P3": "no_consensus",
        "I1": "no_consensus",
    }
    confirm_suggestions(facilitator, 1)

    # Between rounds the facilitator revises P3; a change note is required.
    post_form(
        facilitator,
        "/studies/test-study/items/P3/revise",
        data={"text": "Prompt number three, in plain words?"},
        status=422,
    )
    assert (
        facilitator.post(
            "/studies/test-study/items/P3/revise",
            data={
                "text": "Prompt number three, in plain words?",
                "change_note": "Plainer wording proposed by a patient representative.",
            },
        ).status_code
        == 303
    )

    assert (
        facilitator.post(
            "/studies/test-study/rounds/open", data={"invite_rule": "everyone"}
        ).status_code
        == 303
    )
    round2 = db.session.scalar(select(Round).where(Round.number == 2))
    assert sorted(ref_to_vid(round2)) == ["I1", "P2", "P3", "P4"]
    ballot = app.test_client()
    sign_in(ballot, panel.partners[1].user)
    soup = page(get_page(ballot, "/studies/test-study/rounds/2/ballot"))
    p3 = soup.select_one(f"#item-{ref_to_vid(round2)['P3']}")
    assert "Changed since round 1" in p3.get_text()
    assert [i.get_text() for i in p3.select("ins")][0].startswith("[added: ")
    assert "Plainer wording proposed by a patient representative." in p3.get_text()

    rate_round(app, panel, 2)
    assert facilitator.post("/studies/test-study/rounds/2/close", data=CLOSE).status_code == 303
    assert statuses(2) == {
        "P2": "consensus_out",
        "P3": "no_consensus",
        "I1": "no_consensus",
        "P4": "no_consensus",
    }
    confirm_suggestions(facilitator, 2)
    assert (
        facilitator.post(
            "/studies/test-study/rounds/open", data={"invite_rule": "completed_previous"}
        ).status_code
        == 303
    )
    rate_round(app, panel, 3)
    assert facilitator.post("/studies/test-study/rounds/3/close", data=CLOSE).status_code == 303
    assert statuses(3)["P3"] == "no_consensus"
    confirm_suggestions(facilitator, 3)

    # The study shows why it may stop, and the facilitator completes it with that reason.
    completion = text_of(get_page(facilitator, "/studies/test-study/complete"))
    assert "The maximum of 3 rounds has been reached." in completion
    assert (
        facilitator.post(
            "/studies/test-study/complete",
            data={"reason": "The maximum of 3 rounds has been reached.", "confirm": "yes"},
        ).status_code
        == 303
    )

    decisions = {i.ref: i.decision for i in db.session.scalars(select(Item))}
    assert decisions["P1"] == "accept" and decisions["P2"] == "exclude"
    assert decisions["P3"] is None  # never reached consensus
    p3_item = db.session.scalar(select(Item).where(Item.ref == "P3"))
    assert [v.number for v in p3_item.versions] == [1, 2]
    round1 = db.session.scalar(select(Round).where(Round.number == 1))
    assert {
        r.item_version_id
        for r in db.session.scalars(select(Rating).where(Rating.round_id == round1.id))
    } >= {p3_item.versions[0].id}
    assert db.session.scalar(select(func.count(RoundSnapshot.id))) == 3
    assert panel.study.status == "completed"
    assert panel.study.stop_reason == "The maximum of 3 rounds has been reached."

    # Each snapshot equals the scoring package's output on the same ratings.
    for number in (1, 2, 3):
        round_ = db.session.scalar(select(Round).where(Round.number == number))
        snapshot = db.session.scalar(
            select(RoundSnapshot).where(RoundSnapshot.round_id == round_.id)
        )
        expected = item_summary(ratings_frame(round_), Scale(1, 9), PercentageRule(70, 15))
        for vid, entry in snapshot.payload["items"].items():
            assert entry["status"] == expected.loc[int(vid), "status"]
            assert entry["pct_top"] == pytest.approx(expected.loc[int(vid), "pct_top"])

    # A completed study is read-only.
    refused = post_form(
        facilitator,
        "/studies/test-study/items/P3/revise",
        data={"text": "Another go", "change_note": "Late idea"},
        status=422,
    )
    assert "completed" in text_of(refused)
    reopened = facilitator.post("/studies/test-study/rounds/open", data={})
    assert "completed" in text_of(get_page(facilitator, reopened.headers["Location"]))
    assert db.session.scalar(select(func.count(Round.id))) == 3


def test_round_three_for_completers_only_refuses_someone_who_skipped_round_two(
    app, client, study_panel
):
    panel = study_panel
    sign_in(client, panel.facilitator)
    client.post("/studies/test-study/rounds/open", data={})
    rate_round(app, panel, 1)
    client.post("/studies/test-study/rounds/1/close", data=CLOSE)
    confirm_suggestions(client, 1)
    client.post("/studies/test-study/rounds/open", data={"invite_rule": "completed_previous"})
    round2 = db.session.scalar(select(Round).where(Round.number == 2))
    # Everyone completed round 1, so everyone is invited to round 2.
    assert round2.invite_rule == "completed_previous"
    skipper = panel.raters[0]
    db.session.execute(
        db.delete(Rating).where(
            Rating.round_id == db.session.scalar(select(Round.id).where(Round.number == 1)),
            Rating.panellist_id == skipper.id,
        )
    )
    db.session.commit()
    other = app.test_client()
    sign_in(other, skipper.user)
    vid = ref_to_vid(round2)["P2"]
    response = other.post(
        f"/studies/test-study/rounds/2/items/{vid}/rating",
        data={f"score-{vid}": "5"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 403
    assert "for panellists who rated every item of round 1" in text_of(response)
    # The per-panellist check used on every save agrees with the panel-wide rule.
    invited = {p.id for p in invited_panellists(round2)}
    assert skipper.id not in invited and len(invited) == len(panel.raters) - 1
    for panellist in [*panel.raters, panel.observer]:
        assert is_invited(round2, panellist) == (panellist.id in invited)
    # The dashboard's count of who has not finished agrees too, before and after a rating.
    from app.services.cycle import non_responder_count, non_responders

    assert non_responder_count(round2) == len(non_responders(round2)) == len(invited)
    db.session.add(
        Rating(round_id=round2.id, panellist_id=panel.raters[1].id, item_version_id=vid, score=5)
    )
    db.session.commit()
    assert non_responder_count(round2) == len(non_responders(round2)) == len(invited)
    for item_vid in ref_to_vid(round2).values():
        if item_vid != vid:
            db.session.add(
                Rating(
                    round_id=round2.id,
                    panellist_id=panel.raters[1].id,
                    item_version_id=item_vid,
                    score=5,
                )
            )
    db.session.commit()
    assert non_responder_count(round2) == len(non_responders(round2)) == len(invited) - 1


def test_moving_band_asks_for_a_reason_and_the_needs_my_rating_filter_hides_rated_items(
    app, client, study_panel
):
    panel = study_panel
    sign_in(client, panel.facilitator)
    client.post("/studies/test-study/rounds/open", data={})
    rate_round(app, panel, 1)
    client.post("/studies/test-study/rounds/1/close", data=CLOSE)
    confirm_suggestions(client, 1)
    client.post("/studies/test-study/rounds/open", data={})
    round2 = db.session.scalar(select(Round).where(Round.number == 2))
    vid = ref_to_vid(round2)["P2"]
    me = app.test_client()
    sign_in(me, panel.raters[0].user)  # rated P2 a 5 in round 1
    same_band = me.post(
        f"/studies/test-study/rounds/2/items/{vid}/rating",
        data={f"score-{vid}": "6"},
        headers={"HX-Request": "true"},
    )
    assert "You moved this item" not in text_of(same_band)
    moved = me.post(
        f"/studies/test-study/rounds/2/items/{vid}/rating",
        data={f"score-{vid}": "8"},
        headers={"HX-Request": "true"},
    )
    assert "You moved this item from 4-6 to 7-9 since the last round" in text_of(moved)
    me.post(
        f"/studies/test-study/rounds/2/items/{vid}/rating",
        data={f"score-{vid}": "8", f"change-{vid}": "The discussion convinced me"},
        headers={"HX-Request": "true"},
    )
    db.session.expire_all()  # the requests shared this session; read what they stored
    rating = db.session.scalar(
        select(Rating).where(Rating.item_version_id == vid, Rating.round_id == round2.id)
    )
    assert rating.change_reason == "The discussion convinced me"
    filtered = page(get_page(me, "/studies/test-study/rounds/2/ballot?show=needs-rating"))
    shown = {card["id"] for card in filtered.select(".app-item")}
    assert f"item-{vid}" not in shown and len(shown) == len(round2.round_items) - 1
    # Facilitators see the reasons for changing band in the round's results.
    client.post("/studies/test-study/rounds/2/close", data=CLOSE)
    results = text_of(get_page(client, "/studies/test-study/rounds/2/results"))
    assert "Why panellists changed their minds" in results
    assert "The discussion convinced me (CQC)" in results


def test_the_api_gives_study_and_results_json_to_a_token_holder_and_nobody_else(
    app, client, study_panel
):
    panel = study_panel
    sign_in(client, panel.facilitator)
    client.post("/studies/test-study/rounds/open", data={})
    rate_round(app, panel, 1)
    client.post("/studies/test-study/rounds/1/close", data=CLOSE)
    created = page(client.post("/studies/test-study/api-tokens", data={"label": "analysis"}))
    token = created.select_one(".app-invite-link").get_text(strip=True)
    robot = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    study = robot.get("/api/v1/studies/test-study", headers=headers)
    assert study.status_code == 200
    assert [i["ref"] for i in study.json["items"]] == ["P1", "P2", "P3", "I1"]
    results = robot.get("/api/v1/studies/test-study/rounds/1/results", headers=headers).json
    by_ref = {i["ref"]: i for i in results["items"]}
    assert by_ref["P1"]["status"] == "consensus_in" and by_ref["P1"]["median"] == 8
    assert by_ref["P1"]["decision"]["suggested"] == "accept"
    html = robot.get("/api/v1/studies/test-study", headers=headers).get_data(as_text=True)
    for person in panel.raters:
        assert person.user.name not in html and person.user.email not in html
    bad = robot.get("/api/v1/studies/test-study", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json["error"].startswith("The API token is not valid")
    other = build_panel(slug="other-study", observer=False)
    assert robot.get("/api/v1/studies/other-study", headers=headers).status_code == 401
    assert other.study.slug == "other-study"
