"""Every page names the bands the figures were computed with: the ranges and words on the
ballot, the feedback, the results and the guide agree with the percentages, for the form's
1-9 and 1-5 scales and for a 1-7 study created directly in the database.

The expected bands are written out here from scoring/README.md (round(n / 3) points per outer
band), and the percentages are counted here from the ratings, not read from the app."""

from __future__ import annotations

import pytest

from tests.conftest import build_panel, sign_in
from tests.web.helpers import CLOSE, open_and_rate_round_one, page, text_of

S = "/studies/test-study"
# scale top -> (bottom, middle, top) as (first, last) points
BANDS = {
    9: ((1, 3), (4, 6), (7, 9)),
    5: ((1, 2), (3, 3), (4, 5)),
    7: ((1, 2), (3, 5), (6, 7)),
}
WORDS = ("exclude", "uncertain", "include")


def ratings(top: int) -> dict[str, list[int]]:
    """Six raters; on every scale each item has ratings on the edges of the bands."""
    (_, b), (m0, m1), (t0, _) = BANDS[top]
    return {
        "P1": [top, t0, t0, top, m1, top],
        "P2": [1, b, b, m0, 1, top],
        "P3": [b, m0, m1, t0, m0, 1],
        "I1": [m0, m1, m0, t0, b, m1],
    }


def shares(scores: list[int], top: int) -> list[float]:
    return [100 * sum(lo <= s <= hi for s in scores) / len(scores) for lo, hi in BANDS[top]]


def ranges(top: int) -> list[str]:
    return [f"{lo}-{hi}" for lo, hi in BANDS[top]]


@pytest.fixture(params=[9, 5, 7], ids=lambda top: f"1-{top}")
def rated(request, app, client):
    """Round 1 open and rated by everyone."""
    top = request.param
    panel = build_panel(partners=3, patients=3, scale_max=top)
    sign_in(client, panel.facilitator)
    return top, panel, open_and_rate_round_one(app, client, panel, ratings(top))


@pytest.fixture
def closed(rated, client):
    assert client.post(f"{S}/rounds/1/close", data=CLOSE).status_code == 303
    return rated


def test_the_ballot_groups_the_points_in_the_bands_it_names(rated, app):
    top, panel, vids = rated
    rater = app.test_client()
    sign_in(rater, panel.partners[0].user)
    response = rater.get(f"{S}/rounds/1/ballot")
    bottom, middle, upper = ranges(top)
    hint = page(response).select_one("#scale-hint").get_text(" ", strip=True)
    assert (
        f"{bottom}: not important, exclude. {middle}: uncertain. {upper}: critical, include."
        in hint
    )
    item = page(response).select_one(f"#item-{vids['P1']}")
    for band, (lo, hi), word in zip(("bottom", "middle", "top"), BANDS[top], WORDS, strict=True):
        group = item.select_one(f".app-scale__band--{band}")
        assert [i["value"] for i in group.select("input")] == [str(v) for v in range(lo, hi + 1)]
        assert group.select_one(".app-scale__caption").get_text(" ", strip=True).startswith(
            f"{lo}-{hi} "
        )
        assert word in group.select_one(".app-scale__caption").get_text()


def test_the_feedback_names_the_bands_its_percentages_count(closed, app):
    top, panel, _ = closed
    bottom, middle, upper = ranges(top)
    rater = app.test_client()
    sign_in(rater, panel.partners[0].user)
    response = rater.get(f"{S}/rounds/1/feedback")
    text = text_of(response)
    assert f"Scale: {bottom}: exclude; {middle}: uncertain; {upper}: include." in text
    for section in page(response).select("section.app-item"):
        ref = section.select_one("h3").get_text(" ", strip=True).split()[0]
        pct_top = shares(ratings(top)[ref], top)[2]
        assert f"{pct_top:.0f}% rated {upper} (include)" in section.get_text(" ", strip=True)
        table = section.select_one("table.app-chart__table")
        words = {
            row.select_one("th").get_text(" ", strip=True).split()[0]: row.select("td")[0]
            .get_text(strip=True)
            for row in table.select("tbody tr")
        }
        expected = {
            str(v): word
            for (lo, hi), word in zip(BANDS[top], WORDS, strict=True)
            for v in range(lo, hi + 1)
        }
        assert words == expected


def test_the_results_head_each_percentage_with_its_band(closed, client):
    top, _, _ = closed
    response = client.get(f"{S}/rounds/1/results")
    table = page(response).select_one("table.app-results")
    headers = [th.get_text(strip=True) for th in table.select("thead th")]
    assert headers[3:6] == [f"% {r}" for r in ranges(top)]
    for row in table.select("tbody tr:not(.app-results__theme)"):
        ref = row.select_one("td strong").get_text(strip=True)
        cells = [td.get_text(strip=True) for td in row.select("td")[3:6]]
        assert cells == [f"{share:.0f}" for share in shares(ratings(top)[ref], top)]
    bottom, _, upper = ranges(top)
    assert f"at least 70% rate {upper} and at most 15% rate {bottom}" in text_of(response)


def test_the_guide_describes_the_default_scale_bands(client):
    text = text_of(client.get("/how-this-works"))
    (b0, b1), (m0, m1), (t0, t1) = BANDS[9]
    assert f"{t0} to {t1} : critical or appropriate" in text
    assert f"{m0} to {m1} : uncertain" in text
    assert f"{b0} to {b1} : not important" in text
    assert f"rate it {t0} to {t1} and at most 15% rate it {b0} to {b1}" in text
