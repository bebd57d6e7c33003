"""A facilitator sets up a study: settings, groups, items (one by one and from a file), panel."""

from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Invitation, Item, Panellist, Study, User
from app.services.results import RULE_LABELS
from app.studies.forms import StudyForm
from scoring import RULE_NAMES
from tests.conftest import Panel, make_user, sign_in
from tests.web.helpers import error_summary, get_page, page, post_form, text_of


def test_creating_a_study_with_the_default_percentage_rule(client, app):
    user = make_user("lead@example.test", "Lead", facilitator=True)
    db.session.commit()
    sign_in(client, user)
    response = client.post(
        "/studies/new",
        data={
            "title": "Research prompts",
            "purpose": "Agree prompts",
            "scale": "9",
            "rule": "percentage",
            "pct_in": "70",
            "pct_out_max": "15",
            "max_iqr": "2",
            "max_rounds": "3",
            "mode": "rounds",
        },
    )
    assert response.status_code == 303
    study = db.session.scalar(select(Study))
    assert (study.slug, study.scale_max, study.pct_in, study.pct_out_max) == (
        "research-prompts",
        9,
        70.0,
        15.0,
    )
    shown = text_of(get_page(client, response.headers["Location"]))
    assert "at least 70% rate 7-9 and at most 15% rate 1-3" in shown


def test_a_study_form_with_bad_numbers_shows_field_errors_and_creates_nothing(client, app):
    user = make_user("lead@example.test", "Lead", facilitator=True)
    db.session.commit()
    sign_in(client, user)
    response = post_form(
        client,
        "/studies/new",
        data={
            "title": "",
            "scale": "9",
            "rule": "percentage",
            "pct_in": "120",
            "pct_out_max": "x",
            "max_iqr": "2",
            "max_rounds": "0",
        },
        status=422,
    )
    errors = error_summary(response)
    assert "Enter a title for the study" in errors
    assert "Enter a percentage from 50 to 100" in errors
    assert "Enter a number of rounds from 1 to 10" in errors
    assert db.session.scalar(select(func.count(Study.id))) == 0


def test_only_permitted_users_create_studies(client, app):
    user = make_user("someone@example.test", "Someone")
    db.session.commit()
    sign_in(client, user)
    assert client.get("/studies/new").status_code == 403


def test_adding_a_stakeholder_group_and_refusing_a_duplicate(client, panel: Panel):
    sign_in(client, panel.facilitator)
    assert client.post("/studies/test-study/groups", data={"name": "HRA"}).status_code == 303
    response = post_form(client, "/studies/test-study/groups", data={"name": "HRA"}, status=422)
    assert "There is already a group called HRA" in text_of(response)


def test_adding_an_indicator_requires_its_definition(client, panel: Panel):
    sign_in(client, panel.facilitator)
    response = post_form(
        client,
        "/studies/test-study/items/new",
        data={"kind": "indicator", "theme": "Equity", "text": "Specialties recruiting"},
        status=422,
    )
    assert "Enter the indicator's definition" in error_summary(response)
    response = client.post(
        "/studies/test-study/items/new",
        data={
            "kind": "indicator",
            "theme": "Equity",
            "text": "Specialties recruiting",
            "definition": "Share of specialties",
            "numerator": "Specialties recruiting",
            "denominator": "All specialties",
            "data_source": "CRN ODP",
            "rationale": "Spread",
        },
    )
    assert response.status_code == 303
    item = db.session.scalar(select(Item).where(Item.ref == "I2"))
    assert item.current.denominator == "All specialties"


ITEMS_CSV = (
    "kind,theme,text,definition\n"
    "prompt,Equity,How does the trust reach under-served groups?,\n"
    "indicator,Equity,Recruits per 1000 admissions,Patients recruited per 1000 admissions\n"
)


