"""`flask` commands: creating a facilitator and seeding the demo study."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Item, Panellist, Rating, Round, RoundSnapshot, Study, User
from app.security import check_password


def test_create_facilitator_makes_a_user_who_can_create_studies(app):
    result = app.test_cli_runner().invoke(
        args=[
            "create-facilitator",
            "Lead@Example.test",
            "--name",
            "Lead",
            "--password",
            "long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "lead@example.test"))
    assert user.can_create_studies and check_password(user.password_hash, "long enough password")


def test_create_facilitator_refuses_a_bad_email_or_short_password(app):
    runner = app.test_cli_runner()
    bad_email = runner.invoke(args=["create-facilitator", "nope", "--password", "long enough pw"])
    assert bad_email.exit_code == 2 and "EMAIL" in bad_email.output
    short = runner.invoke(args=["create-facilitator", "a@example.test", "--password", "short"])
    assert short.exit_code == 2 and "10 characters" in short.output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_the_demo_study_is_a_study_in_progress(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    study = db.session.scalar(select(Study).where(Study.slug == "research-well-led"))
    assert study.title == "Research in the CQC Well-led assessment"
    assert [g.name for g in study.groups] == [
        "CQC",
        "HRA",
        "NIHR CRN",
        "MHRA",
        "NHS R&D Forum",
        "HRLO",
        "Patient representatives",
    ]
    kinds = db.session.scalars(select(Item.kind).where(Item.study_id == study.id)).all()
    assert kinds.count("prompt") == 20 and kinds.count("indicator") == 4
    assert len(study.themes) == 3
    raters = db.session.scalar(
        select(func.count(Panellist.id)).where(
            Panellist.study_id == study.id, Panellist.role != "observer"
        )
    )
    assert raters == 24
    rounds = db.session.scalars(select(Round).where(Round.study_id == study.id)).all()
    assert [(r.number, r.status) for r in rounds] == [(1, "closed"), (2, "open")]
    assert db.session.scalar(select(func.count(RoundSnapshot.id))) == 1
    assert db.session.scalar(select(func.count(Rating.id)).where(Rating.round_id == rounds[1].id))
    from app.models import DiscussionMessage, DiscussionThread

    messages = db.session.scalar(
        select(func.count(DiscussionMessage.id)).where(DiscussionMessage.kind == "message")
    )
    assert messages >= 9
    assert (
        db.session.scalar(
            select(func.count(DiscussionThread.id)).where(DiscussionThread.summary != "")
        )
        == 3
    )
    # Issue 17: background answers, one withdrawal (answers kept), reporting settings.
    from app.models import BackgroundAnswer
    from app.services.background import who_took_part

    assert db.session.scalar(select(func.count(BackgroundAnswer.id))) >= 22 * 4
    withdrawn = db.session.scalars(
        select(Panellist).where(Panellist.withdrawn_at.is_not(None))
    ).all()
    assert len(withdrawn) == 1 and not withdrawn[0].answers_removed
    assert db.session.scalar(
        select(func.count(Rating.id)).where(Rating.panellist_id == withdrawn[0].id)
    )
    summary = {q.text: q for q in who_took_part(study)}
    role = summary["Which best describes your role?"]
    cqc = next(g for g in role.groups if g.group == "CQC")
    assert cqc.counts is not None and cqc.counts["Regulator or inspector"] >= 3
    assert study.protocol_link and study.funding and study.steering_group
    assert study.item_sources and study.questionnaire_pilot and study.protocol_deviations
    for email, password in [
        ("facilitator@demo.test", "demo-facilitator"),
        ("patient1@demo.test", "demo-panellist"),
        ("partner1@demo.test", "demo-panellist"),
    ]:
        user = db.session.scalar(select(User).where(User.email == email))
        assert check_password(user.password_hash, password), email


def test_demo_if_empty_does_nothing_when_a_study_exists(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo"])
    result = runner.invoke(args=["demo", "--if-empty"])
    assert "already has studies" in result.output
    assert db.session.scalar(select(func.count(Study.id))) == 1


def test_the_demo_study_carries_synthetic_test_data_for_two_indicators(app, client):
    from app.models import IndicatorTestData
    from tests.conftest import sign_in
    from tests.web.helpers import get_page, text_of

    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    found = db.session.scalars(select(IndicatorTestData)).all()
    assert len(found) == 2
    assert all(d.synthetic and d.shown_to_panel and len(d.rows) == 150 for d in found)
    panellist = db.session.scalar(select(User).where(User.email == "patient1@demo.test"))
    sign_in(client, panellist)
    for ref in ("I1", "I2"):
        text = text_of(get_page(client, f"/studies/research-well-led/items/{ref}/testing"))
        assert "Synthetic, for illustration" in text
        assert "of 150 trusts would be flagged as needing improvement" in text
    ballot = text_of(get_page(client, "/studies/research-well-led/rounds/1/ballot"))
    assert "Tested on trust data" in ballot and "Synthetic, for illustration" in ballot


def test_the_demo_study_is_run_by_two_facilitators(app, client):
    from tests.conftest import sign_in
    from tests.web.helpers import get_page, text_of

    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    study = db.session.scalar(select(Study).where(Study.slug == "research-well-led"))
    emails = sorted(f.user.email for f in study.facilitators)
    assert emails == ["cofacilitator@demo.test", "facilitator@demo.test"]
    co = db.session.scalar(select(User).where(User.email == "cofacilitator@demo.test"))
    assert check_password(co.password_hash, "demo-facilitator")
    sign_in(client, co)
    words = text_of(get_page(client, "/studies/research-well-led/facilitators"))
    assert "2 facilitators" in words
    assert "Demo Facilitator" in words and "Demo Co-facilitator (you)" in words
    assert "Demo Facilitator" in text_of(get_page(client, "/studies/research-well-led"))
