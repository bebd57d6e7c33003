"""Pages carry what a panellist looks at (issue 19): a 200-item ballot with 3,000 discussion
messages stays under a megabyte, long ballots are split by theme with a contents list and
progress, and threads show their latest 50 messages with a way to the earlier ones."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import insert, select

from app.extensions import db
from app.models import DiscussionMessage, DiscussionThread, Round
from app.services.rounds import open_round
from tests.conftest import Panel, sign_in
from tests.web.big_study import build_big_study
from tests.web.discussion_helpers import BASE, HX, dom
from tests.web.helpers import get_page, page, text_of

MB = 1024 * 1024


@pytest.fixture
def big(app):
    return build_big_study()


def test_a_200_item_ballot_with_3000_messages_is_under_a_megabyte_a_page(client, big):
    sign_in(client, big.panellist.user)
    url = "/studies/big/rounds/2/ballot"
    first = get_page(client, url)
    soup = page(first)
    # Three themes, one page each; the contents list links every page with its progress.
    contents = [" ".join(li.get_text(" ").split()) for li in soup.select("#contents li")]
    assert contents == [
        "Offers research opportunities 0 of 67 rated",
        "Facilitates research 0 of 67 rated",
        "Enables equity 0 of 66 rated",
    ]
    assert soup.select_one("#contents a[aria-current=page]").get_text(strip=True) == (
        "Offers research opportunities"
    )
    sizes, seen = [], set()
    for number in (1, 2, 3):
        response = get_page(client, f"{url}?part={number}")
        sizes.append(len(response.data))
        shown = page(response)
        seen |= {card["id"] for card in shown.select(".app-item")}
        # No message is on the ballot, only each thread's count, loaded when opened.
        assert not shown.select("li.app-message")
        assert "Message 1:" not in response.get_data(as_text=True)
        # One axis drawn for all charts; each chart uses it.
        assert len(shown.select("symbol[id^=app-chart-axis]")) == 1
        charts = shown.select("svg.app-chart__svg--mini")
        assert charts and all(c.select_one("use")["href"] == "#app-chart-axis-1-9" for c in charts)
    print(f"ballot pages of the 200-item study: {[round(s / 1024) for s in sizes]} KB")
    assert len(seen) == 200  # every item is on one of the pages
    assert max(sizes) < MB
    busiest = soup.select_one(f"#unread-{dom(big.busiest.ref)}").get_text(" ", strip=True)
    assert busiest.startswith("600 messages, ")  # less the panellist's own, unread


def test_saving_without_javascript_can_go_on_to_the_next_theme(client, big):
    sign_in(client, big.panellist.user)
    url = "/studies/big/rounds/2/ballot"
    soup = page(get_page(client, f"{url}?part=1"))
    vid = int(soup.select_one(".app-item")["id"].removeprefix("item-"))
    button = soup.select_one("button[name=go]")
    assert button.get_text(strip=True) == "Save and go to Facilitates research"
    form = {
        "csrf_token": "",
        "part": "1",
        "go": button["value"],
        f"score-{vid}": "7",
    }
    response = client.post(url, data=form)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("ballot?part=2")
    back = page(get_page(client, url + "?part=1"))
    first = " ".join(back.select_one("#contents li").get_text(" ").split())
    assert first == "Offers research opportunities 1 of 67 rated"
    # A panellist coming back lands on the first page with something left to rate.
    assert page(get_page(client, url)).select_one("a[aria-current=page]")


def test_a_short_ballot_is_one_page_with_a_contents_list_of_its_themes(client, panel: Panel):
    open_round(panel.study, actor=panel.facilitator)
    sign_in(client, panel.partners[0].user)
    soup = page(get_page(client, "/studies/test-study/rounds/1/ballot"))
    links = [(a.get_text(strip=True), a["href"]) for a in soup.select("#contents a")]
    themes = {h.get_text(strip=True): h["id"] for h in soup.select("h2.app-theme-heading")}
    assert links == [(name, f"#{id_}") for name, id_ in themes.items()]
    assert [" ".join(li.get_text(" ").split()) for li in soup.select("#contents li")] == [
        "Offers research 0 of 3 rated",
        "Conduct 0 of 1 rated",
    ]
    assert soup.select_one("button[name=go]") is None


# ---------------------------------------------------------------- threads of many messages


def _many_messages(study_id: int, item_id: int | None, count: int) -> list[int]:
    key = "channel" if item_id is None else f"item:{item_id}"
    thread = db.session.scalar(
        select(DiscussionThread).where(
            DiscussionThread.study_id == study_id, DiscussionThread.key == key
        )
    )
    if thread is None:
        thread = DiscussionThread(study_id=study_id, key=key, item_id=item_id, summary="")
        db.session.add(thread)
        db.session.flush()
    db.session.execute(
        insert(DiscussionMessage),
        [
            {
                "thread_id": thread.id,
                "kind": "message",
                "as_facilitator": True,
                "category": "",
                "body": f"Note {n + 1}",
                "hidden_reason": "",
            }
            for n in range(count)
        ],
    )
    db.session.commit()
    return list(
        db.session.scalars(
            select(DiscussionMessage.id)
            .where(DiscussionMessage.thread_id == thread.id, DiscussionMessage.kind == "message")
            .order_by(DiscussionMessage.id)
        )
    )


def _page_of(ref: str) -> str:
    return BASE if ref == "channel" else f"{BASE}/{ref}"


def _notes(soup) -> list[str]:
    return [
        b.get_text(strip=True)
        for b in soup.select("li.app-message .app-message__body")
        if b.get_text(strip=True).startswith("Note")
    ]


@pytest.mark.parametrize("ref", ["P1", "channel"])
def test_a_thread_shows_its_latest_50_messages_and_fetches_earlier_ones(client, panel, ref):
    open_round(panel.study, actor=panel.facilitator)
    item_id = None if ref == "channel" else int(dom(ref).removeprefix("item-"))
    ids = _many_messages(panel.study.id, item_id, 120)
    notice = 1 if ref == "channel" else 0  # "Round 1 opened", before the notes
    sign_in(client, panel.partners[0].user)
    soup = page(get_page(client, _page_of(ref)))
    assert _notes(soup) == [f"Note {n}" for n in range(71, 121)]
    earlier = soup.select_one(f"#earlier-{dom(ref)}")
    link = earlier.select_one("a")
    assert link.get_text(strip=True) == f"Show earlier messages ({70 + notice} more)"
    assert link["hx-get"] == f"{BASE}/{ref}/earlier?before={ids[70]}&context=page"
    assert link["hx-target"] == "closest li" and link["hx-swap"] == "outerHTML"
    # With htmx: the 50 before, and the line again for the last 20.
    more = page(get_page(client, link["hx-get"], headers=HX))
    assert _notes(more) == [f"Note {n}" for n in range(21, 71)]
    assert more.select_one(f"#earlier-{dom(ref)} a").get_text(strip=True) == (
        f"Show earlier messages ({20 + notice} more)"
    )
    last = page(get_page(client, more.select_one("a")["hx-get"], headers=HX))
    assert _notes(last) == [f"Note {n}" for n in range(1, 21)]
    assert last.select_one(".app-thread__earlier") is None
    # Without JavaScript: the thread page showing 50 more, then all.
    assert link["href"] == f"{_page_of(ref)}?shown=100"
    hundred = page(get_page(client, link["href"]))
    assert _notes(hundred) == [f"Note {n}" for n in range(21, 121)]
    every = page(get_page(client, hundred.select_one(".app-thread__earlier a")["href"]))
    assert _notes(every) == [f"Note {n}" for n in range(1, 121)]
    assert every.select_one(".app-thread__earlier") is None
    # The plain "earlier" address sends a browser without htmx to the page showing more.
    plain = client.get(f"{BASE}/{ref}/earlier?before={ids[70]}")
    assert plain.status_code == 303
    assert re.search(r"\?shown=100#messages-", plain.headers["Location"])


def test_a_thread_loads_only_the_messages_it_shows(client, panel):
    """Counting and filtering read plain rows: of 120 messages, only the 50 shown are loaded
    as messages (with their authors, rounds and replies), and rendered."""
    from sqlalchemy import event

    open_round(panel.study, actor=panel.facilitator)
    _many_messages(panel.study.id, int(dom("P1").removeprefix("item-")), 120)
    sign_in(client, panel.facilitator)
    loaded: list[int] = []

    def count(target, context):  # noqa: ANN001 - SQLAlchemy's event signature
        loaded.append(target.id)

    event.listen(DiscussionMessage, "load", count)
    try:
        soup = page(get_page(client, _page_of("P1")))
    finally:
        event.remove(DiscussionMessage, "load", count)
    assert _notes(soup) == [f"Note {n}" for n in range(71, 121)]
    assert len(set(loaded)) == 50


def test_the_live_poll_still_adds_new_messages_to_a_windowed_thread(client, panel):
    round_ = open_round(panel.study, actor=panel.facilitator)
    _many_messages(panel.study.id, None, 60)
    sign_in(client, panel.partners[0].user)
    soup = page(get_page(client, BASE))
    cursor = soup.select_one("#discussion-live input[name=after]")["value"]
    sign_in(client, panel.partners[1].user)
    client.post(f"{BASE}/channel/messages", data={"channel-body": "Fresh news"})
    sign_in(client, panel.partners[0].user)
    poll = get_page(client, f"{BASE}/poll?after={cursor}&scope=channel", headers=HX)
    added = page(poll).select_one("[hx-swap-oob='beforeend:#messages-channel']")
    assert "Fresh news" in added.get_text()
    assert db.session.get(Round, round_.id) is not None


def test_the_discussion_export_keeps_every_message(client, panel):
    open_round(panel.study, actor=panel.facilitator)
    _many_messages(panel.study.id, None, 120)
    sign_in(client, panel.facilitator)
    exported = client.get(f"{BASE}/channel/export.json")
    notes = [m for m in exported.get_json()["messages"] if m["text"].startswith("Note")]
    assert len(notes) == 120


def test_a_filtered_thread_windows_the_messages_it_keeps(client, panel):
    open_round(panel.study, actor=panel.facilitator)
    _many_messages(panel.study.id, None, 60)
    sign_in(client, panel.facilitator)
    shown = get_page(client, f"{BASE}?voices=patients")
    assert page(shown).select_one(".app-thread__earlier") is None
    assert "No messages yet." in text_of(shown)


def test_the_feedback_of_a_200_item_round_is_a_page_per_theme_under_a_megabyte(client, big):
    """As the ballot: a contents list of the pages (plain links, no script needed), the
    page's place among them, previous and next; one chart axis per page."""
    sign_in(client, big.panellist.user)
    url = "/studies/big/rounds/1/feedback"
    first = page(get_page(client, url))
    assert [" ".join(li.get_text(" ").split()) for li in first.select("#contents li")] == [
        "Offers research opportunities 67 items",
        "Facilitates research 67 items",
        "Enables equity 66 items",
    ]
    current = first.select_one("#contents a[aria-current=page]")
    assert current.get_text(strip=True) == "Offers research opportunities"
    assert first.select_one(current["href"]).name == "h2"
    others = [a["href"] for a in first.select("#contents a:not([aria-current])")]
    assert others == [f"{url}?part=2", f"{url}?part=3"]
    assert "Page 1 of 3" in first.select_one("#contents").get_text(" ")
    sizes, seen = [], []
    for number in (1, 2, 3):
        response = get_page(client, f"{url}?part={number}")
        sizes.append(len(response.data))
        shown = page(response)
        cards = shown.select("section.app-item")
        seen += [card["aria-labelledby"] for card in cards]
        assert len(shown.select("symbol[id^=app-chart-axis]")) == 1
        assert len(shown.select("svg.app-chart__svg--mini use")) == len(cards)
        pager = [a.get_text(" ", strip=True) for a in shown.select("nav.app-pager a[rel]")]
        assert pager == {
            1: ["Next page: Facilitates research"],
            2: ["Previous page: Offers research opportunities", "Next page: Enables equity"],
            3: ["Previous page: Facilitates research"],
        }[number]
    print(f"feedback pages of the 200-item round: {[round(s / 1024) for s in sizes]} KB")
    assert len(seen) == len(set(seen)) == 200  # every item once, on one of the pages
    assert max(sizes) < MB