def test_importing_items_from_csv_adds_them_with_stable_references(client, panel: Panel):
    sign_in(client, panel.facilitator)
    response = client.post(
        "/studies/test-study/items/import",
        data={"file": (io.BytesIO(ITEMS_CSV.encode()), "items.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    refs = db.session.scalars(select(Item.ref).order_by(Item.id)).all()
    assert refs == ["P1", "P2", "P3", "I1", "P4", "I2"]


def test_importing_items_from_xlsx(client, panel: Panel):
    book = Workbook()
    sheet = book.active
    sheet.append(["Kind", "Theme", "Text"])
    sheet.append(["prompt", "Conduct", "Is research on the board agenda?"])
    data = io.BytesIO()
    book.save(data)
    sign_in(client, panel.facilitator)
    response = client.post(
        "/studies/test-study/items/import",
        data={"file": (io.BytesIO(data.getvalue()), "items.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert db.session.scalar(select(func.count(Item.id))) == 5


def test_a_bad_item_file_reports_each_bad_row_and_imports_nothing(client, panel: Panel):
    sign_in(client, panel.facilitator)
    bad = "kind,theme,text\nprompt,Equity,Fine row\nquestion,Equity,Bad kind\nprompt,,\n"
    response = post_form(
        client,
        "/studies/test-study/items/import",
        data={"file": (io.BytesIO(bad.encode()), "items.csv")},
        content_type="multipart/form-data",
        status=422,
    )
    shown = text_of(response)
    assert "Row 3: kind must be 'prompt' or 'indicator'." in shown
    assert "Row 4: theme is empty; text is empty." in shown
    assert "Nothing was imported" in shown
    assert db.session.scalar(select(func.count(Item.id))) == 4


def test_a_file_that_is_not_utf8_gets_a_clear_message(client, panel: Panel):
    sign_in(client, panel.facilitator)
    response = post_form(
        client,
        "/studies/test-study/items/import",
        data={
            "file": (
                io.BytesIO("kind,theme,text\nprompt,Équité,x\n".encode("latin-1")),
                "items.csv",
            )
        },
        content_type="multipart/form-data",
        status=422,
    )
    assert "The file is not UTF-8 text" in text_of(response)


def test_inviting_one_panellist_without_mail_shows_a_link_to_copy(client, panel: Panel):
    sign_in(client, panel.facilitator)
    group = panel.study.groups[0]
    response = post_form(
        client,
        "/studies/test-study/panel/invite",
        data={
            "name": "Rae Reviewer",
            "email": "Rae@Example.test",
            "group": group.id,
            "role": "partner",
        },
        status=303,
    )
    shown = get_page(client, response.location)
    links = [c.get_text() for c in page(shown).select(".app-invite-link")]
    assert len(links) == 1 and "/invitation/" in links[0]
    panellist = db.session.scalar(
        select(Panellist).join(User).where(User.email == "rae@example.test")
    )
    assert panellist.pseudonym == "CQC partner 4"
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.panellist_id == panellist.id)
    )
    token = links[0].rsplit("/", 1)[1]
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64


PANEL_CSV = (
    "name,email,group,role\n"
    "Ann Able,ann@example.test,CQC,partner\n"
    "Pat Patient,pat@example.test,Patient representatives,patient_rep\n"
)


def test_inviting_a_panel_from_csv(client, panel: Panel):
    sign_in(client, panel.facilitator)
    response = post_form(
        client,
        "/studies/test-study/panel/import",
        data={"file": (io.BytesIO(PANEL_CSV.encode()), "panel.csv")},
        content_type="multipart/form-data",
        status=303,
    )
    assert len(page(get_page(client, response.location)).select(".app-invite-link")) == 2
    pseudonyms = db.session.scalars(
        select(Panellist.pseudonym)
        .join(User)
        .where(User.email.in_(["ann@example.test", "pat@example.test"]))
    ).all()
    assert sorted(pseudonyms) == ["CQC partner 4", "Patient representative 3"]
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "panel.imported")
        )
        == 1
    )


def test_a_panel_file_with_bad_rows_invites_nobody(client, panel: Panel):
    sign_in(client, panel.facilitator)
    bad = (
        "name,email,group,role\n"
        "Ann Able,ann@example.test,CQC,partner\n"
        "Bob,not-an-email,Nowhere,chair\n"
        "Ann Again,ann@example.test,CQC,partner\n"
    )
    before = db.session.scalar(select(func.count(Panellist.id)))
    response = post_form(
        client,
        "/studies/test-study/panel/import",
        data={"file": (io.BytesIO(bad.encode()), "panel.csv")},
        content_type="multipart/form-data",
        status=422,
    )
    shown = text_of(response)
    assert "Row 3: 'not-an-email' is not an email address; group 'Nowhere' is not one of" in shown
    assert "role must be partner, patient_rep or observer" in shown
    assert "Row 4: ann@example.test is already on the panel." in shown
    assert db.session.scalar(select(func.count(Panellist.id))) == before


def test_the_consensus_rules_offered_are_the_ones_scoring_knows_by_the_same_names(app):
    with app.test_request_context():
        offered = [value for value, _ in StudyForm().rule.choices]
    assert tuple(offered) == RULE_NAMES
    assert tuple(RULE_LABELS) == RULE_NAMES
