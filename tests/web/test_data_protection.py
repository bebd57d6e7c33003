"""Data protection: erasure requests, access requests and the retention date, end to end."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import (
    AuditEvent,
    DiscussionMessage,
    Invitation,
    LoginAttempt,
    Panellist,
    Rating,
    RoundSnapshot,
    Study,
    User,
)
from app.services import audit, login_limits
from app.services.api_tokens import create_token
from app.services.panel import add_panellist, issue_invitation
from app.services.rounds import close_round
from delphi import PanelRole, StudyStatus
from delphi.privacy import mask_identifiers, retention_due
from tests.conftest import Panel, build_panel, sign_in
from tests.web.discussion_helpers import post
from tests.web.helpers import get_page, open_and_rate_round_one, post_form, text_of

NAME = "Zebedee Quartermain"
EMAIL = "zq.erasure@example.test"
SCORES = {"P1": [9, 8, 8, 7, 9, 8], "P2": [1, 2, 1, 2, 3, 2], "P3": [5, 8, 2, 7, 4, 6]}


def _person_on(panel: Panel, name: str = NAME, email: str = EMAIL) -> Panellist:
    person = add_panellist(
        panel.study,
        name=name,
        email=email,
        group=panel.study.groups[0],
        role=PanelRole.PARTNER,
    )
    person.joined_at = panel.partners[0].joined_at
    db.session.commit()
    panel.partners.append(person)
    return person


@pytest.fixture
def erasable(app, client) -> Panel:
    """A closed round rated by the person, who also gave a reason and a message naming
    themselves, and failed to sign in once."""
    panel = build_panel()
    person = _person_on(panel)
    sign_in(client, panel.facilitator)

    def reason(index: int, vids: dict[str, int]) -> dict[str, str]:
        if panel.raters[index] is not person:
            return {}
        return {f"reason-{vids['P1']}": f"As {NAME} ({EMAIL}) I rate it high."}

    open_and_rate_round_one(app, client, panel, SCORES, extra=reason)
    own = app.test_client()
    sign_in(own, person.user)
    assert post(own, "P1", f"Speaking as {NAME}: boards must own this.").status_code == 303
    login_limits.record_failure(EMAIL, address="192.0.2.9")
    study_id = panel.study.id
    audit.log(study_id, "panel.joined", by=person.user_id, pseudonym=person.pseudonym)
    audit.log(study_id, "panel.imported", by=panel.facilitator.id, filename=f"{NAME} list.csv")
    close_round(panel.study.rounds[0].id, actor=panel.facilitator)
    return panel


def _figures() -> list[dict]:
    return [
        {k: v for k, v in s.payload.items() if k != "computed_at"}
        for s in db.session.scalars(select(RoundSnapshot).order_by(RoundSnapshot.id))
    ]


def _holds_person(text: str) -> list[str]:
    lowered = text.lower()
    return [i for i in (NAME, EMAIL, "zebedee", "quartermain") if i.lower() in lowered]


def _everything_a_facilitator_can_read(app, client, panel: Panel, tmp_path: Path) -> dict:
    slug = panel.study.slug
    seen: dict[str, str] = {}
    pages = [
        f"/studies/{slug}",
        f"/studies/{slug}/panel",
        f"/studies/{slug}/rounds/1",
        f"/studies/{slug}/rounds/1/results",
        f"/studies/{slug}/rounds/1/responders",
        f"/studies/{slug}/results",
        f"/studies/{slug}/results/items/P1",
        f"/studies/{slug}/discussion/P1",
        f"/studies/{slug}/audit",
    ]
    for url in pages:
        seen[url] = text_of(get_page(client, url)) + client.get(url).get_data(as_text=True)
    for url in [f"/studies/{slug}/audit.csv", f"/studies/{slug}/discussion/P1/export.csv"]:
        response = client.get(url)
        assert response.status_code == 200, url
        seen[url] = response.get_data(as_text=True)
    for fmt in ["html", "md", "json"]:
        response = client.get(f"/studies/{slug}/export/{fmt}?names=1")
        assert response.status_code == 200, fmt
        seen[f"export {fmt}"] = response.get_data(as_text=True)
    docx = client.get(f"/studies/{slug}/export/docx?names=1")
    assert docx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(docx.data)) as archive:
        seen["export docx"] = "".join(
            archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
        )
    data = client.get(f"/studies/{slug}/export/data?names=1")
    assert data.status_code == 200
    with zipfile.ZipFile(io.BytesIO(data.data)) as archive:
        for name in archive.namelist():
            if name.endswith(".xlsx"):
                with zipfile.ZipFile(io.BytesIO(archive.read(name))) as book:
                    body = "".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
            else:
                body = archive.read(name).decode("utf-8", "replace")
            seen[f"data {name}"] = body
    token = create_token(panel.study, "privacy check", panel.facilitator)
    api = app.test_client()
    for url in [f"/api/v1/studies/{slug}", f"/api/v1/studies/{slug}/rounds/1/results"]:
        response = api.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, url
        seen[url] = response.get_data(as_text=True)
    backup = tmp_path / "after.backup"
    result = app.test_cli_runner().invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    if db.engine.dialect.name == "postgresql":
        # The custom format is compressed: read it as the SQL it restores.
        seen["backup"] = subprocess.run(
            ["pg_restore", "--file=-", str(backup)], capture_output=True, text=True, check=True
        ).stdout
    else:
        seen["backup"] = backup.read_bytes().decode("latin-1")
    return seen


def test_after_an_erasure_request_nothing_holds_the_person_and_the_figures_are_unchanged(
    app, client, erasable: Panel, tmp_path
):
    before = _everything_a_facilitator_can_read(app, client, erasable, tmp_path)
    # The check finds the person wherever they were: otherwise it would prove nothing.
    assert _holds_person(before["/studies/test-study/panel"]) == [
        NAME,
        EMAIL,
        "zebedee",
        "quartermain",
    ]
    assert _holds_person(before["backup"])
    assert _holds_person(before["/studies/test-study/discussion/P1"])
    held = {where for where, text in before.items() if _holds_person(text)}
    assert {"/studies/test-study/audit", "/studies/test-study/audit.csv", "backup"} <= held
    assert {"data panel.csv", "export json", "/studies/test-study/rounds/1/responders"} <= held
    figures = _figures()
    ratings = db.session.scalar(select(func.count(Rating.id)))

    result = app.test_cli_runner().invoke(args=["erase-person", EMAIL.upper()])
    assert result.exit_code == 0, result.output
    assert f"Erased for {EMAIL}" in result.output and "test-study" in result.output
    db.session.expire_all()

    after = _everything_a_facilitator_can_read(app, client, erasable, tmp_path)
    assert {
        where: _holds_person(text) for where, text in after.items() if _holds_person(text)
    } == {}
    assert _figures() == figures
    assert db.session.scalar(select(func.count(Rating.id))) == ratings
    assert "Name erased" in after["/studies/test-study/panel"]
    # The pseudonymous message and reason stay, with the name masked.
    assert "[erased]: boards must own this" in after["/studies/test-study/discussion/P1"]
    reason = db.session.scalar(select(Rating.reason).where(Rating.reason != ""))
    assert reason == "As [erased] ([erased]) I rate it high."
    assert (
        db.session.scalar(
            select(func.count(LoginAttempt.id)).where(LoginAttempt.key.contains("zq.erasure"))
        )
        == 0
    )
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "privacy.person_erased")
        )
        == 1
    )


def test_erased_rows_leave_no_trace_in_the_sqlite_file(app, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("pg_dump writes rows, not the file's free pages")
    db.session.add(User(email="xylophone.trace@example.test", name="Xylophone Trace"))
    db.session.commit()
    db.session.execute(delete(User).where(User.name == "Xylophone Trace"))
    db.session.commit()
    backup = tmp_path / "trace.backup"
    assert app.test_cli_runner().invoke(args=["backup", str(backup)]).exit_code == 0
    assert b"Xylophone Trace" not in backup.read_bytes()


def test_an_erased_person_can_no_longer_sign_in_and_their_session_ends(app, client, erasable):
    person = erasable.partners[-1]
    own = app.test_client()
    sign_in(own, person.user)
    assert own.get("/studies/test-study").status_code == 200
    app.test_cli_runner().invoke(args=["erase-person", EMAIL])
    assert own.get("/studies/test-study").status_code in (302, 303)
    response = client.post("/login", data={"email": EMAIL, "password": "anything at all"})
    assert response.status_code != 303


def test_a_dry_run_lists_what_would_go_and_changes_nothing(app, erasable):
    result = app.test_cli_runner().invoke(args=["erase-person", EMAIL, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would erase" in result.output and "Dry run: nothing was changed." in result.output
    assert "test-study: name of CQC partner" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(User.id).where(User.email == EMAIL)) is not None
    assert (
        db.session.scalar(
            select(func.count(DiscussionMessage.id)).where(DiscussionMessage.body.contains(NAME))
        )
        == 1
    )


def test_erasing_an_address_nobody_holds_says_so(app):
    result = app.test_cli_runner().invoke(args=["erase-person", "nobody@example.test"])
    assert result.exit_code == 0 and "Nothing held about nobody@example.test" in result.output


def test_a_subject_access_request_exports_what_is_held_as_json(app, erasable, tmp_path):
    person = erasable.partners[-1]
    study_id = erasable.study.id
    audit.log(study_id, "panel.invited", by=erasable.facilitator.id, pseudonym=person.pseudonym)
    audit.log(study_id, "panel.invited", by=erasable.facilitator.id, pseudonym="Someone else")
    out = tmp_path / "person.json"
    result = app.test_cli_runner().invoke(args=["export-person", EMAIL, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    held = json.loads(out.read_text())
    assert held["account"]["email"] == EMAIL and held["account"]["name"] == NAME
    [membership] = held["panels"]
    assert membership["study"] == "test-study" and membership["pseudonym"].startswith("CQC")
    assert sorted(r["item"] for r in membership["ratings"]) == ["P1", "P2", "P3"]
    assert any(r["reason"].startswith("As Zebedee") for r in membership["ratings"])
    assert [m["body"] for m in held["messages"]] == [f"Speaking as {NAME}: boards must own this."]
    [invited] = [e for e in held["audit_events"] if e["action"] == "panel.invited"]
    assert invited["detail"] == {"pseudonym": person.pseudonym} and not invited["by_them"]
    missing = app.test_cli_runner().invoke(args=["export-person", "nobody@example.test"])
    assert missing.exit_code == 1 and "No account has the address" in missing.output


# --- retention --------------------------------------------------------------------------------


def test_retention_runs_out_the_day_after_its_date():
    assert not retention_due(None, date(2030, 1, 1))
    assert not retention_due(date(2030, 1, 1), date(2030, 1, 1))
    assert retention_due(date(2030, 1, 1), date(2030, 1, 2))


def test_masking_takes_whole_words_only_and_ignores_case():
    assert mask_identifiers("Ann Lee, annual report", ["Ann Lee"]) == "[erased], annual report"
    assert mask_identifiers("ANN LEE said", ["Ann Lee"]) == "[erased] said"
    assert mask_identifiers("Al said", ["Al"]) == "Al said"  # too short to mask safely


def test_a_facilitator_sets_the_retention_date_and_it_is_audited(app, client, panel):
    sign_in(client, panel.facilitator)
    settings = get_page(client, "/studies/test-study/settings")
    assert "Keep the panel's names and emails until" in text_of(settings)
    post_form(client, "/studies/test-study/retention", {"retention_until": "2031-03-31"})
    db.session.expire_all()
    assert panel.study.retention_until == date(2031, 3, 31)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "study.retention_set"))
    assert event.detail == {"until": "2031-03-31"} and event.user_id == panel.facilitator.id
    bad = post_form(
        client, "/studies/test-study/retention", {"retention_until": "31st of Smarch"}, status=422
    )
    assert "Not a valid date" in text_of(bad)


def test_only_the_studys_facilitators_may_set_its_retention_date(app, client, panel):
    sign_in(client, panel.partners[0].user)
    response = client.post("/studies/test-study/retention", data={"retention_until": "2031-03-31"})
    assert response.status_code in (403, 404)
    db.session.expire_all()
    assert panel.study.retention_until is None


def test_apply_retention_erases_names_and_emails_of_studies_past_their_date(app, client):
    expired = build_panel(slug="expired")
    live = build_panel(slug="live", observer=False)
    shared = _person_on(live, "Shared Person Both", "shared@example.test")
    both = add_panellist(
        expired.study,
        name="Shared Person Both",
        email="shared@example.test",
        group=expired.study.groups[0],
        role=PanelRole.PARTNER,
    )
    issue_invitation(both)
    for study in (expired.study, live.study):
        audit.log(study.id, "panel.imported", by=None, filename="Shared Person Both.csv")
    expired.study.retention_until = date(2030, 1, 31)
    live.study.retention_until = date(2035, 1, 1)
    db.session.commit()
    only_expired = [p.user.email for p in expired.raters]
    ratings = db.session.scalar(select(func.count(Rating.id)))

    first = app.test_cli_runner().invoke(args=["apply-retention", "--today", "2030-02-01"])
    assert first.exit_code == 0, first.output
    assert "expired: erased the names and emails of 7 panellists" in first.output
    assert "1 kept for their other studies" in first.output
    db.session.expire_all()
    for email in only_expired:
        assert db.session.scalar(select(User.id).where(User.email == email)) is None
    # The account on a live study keeps its details there, and no longer names the person here.
    assert shared.user.email == "shared@example.test" and shared.user.name == "Shared Person Both"
    assert both.user.email.endswith("@erased.invalid") and both.invited_name is None
    assert (
        db.session.scalar(
            select(func.count(Invitation.id)).where(Invitation.panellist_id == both.id)
        )
        == 0
    )
    imported = {
        e.study_id: e.detail["filename"]
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "panel.imported"))
    }
    assert imported == {expired.study.id: "[erased].csv", live.study.id: "Shared Person Both.csv"}
    # The facilitator's account stays; the live study is untouched.
    assert expired.facilitator.email == "fac-expired@example.test"
    assert all(not p.user.email.endswith(".invalid") for p in live.raters)
    assert db.session.scalar(select(func.count(Rating.id))) == ratings
    sign_in(client, expired.facilitator)
    panel_page = text_of(get_page(client, "/studies/expired/panel"))
    assert "Partner Person1" not in panel_page and "@example.test" not in panel_page
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "privacy.retention_applied"
            )
        )
        == 1
    )

    again = app.test_cli_runner().invoke(args=["apply-retention", "--today", "2030-02-01"])
    assert again.exit_code == 0 and "Nothing to erase" in again.output
    not_yet = db.session.scalar(select(Study).where(Study.slug == "live"))
    assert not_yet.retention_until == date(2035, 1, 1)


def test_the_request_log_never_holds_an_email_typed_to_sign_in(app, erasable, caplog):
    caplog.set_level("INFO", logger=app.logger.name)
    client = app.test_client()
    client.post("/login", data={"email": EMAIL, "password": "wrong password here"})
    client.post("/sign-in-link", data={"email": EMAIL})
    client.get(f"/login?next=/studies/test-study&email={EMAIL}")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("request ")]
    assert len(lines) == 3
    assert all("zq.erasure" not in r.getMessage() for r in caplog.records), lines


def test_a_completed_study_may_still_have_its_retention_date_set(app, client, panel):
    panel.study.status = StudyStatus.COMPLETED.value
    db.session.commit()
    sign_in(client, panel.facilitator)
    settings = get_page(client, "/studies/test-study/settings")
    assert "Save retention date" in text_of(settings)
    post_form(client, "/studies/test-study/retention", {"retention_until": "2032-01-01"})
    db.session.expire_all()
    assert panel.study.retention_until == date(2032, 1, 1)


def test_an_erasure_takes_the_declared_interests_and_an_access_request_shows_them(
    app, erasable, tmp_path
):
    from app.models import Panellist

    person = erasable.partners[-1]
    person.interests = "Adviser to a research charity"
    person.interests_declared_at = person.joined_at
    db.session.commit()
    out = tmp_path / "person.json"
    result = app.test_cli_runner().invoke(args=["export-person", EMAIL, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Adviser to a research charity" in out.read_text()
    app.test_cli_runner().invoke(args=["erase-person", EMAIL])
    db.session.expire_all()
    erased = db.session.get(Panellist, person.id)
    assert erased.interests == "" and erased.interests_declared_at is None


def test_an_erasure_takes_the_items_the_person_followed_and_an_access_request_shows_them(
    app, erasable: Panel, tmp_path
):
    from app.models import DiscussionFollow

    person = erasable.partners[-1]
    other = erasable.partners[0]
    own = app.test_client()
    sign_in(own, person.user)
    assert (
        own.post("/studies/test-study/discussion/P1/follow", data={"following": "no"}).status_code
        == 303
    )
    assert (
        own.post("/studies/test-study/discussion/P2/follow", data={"following": "yes"}).status_code
        == 303
    )
    theirs = app.test_client()
    sign_in(theirs, other.user)
    theirs.post("/studies/test-study/discussion/P2/follow", data={"following": "yes"})
    out = tmp_path / "person.json"
    result = app.test_cli_runner().invoke(args=["export-person", EMAIL, "-o", str(out)])
    assert result.exit_code == 0, result.output
    held = json.loads(out.read_text())["discussion_follows"]
    assert [(f["study"], f["item"], f["following"]) for f in held] == [
        ("test-study", "P1", False),
        ("test-study", "P2", True),
    ]
    dry = app.test_cli_runner().invoke(args=["erase-person", EMAIL, "--dry-run"])
    assert "2 choices to follow or stop following an item" in dry.output
    assert db.session.scalar(select(func.count(DiscussionFollow.id))) == 3
    result = app.test_cli_runner().invoke(args=["erase-person", EMAIL])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    left = db.session.scalars(select(DiscussionFollow.user_id)).all()
    assert left == [other.user_id]