@pytest.mark.parametrize("asked", ["0", "4", "abc", "-1"])
def test_a_feedback_page_that_does_not_exist_shows_the_first(client, big, asked):
    sign_in(client, big.panellist.user)
    shown = page(get_page(client, f"/studies/big/rounds/1/feedback?part={asked}"))
    assert shown.select_one("#contents a[aria-current=page]").get_text(strip=True) == (
        "Offers research opportunities"
    )


def test_the_round_results_of_200_items_list_their_themes_to_jump_to(client, big):
    sign_in(client, big.facilitator)
    soup = page(get_page(client, "/studies/big/rounds/1/results"))
    links = soup.select("nav.app-contents a")
    assert [" ".join(a.get_text(" ").split()) for a in links] == [
        "Offers research opportunities",
        "Facilitates research",
        "Enables equity",
    ]
    for link in links:
        heading = soup.select_one(link["href"])
        assert heading.get_text(strip=True) == link.get_text(strip=True)
        rows = heading.find_parent("tbody").select("tr:not(.app-results__theme)")
        assert len(rows) == int(link.find_next_sibling("span").get_text().split()[0])


def test_a_short_round_keeps_its_feedback_on_one_page_with_theme_anchors(client, panel):
    from app.models import Rating
    from app.services.rounds import close_round

    round_ = open_round(panel.study, actor=panel.facilitator)
    for ri in round_.round_items:
        for rater in panel.raters:
            db.session.add(
                Rating(
                    round_id=round_.id,
                    panellist_id=rater.id,
                    item_version_id=ri.item_version_id,
                    score=8,
                    unable=False,
                )
            )
    db.session.commit()
    close_round(round_.id, actor=panel.facilitator)
    sign_in(client, panel.partners[0].user)
    shown = page(get_page(client, f"/studies/{panel.study.slug}/rounds/1/feedback"))
    links = [a["href"] for a in shown.select("#contents a")]
    assert len(links) == 2 and all(link.startswith("#theme-") for link in links)
    assert all(shown.select_one(link).name == "h2" for link in links)
    assert len(shown.select("section.app-item")) == len(round_.round_items)
    assert shown.select_one("nav.app-pager") is None
