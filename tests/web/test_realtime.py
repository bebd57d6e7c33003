"""Real-time Delphi: feedback right after rating, revisable ratings, live results, snapshots."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import LiveSnapshot, Round
from app.services.rounds import open_round
from tests.conftest import Panel, build_panel, sign_in
from tests.web.helpers import CLOSE, get_page, page, text_of

HX = {"HX-Request": "true"}


@pytest.fixture
def live(app) -> tuple[Panel, Round]:
    panel = build_panel()
    panel.study.mode = "realtime"
    db.session.commit()
    return panel, open_round(panel.study, actor=panel.facilitator)


def rate(client, vid: int, value: int):
    return client.post(
        f"/studies/test-study/rounds/1/items/{vid}/rating",
        data={f"score-{vid}": str(value)},
        headers=HX,
    )


def test_a_panellist_sees_the_groups_view_right_after_rating_and_only_then(app, live):
    panel, round_ = live
    first, second = (ri.item_version_id for ri in round_.round_items[:2])
    others = [app.test_client() for _ in panel.raters[1:3]]
    for client, panellist, score in zip(others, panel.raters[1:3], (8, 9), strict=True):
        sign_in(client, panellist.user)
        rate(client, first, score)
    me = app.test_client()
    sign_in(me, panel.raters[0].user)
    before = page(get_page(me, "/studies/test-study/rounds/1/ballot"))
    assert (
        "Rate this item to see how the panel has rated it so far."
        in before.select_one(f"#live-{first}").get_text()
    )
    answer = page(rate(me, first, 7))
    view = answer.select_one(f"#live-{first}")
    assert view["hx-swap-oob"] == "true"
    assert "3 rated" in view.get_text() and "Median 8" in view.get_text()
    assert "100% rated 7-9" in view.get_text()
    assert "(you)" in view.select("tbody tr")[6].get_text()  # the row for 7
    # Ratings stay revisable: a second answer replaces the first in the live view.
    revised = page(rate(me, first, 2)).select_one(f"#live-{first}").get_text()
    assert "3 rated" in revised and "67% rated 7-9" in revised
    assert (
        "Rate this item"
        in page(get_page(me, "/studies/test-study/rounds/1/ballot"))
        .select_one(f"#live-{second}")
        .get_text()
    )


def test_live_results_and_a_frozen_snapshot_that_later_ratings_do_not_change(app, client, live):
    panel, round_ = live
    vid = round_.round_items[0].item_version_id
    rater = app.test_client()
    sign_in(rater, panel.raters[0].user)
    rate(rater, vid, 9)
    sign_in(client, panel.facilitator)
    results = client.get("/studies/test-study/rounds/1/results")
    assert "these results are live" in text_of(results)
    assert (
        page(results)
        .select_one("table.app-results tbody tr td:nth-of-type(2)")
        .get_text(strip=True)
        .startswith("1")
    )
    frozen = client.post("/studies/test-study/rounds/1/freeze", data={"label": "Week 1"})
    assert frozen.status_code == 303
    snapshot = db.session.scalar(select(LiveSnapshot))
    assert snapshot.payload["items"][str(vid)]["n"] == 1
    rate(rater, vid, 1)
    other = app.test_client()
    sign_in(other, panel.raters[1].user)
    rate(other, vid, 5)
    db.session.refresh(snapshot)
    assert snapshot.payload["items"][str(vid)]["n"] == 1
    assert snapshot.payload["items"][str(vid)]["median"] == 9
    shown = text_of(get_page(client, frozen.headers["Location"]))
    assert "Snapshot “Week 1” frozen" in shown
    live_now = page(get_page(client, "/studies/test-study/rounds/1/results"))
    assert (
        live_now.select_one("table.app-results tbody tr td:nth-of-type(2)")
        .get_text(strip=True)
        .startswith("2")
    )


def test_a_real_time_study_has_one_continuous_round(client, live):
    panel, _ = live
    sign_in(client, panel.facilitator)
    client.post("/studies/test-study/rounds/1/close", data=CLOSE)
    response = client.post("/studies/test-study/rounds/open", data={})
    assert "one continuous round" in text_of(get_page(client, response.headers["Location"]))
    assert db.session.scalar(select(func.count(Round.id))) == 1


def test_freezing_is_refused_for_a_study_in_rounds(app, client):
    panel = build_panel()
    open_round(panel.study, actor=panel.facilitator)
    sign_in(client, panel.facilitator)
    response = client.post("/studies/test-study/rounds/1/freeze")
    assert response.status_code == 409
    assert "real-time studies" in text_of(response)
