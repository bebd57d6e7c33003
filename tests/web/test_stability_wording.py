"""Stability compares like with like: ratings of one wording with ratings of the same wording.
An item reworded between two rounds is reported as such, never as "not stable" (issue 13,
point 10): on the results page, the dashboard, the specification and the API."""

from __future__ import annotations

from app.extensions import db
from app.models import Round
from app.services.cycle import revise_item
from app.services.export import build_specification
from app.services.rounds import open_round, record_decisions
from delphi import Decision
from tests.conftest import Panel, sign_in
from tests.web.helpers import get_page, page, text_of
from tests.web.test_panel_views import rate_and_close

ROUND_1 = [
    [8, 9, 7, 8, 9],  # P1: consensus in
    [5, 5, 6, 5, 4],  # P2: no consensus
    [5, 4, 6, 5, 5],  # P3: no consensus; reworded before round 2
    [5, 6, 5, 4, 6],  # I1: no consensus
]
ROUND_2 = [
    [5, 5, 6, 5, 4],  # P2 again, same ratings: stable
    [8, 9, 8, 9, 8],  # P3 in its new wording: rated much higher
    [5, 6, 5, 4, 6],  # I1 again: stable
]


def two_rounds_with_p3_reworded(panel: Panel) -> None:
    round1 = open_round(panel.study, actor=panel.facilitator)
    rate_and_close(panel, round1, ROUND_1)
    ids = {ri.item_version.item.ref: ri.item_version.item for ri in round1.round_items}
    record_decisions(
        round1,
        {
            ids["P1"].id: (Decision.ACCEPT, ""),
            **{ids[r].id: (Decision.CARRY_FORWARD, "") for r in ("P2", "P3", "I1")},
        },
        panel.facilitator,
    )
    p3 = ids["P3"]
    revise_item(
        p3,
        {"text": "How does the board know every specialty offers research?"},
        "Clearer for boards",
        panel.facilitator,
    )
    round2 = open_round(panel.study, actor=panel.facilitator)
    order = {ri.item_version.item.ref: ri for ri in round2.round_items}
    assert list(order) == ["P2", "P3", "I1"]
    rate_and_close(panel, db.session.get(Round, round2.id), ROUND_2)


def test_a_reworded_item_is_reported_as_reworded_on_the_results_page(client, panel):
    two_rounds_with_p3_reworded(panel)
    sign_in(client, panel.facilitator)
    soup = page(get_page(client, "/studies/test-study/results"))
    rows = {
        tr.th.get_text(strip=True): " ".join(tr.get_text(" ").split())
        for tr in soup.select("#stability ~ div table tbody tr")
    }
    assert "Wording changed" in rows["P3"]
    assert "not computed: the wording changed between rounds 1 and 2" in rows["P3"]
    assert "Not stable" not in rows["P3"]
    assert rows["P3"].split()[1] == "0"  # no ratings paired across wordings
    assert "Stable" in rows["P2"] and "Stable" in rows["I1"]
    assert set(rows) == {"P2", "P3", "I1"}


def test_the_dashboard_does_not_claim_stability_for_a_reworded_item(client, panel):
    two_rounds_with_p3_reworded(panel)
    sign_in(client, panel.facilitator)
    text = text_of(get_page(client, "/studies/test-study"))
    assert "Ratings were stable between rounds 1 and 2 for every item rated in the same " in text
    assert "the wording of P3 changed, so its stability is not computed" in text


def test_the_specification_and_the_api_say_the_wording_changed(client, panel):
    two_rounds_with_p3_reworded(panel)
    pair = build_specification(panel.study)["methods"]["stability"][0]
    by_ref = {row["ref"]: row for row in pair["items"]}
    assert by_ref["P3"]["wording_changed"] is True
    assert by_ref["P3"]["stable"] is None and by_ref["P3"]["n_paired"] == 0
    assert by_ref["P3"]["verdict"].startswith("not computed: the wording changed")
    assert by_ref["P2"]["stable"] is True and by_ref["P2"]["wording_changed"] is False
    assert pair["wording_changed_items"] == 1

    sign_in(client, panel.facilitator)
    body = client.get("/api/v1/studies/test-study").json
    api = {row["ref"]: row for row in body["stability"]["items"]}
    assert (body["stability"]["from_round"], body["stability"]["to_round"]) == (1, 2)
    assert api["P3"]["wording_changed"] is True and api["P3"]["stable"] is None
    assert api["I1"] == {
        "ref": "I1",
        "n_paired": 5,
        "pct_changed_band": 0.0,
        "p_value": 1.0,
        "stable": True,
        "verdict": api["I1"]["verdict"],
        "wording_changed": False,
    }
