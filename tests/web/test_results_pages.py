"""The pages that show a closed round back to people: each panellist's feedback page, the
facilitator's results across rounds and an item's history. Figures are checked against numpy
and the `krippendorff` package computed here from the ratings, not against the app's own
snapshot."""

from __future__ import annotations

import re

import krippendorff
import numpy as np
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Round
from tests.conftest import Panel, build_panel, sign_in
from tests.web.helpers import CLOSE, get_page, open_and_rate_round_one, page, text_of

S = "/studies/test-study"
# Three partners (CQC) then three patient representatives, four items.
SCORES = {
    "P1": [8, 9, 8, 7, 9, 8],
    "P2": [5, 2, 6, 3, 5, 4],
    "P3": [2, 8, 5, 9, 4, 6],
    "I1": [5, 5, 6, 7, 4, 9],
}


@pytest.fixture
def closed_round(app, client) -> Panel:
    panel = build_panel(partners=3, patients=3)
    sign_in(client, panel.facilitator)
    open_and_rate_round_one(
        app,
        client,
        panel,
        SCORES,
        extra=lambda index, vids: {f"reason-{vids['P1']}": f"Reason from rater {index}."},
    )
    assert client.post(f"{S}/rounds/1/close", data=CLOSE).status_code == 303
    return panel


def card(response, ref: str):
    for section in page(response).select("section.app-item"):
        heading = section.select_one("h3")
        if heading is not None and heading.get_text(" ", strip=True).startswith(ref + " "):
            return section
    raise AssertionError(f"no card for {ref}")


def test_a_panellist_sees_the_panel_view_and_only_their_own_rating(app, closed_round):
    patient = closed_round.raters[4]  # the second patient representative
    client = app.test_client()
    sign_in(client, patient.user)
    response = get_page(client, f"{S}/rounds/1/feedback")
    for ref, scores in SCORES.items():
        text = card(response, ref).get_text(" ", strip=True)
        assert f"{len(scores)} rated" in text
        assert f"Median {np.median(scores):g}" in text
        assert f"Your rating: {scores[4]} ." in text
        top = 100 * sum(s >= 7 for s in scores) / len(scores)
        assert f"{top:.0f}% rated 7-9" in text
        # Both groups have three raters: each group's median is shown.
        table = next(
            t
            for t in card(response, ref).select("table")
            if "stakeholder group" in t.select_one("caption").get_text()
        )
        groups = {
            row.select_one("th").get_text(strip=True): row.select("td")[0].get_text(strip=True)
            for row in table.select("tbody tr")
        }
        assert groups == {
            "CQC": f"{np.median(scores[:3]):g}",
            "Patient representatives": f"{np.median(scores[3:]):g}",
        }
    page_text = text_of(response)
    assert "Your reason: “Reason from rater 4.”" in page_text  # their own, quoted as written
    assert ".." not in page_text
    for other in (0, 1, 2, 3, 5):
        assert f"Reason from rater {other}" not in page_text
    for other in closed_round.raters:
        if other is not patient:
            assert other.user.name not in page_text


def test_a_group_of_fewer_than_three_raters_is_not_shown_to_panellists(app, client):
    panel = build_panel(partners=3, patients=2)
    sign_in(client, panel.facilitator)
    client.post(f"{S}/rounds/open", data={})
    round_ = db.session.scalar(select(Round).where(Round.number == 1))
    vid = round_.round_items[0].item_version_id
    for index, panellist in enumerate(panel.raters):
        rater = app.test_client()
        sign_in(rater, panellist.user)
        rater.post(f"{S}/rounds/1/ballot", data={f"score-{vid}": str(3 + index)})
    client.post(f"{S}/rounds/1/close", data=CLOSE)
    partner = app.test_client()
    sign_in(partner, panel.partners[0].user)
    section = card(partner.get(f"{S}/rounds/1/feedback"), "P1")
    table = next(t for t in section.select("table") if "stakeholder group" in t.caption.get_text())
    rows = {
        row.select_one("th").get_text(strip=True): row.get_text(" ", strip=True)
        for row in table.select("tbody tr")
    }
    assert "Fewer than 3 ratings: not shown" in rows["Patient representatives"]
    assert rows["CQC"].split()[1] == "4"  # median of 3, 4, 5


def test_the_facilitator_results_show_alpha_from_the_ratings_and_each_item_history(
    app, client, closed_round
):
    response = get_page(client, f"{S}/results")
    text = text_of(response)
    # Raters × items matrix, ordinal level: what the round's alpha must be.
    matrix = np.array([[SCORES[ref][r] for ref in SCORES] for r in range(6)], dtype=float)
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal")
    shown = re.search(r"Whole panel (-?[0-9.]+) \((-?[0-9.]+) to (-?[0-9.]+)\)", text)
    assert shown is not None, text
    value, low, high = (float(g) for g in shown.groups())
    assert value == pytest.approx(expected, abs=0.0006)  # shown to 3 places
    assert low < value < high
    # The percentage rule (>=70 % rate 7-9 and <=15 % rate 1-3 for "in"), worked by hand.
    counts = {"in": 0, "out": 0, "none": 0}
    for scores in SCORES.values():
        top = sum(s >= 7 for s in scores) / len(scores)
        bottom = sum(s <= 3 for s in scores) / len(scores)
        if top >= 0.7 and bottom <= 0.15:
            counts["in"] += 1
        elif bottom >= 0.7 and top <= 0.15:
            counts["out"] += 1
        else:
            counts["none"] += 1
    summary = next(
        t for t in page(response).select("table") if "Items by status" in t.caption.get_text()
    )
    row = [td.get_text(strip=True) for td in summary.select("tbody tr")[0].select("td")]
    assert row == [str(counts["in"]), str(counts["out"]), str(counts["none"]), "0"]

    history = get_page(client, f"{S}/results/items/P2")
    history_text = text_of(history)
    assert "Prompt number 2?" in history_text
    assert f"Median {np.median(SCORES['P2']):g}" in history_text or (
        f"{np.median(SCORES['P2']):g}" in history_text
    )
    assert client.get(f"{S}/results/items/NOPE").status_code == 404


def test_the_dashboard_names_non_responders_to_facilitators_only(app, client):
    panel = build_panel(partners=3, patients=2)
    sign_in(client, panel.facilitator)
    client.post(f"{S}/rounds/open", data={})
    round_ = db.session.scalar(select(Round).where(Round.number == 1))
    form = {f"score-{ri.item_version_id}": "7" for ri in round_.round_items}
    rater = app.test_client()
    sign_in(rater, panel.partners[0].user)
    assert rater.post(f"{S}/rounds/1/ballot", data=form).status_code == 303

    dashboard = text_of(get_page(client, S))
    assert "4 panellists have not finished round 1" in dashboard
    assert "Email a reminder to the 4 who have not finished" in dashboard
    responders = text_of(get_page(client, f"{S}/rounds/1/responders"))
    for waiting in panel.raters[1:]:
        assert waiting.user.name in responders
    assert panel.partners[0].user.name not in responders

    assert rater.get(S).status_code in (200, 302)
    assert panel.partners[1].user.name not in text_of(get_page(rater, S, follow_redirects=True))
    assert rater.get(f"{S}/rounds/1/responders").status_code == 403
