"""The panel reads each other's reasons (issue 16): in the next round's feedback, anonymised,
grouped by rating band, patient voices easy to find; facilitators review and hide them; the
results page and the specification show them."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Rating, ReasonReview
from tests.conftest import sign_in
from tests.web.helpers import CLOSE, get_page, open_and_rate_round_one, page, post_form, text_of

S = "/studies/test-study"
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'
# Raters in order: partners 1-3 (CQC), patients 1-2.
SCORES = {"P1": [9, 8, 2, 5, 7], "P2": [5, 5, 5, 5, 5], "P3": [1, 2, 3, 4, 5], "I1": [7] * 5}
REASONS = {
    0: "Boards must see research as core business.",
    1: "Inspectors already ask this.",
    2: HOSTILE,
    3: "Patients rarely hear about studies.",
    4: "Patients want to be asked.",
}


@pytest.fixture
def world(app, panel):
    facilitator = app.test_client()
    sign_in(facilitator, panel.facilitator)

    def extra(index, vids):
        return {f"reason-{vids['P1']}": REASONS[index]}

    vids = open_and_rate_round_one(app, facilitator, panel, SCORES, extra)
    return facilitator, vids


def close(facilitator):
    assert facilitator.post(f"{S}/rounds/1/close", data=CLOSE).status_code == 303


def client_for(app, panellist):
    client = app.test_client()
    sign_in(client, panellist.user)
    return client


def reasons_page(client, **args):
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return get_page(client, f"{S}/rounds/1/reasons/items/P1" + (f"?{query}" if query else ""))


def rating_id(panellist):
    return db.session.scalar(
        select(Rating.id).where(Rating.panellist_id == panellist.id, Rating.reason != "")
    )


def test_the_feedback_shows_how_many_reasons_and_opens_them_grouped_by_band(app, panel, world):
    facilitator, _ = world
    close(facilitator)
    reader = client_for(app, panel.partners[1])
    feedback = get_page(reader, f"{S}/rounds/1/feedback")
    summary = page(feedback).select_one(f"#reasons-{panel.study.items[0].id} summary")
    assert summary.get_text(" ", strip=True) == (
        "Reasons the panel gave for P1 (5, 2 from patient representatives)"
    )
    listing = page(reasons_page(reader))
    headings = [h.get_text(" ", strip=True) for h in listing.select(".app-given-reason-band")]
    assert headings == [
        "Rated 7-9 (critical, include): 3 reasons",
        "Rated 4-6 (uncertain): 1 reason",
        "Rated 1-3 (not important, exclude): 1 reason",
    ]
    shown = text_of(reasons_page(reader))
    assert "Boards must see research as core business." in shown
    assert "CQC partner 1" in shown and "Patient representative 2" in shown
    # Pseudonyms only: no name, no email, no exact score for panellists.
    for person in panel.raters:
        if person is panel.partners[1]:
            continue  # the reader's own name is in the page's header
        assert person.user.name not in shown and person.user.email not in shown
    assert "Rated 9" not in shown


def test_an_htmx_request_gets_only_the_list(app, panel, world):
    facilitator, _ = world
    close(facilitator)
    reader = client_for(app, panel.partners[1])
    fragment = reader.get(f"{S}/rounds/1/reasons/items/P1", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "Patients want to be asked." in fragment.get_data(as_text=True)


def test_patient_voices_only_shows_patient_representatives(app, panel, world):
    facilitator, _ = world
    close(facilitator)
    reader = client_for(app, panel.partners[1])
    shown = text_of(reasons_page(reader, voices="patients"))
    assert "Patients rarely hear about studies." in shown and "Patients want to be asked." in shown
    assert "Inspectors already ask this." not in shown
    highlighted = page(reasons_page(reader, voices="highlight"))
    highlighted = highlighted.select(".app-given-reason--patient")
    assert len(highlighted) == 2


def test_nobody_else_reads_reasons_before_the_round_closes(app, panel, world):
    reader = client_for(app, panel.partners[1])
    shown = text_of(reasons_page(reader))
    assert "Inspectors already ask this." in shown  # their own
    assert "Boards must see research" not in shown
    assert "shown here once round 1 has closed" in shown


def test_hostile_reason_text_is_escaped(app, panel, world):
    facilitator, _ = world
    close(facilitator)
    body = reasons_page(client_for(app, panel.patients[0])).get_data(as_text=True)
    assert "<script>alert" not in body and "<b>bold</b>" not in body
    assert "&lt;script&gt;alert" in body


def test_a_hidden_reason_is_gone_for_others_and_its_author_reads_why(app, panel, world):
    facilitator, _ = world
    close(facilitator)
    author = panel.partners[0]
    rid = rating_id(author)
    form = get_page(facilitator, f"{S}/rounds/1/reasons/ratings/{rid}/hide")
    assert "Boards must see research as core business." in text_of(form)
    refused = post_form(
        facilitator, f"{S}/rounds/1/reasons/ratings/{rid}/hide", {"reason": " "}, status=422
    )
    assert "Enter why you are hiding the reason" in text_of(refused)
    post_form(
        facilitator,
        f"{S}/rounds/1/reasons/ratings/{rid}/hide",
        {"reason": "Names a <i>trust</i>"},
    )
    review = db.session.scalar(select(ReasonReview).where(ReasonReview.rating_id == rid))
    assert review is not None and review.reason == "Names a <i>trust</i>"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reason.hidden"))
    assert event.user_id == panel.facilitator.id and event.detail["item"] == "P1"
    assert event.detail["reason"] == "Names a <i>trust</i>"

    other = text_of(reasons_page(client_for(app, panel.partners[1])))
    assert "Boards must see research" not in other and "Names a" not in other
    counts = page(get_page(client_for(app, panel.partners[1]), f"{S}/rounds/1/feedback"))
    assert "(4, 2 from patient" in counts.select_one(".app-given-reasons summary").get_text()

    author_counts = page(get_page(client_for(app, author), f"{S}/rounds/1/feedback"))
    assert "(5, 2 from patient" in author_counts.select_one(".app-given-reasons summary").get_text()
    review = text_of(get_page(facilitator, f"{S}/rounds/1/reasons"))
    assert "5 reasons, 2 from patient representatives, 1 hidden" in review

    own = reasons_page(client_for(app, author))
    assert "Boards must see research as core business." in text_of(own)
    assert "Hidden from the panel by a facilitator. Why: Names a <i>trust</i>" in text_of(own)
    assert "<i>trust</i>" not in own.get_data(as_text=True)

    seen = text_of(reasons_page(facilitator))
    assert "Boards must see research" in seen and "Why: Names a" in seen

    # The data export keeps the reason and says that, and why, the panel did not read it.
    archive = zipfile.ZipFile(io.BytesIO(get_page(facilitator, f"{S}/export/data").data))
    ratings = pd.read_csv(archive.open("ratings.csv"), keep_default_na=False)
    hidden = ratings[ratings["reason_hidden_because"] != ""]
    assert list(hidden["reason"]) == ["Boards must see research as core business."]
    assert list(hidden["reason_hidden_because"]) == ["Names a <i>trust</i>"]
    assert "`reason_hidden_because`" in archive.read("README.md").decode()

    post_form(facilitator, f"{S}/rounds/1/reasons/ratings/{rid}/show", {})
    assert db.session.scalar(select(ReasonReview.id).where(ReasonReview.rating_id == rid)) is None
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "reason.shown"))
    assert "Boards must see research" in text_of(reasons_page(client_for(app, panel.partners[1])))


def test_the_review_page_writes_the_items_summary_of_arguments(app, panel, world):
    facilitator, _ = world
    close(facilitator)
    review = text_of(get_page(facilitator, f"{S}/rounds/1/reasons"))
    assert "Panellists gave 5 reasons" in review
    assert "5 reasons, 2 from patient representatives" in review
    post_form(
        facilitator,
        f"{S}/rounds/1/reasons/items/P1/summary",
        {"summary": "Split: core business or already asked."},
    )
    feedback = text_of(get_page(client_for(app, panel.partners[1]), f"{S}/rounds/1/feedback"))
    assert "Split: core business or already asked." in feedback
    thread = text_of(get_page(facilitator, f"{S}/discussion/P1"))
    assert "Split: core business or already asked." in thread


def test_the_results_page_sorts_every_reason_by_band_or_by_group(app, panel, world):
    facilitator, _ = world
    close(facilitator)
    results = page(get_page(facilitator, f"{S}/rounds/1/results"))
    assert results.select_one(f"#reasons-{panel.study.items[0].id}") is not None
    by_band = [
        li.select_one(".app-given-reason__by").get_text(" ", strip=True).replace(" .", ".")
        for li in page(reasons_page(facilitator, sort="band")).select("li.app-given-reason")
    ]
    assert by_band == [
        "CQC partner 1. Rated 9",
        "CQC partner 2. Rated 8",
        "Patient representative 2 Patient voice. Rated 7",
        "Patient representative 1 Patient voice. Rated 5",
        "CQC partner 3. Rated 2",
    ]
    groups = page(reasons_page(facilitator, sort="group"))
    assert [h.get_text(strip=True) for h in groups.select(".app-given-reason-group h2")] == [
        "CQC",
        "Patient representatives",
    ]
    order = [
        li.select_one(".app-given-reason__text").get_text()
        for li in groups.select("li.app-given-reason")
    ]
    assert order[:3] == [REASONS[0], REASONS[1], HOSTILE]


def test_a_completed_study_offers_no_hiding_and_refuses_it(app, panel, world):
    facilitator, _ = world
    close(facilitator)
    panel.study.status = "completed"
    db.session.commit()
    rid = rating_id(panel.partners[0])
    assert "Hide" not in text_of(reasons_page(facilitator)).split("Patient voices:")[1]
    refused = facilitator.post(
        f"{S}/rounds/1/reasons/ratings/{rid}/hide", data={"reason": "Names a trust"}
    )
    assert refused.status_code == 409
    assert db.session.scalar(select(ReasonReview.id)) is None


def test_the_specification_quotes_each_side_for_items_without_consensus(app, panel, world):
    from app.services.export import build_specification

    facilitator, _ = world
    close(facilitator)
    hidden = rating_id(panel.partners[1])
    post_form(facilitator, f"{S}/rounds/1/reasons/ratings/{hidden}/hide", {"reason": "Rude"})
    spec = build_specification(panel.study)
    p1 = next(i for i in spec["no_consensus"] if i["ref"] == "P1")
    # Top band: partners 1 (9) and 2 (8, hidden), patient 2 (7); bottom band: partner 3 (2).
    assert p1["arguments"] == {
        "round": 1,
        "summary": "",
        "for": [
            {"text": REASONS[0], "group": "CQC"},
            {"text": REASONS[4], "group": "Patient representatives"},
        ],
        "against": [{"text": HOSTILE, "group": "CQC"}],
    }
    html = facilitator.get(f"{S}/export/html").get_data(as_text=True)
    assert f"\u201c{REASONS[0]}\u201d (CQC)" in html and REASONS[1] not in html
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    markdown = facilitator.get(f"{S}/export/md").get_data(as_text=True)
    assert "For (rated 7-9):" in markdown and "Against (rated 1-3):" in markdown

    post_form(
        facilitator, f"{S}/rounds/1/reasons/items/P1/summary", {"summary": "Boards versus cost."}
    )
    spec = build_specification(panel.study)
    p1 = next(i for i in spec["no_consensus"] if i["ref"] == "P1")
    assert (p1["arguments"]["summary"], p1["arguments"]["for"]) == ("Boards versus cost.", [])
    html = facilitator.get(f"{S}/export/html").get_data(as_text=True)
    assert "Summary of the arguments: Boards versus cost." in html


def test_the_demo_shows_round_one_reasons_in_its_feedback_with_one_hidden(app):
    from app.demo import HIDDEN_REASON, HIDDEN_WHY, seed_demo
    from app.models import Panellist, User

    demo = seed_demo()
    patient = db.session.scalar(select(User).where(User.email == "patient1@demo.test"))
    reader = app.test_client()
    sign_in(reader, patient)
    slug = f"/studies/{demo.slug}"
    feedback = page(get_page(reader, f"{slug}/rounds/1/feedback"))
    sections = feedback.select("details.app-given-reasons")
    assert len(sections) >= 10
    assert any("from patient representatives" in s.get_text() for s in sections)
    every = ""
    for item in demo.items:
        response = reader.get(f"{slug}/rounds/1/reasons/items/{item.ref}?voices=patients")
        if response.status_code == 200:
            every += text_of(response)
    assert "Patient voice" in every and HIDDEN_REASON not in every

    author = db.session.scalar(
        select(User)
        .join(Panellist, Panellist.user_id == User.id)
        .join(Rating, Rating.panellist_id == Panellist.id)
        .where(Rating.reason == HIDDEN_REASON)
    )
    own = app.test_client()
    sign_in(own, author)
    mine = ""
    for item in demo.items:
        response = own.get(f"{slug}/rounds/1/reasons/items/{item.ref}")
        if response.status_code == 200:
            mine += text_of(response)
    assert HIDDEN_REASON in mine and HIDDEN_WHY in mine
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "reason.hidden"))
