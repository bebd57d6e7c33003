"""One panellist, two tabs (or a laptop and a phone): a page opened earlier never silently
sets back an answer saved after it was loaded, whether it sends the whole ballot ("Save my
answers", no JavaScript) or one answer (the autosave)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from app.extensions import db
from app.models import Rating, Round
from app.services.rounds import open_round
from tests.conftest import Panel, sign_in
from tests.web.helpers import error_summary, page, text_of

BALLOT = "/studies/test-study/rounds/1/ballot"
HX = {"HX-Request": "true"}


@pytest.fixture
def round1(panel: Panel) -> Round:
    return open_round(panel.study, actor=panel.facilitator)


@pytest.fixture
def rater(client, panel: Panel):
    sign_in(client, panel.partners[0].user)
    return panel.partners[0]


def vids_by_ref(round_: Round) -> dict[str, int]:
    return {ri.item_version.item.ref: ri.item_version_id for ri in round_.round_items}


def form_of(soup: BeautifulSoup) -> dict[str, str]:
    """What the ballot form sends as it stands: hidden fields, checked radios, text areas."""
    form = soup.select_one("form.app-ballot")
    values: dict[str, str] = {}
    for field in form.select("input[name]"):
        kind = field.get("type", "text")
        if kind == "radio" and not field.has_attr("checked"):
            continue
        values[field["name"]] = field.get("value", "")
    for area in form.select("textarea[name]"):
        values[area["name"]] = area.get_text()
    return values


def stored(vid: int) -> tuple[int | None, bool, str]:
    db.session.expire_all()
    rating = db.session.scalar(select(Rating).where(Rating.item_version_id == vid))
    return (rating.score, rating.unable, rating.reason) if rating else None


def autosave(client, vid: int, form: dict[str, str]):
    return client.post(f"/studies/test-study/rounds/1/items/{vid}/rating", data=form, headers=HX)


def test_an_older_tab_never_sets_back_an_answer_saved_after_it_was_opened(
    client, panel, round1, rater
):
    vids = vids_by_ref(round1)
    p1, p2 = vids["P1"], vids["P2"]
    assert autosave(client, p1, {f"score-{p1}": "5"}).status_code == 200
    older_tab = form_of(page(client.get(BALLOT)))
    assert older_tab[f"score-{p1}"] == "5"
    # In another tab the panellist moves P1 to 8.
    newer_tab = form_of(page(client.get(BALLOT)))
    newer_tab[f"score-{p1}"] = "8"
    assert client.post(BALLOT, data=newer_tab).status_code == 303
    # The older tab, still showing 5, answers P2 and sends everything.
    older_tab[f"score-{p2}"] = "3"
    response = client.post(BALLOT, data=older_tab)

    assert response.status_code == 409
    assert stored(p1) == (8, False, "")
    assert stored(p2) == (3, False, "")
    summary = error_summary(response)
    assert len(summary) == 1
    assert summary[0].startswith("P1: ")
    assert "changed in another tab or window after you opened this page" in summary[0]
    assert "We kept the newer answer, 8" in summary[0]
    shown = page(response)
    assert shown.select_one(f".nhsuk-error-summary a[href='#item-{p1}']") is not None
    assert shown.select_one(f"#score-{p1}-8").has_attr("checked")
    assert not shown.select_one(f"#score-{p1}-5").has_attr("checked")
    assert "changed in another tab or window" in shown.select_one(f"#item-{p1}").get_text()
    assert shown.select_one(f"#score-{p2}-3").has_attr("checked")
    assert "Your other answers are saved." in text_of(response)


def test_the_page_answering_a_conflict_can_be_sent_again_to_change_the_answer(
    client, panel, round1, rater
):
    p1 = vids_by_ref(round1)["P1"]
    older_tab = form_of(page(client.get(BALLOT)))
    assert autosave(client, p1, {f"score-{p1}": "8"}).status_code == 200
    older_tab[f"score-{p1}"] = "2"
    conflict = client.post(BALLOT, data=older_tab)
    assert conflict.status_code == 409 and stored(p1) == (8, False, "")
    # The answer now shows 8; choosing 2 again on that page is a deliberate change.
    again = form_of(page(conflict))
    again[f"score-{p1}"] = "2"
    assert client.post(BALLOT, data=again).status_code == 303
    assert stored(p1) == (2, False, "")


def test_an_item_first_rated_in_another_tab_is_not_overwritten_by_an_older_one(
    client, panel, round1, rater
):
    p1 = vids_by_ref(round1)["P1"]
    older_tab = form_of(page(client.get(BALLOT)))
    assert autosave(client, p1, {f"score-{p1}": "unable", f"reason-{p1}": "Not my area"})
    older_tab[f"score-{p1}"] = "6"
    response = client.post(BALLOT, data=older_tab)
    assert response.status_code == 409
    assert stored(p1) == (None, True, "Not my area")
    assert "We kept the newer answer, unable to rate" in error_summary(response)[0]


def test_sending_the_same_answer_as_the_newer_one_is_no_conflict(client, panel, round1, rater):
    p1 = vids_by_ref(round1)["P1"]
    older_tab = form_of(page(client.get(BALLOT)))
    assert autosave(client, p1, {f"score-{p1}": "7"}).status_code == 200
    older_tab[f"score-{p1}"] = "7"
    assert client.post(BALLOT, data=older_tab).status_code == 303
    assert stored(p1) == (7, False, "")


def test_autosaving_then_saving_the_whole_page_in_the_same_tab_is_no_conflict(
    client, panel, round1, rater
):
    """Each autosave hands the page the version it stored, so the page's own answers are never
    taken for answers from elsewhere."""
    p1 = vids_by_ref(round1)["P1"]
    tab = form_of(page(client.get(BALLOT)))
    for score in ("4", "6"):
        tab[f"score-{p1}"] = score
        saved = autosave(client, p1, tab)
        assert saved.status_code == 200
        marker = page(saved).select_one(f"input#seen-{p1}[hx-swap-oob]")
        tab[f"seen-{p1}"] = marker["value"]
    tab[f"score-{p1}"] = "9"
    tab[f"reason-{p1}"] = "Thought again"
    assert client.post(BALLOT, data=tab).status_code == 303
    assert stored(p1) == (9, False, "Thought again")


def test_an_autosave_from_an_older_tab_shows_the_newer_answer_instead_of_setting_it_back(
    client, panel, round1, rater
):
    """The autosave sends the item's whole answer: a reason typed in an older tab would
    otherwise also send that tab's old rating."""
    p1 = vids_by_ref(round1)["P1"]
    assert autosave(client, p1, {f"score-{p1}": "5"}).status_code == 200
    older_tab = form_of(page(client.get(BALLOT)))
    assert autosave(client, p1, {f"score-{p1}": "8"}).status_code == 200
    older_tab[f"reason-{p1}"] = "Matters to boards"
    response = autosave(client, p1, older_tab)
    assert response.status_code == 409
    assert stored(p1) == (8, False, "")
    shown = page(response)
    status = shown.select_one(f"#status-{p1}").get_text(" ", strip=True)
    assert "Not saved" in status and "newer answer, 8" in status
    # The item's answer on the page is replaced by the newer one, with its version, so the
    # next choice made there is saved.
    answer = shown.select_one(f"#answer-{p1}[hx-swap-oob]")
    assert answer.select_one(f"#score-{p1}-8").has_attr("checked")
    older_tab[f"seen-{p1}"] = answer.select_one(f"input#seen-{p1}")["value"]
    older_tab[f"score-{p1}"] = "8"
    assert autosave(client, p1, older_tab).status_code == 200
    assert stored(p1) == (8, False, "Matters to boards")


