"""Erasure end to end with withdrawal and background answers (issue 17): after
`flask erase-person`, no page, export, backup or API answer holds the person's name or
email, their background answers are gone, and the study's results are unchanged."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app.extensions import db
from app.models import BackgroundAnswer, BackgroundQuestion, Panellist, Rating
from app.services.background import add_presets, save_answers
from app.services.withdrawal import withdraw
from delphi.withdrawal import AnswersChoice
from tests.web.helpers import get_page, text_of
from tests.web.test_data_protection import (  # noqa: F401 - `erasable` is a fixture
    EMAIL,
    NAME,
    _everything_a_facilitator_can_read,
    _figures,
    _holds_person,
    erasable,
)

S = "/studies/test-study"


def _answered_and_withdrew(panel) -> Panellist:
    person = panel.partners[-1]
    add_presets(panel.study, ["role", "region"], actor=panel.facilitator)
    role, region = db.session.scalars(
        select(BackgroundQuestion).order_by(BackgroundQuestion.id)
    ).all()
    save_answers(person, {role.id: "Regulator or inspector", region.id: "London"})
    for other, answer in zip(panel.partners[:3], ["Other", "Other", "Other"], strict=True):
        save_answers(other, {role.id: answer, region.id: "Prefer not to say"})
    withdraw(person, AnswersChoice.KEEP, actor=person.user, by_facilitator=False)
    return person


def test_erasing_a_withdrawn_person_leaves_nothing_that_names_them(
    app,
    client,
    erasable,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    person = _answered_and_withdrew(erasable)
    extra = [f"{S}/panel/{person.id}/withdraw", f"{S}/background-questions"]

    def everything() -> dict[str, str]:
        seen = _everything_a_facilitator_can_read(app, client, erasable, tmp_path)
        for url in extra:
            seen[url] = get_page(client, url).get_data(as_text=True)
        return seen

    before = everything()
    assert _holds_person(before[f"{S}/panel/{person.id}/withdraw"])
    assert "Withdrew" in text_of(get_page(client, f"{S}/panel"))
    figures = _figures()
    ratings = db.session.scalar(select(func.count(Rating.id)))

    result = app.test_cli_runner().invoke(args=["erase-person", EMAIL])
    assert result.exit_code == 0, result.output
    db.session.expire_all()

    after = everything()
    assert {
        where: _holds_person(text) for where, text in after.items() if _holds_person(text)
    } == {}
    assert _figures() == figures
    assert db.session.scalar(select(func.count(Rating.id))) == ratings
    assert (
        db.session.scalar(
            select(func.count(BackgroundAnswer.id)).where(
                BackgroundAnswer.panellist_id == person.id
            )
        )
        == 0
    )
    # The withdrawal itself stays on the record, pseudonymously.
    assert db.session.get(Panellist, person.id).withdrawn_at is not None
    assert "Name erased" in after[f"{S}/panel/{person.id}/withdraw"]


def test_an_access_request_shows_background_answers_and_the_withdrawal(
    app,
    erasable,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    _answered_and_withdrew(erasable)
    out = tmp_path / "person.json"
    result = app.test_cli_runner().invoke(args=["export-person", EMAIL, "-o", str(out)])
    assert result.exit_code == 0, result.output
    (panel,) = json.loads(out.read_text())["panels"]
    assert {"question": "Where do you mainly work or live?", "answer": "London"} in panel[
        "background"
    ]
    assert panel["withdrawn_at"] is not None
    assert panel["answers_removed_on_withdrawal"] is False
    assert NAME  # the person is the one the fixture named


def test_retention_takes_the_background_answers(app, erasable):  # noqa: F811
    from datetime import date

    _answered_and_withdrew(erasable)
    erasable.study.retention_until = date(2020, 1, 1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["apply-retention"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(BackgroundAnswer.id))) == 0
