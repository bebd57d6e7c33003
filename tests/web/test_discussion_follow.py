"""Following an item's discussion: "Follow this item" / "Stop following" on its thread page
decides whether its new messages are in the person's daily digest (real SMTP, loopback)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import DiscussionFollow, utcnow
from app.services.notifications import send_digests, set_preferences
from delphi import StudyStatus
from delphi.notifications import NotificationKind
from tests.conftest import Panel, build_panel, sign_in
from tests.web.discussion_helpers import BASE, HX, post
from tests.web.helpers import get_page, text_of
from tests.web.helpers import page as soup

FOLLOW = f"{BASE}/P1/follow"


def _client(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


def _digest_to(smtp, email: str) -> str | None:
    found = [m for m in smtp.messages if m["To"] == email]
    return found[-1].get_payload(decode=True).decode() if found else None


def _choices() -> int:
    return db.session.scalar(select(func.count(DiscussionFollow.id))) or 0


def test_following_without_posting_puts_the_item_in_the_digest(app, panel: Panel, smtp):
    follower, writer = panel.partners[0], panel.partners[1]
    page = soup(get_page(_client(app, follower.user), f"{BASE}/P1"))
    button = page.select_one(f"form[action='{FOLLOW}'] button")
    assert button is not None and button.get_text(strip=True) == "Follow this item"
    assert "daily discussion digest" in page.get_text()
    assert page.select_one("a[href='/account#emails']") is not None
    response = _client(app, follower.user).post(FOLLOW, data={"following": "yes"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{BASE}/P1")
    post(_client(app, writer.user), "P1", "A point nobody replied to.")
    send_digests()
    body = _digest_to(smtp, follower.user.email)
    assert body is not None and "A point nobody replied to." in body
    assert "New messages about items you follow (1):" in body
    # Someone who neither posted nor followed hears nothing.
    assert _digest_to(smtp, panel.partners[2].user.email) is None


def test_stopping_following_after_posting_leaves_the_item_out(app, panel: Panel, smtp):
    first, second = panel.partners[0], panel.partners[1]
    client = _client(app, first.user)
    post(client, "P1", "My first thought.")
    shown = soup(get_page(client, f"{BASE}/P1"))
    assert shown.select_one(f"form[action='{FOLLOW}'] button").get_text(strip=True) == (
        "Stop following"
    )
    assert client.post(FOLLOW, data={"following": "no"}).status_code == 303
    post(_client(app, second.user), "P1", "Another view, not a reply.")
    send_digests()
    assert _digest_to(smtp, first.user.email) is None
    # Following again brings it back.
    assert client.post(FOLLOW, data={"following": "yes"}).status_code == 303
    post(_client(app, second.user), "P1", "One more view.")
    send_digests()
    assert "One more view." in (_digest_to(smtp, first.user.email) or "")


def test_htmx_swaps_the_control_in_place(app, panel: Panel):
    client = _client(app, panel.patients[0].user)
    response = client.post(FOLLOW, data={"following": "yes"}, headers=HX)
    assert response.status_code == 200
    fragment = soup(response)
    assert fragment.select_one("div.app-follow") is not None
    assert fragment.find("button").get_text(strip=True) == "Stop following"
    assert "You follow P1" in text_of(response)
    assert "<html" not in response.get_data(as_text=True)
    back = client.post(FOLLOW, data={"following": "no"}, headers=HX)
    assert soup(back).find("button").get_text(strip=True) == "Follow this item"
    row = db.session.scalar(select(DiscussionFollow))
    assert row is not None and row.following is False and _choices() == 1


@pytest.mark.parametrize("who", ["observer", "facilitator"])
def test_observers_and_facilitators_can_follow(app, panel: Panel, who):
    user = panel.observer.user if who == "observer" else panel.facilitator
    response = _client(app, user).post(FOLLOW, data={"following": "yes"})
    assert response.status_code == 303 and _choices() == 1


def test_the_choice_needs_the_csrf_token(app, panel: Panel):
    client = _client(app, panel.partners[0].user)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(FOLLOW, data={"following": "yes"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert refused.status_code == 400 and _choices() == 0


def test_outsiders_and_other_studies_are_refused(app, panel: Panel):
    other = build_panel(slug="other-study", title="Other study")
    db.session.commit()
    stranger = _client(app, other.partners[0].user)
    assert stranger.post(FOLLOW, data={"following": "yes"}).status_code == 404
    # A member of this study cannot reach the other study's thread either.
    member = _client(app, panel.partners[0].user)
    response = member.post("/studies/other-study/discussion/P1/follow", data={"following": "yes"})
    assert response.status_code == 404
    assert app.test_client().post(FOLLOW, data={"following": "yes"}).status_code == 302
    assert _choices() == 0


@pytest.mark.parametrize("value", ["", "maybe", "YES"])
def test_a_bad_choice_is_a_clear_400(app, panel: Panel, value):
    response = _client(app, panel.partners[0].user).post(FOLLOW, data={"following": value})
    assert response.status_code == 400 and "following=yes or no" in text_of(response)
    assert _choices() == 0


def test_the_study_channel_is_not_an_item_to_follow(app, panel: Panel):
    client = _client(app, panel.partners[0].user)
    assert client.post(f"{BASE}/channel/follow", data={"following": "yes"}).status_code == 404
    assert soup(get_page(client, BASE)).select("div.app-follow") == []


def test_a_withdrawn_panellist_neither_follows_nor_gets_a_digest(app, panel: Panel, smtp):
    quitter, writer = panel.partners[0], panel.partners[1]
    client = _client(app, quitter.user)
    post(client, "P1", "Before I left.")
    quitter.withdrawn_at = utcnow()
    db.session.commit()
    assert soup(get_page(client, f"{BASE}/P1")).select("div.app-follow") == []
    assert client.post(FOLLOW, data={"following": "yes"}).status_code == 403
    post(_client(app, writer.user), "P1", "After they left.")
    send_digests()
    assert _digest_to(smtp, quitter.user.email) is None


def test_a_completed_study_offers_no_control_and_refuses_the_choice(app, panel: Panel):
    panel.study.status = StudyStatus.COMPLETED.value
    db.session.commit()
    client = _client(app, panel.partners[0].user)
    assert soup(get_page(client, f"{BASE}/P1")).select("div.app-follow") == []
    response = client.post(FOLLOW, data={"following": "yes"})
    assert response.status_code == 409 and "following an item" in text_of(response)
    assert _choices() == 0


def test_following_does_not_send_a_digest_to_someone_who_turned_it_off(app, panel: Panel, smtp):
    follower = panel.partners[0]
    set_preferences(follower.user_id, {NotificationKind.DISCUSSION: False})
    _client(app, follower.user).post(FOLLOW, data={"following": "yes"})
    post(_client(app, panel.partners[1].user), "P1", "Something new.")
    send_digests()
    assert _digest_to(smtp, follower.user.email) is None


def test_follow_rows_go_with_the_thread_and_the_person(app, panel: Panel):
    from app.models import DiscussionThread, User

    _client(app, panel.partners[0].user).post(FOLLOW, data={"following": "yes"})
    _client(app, panel.partners[1].user).post(FOLLOW, data={"following": "no"})
    assert _choices() == 2
    db.session.execute(delete(User).where(User.id == panel.partners[0].user_id))
    db.session.commit()
    assert _choices() == 1
    db.session.execute(delete(DiscussionThread))
    db.session.commit()
    assert _choices() == 0
