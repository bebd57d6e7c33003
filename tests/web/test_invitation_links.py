"""Inviting answers with the panel page (post/redirect/get): reloading it invites nobody again,
and every open invitation link a facilitator is to pass on stays listed there, to copy or
download, until it is used, replaced or expires. Emailed links are never kept."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Invitation, Panellist, User, utcnow
from app.security import token_hash
from tests.conftest import PASSWORD, Panel, sign_in
from tests.web.helpers import page, text_of

S = "/studies/test-study"


def invite(client, panel: Panel, name: str, email: str):
    return client.post(
        f"{S}/panel/invite",
        data={"name": name, "email": email, "group": panel.study.groups[0].id, "role": "partner"},
    )


def listed_links(client) -> dict[str, str]:
    """The open links on the panel page, by the address of the person each is for."""
    soup = page(client.get(f"{S}/panel"))
    return {
        row.select_one(".app-invite-email").get_text(strip=True): row.select_one(
            ".app-invite-link"
        ).get_text(strip=True)
        for row in soup.select("table.app-invite-links tbody tr")
    }


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_inviting_redirects_to_the_panel_page_where_the_link_stays_listed(client, panel):
    sign_in(client, panel.facilitator)
    before = (count(Panellist), count(Invitation))
    response = invite(client, panel, "Rae Reviewer", "rae@example.test")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{S}/panel")
    shown = client.get(response.headers["Location"])
    assert "Rae Reviewer is invited. Copy their link below and send it to them." in text_of(shown)
    links = listed_links(client)
    assert list(links) == ["rae@example.test"]
    assert "/invitation/" in links["rae@example.test"]
    # Reloading the page shows the same link and invites nobody again.
    assert listed_links(client) == links
    assert (count(Panellist), count(Invitation)) == (before[0] + 1, before[1] + 1)
    # The listed link is the one that works.
    token = links["rae@example.test"].rsplit("/", 1)[1]
    assert client.application.test_client().get(f"/invitation/{token}").status_code == 200


def test_only_a_digest_and_a_seed_are_stored_and_the_seed_alone_is_not_the_link(client, panel, app):
    from app.security import link_token

    sign_in(client, panel.facilitator)
    invite(client, panel, "Rae Reviewer", "rae@example.test")
    token = listed_links(client)["rae@example.test"].rsplit("/", 1)[1]
    invitation = db.session.scalar(select(Invitation).order_by(Invitation.id.desc()))
    assert invitation.token_hash == token_hash(token)
    assert token not in (invitation.link_seed or "") and invitation.link_seed
    assert link_token(invitation.link_seed, app.config["SECRET_KEY"]) == token
    assert link_token(invitation.link_seed, "another secret key") != token


def test_a_new_link_redirects_and_replaces_the_listed_one(client, panel):
    sign_in(client, panel.facilitator)
    invite(client, panel, "Rae Reviewer", "rae@example.test")
    old = listed_links(client)["rae@example.test"]
    rae = db.session.scalar(select(Panellist).join(User).where(User.email == "rae@example.test"))
    response = client.post(f"{S}/panel/{rae.id}/reinvite")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{S}/panel")
    shown = text_of(client.get(response.headers["Location"]))
    assert "New link for Rae Reviewer: the earlier one no longer works." in shown
    new = listed_links(client)["rae@example.test"]
    assert new != old and list(listed_links(client)) == ["rae@example.test"]
    outsider = client.application.test_client()
    assert outsider.get("/invitation/" + old.rsplit("/", 1)[1]).status_code == 410
    assert outsider.get("/invitation/" + new.rsplit("/", 1)[1]).status_code == 200
    superseded = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(old.rsplit("/", 1)[1]))
    )
    assert superseded.link_seed is None


def test_a_used_or_expired_link_leaves_the_list(client, panel):
    sign_in(client, panel.facilitator)
    invite(client, panel, "Rae Reviewer", "rae@example.test")
    invite(client, panel, "Sam Slow", "sam@example.test")
    links = listed_links(client)
    joiner = client.application.test_client()
    token = links["rae@example.test"].rsplit("/", 1)[1]
    joined = joiner.post(f"/invitation/{token}", data={"password": PASSWORD, "confirm": PASSWORD})
    assert joined.status_code == 303
    used = db.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    assert used.link_seed is None
    assert list(listed_links(client)) == ["sam@example.test"]
    sam = db.session.scalar(
        select(Invitation).join(Panellist).join(User).where(User.email == "sam@example.test")
    )
    sam.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert listed_links(client) == {}
    assert "No invitation links are waiting to be sent." in text_of(client.get(f"{S}/panel"))


def test_a_panel_file_redirects_to_the_page_listing_every_new_link(client, panel):
    sign_in(client, panel.facilitator)
    panel_csv = (
        "name,email,group,role\n"
        "Ann Able,ann@example.test,CQC,partner\n"
        "Pat Patient,pat@example.test,Patient representatives,patient_rep\n"
    )
    response = client.post(
        f"{S}/panel/import",
        data={"file": (io.BytesIO(panel_csv.encode()), "panel.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert "2 panellists invited." in text_of(client.get(response.headers["Location"]))
    assert sorted(listed_links(client)) == ["ann@example.test", "pat@example.test"]


def test_every_open_link_downloads_as_a_spreadsheet_safe_csv(client, panel):
    sign_in(client, panel.facilitator)
    invite(client, panel, "=HYPERLINK(1)", "eve@example.test")
    invite(client, panel, "Rae Reviewer", "rae@example.test")
    links = listed_links(client)
    response = client.get(f"{S}/panel/links.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["email"] for r in rows] == ["eve@example.test", "rae@example.test"]
    assert rows[0]["name"] == "'=HYPERLINK(1)"
    assert {r["email"]: r["link"] for r in rows} == links
    assert rows[1]["group"] == "CQC" and rows[1]["role"] == "Partner"
    assert rows[1]["expires"]
    assert count_events("panel.links_downloaded") == 1


def count_events(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def test_links_made_under_another_secret_key_are_not_shown_and_the_page_says_so(client, panel, app):
    sign_in(client, panel.facilitator)
    invite(client, panel, "Rae Reviewer", "rae@example.test")
    secret = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "a rotated secret key"
    try:
        sign_in(client, panel.facilitator)
        shown = client.get(f"{S}/panel")
        assert page(shown).select(".app-invite-link") == []
        assert "1 link can no longer be shown" in text_of(shown)
    finally:
        app.config["SECRET_KEY"] = secret


def test_an_emailed_invitation_keeps_no_seed_and_is_not_listed(client, panel, smtp):
    sign_in(client, panel.facilitator)
    response = invite(client, panel, "Mo Mailed", "mo@example.test")
    assert response.status_code == 303
    assert "Invitation emailed to Mo Mailed." in text_of(client.get(response.headers["Location"]))
    invitation = db.session.scalar(
        select(Invitation).join(Panellist).join(User).where(User.email == "mo@example.test")
    )
    assert invitation.sent_at is not None and invitation.link_seed is None
    assert listed_links(client) == {}
