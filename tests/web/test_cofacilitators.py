"""Running a study together: a facilitator adds another by email and removes one while
another remains; an existing account is never signed in by anything emailed or shown; the
audit log names who did what (issue 17)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import SignInLink, StudyFacilitator, User
from tests.conftest import PASSWORD, Panel, build_panel, make_user, sign_in
from tests.web.conftest import free_port
from tests.web.helpers import get_page, page, post_form, text_of

S = "/studies/test-study"


def _facilitator_emails(panel: Panel) -> list[str]:
    return sorted(
        db.session.scalars(
            select(User.email)
            .join(StudyFacilitator, StudyFacilitator.user_id == User.id)
            .where(StudyFacilitator.study_id == panel.study.id)
        )
    )


def _add(client, email: str, name: str = "Co Facilitator", *, status: int = 303):
    return post_form(
        client, f"{S}/facilitators", data={"email": email, "name": name}, status=status
    )


def _audit_rows(client) -> list[tuple[str, str]]:
    """(who, what happened) for each row of the audit page, newest first."""
    rows = page(get_page(client, f"{S}/audit")).select("table.app-audit-log tbody tr")
    return [
        (cells[1].get_text(" ", strip=True), cells[2].get_text(" ", strip=True))
        for cells in (row.select("td") for row in rows)
    ]


def test_adding_an_existing_account_adds_only_the_membership(client, app, panel: Panel, smtp):
    owner = make_user("dana@example.test", "Dana Stored-Name", password=PASSWORD)
    db.session.commit()
    stored_hash = owner.password_hash
    sign_in(client, panel.facilitator)

    shown = get_page(client, _add(client, "Dana@Example.test", "Dana Typed").location)

    assert _facilitator_emails(panel) == ["dana@example.test", panel.facilitator.email]
    assert "dana@example.test is now a facilitator of this study" in text_of(shown)
    # The inviter sees the name they typed, never the name the account holds.
    assert "Dana Typed" in text_of(shown) and "Dana Stored-Name" not in text_of(shown)
    db.session.refresh(owner)
    assert owner.password_hash == stored_hash
    assert db.session.scalar(select(SignInLink).where(SignInLink.user_id == owner.id)) is None
    (message,) = smtp.messages
    body = message.get_payload(decode=True).decode()
    assert message["To"] == "dana@example.test"
    assert "/sign-in/" not in body and "/invitation/" not in body
    assert f"http://localhost{S}" in body
    # The owner signs in with their own password and finds the study.
    owner_client = app.test_client()
    owner_client.post("/login", data={"email": "dana@example.test", "password": PASSWORD})
    assert "Test study" in text_of(get_page(owner_client, "/studies"))
    get_page(owner_client, f"{S}/panel")
    # Once signed in, co-facilitators see the account's own name.
    assert "Dana Stored-Name" in text_of(get_page(client, f"{S}/facilitators"))


def test_adding_a_new_address_opens_an_account_with_a_single_use_emailed_link(
    client, app, panel: Panel, smtp
):
    sign_in(client, panel.facilitator)
    _add(client, "eve@example.test", "Eve New")

    user = db.session.scalar(select(User).where(User.email == "eve@example.test"))
    assert user is not None and user.password_hash is None and not user.can_create_studies
    (message,) = smtp.messages
    url = re.search(r"http://\S+/sign-in/\S+", message.get_payload(decode=True).decode()).group(0)
    path = url.removeprefix("http://localhost")
    newcomer = app.test_client()
    assert newcomer.post(path).status_code == 303
    assert newcomer.get(f"{S}/panel").status_code == 200
    assert app.test_client().post(path).status_code == 410


def test_when_the_email_cannot_be_sent_the_link_is_shown_once_to_pass_on(client, app, panel: Panel):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nothing listens
    try:
        sign_in(client, panel.facilitator)
        shown = _add(client, "fay@example.test", "Fay Unmailed", status=200)
    finally:
        app.config.update(MAIL_SERVER="")
    words = text_of(shown)
    assert "We could not email them" in words and "did not answer" in words
    (link,) = [code.get_text() for code in page(shown).select("code.app-link-to-copy")]
    # Shown once: only the link's digest is kept, and the page does not show it again.
    assert link not in get_page(client, f"{S}/facilitators").get_data(as_text=True)
    newcomer = app.test_client()
    assert newcomer.post(link.removeprefix("http://localhost")).status_code == 303
    assert newcomer.get(S).status_code == 200


def test_without_email_set_up_the_page_says_so_and_shows_the_link(client, panel: Panel):
    sign_in(client, panel.facilitator)
    shown = _add(client, "gil@example.test", "Gil", status=200)
    assert "Email is not set up on this server." in text_of(shown)
    assert len(page(shown).select("code.app-link-to-copy")) == 1


def test_adding_someone_who_already_facilitates_is_refused_with_a_message(client, panel: Panel):
    sign_in(client, panel.facilitator)
    refused = _add(client, panel.facilitator.email, status=409)
    assert f"{panel.facilitator.email} is already a facilitator of this study." in text_of(refused)
    assert _facilitator_emails(panel) == [panel.facilitator.email]


def test_the_last_facilitator_cannot_be_removed(client, panel: Panel):
    sign_in(client, panel.facilitator)
    (only,) = panel.study.facilitators
    confirm = get_page(client, f"{S}/facilitators/{only.id}/remove")
    assert "A study needs at least one" in text_of(confirm)
    assert page(confirm).select("form[action$='/remove']") == []
    refused = client.post(f"{S}/facilitators/{only.id}/remove")
    assert refused.status_code == 409
    assert "at least one facilitator" in text_of(refused)
    assert _facilitator_emails(panel) == [panel.facilitator.email]


def test_a_co_facilitator_removes_another_and_the_audit_log_names_each_actor(
    client, app, panel: Panel
):
    panel.facilitator.name = "Ann First"
    second = make_user("bob@example.test", "Bob Second", facilitator=True)
    db.session.commit()
    sign_in(client, panel.facilitator)
    _add(client, "bob@example.test", "Bob Second")

    bob = app.test_client()
    sign_in(bob, second)
    first = db.session.scalar(
        select(StudyFacilitator).where(StudyFacilitator.user_id == panel.facilitator.id)
    )
    post_form(bob, f"{S}/facilitators/{first.id}/remove", status=303)

    assert _facilitator_emails(panel) == ["bob@example.test"]
    assert client.get(S).status_code == 404  # Ann no longer reaches the study
    rows = _audit_rows(bob)
    assert rows[0] == ("Bob Second bob@example.test", "Removed a facilitator")
    assert (f"Ann First {panel.facilitator.email}", "Added a facilitator") in rows


def test_a_facilitator_may_remove_themselves_while_another_remains(client, panel: Panel):
    make_user("cat@example.test", "Cat")
    db.session.commit()
    sign_in(client, panel.facilitator)
    _add(client, "cat@example.test", "Cat")
    mine = db.session.scalar(
        select(StudyFacilitator).where(StudyFacilitator.user_id == panel.facilitator.id)
    )
    response = post_form(client, f"{S}/facilitators/{mine.id}/remove", status=303)
    assert response.location.endswith("/studies")
    assert _facilitator_emails(panel) == ["cat@example.test"]


def test_another_studys_facilitator_can_neither_add_nor_remove(app, panel: Panel):
    other = build_panel(slug="other-study", title="Other study", observer=False)
    outsider = app.test_client()
    sign_in(outsider, other.facilitator)
    (mine,) = panel.study.facilitators
    (theirs,) = other.study.facilitators

    assert (
        outsider.post(
            f"{S}/facilitators", data={"email": "x@example.test", "name": "X"}
        ).status_code
        == 404
    )
    assert outsider.post(f"{S}/facilitators/{mine.id}/remove").status_code == 404
    assert outsider.get(f"{S}/facilitators").status_code == 404
    # Nor through their own study's facilitator in this study's address, or the reverse.
    owner = app.test_client()
    sign_in(owner, panel.facilitator)
    assert owner.post(f"{S}/facilitators/{theirs.id}/remove").status_code == 404
    assert _facilitator_emails(panel) == [panel.facilitator.email]
    assert db.session.scalar(select(User).where(User.email == "x@example.test")) is None


def test_a_panellist_cannot_add_a_facilitator(client, panel: Panel):
    sign_in(client, panel.partners[0].user)
    response = client.post(f"{S}/facilitators", data={"email": "x@example.test", "name": "X"})
    assert response.status_code == 403
    assert _facilitator_emails(panel) == [panel.facilitator.email]
