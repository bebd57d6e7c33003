"""Discussion: posting from the item page and the ballot, replies, edits, live updates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import DiscussionMessage, Rating, Round
from app.services.rounds import close_round, open_round, record_decisions
from delphi import Decision
from tests.conftest import Panel, sign_in
from tests.web.discussion_helpers import BASE, HX, dom, post
from tests.web.helpers import error_summary, get_page, page, post_form, text_of


@pytest.fixture
def round1(panel: Panel) -> Round:
    return open_round(panel.study, actor=panel.facilitator)


def messages(response) -> list[str]:
    return [
        " ".join(li.select_one(".app-message__body").get_text(" ").split())
        for li in page(response).select("li.app-message")
        if li.select_one(".app-message__body")
    ]


def only_message() -> DiscussionMessage:
    return db.session.scalars(
        select(DiscussionMessage).where(DiscussionMessage.kind == "message")
    ).one()


def test_a_message_shows_pseudonym_group_round_and_a_relative_time(client, panel, round1):
    sign_in(client, panel.patients[0].user)
    response = post(client, "P1", "Patients should *always* be asked")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{BASE}/P1#discussion-{dom('P1')}")
    shown = client.get(f"{BASE}/P1")
    item = page(shown).select_one("li.app-message")
    meta = " ".join(item.select_one(".app-message__meta").get_text(" ").split())
    assert "Patient representative 1" in meta and "Patient representatives" in meta
    assert "Round 1" in meta and "just now" in meta
    time = item.select_one("time")
    assert time["datetime"].endswith("+00:00") and time["title"]  # exact time on hover
    assert time.get("tabindex") == "0"  # and on focus
    assert messages(shown) == ["Patients should always be asked"]
    assert item.select_one(".app-message__body em").get_text() == "always"


def test_relative_times_read_like_people_speak(app):
    from app.discussion.templating import ago
    from app.models import utcnow

    now = utcnow()
    assert ago(now - timedelta(seconds=5)) == "just now"
    assert ago(now - timedelta(minutes=3, seconds=10)) == "3 min ago"
    assert ago(now - timedelta(hours=2)) == "2 hours ago"
    assert ago(now - timedelta(days=1, hours=1)) == "yesterday"
    assert ago(now - timedelta(days=4)) == "4 days ago"


def test_the_ballot_loads_a_thread_when_it_is_opened_and_posting_there_returns_to_it(
    client, panel, round1
):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "An earlier thought")
    ballot_url = "/studies/test-study/rounds/1/ballot"
    soup = page(get_page(client, ballot_url))
    d = dom("P1")
    details = soup.select_one(f"details#discussion-{d}")
    # Only the counts are on the ballot: no message, no form until the thread is opened.
    assert "An earlier thought" not in text_of(client.get(ballot_url))
    assert soup.select_one(f"textarea#{d}-body") is None
    body = details.select_one(f"#thread-{d}")
    assert body["hx-get"] == f"{BASE}/P1/panel"
    assert body["hx-trigger"] == "toggle once from:closest details"
    # Without JavaScript, a link to the thread's page.
    assert body.select_one("a")["href"] == f"{BASE}/P1"
    assert client.get(f"{BASE}/P1/panel").headers["Location"] == f"{BASE}/P1"

    opened = get_page(
        client,
        f"{BASE}/P1/panel",
        headers={**HX, "HX-Current-URL": "http://localhost" + ballot_url},
    )
    fragment = page(opened)
    assert messages(opened) == ["An earlier thought"]
    textarea = fragment.select_one(f"textarea#{d}-body")
    assert textarea["form"] == f"compose-form-{d}"
    # The <form> itself joins the others after the ballot, never nested in the ballot form.
    holder = fragment.select_one("[hx-swap-oob='beforeend:#discussion-forms']")
    form = holder.select_one(f"form#compose-form-{d}")
    assert form["action"] == f"{BASE}/P1/messages" and form["method"] == "post"
    assert soup.select_one("#discussion-forms").find_parent("form") is None
    next_url = fragment.select_one(f"input[name='{d}-next']")["value"]
    assert next_url == f"{ballot_url}#discussion-{d}"
    response = post(client, "P1", "Looks right to me", next=next_url)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(ballot_url)
    again = client.get(f"{BASE}/P1/panel", headers=HX)
    assert messages(again) == ["An earlier thought", "Looks right to me"]


def test_the_next_address_cannot_send_people_to_another_site(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    response = post(client, "P1", "Hello", next="//evil.example/steal")
    assert response.headers["Location"].startswith(f"{BASE}/P1")


def test_an_htmx_post_answers_an_empty_form_and_asks_the_page_to_fetch_news(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    response = post(client, "P1", "Quick thought", headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "discussion-refresh"
    soup = page(response)
    assert soup.select_one(f"#compose-{dom('P1')} textarea").get_text() == ""
    assert only_message().body == "Quick thought"


@pytest.mark.parametrize("headers", [{}, HX], ids=["plain", "htmx"])
def test_an_empty_message_gets_a_field_error(client, panel, round1, headers):
    sign_in(client, panel.partners[0].user)
    response = post(client, "P1", "   ", headers=headers)
    assert response.status_code == 422
    assert "Enter a message" in text_of(response)
    if not headers:
        assert error_summary(response) == ["Enter a message"]
        assert page(response).select_one(".nhsuk-error-summary a")["href"] == f"#{dom('P1')}-body"
    assert db.session.scalar(select(func.count(DiscussionMessage.id))) == 1  # round opened


def test_a_message_over_4000_characters_gets_a_field_error(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    response = post(client, "P1", "x" * 4001)
    assert response.status_code == 422
    assert error_summary(response) == ["Your message must be 4,000 characters or fewer"]
    # What was typed is kept so it can be shortened.
    assert page(response).select_one(f"textarea#{dom('P1')}-body").get_text() == "x" * 4001
    assert post(client, "P1", "y" * 4000).status_code == 303


def test_the_message_box_has_a_live_character_counter(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    soup = page(get_page(client, f"{BASE}/P1"))
    textarea = soup.select_one(f"textarea#{dom('P1')}-body")
    assert textarea["data-maxlength"] == "4000"
    counter = soup.select_one(f"#{dom('P1')}-body-count")
    assert counter["aria-live"] == "polite"
    assert counter.get_text() == "You can enter up to 4,000 characters"
    assert f"{dom('P1')}-body-count" in textarea["aria-describedby"]
    assert soup.select_one("script[src$='js/discussion.js']")


def test_a_reply_shows_a_quote_of_what_it_answers(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "The wording is too long for inspectors")
    first = only_message()
    sign_in(client, panel.patients[0].user)
    form = client.get(f"{BASE}/P1?reply_to={first.id}")
    assert "Replying to CQC partner 1" in text_of(form)
    fragment = client.get(f"{BASE}/P1/compose?reply_to={first.id}", headers=HX)
    assert page(fragment).select_one(f"input[name='{dom('P1')}-parent_id']")["value"] == str(
        first.id
    )
    post(client, "P1", "I agree, shorten it", parent_id=str(first.id))
    shown = page(get_page(client, f"{BASE}/P1"))
    reply = shown.select("li.app-message")[-1]
    quote = reply.select_one("blockquote").get_text(" ", strip=True)
    assert quote.startswith("In reply to CQC partner 1 wrote:")
    assert "The wording is too long for inspectors" in quote


def test_a_reply_to_a_message_in_another_thread_is_posted_as_a_plain_message(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "About P1")
    other = only_message()
    post(client, "P2", "About P2", parent_id=str(other.id))
    latest = db.session.scalars(select(DiscussionMessage).order_by(DiscussionMessage.id)).all()[-1]
    assert latest.parent_id is None


def test_an_author_edits_within_ten_minutes_and_the_edit_is_marked(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Frist thought")
    message = only_message()
    get_page(client, f"{BASE}/messages/{message.id}/edit")
    response = client.post(
        f"{BASE}/messages/{message.id}/edit", data={"body": "First thought", "category": ""}
    )
    assert response.status_code == 303
    shown = client.get(f"{BASE}/P1")
    assert messages(shown) == ["First thought"]
    assert "(edited)" in text_of(shown)


def test_an_empty_edit_gets_a_field_error(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Something")
    message = only_message()
    response = post_form(
        client, f"{BASE}/messages/{message.id}/edit", data={"body": ""}, status=422
    )
    assert error_summary(response) == ["Enter a message"]


def test_an_author_deletes_their_message_and_others_see_it_was_deleted(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Oops, wrong item")
    message = only_message()
    assert client.post(f"{BASE}/messages/{message.id}/delete").status_code == 303
    sign_in(client, panel.partners[1].user)
    shown = client.get(f"{BASE}/P1")
    assert "This message was deleted." in text_of(shown)
    assert "Oops, wrong item" not in shown.get_data(as_text=True)


def test_after_ten_minutes_a_message_can_no_longer_be_edited_or_deleted(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Settled view")
    message = only_message()
    message.created_at = message.created_at - timedelta(minutes=11)
    db.session.commit()
    edit = client.post(f"{BASE}/messages/{message.id}/edit", data={"body": "Changed"})
    assert edit.status_code == 403
    assert "10 minutes" in text_of(edit)
    assert client.post(f"{BASE}/messages/{message.id}/delete").status_code == 403
    assert "Edit" not in [
        a.get_text(strip=True)
        for a in page(get_page(client, f"{BASE}/P1")).select(".app-message__actions a")
    ]
    db.session.refresh(message)
    assert message.body == "Settled view" and message.deleted_at is None


def test_nobody_edits_or_deletes_someone_elses_message(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Mine")
    message = only_message()
    for person in (panel.partners[1].user, panel.facilitator):
        sign_in(client, person)
        assert client.get(f"{BASE}/messages/{message.id}/edit").status_code == 403
        assert client.post(f"{BASE}/messages/{message.id}/delete").status_code == 403
    db.session.refresh(message)
    assert message.body == "Mine" and message.deleted_at is None


def test_polling_with_nothing_new_answers_204_with_no_body(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    soup = page(get_page(client, f"{BASE}/P1"))
    cursor = soup.select_one("#discussion-live input[name=after]")["value"]
    live = soup.select_one("#discussion-live")
    assert "every 3s" in live["hx-trigger"]
    response = client.get(f"{BASE}/poll?after={cursor}&scope=item:1", headers=HX)
    assert response.status_code == 204 and response.get_data() == b""


def test_polling_brings_new_messages_from_others_and_moves_the_cursor(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    soup = page(get_page(client, f"{BASE}/P1"))
    cursor = soup.select_one("#discussion-live input[name=after]")["value"]
    scope = soup.select_one("#discussion-live input[name=scope]")["value"]
    other = panel.study.app_client = None  # noqa: F841 (two browsers: a second client)
    from flask import current_app

    second = current_app.test_client()
    sign_in(second, panel.patients[0].user)
    post(second, "P1", "Seen from another browser")
    response = get_page(client, f"{BASE}/poll?after={cursor}&scope={scope}", headers=HX)
    soup = page(response)
    appended = soup.select_one(f"[hx-swap-oob='beforeend:#messages-{dom('P1')}']")
    assert "Seen from another browser" in appended.get_text()
    new_cursor = int(soup.select_one("#discussion-live-state input[name=after]")["value"])
    assert new_cursor > int(cursor)
    assert client.get(f"{BASE}/poll?after={new_cursor}&scope={scope}").status_code == 204


def test_a_poll_only_brings_the_threads_on_the_page(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P2", "About P2 only")
    response = client.get(f"{BASE}/poll?after=0&scope=item:{dom('P1')[5:]}", headers=HX)
    assert "About P2 only" not in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_people_outside_the_study_cannot_poll(client, panel, round1, who):
    if who == "outsider":
        from tests.conftest import build_panel

        other = build_panel(slug="other-study")
        sign_in(client, other.partners[0].user)
    response = client.get(f"{BASE}/poll?after=0")
    assert response.status_code == (401 if who == "anonymous" else 404)


def test_the_ballot_shows_an_unread_count_per_item(client, panel, round1):
    sign_in(client, panel.partners[1].user)
    post(client, "P1", "One")
    post(client, "P1", "Two")
    post(client, "P2", "Three")
    sign_in(client, panel.partners[0].user)
    soup = page(get_page(client, "/studies/test-study/rounds/1/ballot"))
    assert soup.select_one(f"#unread-{dom('P1')}").get_text(" ", strip=True) == (
        "2 messages, 2 unread"
    )
    assert soup.select_one(f"#unread-{dom('P2')}").get_text(" ", strip=True) == (
        "1 message, 1 unread"
    )
    assert soup.select_one(f"#unread-{dom('P3')}").get_text(" ", strip=True) == "0 messages"
    client.get(f"{BASE}/P1")  # reading the thread marks it read
    soup = page(get_page(client, "/studies/test-study/rounds/1/ballot"))
    assert soup.select_one(f"#unread-{dom('P1')}").get_text(" ", strip=True) == "2 messages"
    # Opening the thread on the ballot marks it read too (htmx, on toggle).
    response = client.post(f"{BASE}/P2/read", headers=HX)
    assert page(response).select_one(f"#unread-{dom('P2')}").get_text(strip=True) == "1 message"
    # A poll on the ballot updates the count when someone else writes.
    cursor = soup.select_one("#discussion-live input[name=after]")["value"]
    sign_in(client, panel.partners[1].user)
    post(client, "P1", "Four")
    sign_in(client, panel.partners[0].user)
    poll = page(get_page(client, f"{BASE}/poll?after={cursor}&scope=ballot:1", headers=HX))
    assert poll.select_one(f"#unread-{dom('P1')}").get_text(" ", strip=True) == (
        "3 messages, 1 unread"
    )


def test_own_messages_never_count_as_unread(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Mine")
    soup = page(get_page(client, "/studies/test-study/rounds/1/ballot"))
    assert soup.select_one(f"#unread-{dom('P1')}").get_text(" ", strip=True) == "1 message"


def test_share_my_reason_posts_the_rating_reason_once(client, panel, round1):
    sign_in(client, panel.patients[0].user)
    vid = round1.round_items[0].item_version_id
    client.post(
        f"/studies/test-study/rounds/1/items/{vid}/rating",
        data={f"score-{vid}": "8", f"reason-{vid}": "Patients need to be asked"},
        headers=HX,
    )
    soup = page(get_page(client, "/studies/test-study/rounds/1/ballot"))
    box = soup.select_one(f"#share-{vid}")
    assert box["type"] == "checkbox" and box["hx-include"] == f"#reason-{vid}"
    # A filter such as change[target.checked] needs eval, which the page's htmx config forbids.
    assert box["hx-trigger"] == "change" and box["name"] == f"share-{vid}"
    unticked = client.post(
        f"{BASE}/P1/share-reason", data={f"reason-{vid}": "Patients need to be asked"}, headers=HX
    )
    assert unticked.status_code == 200 and text_of(unticked) == ""
    posted = select(func.count(DiscussionMessage.id)).where(DiscussionMessage.kind == "message")
    assert db.session.scalar(posted) == 0
    ticked = {f"reason-{vid}": "Patients need to be asked", box["name"]: box["value"]}
    response = client.post(f"{BASE}/P1/share-reason", data=ticked, headers=HX)
    assert "Your reason is shared in the discussion." in text_of(response)
    message = only_message()
    rating = db.session.scalar(select(Rating))
    assert message.body == "Patients need to be asked" and message.rating_id == rating.id
    again = client.post(f"{BASE}/P1/share-reason", data={box["name"]: "yes"}, headers=HX)
    assert "already in the discussion" in text_of(again)
    assert (
        db.session.scalar(
            select(func.count(DiscussionMessage.id)).where(DiscussionMessage.kind == "message")
        )
        == 1
    )
    shown = client.get(f"{BASE}/P1")
    assert "Shared from their rating reason" in text_of(shown)


def test_share_my_reason_without_javascript_returns_to_the_ballot(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    vid = round1.round_items[0].item_version_id
    response = client.post(f"{BASE}/P1/share-reason", data={f"reason-{vid}": "Too vague"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/studies/test-study/rounds/1/ballot")
    assert only_message().body == "Too vague"
    vid2 = round1.round_items[1].item_version_id
    empty = post_form(
        client, f"{BASE}/P2/share-reason", data={f"share-{vid2}": "yes"}, headers=HX, status=422
    )
    assert "Write a reason first" in text_of(empty)


def test_facilitators_announce_in_the_study_channel(client, panel, round1):
    sign_in(client, panel.facilitator)
    response = post(client, "channel", "Round 1 is open until 12 March")
    assert response.status_code == 303
    sign_in(client, panel.partners[0].user)
    shown = client.get(BASE)
    assert "Round 1 is open until 12 March" in text_of(shown)
    author = page(shown).select("li.app-message")[-1].select_one(".app-message__author")
    assert author.get_text() == "Facilitator"


def test_opening_and_closing_rounds_appear_in_the_channel(client, panel):
    sign_in(client, panel.partners[0].user)
    round_ = open_round(panel.study, actor=panel.facilitator)
    close_round(round_.id, actor=panel.facilitator)
    shown = client.get(BASE)
    text = text_of(shown)
    assert "Round 1 opened." in text and "Round 1 closed." in text
    systems = page(shown).select("li.app-message--system")
    assert len(systems) == 2


def test_a_thread_runs_across_rounds_and_each_message_shows_its_round(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Written in round one")
    close_round(round1.id, actor=panel.facilitator)
    record_decisions(
        round1,
        {
            ri.item_version.item_id: (Decision.CARRY_FORWARD, "Discuss more")
            for ri in round1.round_items
        },
        panel.facilitator,
    )
    open_round(panel.study, actor=panel.facilitator)
    post(client, "P1", "Written in round two")
    items = page(get_page(client, f"{BASE}/P1")).select("li.app-message")
    rounds = [li.select_one(".app-message__round").get_text() for li in items]
    assert rounds == ["Round 1", "Round 2"]


def test_mentions_of_items_link_to_that_item(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Compare with #P2 and #i1, not #P99")
    body = page(get_page(client, f"{BASE}/P1")).select_one("li.app-message .app-message__body")
    links = {a.get_text(): a["href"] for a in body.select("a")}
    assert links == {"#P2": f"{BASE}/P2", "#I1": f"{BASE}/I1"}
    assert "#P99" in body.get_text()


def test_messages_carry_a_category_and_threads_filter_by_it(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Say 'board' not 'trust'", category="wording")
    post(client, "P1", "NIHR data show this", category="evidence")
    post(client, "P1", "No topic")
    shown = client.get(f"{BASE}/P1")
    tags = [t.get_text() for t in page(shown).select(".app-message__category")]
    assert tags == ["Wording", "Evidence"]
    filtered = client.get(f"{BASE}/P1?category=wording")
    assert messages(filtered) == ["Say 'board' not 'trust'"]
    assert "Clear the filters" in text_of(filtered)


def test_patient_voices_can_be_shown_alone_or_highlighted(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Partner view")
    sign_in(client, panel.patients[0].user)
    post(client, "P1", "Patient view")
    only = client.get(f"{BASE}/P1?voices=patients")
    assert messages(only) == ["Patient view"]
    highlighted = page(get_page(client, f"{BASE}/P1?voices=highlight"))
    assert highlighted.select_one("ol.app-thread--highlight")
    patient = highlighted.select_one("li.app-message--patient")
    assert "Patient voice" in patient.get_text()  # a word, not only a colour
    assert len(highlighted.select("li.app-message")) == 2


def test_a_filtered_page_polls_with_its_filters(client, panel, round1):
    sign_in(client, panel.patients[0].user)
    soup = page(get_page(client, f"{BASE}/P1?voices=patients"))
    cursor = soup.select_one("#discussion-live input[name=after]")["value"]
    assert soup.select_one("#discussion-live input[name=voices]")["value"] == "patients"
    sign_in(client, panel.partners[0].user)
    post(client, "P1", "Partner speaking")
    sign_in(client, panel.patients[0].user)
    poll = client.get(
        f"{BASE}/poll?after={cursor}&scope=item:{dom('P1')[5:]}&voices=patients", headers=HX
    )
    assert "Partner speaking" not in poll.get_data(as_text=True)


def test_the_item_page_form_owns_its_fields(client, panel, round1):
    sign_in(client, panel.partners[0].user)
    soup = page(get_page(client, f"{BASE}/P1"))
    d = dom("P1")
    compose = soup.select_one(f"#compose-{d}")
    assert compose.select_one("textarea")["form"] == f"compose-form-{d}"
    assert compose.select_one("button")["form"] == f"compose-form-{d}"
    assert soup.select_one(f"form#compose-form-{d}")