def test_a_submit_without_the_loaded_versions_still_saves(client, panel, round1, rater):
    """A page loaded before this check existed sends no versions: its answers are saved."""
    p1 = vids_by_ref(round1)["P1"]
    assert autosave(client, p1, {f"score-{p1}": "8"}).status_code == 200
    assert client.post(BALLOT, data={f"score-{p1}": "2"}).status_code == 303
    assert stored(p1) == (2, False, "")


@pytest.mark.parametrize("marker", ["not a time", "2026-13-45T99:00:00", "x" * 500])
def test_a_garbled_version_counts_as_an_older_page(client, panel, round1, rater, marker):
    p1 = vids_by_ref(round1)["P1"]
    assert autosave(client, p1, {f"score-{p1}": "8"}).status_code == 200
    response = client.post(BALLOT, data={f"score-{p1}": "2", f"seen-{p1}": marker})
    assert response.status_code == 409
    assert stored(p1) == (8, False, "")


def test_a_reason_typed_in_an_older_tab_is_shown_back_not_lost(client, panel, round1, rater):
    p1 = vids_by_ref(round1)["P1"]
    assert autosave(client, p1, {f"score-{p1}": "5"}).status_code == 200
    older_tab = form_of(page(client.get(BALLOT)))
    assert autosave(client, p1, {f"score-{p1}": "8"}).status_code == 200
    older_tab[f"reason-{p1}"] = "Matters to boards"
    for response in (autosave(client, p1, older_tab), client.post(BALLOT, data=older_tab)):
        assert response.status_code == 409
        item = page(response).select_one(f"#answer-{p1}")
        assert "The reason you wrote there, not saved: “Matters to boards”" in item.get_text()
    assert stored(p1) == (8, False, "")
