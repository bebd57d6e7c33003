"""The open ideas round before rating: questions, ideas, comments, curation, the record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Item, OpenQuestion, Proposal, utcnow
from app.services import ideas as service
from app.services.export import build_specification
from app.services.rounds import open_round
from delphi import DomainError, InvalidTransition, StudyStatus
from delphi.ideas import IdeaOutcome
from tests.conftest import build_panel, sign_in
from tests.web.helpers import get_page, post_form, text_of

S = "/studies/test-study/ideas"


@pytest.fixture
def panel(app):
    return build_panel()


def _client(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


def _open_with_question(app, panel, text="What should inspectors ask a trust about research?"):
    fac = _client(app, panel.facilitator)
    post_form(fac, f"{S}/questions", {"question-text": text})
    post_form(fac, f"{S}/open", {})
    question = db.session.scalar(select(OpenQuestion))
    return fac, question


def _ideas() -> list[Proposal]:
    return list(db.session.scalars(select(Proposal).order_by(Proposal.id)))


def test_panellists_answer_questions_and_comment_under_pseudonyms_only(app, panel):
    fac, question = _open_with_question(app, panel)
    author, commenter, other = panel.partners[0], panel.patients[0], panel.partners[1]
    post_form(
        _client(app, author.user),
        S,
        {"about": f"q{question.id}", "text": "Ask how patients hear about studies."},
    )
    post_form(
        _client(app, author.user),
        S,
        {"about": "indicator", "text": "Share of patients recruited", "theme": "Conduct"},
    )
    first = _ideas()[0]
    post_form(
        _client(app, commenter.user),
        f"{S}/{first.id}/comments",
        {"text": "And in which languages."},
    )
    seen = text_of(get_page(_client(app, other.user), S))
    assert "Ask how patients hear about studies." in seen
    assert "And in which languages." in seen
    assert author.pseudonym in seen and commenter.pseudonym in seen
    assert author.user.name not in seen and commenter.user.name not in seen
    # Facilitators see who wrote what.
    assert author.user.name in text_of(get_page(fac, S))
    kinds = [(i.kind, i.question_id, i.ideas_round) for i in _ideas()]
    assert kinds == [("answer", question.id, True), ("indicator", None, True)]


def test_observers_and_facilitators_read_but_do_not_add_ideas(app, panel):
    fac, question = _open_with_question(app, panel)
    observer = _client(app, panel.observer.user)
    get_page(observer, S)
    post_form(observer, S, {"about": "prompt", "text": "x"}, status=403)
    post_form(fac, S, {"about": "prompt", "text": "x"}, status=403)
    assert _ideas() == []


def test_no_ideas_before_the_round_opens_or_after_it_closes(app, panel):
    fac = _client(app, panel.facilitator)
    partner = _client(app, panel.partners[0].user)
    get_page(partner, S, status=404)  # no ideas round in this study
    post_form(fac, f"{S}/open", {})
    post_form(fac, f"{S}/close", {})
    page = post_form(partner, S, {"about": "prompt", "text": "Late idea"}, status=422)
    assert "not open" in text_of(page)
    assert _ideas() == []


def test_round_one_cannot_open_while_the_ideas_round_is_open(app, panel):
    _open_with_question(app, panel)
    with pytest.raises(InvalidTransition, match="Close the ideas round"):
        open_round(panel.study, actor=panel.facilitator)
    db.session.rollback()
    service.close_ideas_round(panel.study, panel.facilitator)
    assert open_round(panel.study, actor=panel.facilitator).number == 1
    # ... and once rating has started the ideas round cannot come back.
    with pytest.raises(InvalidTransition, match="comes before rating"):
        service.open_ideas_round(panel.study, panel.facilitator)


def test_facilitator_merges_two_ideas_into_one_new_item_that_round_one_rates(app, panel):
    fac, question = _open_with_question(app, panel)
    for person, text in [(panel.partners[0], "Ask about research"), (panel.patients[0], "Ask")]:
        post_form(_client(app, person.user), S, {"about": f"q{question.id}", "text": text})
    post_form(fac, f"{S}/close", {})
    a, b = _ideas()
    post_form(
        fac,
        f"{S}/curate",
        {
            "ideas": [a.id, b.id],
            "outcome": "accepted",
            "kind": "prompt",
            "theme": "Offers research",
            "text": "How does the board hear how patients learn about research?",
        },
    )
    db.session.expire_all()
    item = db.session.scalar(select(Item).where(Item.ref == "P4"))
    assert item is not None and "board hear" in item.current.text
    assert {i.status for i in _ideas()} == {"accepted"}
    assert {i.result_item_id for i in _ideas()} == {item.id}
    round1 = open_round(panel.study, actor=panel.facilitator)
    assert "P4" in {ri.item_version.item.ref for ri in round1.round_items}
    page = text_of(get_page(fac, f"{S}/manage"))
    assert "From 2 ideas" in page


def test_a_declined_ideas_reason_is_for_its_author_only(app, panel):
    fac, question = _open_with_question(app, panel)
    author = panel.partners[0]
    post_form(_client(app, author.user), S, {"about": "prompt", "text": "Count the posters"})
    idea = _ideas()[0]
    post_form(
        fac,
        f"{S}/curate",
        {"ideas": [idea.id], "outcome": "declined", "reason": "Posters say little."},
    )
    assert "Posters say little." in text_of(get_page(_client(app, author.user), S))
    other = text_of(get_page(_client(app, panel.partners[1].user), S))
    assert "Count the posters" in other and "Not taken up" in other
    assert "Posters say little." not in other


def test_curation_refuses_missing_reasons_answered_ideas_and_other_studies_ideas(app, panel):
    fac, question = _open_with_question(app, panel)
    post_form(_client(app, panel.partners[0].user), S, {"about": "prompt", "text": "One"})
    idea = _ideas()[0]
    page = post_form(fac, f"{S}/curate", {"ideas": [idea.id], "outcome": "declined"}, status=422)
    assert "Give the reason the authors will see" in text_of(page)
    post_form(fac, f"{S}/curate", {"ideas": [idea.id], "outcome": "merged"}, status=422)
    post_form(
        fac, f"{S}/curate", {"ideas": ["x"], "outcome": "declined", "reason": "r"}, status=422
    )
    post_form(fac, f"{S}/curate", {"ideas": [idea.id], "outcome": "merged", "merge_into": "P1"})
    page = post_form(
        fac,
        f"{S}/curate",
        {"ideas": [idea.id], "outcome": "declined", "reason": "Again"},
        status=422,
    )
    assert "already been answered" in text_of(page)
    # Another study's idea is not this study's to curate, nor to comment on.
    other = build_panel(slug="other-study")
    service.open_ideas_round(other.study, other.facilitator)
    theirs = service.add_idea(
        other.study, other.partners[0], question=None, kind="prompt", text="Theirs"
    )
    post_form(
        fac,
        f"{S}/curate",
        {"ideas": [theirs.id], "outcome": "declined", "reason": "r"},
        status=422,
    )
    post_form(
        _client(app, panel.partners[0].user),
        f"{S}/{theirs.id}/comments",
        {"text": "hi"},
        status=404,
    )
    post_form(
        _client(app, panel.partners[0].user), f"{S}/999999/comments", {"text": "hi"}, status=404
    )
    post_form(fac, f"{S}/questions/999999/delete", {}, status=404)
    db.session.refresh(theirs)
    assert theirs.status == "pending"


def test_hostile_text_in_ideas_and_comments_is_shown_as_text(app, panel):
    fac, question = _open_with_question(app, panel, text="<script>alert('q')</script>?")
    hostile = '<img src=x onerror="alert(1)">'
    post_form(_client(app, panel.partners[0].user), S, {"about": "prompt", "text": hostile})
    idea = _ideas()[0]
    post_form(_client(app, panel.patients[0].user), f"{S}/{idea.id}/comments", {"text": hostile})
    for client, url in [(_client(app, panel.partners[1].user), S), (fac, f"{S}/manage")]:
        body = get_page(client, url).get_data(as_text=True)
        assert "<img src=x" not in body and "<script>alert" not in body
        assert "&lt;img src=x" in body


def test_a_completed_study_keeps_its_ideas_round_as_it_was(app, panel):
    fac, question = _open_with_question(app, panel)
    post_form(_client(app, panel.partners[0].user), S, {"about": "prompt", "text": "Idea"})
    idea = _ideas()[0]
    panel.study.status = StudyStatus.COMPLETED.value
    panel.study.completed_at = utcnow()
    db.session.commit()
    with pytest.raises(DomainError, match="completed"):
        service.add_comment(panel.study, idea, panel.partners[1], "late")
    with pytest.raises(DomainError, match="completed"):
        service.curate(panel.study, [idea], IdeaOutcome.DECLINED, panel.facilitator, reason="r")
    with pytest.raises(DomainError, match="completed"):
        service.add_question(panel.study, "More?", panel.facilitator)
    with pytest.raises(DomainError, match="completed"):
        service.close_ideas_round(panel.study, panel.facilitator)
    page = get_page(fac, f"{S}/manage")
    assert "Curate the ideas chosen" not in text_of(page)
    assert "Close the ideas round" not in text_of(page)
    board = text_of(get_page(_client(app, panel.partners[1].user), S))
    assert "Add idea" not in board and "Add comment" not in board


def test_the_specification_methods_say_how_many_ideas_from_which_groups_and_their_fate(app, panel):
    fac, question = _open_with_question(app, panel)
    texts = [(panel.partners[0], "A"), (panel.partners[1], "B"), (panel.patients[0], "C")]
    for person, text in texts:
        post_form(_client(app, person.user), S, {"about": f"q{question.id}", "text": text})
    post_form(
        _client(app, panel.patients[1].user), f"{S}/{_ideas()[0].id}/comments", {"text": "Yes"}
    )
    post_form(fac, f"{S}/close", {})
    a, b, c = _ideas()
    post_form(
        fac,
        f"{S}/curate",
        {"ideas": [a.id, b.id], "outcome": "accepted", "kind": "prompt", "text": "Merged A and B"},
    )
    post_form(fac, f"{S}/curate", {"ideas": [c.id], "outcome": "declined", "reason": "No"})
    db.session.expire_all()
    spec = build_specification(panel.study)
    ideas = spec["methods"]["ideas_round"]
    assert ideas["questions"] == 1 and ideas["ideas"] == 3 and ideas["comments"] == 1
    assert ideas["contributors"] == 3
    assert ideas["by_group"] == [
        {"group": "CQC", "contributors": 2, "ideas": 2},
        {"group": "Patient representatives", "contributors": 1, "ideas": 1},
    ]
    assert ideas["outcomes"] == {"pending": 0, "accepted": 2, "merged": 0, "declined": 1}
    assert ideas["items_made"] == ["P4"]
    import jsonschema

    from tests.web.test_export import SCHEMA

    jsonschema.Draft202012Validator(SCHEMA).validate(spec)
    broken = {**spec, "methods": {**spec["methods"], "ideas_round": {"ideas": "three"}}}
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(broken)
    from io import BytesIO

    from docx import Document

    docx = fac.get("/studies/test-study/export/docx").data
    words = "\n".join(p.text for p in Document(BytesIO(docx)).paragraphs)
    assert "Ideas round" in words and "became 1 new item (P4)" in words
    for fmt in ("html", "md"):
        body = fac.get(f"/studies/test-study/export/{fmt}").get_data(as_text=True)
        assert "Ideas round" in body, fmt
        assert "3 ideas" in body and "became 1 new item (P4)" in body, fmt


def test_an_idea_waits_for_consent_to_the_participant_information(app, panel):
    from app.services.consent import publish_information

    _open_with_question(app, panel)
    publish_information(
        panel.study, text="## About", statements="I agree.", actor=panel.facilitator
    )
    response = post_form(
        _client(app, panel.partners[0].user), S, {"about": "prompt", "text": "An idea"}
    )
    assert response.headers["Location"].endswith("/studies/test-study/consent")
    assert _ideas() == []


def test_the_demo_study_shows_a_completed_ideas_round_whose_ideas_became_items(app):
    from app.demo import seed_demo

    study = seed_demo()
    assert study.ideas_status == "closed"
    ideas = service.ideas_for(study)
    made = {i.result_item.ref for i in ideas if i.status == "accepted"}
    assert made and made < {i.ref for i in study.items}  # some of the items, not all
    # Two ideas became one item, each keeping the link to it.
    by_item = [i.result_item_id for i in ideas if i.result_item_id]
    assert len(by_item) > len(set(by_item))
    assert any(i.status == "declined" and i.response for i in ideas)
    # Those items were rated in round 1.
    rated = {ri.item_version.item.ref for ri in study.rounds[0].round_items}
    assert made <= rated
    facilitator = _client(app, study.facilitators[0].user)
    page = text_of(get_page(facilitator, "/studies/research-well-led/ideas/manage"))
    assert "Items from ideas" in page and "From 2 ideas" in page
    assert "Ideas round" in facilitator.get("/studies/research-well-led/export/md").get_data(
        as_text=True
    )


def test_an_erasure_masks_a_name_in_comments_on_ideas_and_an_access_request_lists_them(app, panel):
    from app.models import IdeaComment
    from app.services.privacy import erase_person, export_person

    service.open_ideas_round(panel.study, panel.facilitator)
    person = panel.partners[0]
    name, email = person.user.name, person.user.email
    idea = service.add_idea(panel.study, panel.patients[0], question=None, kind="prompt", text="X")
    service.add_comment(panel.study, idea, person, f"I am {name} and I agree.")
    held = export_person(email)
    assert held is not None
    comments = [c for s in held["panels"] for c in s["comments_on_ideas"]]
    assert [c["text"] for c in comments] == [f"I am {name} and I agree."]
    erase_person(email)
    db.session.expire_all()
    text = db.session.scalar(select(IdeaComment.text))
    assert name not in text and "[erased]" in text


@pytest.mark.parametrize(
    "about", ["q99999999999999999999999", "q\u0661", "q-1", "answer", "", "q0"]
)
def test_a_hostile_choice_of_question_is_a_form_error(app, panel, about):
    _open_with_question(app, panel)
    page = post_form(
        _client(app, panel.partners[0].user), S, {"about": about, "text": "x"}, status=422
    )
    assert "Choose one of the questions" in text_of(page)
    assert _ideas() == []


def test_the_accord_checklist_points_to_the_ideas_round_once_there_is_one(app, panel):
    def where(number: int) -> str:
        spec = build_specification(panel.study)
        return next(r for r in spec["reporting"]["accord"] if r["item"] == number)["reported_in"]

    assert "Ideas round" not in where(11) and "Ideas round" not in where(19)
    service.open_ideas_round(panel.study, panel.facilitator)
    assert where(11) == "Methods: Ideas round"
    assert where(19).startswith("Methods: Ideas round; Methods: Rounds")
    panel.study.item_sources = "Workshops"
    db.session.commit()
    assert (
        where(11) == "Methods: Ideas round; Methods: Study conduct (Sources of the candidate items)"
    )


def test_the_data_export_lists_each_idea_under_its_pseudonym_with_its_outcome(app, panel):
    import io
    import zipfile

    import pandas as pd

    fac, question = _open_with_question(app, panel)
    author = panel.partners[0]
    post_form(_client(app, author.user), S, {"about": f"q{question.id}", "text": "=1+1 idea"})
    idea = _ideas()[0]
    post_form(fac, f"{S}/curate", {"ideas": [idea.id], "outcome": "merged", "merge_into": "P2"})
    archive = zipfile.ZipFile(io.BytesIO(fac.get("/studies/test-study/export/data").data))
    body = archive.read("ideas.csv").decode()
    frame = pd.read_csv(io.StringIO(body), keep_default_na=False)
    row = frame.iloc[0]
    assert (row["author"], row["group"], row["outcome"], row["item_ref"]) == (
        author.pseudonym,
        "CQC",
        "merged",
        "P2",
    )
    assert row["question"] == question.text and row["text"] == "'=1+1 idea"
    assert author.user.name not in body
