"""A panellist who joined without a password, and has no email set up, gets back in through a
new sign-in link from the facilitators: single-use, stored only as a digest, listed on the
panel page like an invitation link until used, and audited. It never opens an account that
has a password or anything beyond this panel."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Invitation, utcnow
from app.services.cycle import complete_study
from app.services.panel import add_panellist, issue_invitation
from tests.conftest import PASSWORD, Panel, build_panel, sign_in
from tests.web.helpers import get_page, page, post_form, text_of

S = "/studies/test-study"


def listed_links(client) -> dict[str, str]:
    soup = page(client.get(f"{S}/panel"))
    return {
        row.select_one(".app-invite-email").get_text(strip=True): row.select_one(
            ".app-invite-link"
        ).get_text(strip=True)
        for row in soup.select("table.app-invite-links tbody tr")
    }


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_joined_panellist_without_a_password_gets_back_in_with_a_new_sign_in_link(
    client, panel: Panel
):
    stuck = panel.partners[0]
    stuck.user.last_login_at = utcnow()  # joined through their invitation, signed in once
    db.session.commit()
    sign_in(client, panel.facilitator)
    buttons = [
        b
        for b in page(get_page(client, f"{S}/panel")).select("button")
        if b.get_text(" ", strip=True).startswith("New sign-in link")
    ]
    assert len(buttons) == 6  # everyone joined has no password and no other panel
    (button,) = [b for b in buttons if stuck.name in b.get_text()]
    form = button.find_parent("form")
    response = post_form(client, form["action"], {}, status=303)
    shown = text_of(client.get(response.headers["Location"]))
    assert f"New sign-in link for {stuck.name}: the earlier one no longer works." in shown
    # Reloading the page makes no other link: the one link stays listed.
    links = listed_links(client)
    assert list(links) == [stuck.user.email] and listed_links(client) == links
    (made,) = events("panel.sign_in_link")
    assert made.user_id == panel.facilitator.id

    path = "/invitation/" + links[stuck.user.email].rsplit("/", 1)[1]
    person = client.application.test_client()
    offered = text_of(get_page(person, path))
    assert "Sign in to the panel" in offered and "Set a password now" in offered
    signed_in = post_form(person, path, {"password": PASSWORD, "confirm": PASSWORD}, status=303)
    assert "You are signed in." in text_of(person.get(signed_in.headers["Location"]))
    assert "Test study" in text_of(get_page(person, "/studies"))
    (used,) = events("panel.signed_in_with_link")
    assert used.user_id == stuck.user_id
    assert events("panel.joined") == []
    # Single use: the link is spent and has left the list.
    assert person.application.test_client().post(path, data={}).status_code == 410
    assert listed_links(client) == {}


def test_no_sign_in_link_is_offered_for_an_account_with_a_password_or_another_panel(
    client, panel: Panel
):
    from app.security import hash_password

    with_password, elsewhere = panel.partners[0], panel.partners[1]
    with_password.user.password_hash = hash_password(PASSWORD)
    other = build_panel(slug="other-study", title="Other study", observer=False)
    add_panellist(
        other.study,
        name=elsewhere.name,
        email=elsewhere.user.email,
        group=other.study.groups[0],
        role=elsewhere.panel_role,
    )
    db.session.commit()
    sign_in(client, panel.facilitator)
    soup = page(get_page(client, f"{S}/panel"))
    for person in (with_password, elsewhere):
        assert soup.select(f"form[action='{S}/panel/{person.id}/reinvite']") == []
    assert "Signs in with their password or an emailed link" in soup.get_text()
    before = db.session.scalar(select(func.count(Invitation.id)))
    refused = client.post(f"{S}/panel/{with_password.id}/reinvite")
    assert refused.status_code == 303
    assert "cannot sign them in" in text_of(client.get(refused.headers["Location"]))
    assert db.session.scalar(select(func.count(Invitation.id))) == before


def test_a_sign_in_link_still_works_after_the_study_is_completed(client, panel: Panel):
    from app.services.rounds import close_round, open_round

    round_ = open_round(panel.study, actor=panel.facilitator)
    close_round(round_.id, actor=panel.facilitator)
    from app.models import ItemDecision

    for decision in db.session.scalars(select(ItemDecision)):
        decision.decided_at = utcnow()
    late = add_panellist(
        panel.study,
        name="Late Person",
        email="late@example.test",
        group=panel.study.groups[0],
        role=panel.partners[0].panel_role,
    )
    issue_invitation(late)
    db.session.commit()
    sign_in(client, panel.facilitator)
    assert list(listed_links(client)) == ["late@example.test"]
    complete_study(panel.study, "Stopped early.", actor=panel.facilitator)
    # Nobody can join a completed study, so its invitation is no longer offered to pass on.
    assert listed_links(client) == {}
    stuck = panel.patients[0]
    post_form(client, f"{S}/panel/{stuck.id}/reinvite", {}, status=303)
    assert list(listed_links(client)) == [stuck.user.email]
    path = "/invitation/" + listed_links(client)[stuck.user.email].rsplit("/", 1)[1]
    person = client.application.test_client()
    post_form(person, path, {}, status=303)
    assert "The study is completed" in text_of(get_page(person, S))
