"""Running rounds: opening, rating (autosave and plain submit), closing, results, round 2."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import ItemDecision, Rating, Round, RoundItem, RoundSnapshot
from app.services.results import compute_results, ratings_frame
from app.services.rounds import close_round, open_round
from delphi import RoundStatus
from scoring import PercentageRule, Scale, item_summary
from tests.conftest import Panel, sign_in
from tests.web.helpers import CLOSE, get_page, page, post_form, text_of

HX = {"HX-Request": "true"}


@pytest.fixture
def round1(panel: Panel) -> Round:
    return open_round(panel.study, actor=panel.facilitator)


def version_ids(round_: Round) -> list[int]:
    return [ri.item_version_id for ri in round_.round_items]


def rate(client, round_: Round, vid: int, value: str, reason: str = "", headers=HX):
    return client.post(
        f"/studies/test-study/rounds/{round_.number}/items/{vid}/rating",
        data={f"score-{vid}": value, f"reason-{vid}": reason},
        headers=headers,
    )


def test_opening_round_one_puts_every_item_on_the_ballot(client, panel: Panel):
    sign_in(client, panel.facilitator)
    response = client.post("/studies/test-study/rounds/open", data={"instructions": "Go"})
    assert response.status_code == 303
    round_ = db.session.scalar(select(Round))
    assert round_.status == "open" and len(round_.round_items) == 4
    assert panel.study.status == "active"


def test_the_ballot_shows_items_by_theme_with_the_labelled_scale(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    response = client.get("/studies/test-study/rounds/1/ballot")
    soup = page(response)
    assert [h.get_text(strip=True) for h in soup.select("form.app-ballot h2")][:2] == [
        "Offers research",
        "Conduct",
    ]
    vid = version_ids(round1)[0]
    legend = soup.select_one(f"#item-{vid} legend").get_text(strip=True)
    assert legend == "Your rating for P1"
    values = [i["value"] for i in soup.select(f"input[name=score-{vid}]")]
    assert values == [str(n) for n in range(1, 10)] + ["unable"]
    assert "0 of 4 rated" in text_of(response)
    assert "7-9: critical, include" in text_of(response)


def test_autosave_stores_the_rating_and_answers_with_saved_and_progress(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    vid = version_ids(round1)[0]
    response = rate(client, round1, vid, "8", "Core to well-led")
    assert response.status_code == 200
    soup = page(response)
    assert soup.select_one(f"#status-{vid}").get_text(" ", strip=True) == "✓ Saved"
    assert soup.select_one("#progress").get_text(" ", strip=True) == "1 of 4 rated"
    assert response.headers["Vary"] == "HX-Request" or "HX-Request" in response.headers["Vary"]
    rating = db.session.scalar(select(Rating))
    assert (rating.score, rating.reason, rating.unable) == (8, "Core to well-led", False)


def test_saving_again_replaces_the_rating_so_there_is_one_per_item(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    vid = version_ids(round1)[0]
    for value in ["3", "5", "5", "unable"]:  # a double click included
        assert rate(client, round1, vid, value).status_code == 200
    ratings = db.session.scalars(select(Rating)).all()
    assert len(ratings) == 1 and ratings[0].unable and ratings[0].score is None


@pytest.mark.parametrize("value", ["0", "10", "-1", "7.5", "seven", ""])
def test_a_rating_off_the_scale_is_refused_with_a_message(client, panel, round1, value):
    sign_in(client, panel.partners[0].user)
    vid = version_ids(round1)[0]
    response = rate(client, round1, vid, value)
    assert response.status_code == 422
    assert "Select a rating from 1 to 9" in text_of(response)
    assert db.session.scalar(select(func.count(Rating.id))) == 0


def test_a_rating_for_an_item_of_another_round_or_study_is_refused(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    response = rate(client, round1, 999999, "5")
    assert response.status_code == 404
    assert "not part of this round" in text_of(response)


def test_the_ballot_works_without_javascript_through_one_submit(client, panel, round1):
    sign_in(client, panel.patients[0].user)
    vids = version_ids(round1)
    form = {
        f"score-{vids[0]}": "9",
        f"reason-{vids[0]}": "Patients care",
        f"score-{vids[1]}": "unable",
        f"score-{vids[2]}": "4",
    }
    response = client.post("/studies/test-study/rounds/1/ballot", data=form)
    assert response.status_code == 303
    shown = text_of(get_page(client, response.headers["Location"]))
    assert "Your answers are saved: 3 of 4 rated." in shown
    assert db.session.scalar(select(func.count(Rating.id))) == 3


def test_a_plain_submit_with_one_bad_value_keeps_the_good_ones_and_shows_the_error(
    client, panel, round1
):
    sign_in(client, panel.patients[0].user)
    vids = version_ids(round1)
    response = post_form(
        client,
        "/studies/test-study/rounds/1/ballot",
        data={f"score-{vids[0]}": "9", f"score-{vids[1]}": "12"},
        status=422,
    )
    soup = page(response)
    assert "Select a rating from 1 to 9" in soup.select_one(f"#item-{vids[1]}").get_text()
    assert soup.select_one(f"#score-{vids[0]}-9").has_attr("checked")
    assert db.session.scalar(select(func.count(Rating.id))) == 1


def test_an_observer_cannot_rate(client, panel, round1):
    sign_in(client, panel.observer.user)
    vid = version_ids(round1)[0]
    response = rate(client, round1, vid, "5")
    assert response.status_code == 403
    assert "Observers can read the study but cannot rate items" in text_of(response)
    ballot = page(get_page(client, "/studies/test-study/rounds/1/ballot"))
    assert ballot.select("input[type=radio]") == []
    assert db.session.scalar(select(func.count(Rating.id))) == 0


def test_a_rating_after_the_round_closed_is_refused_and_says_why(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    vid = version_ids(round1)[0]
    assert rate(client, round1, vid, "7").status_code == 200
    close_round(round1.id, actor=panel.facilitator)
    response = rate(client, round1, vid, "2")
    assert response.status_code == 409
    assert "This round has closed, so your rating was not saved" in text_of(response)
    assert db.session.scalar(select(Rating.score)) == 7


def test_a_save_that_loaded_the_round_open_writes_nothing_once_it_has_closed(panel, round1):
    """The upsert itself checks the round is open: a save that read the round before a close
    committed (its round object still says open) matches no row and is refused."""
    from app.services.ratings import save_rating
    from delphi.errors import RoundClosed

    vid = version_ids(round1)[0]
    rater = panel.partners[0]
    db.session.execute(
        update(Round.__table__).where(Round.id == round1.id).values(status=RoundStatus.CLOSED.value)
    )
    assert round1.round_status is RoundStatus.OPEN  # the stale view the request holds
    with pytest.raises(RoundClosed, match="This round has closed"):
        save_rating(round1, rater, vid, 7, False, "")
    assert db.session.scalar(select(func.count(Rating.id))) == 0


def test_an_item_outside_the_round_is_not_found_whatever_was_sent_for_it(panel, round1):
    from app.services.ratings import NotInRound, save_rating

    rater = panel.partners[0]
    for score in (5, 42, None):
        with pytest.raises(NotInRound, match="not part of this round"):
            save_rating(round1, rater, 999999, score, False, "")
    assert db.session.scalar(select(func.count(Rating.id))) == 0


def test_save_rating_returns_what_was_stored(panel, round1):
    from app.services.ratings import save_rating

    vid = version_ids(round1)[1]
    rater = panel.patients[0]
    save_rating(round1, rater, vid, 4, False, " first ")
    returned = save_rating(round1, rater, vid, None, True, "Outside my experience", "why")
    stored = db.session.scalar(select(Rating).where(Rating.panellist_id == rater.id))
    assert (returned.id, returned.score, returned.unable, returned.reason) == (
        stored.id,
        None,
        True,
        "Outside my experience",
    )
    assert returned.change_reason == stored.change_reason == "why"
    assert returned.updated_at == stored.updated_at and returned.updated_at.tzinfo is not None


def _rate_everyone(round_: Round, panel: Panel, scores: dict[int, list[int]]) -> None:
    for position, vid in enumerate(version_ids(round_)):
        for panellist, score in zip(panel.raters, scores[position], strict=True):
            db.session.add(
                Rating(
                    round_id=round_.id, panellist_id=panellist.id, item_version_id=vid, score=score
                )
            )
    db.session.commit()


SCORES = {
    0: [8, 9, 7, 8, 9],  # consensus in
    1: [1, 2, 2, 3, 1],  # consensus out
    2: [2, 5, 8, 9, 4],  # no consensus
    3: [7, 8, 5, 9, 8],  # 80% top, 0% bottom: in
}


def test_closing_a_round_freezes_its_results_from_the_scoring_package(client, panel, round1):
    _rate_everyone(round1, panel, SCORES)
    sign_in(client, panel.facilitator)
    response = client.post("/studies/test-study/rounds/1/close", data=CLOSE)
    assert response.status_code == 303
    snapshot = db.session.scalar(select(RoundSnapshot)).payload
    frame = ratings_frame(round1)
    expected = item_summary(frame, Scale(1, 9), PercentageRule(in_min_pct=70, out_max_pct=15))
    for vid in version_ids(round1):
        stored = snapshot["items"][str(vid)]
        assert stored["median"] == pytest.approx(float(expected.loc[vid, "median"]))
        assert stored["status"] == expected.loc[vid, "status"]
    statuses = [snapshot["items"][str(v)]["status"] for v in version_ids(round1)]
    assert statuses == ["consensus_in", "consensus_out", "no_consensus", "consensus_in"]
    # Ratings changed in the database after the close never change the stored snapshot.
    first = db.session.scalar(
        select(Rating).where(Rating.item_version_id == version_ids(round1)[0])
    )
    first.score = 1
    db.session.commit()
    assert db.session.scalar(select(RoundSnapshot)).payload == snapshot
    assert compute_results(round1) != snapshot


def test_closing_twice_is_refused_and_keeps_one_snapshot(client, panel, round1):
    sign_in(client, panel.facilitator)
    assert client.post("/studies/test-study/rounds/1/close", data=CLOSE).status_code == 303
    response = client.post("/studies/test-study/rounds/1/close", data=CLOSE)
    assert response.status_code == 409
    assert "already closed" in text_of(response)
    assert db.session.scalar(select(func.count(RoundSnapshot.id))) == 1


def test_an_open_rounds_results_page_points_to_its_responses(client, panel, round1):
    sign_in(client, panel.facilitator)
    response = client.get("/studies/test-study/rounds/1/results")
    assert "Results appear here when the round closes." in text_of(response)
    link = page(response).find("a", string="Responses to round 1 so far")
    assert link is not None and link["href"] == "/studies/test-study/rounds/1"
    assert client.get(link["href"]).status_code == 200


def test_results_page_shows_figures_status_and_suggested_decision(client, panel, round1):
    _rate_everyone(round1, panel, SCORES)
    close_round(round1.id, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    response = client.get("/studies/test-study/rounds/1/results")
    rows = page(response).select("table.app-results tbody tr:not(.app-results__theme)")
    first = [c.get_text(" ", strip=True) for c in rows[0].select("td")]
    assert first[0].startswith("P1") and first[1] == "5"
    assert first[2] == "8 (8-9)"
    assert (first[3], first[4], first[5]) == ("0", "0", "100")
    assert first[7] == "Consensus in"
    selected = rows[1].select_one("select option[selected]").get_text(strip=True)
    assert selected == "Exclude (suggested)"
    choices = [o.get_text(strip=True) for o in rows[0].select("select option")]
    assert choices == ["Accept (suggested)", "Exclude", "Carry forward"]


def test_overriding_a_suggested_decision_needs_a_reason(client, panel, round1):
    _rate_everyone(round1, panel, SCORES)
    close_round(round1.id, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    item_ids = [ri.item_version.item_id for ri in round1.round_items]
    form = {
        f"decision-{item_ids[0]}": "carry_forward",
        f"decision-{item_ids[1]}": "exclude",
        f"decision-{item_ids[2]}": "carry_forward",
        f"decision-{item_ids[3]}": "accept",
    }
    response = post_form(client, "/studies/test-study/rounds/1/decisions", data=form, status=422)
    assert "Give a reason for carrying forward P1: the suggestion was to accept it" in text_of(
        response
    )
    assert (
        db.session.scalar(
            select(func.count(ItemDecision.id)).where(ItemDecision.decided_at.is_not(None))
        )
        == 0
    )
    form[f"reason-{item_ids[0]}"] = "Wording needs work with patients"
    assert client.post("/studies/test-study/rounds/1/decisions", data=form).status_code == 303


def test_round_two_carries_forward_the_undecided_items_and_shows_round_one_feedback(
    client, panel, round1
):
    _rate_everyone(round1, panel, SCORES)
    close_round(round1.id, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    response = client.post("/studies/test-study/rounds/open", data={})
    assert response.status_code == 303
    assert "Confirm the decision on every item of round 1" in text_of(
        client.get(response.headers["Location"])
    )
    item_ids = [ri.item_version.item_id for ri in round1.round_items]
    decisions = ["accept", "exclude", "carry_forward", "accept"]
    client.post(
        "/studies/test-study/rounds/1/decisions",
        data={f"decision-{i}": d for i, d in zip(item_ids, decisions, strict=True)},
    )
    assert client.post("/studies/test-study/rounds/open", data={}).status_code == 303
    round2 = db.session.scalar(select(Round).where(Round.number == 2))
    assert [ri.item_version.item_id for ri in round2.round_items] == [item_ids[2]]

    patient = panel.patients[0]
    sign_in(client, patient.user)
    ballot = client.get("/studies/test-study/rounds/2/ballot")
    shown = text_of(ballot)
    assert "Round 1 results" in shown
    assert "Median 5" in shown and "40% rated 7-9" in shown
    assert "Your round 1 rating: 9" in shown
    groups = page(ballot).select(".app-group-view tbody tr")
    assert [g.select_one("th").get_text(strip=True) for g in groups] == [
        "CQC",
        "Patient representatives",
    ]


def test_round_two_feedback_never_shows_names_or_individual_ratings(client, panel, round1):
    _rate_everyone(round1, panel, SCORES)
    close_round(round1.id, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    item_ids = [ri.item_version.item_id for ri in round1.round_items]
    client.post(
        "/studies/test-study/rounds/1/decisions",
        data={f"decision-{i}": "carry_forward" for i in item_ids}
        | {f"reason-{i}": "More discussion" for i in item_ids},
    )
    client.post("/studies/test-study/rounds/open", data={})
    me = panel.partners[0]
    sign_in(client, me.user)
    html = client.get("/studies/test-study/rounds/2/ballot").get_data(as_text=True)
    for other in panel.raters[1:] + [panel.observer]:
        assert other.user.name not in html
        assert other.user.email not in html
    assert db.session.scalar(select(func.count(RoundItem.id))) == 8


def test_a_round_past_its_deadline_closes_itself_on_the_next_page_view(client, panel, round1):
    from datetime import timedelta

    from app.models import utcnow

    round1.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    sign_in(client, panel.partners[0].user)
    response = client.get("/studies/test-study/rounds/1/ballot")
    assert "This round has closed" in text_of(response)
    assert db.session.scalar(select(func.count(RoundSnapshot.id))) == 1


def test_close_due_rounds_command_closes_only_rounds_past_their_deadline(app, panel, round1):
    from datetime import timedelta

    from app.models import utcnow

    round1.closes_at = utcnow() + timedelta(days=1)
    db.session.commit()
    runner = app.test_cli_runner()
    assert "No round was due to close." in runner.invoke(args=["close-due-rounds"]).output
    round1.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert "Closed round 1 of test-study." in runner.invoke(args=["close-due-rounds"]).output


def test_healthz_checks_the_database(client):
    response = get_page(client, "/healthz")
    assert response.json == {"status": "ok", "database": "ok"}
