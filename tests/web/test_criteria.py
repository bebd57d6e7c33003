"""Rating criteria: facilitators set them before round 1; each rating judges one."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Criterion, Rating, Study
from app.services.rounds import open_round
from delphi import StudyStatus
from tests.conftest import Panel, sign_in
from tests.web.helpers import error_summary, get_page, page, post_form, text_of

S = "/studies/test-study"


def _criteria() -> list[tuple[str, str, str]]:
    return [
        (c.name, c.question, c.applies_to)
        for c in db.session.scalars(
            select(Criterion)
            .join(Study)
            .where(Study.slug == "test-study")
            .order_by(Criterion.position)
        )
    ]


@pytest.fixture
def facilitator(client, panel: Panel):
    sign_in(client, panel.facilitator)
    return client


def test_every_study_starts_with_one_criterion_importance_for_every_kind(panel):
    assert _criteria() == [("Importance", "How important is this item?", "prompt,indicator")]


def test_a_facilitator_adds_changes_and_removes_criteria_before_round_1(facilitator, panel):
    shown = text_of(get_page(facilitator, f"{S}/criteria"))
    assert "Importance" in shown and "Add a criterion" in shown
    post_form(
        facilitator,
        f"{S}/criteria",
        data={
            "name": "Feasibility",
            "question": "Can trusts and CQC collect it reliably from existing data?",
            "kinds": ["indicator"],
        },
    )
    assert _criteria()[1] == (
        "Feasibility",
        "Can trusts and CQC collect it reliably from existing data?",
        "indicator",
    )
    feasibility = db.session.scalar(select(Criterion).where(Criterion.name == "Feasibility"))
    post_form(
        facilitator,
        f"{S}/criteria/{feasibility.id}",
        data={
            "name": "Feasibility",
            "question": "Can it be collected?",
            "kinds": ["prompt", "indicator"],
        },
    )
    assert _criteria()[1] == ("Feasibility", "Can it be collected?", "prompt,indicator")
    post_form(facilitator, f"{S}/criteria/{feasibility.id}/remove")
    assert [c[0] for c in _criteria()] == ["Importance"]
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-3:] == ["criterion.added", "criterion.changed", "criterion.removed"]


def test_a_criterion_needs_a_name_a_question_and_a_kind_and_a_new_name(facilitator, panel):
    missing = post_form(facilitator, f"{S}/criteria", data={"name": "", "question": ""}, status=422)
    assert error_summary(missing) == [
        "Enter the criterion's name",
        "Enter the question panellists answer",
        "Select the kinds of item this criterion applies to",
    ]
    twice = post_form(
        facilitator,
        f"{S}/criteria",
        data={"name": "importance", "question": "Again?", "kinds": ["prompt"]},
        status=422,
    )
    assert error_summary(twice) == ["The study already has a criterion named 'importance'."]
    unknown = post_form(
        facilitator,
        f"{S}/criteria",
        data={"name": "Validity", "question": "Valid?", "kinds": ["banana"]},
        status=422,
    )
    assert error_summary(unknown) == ["Select prompts, indicators or both"]
    assert len(_criteria()) == 1


def test_a_change_that_leaves_a_kind_without_a_criterion_is_refused(facilitator, panel):
    only = db.session.scalar(select(Criterion.id))
    response = post_form(
        facilitator,
        f"{S}/criteria/{only}",
        data={"name": "Importance", "question": "Important?", "kinds": ["indicator"]},
        status=422,
    )
    assert error_summary(response) == [
        "Every kind of item needs a criterion: prompts would have none to be rated on."
    ]
    assert _criteria()[0][2] == "prompt,indicator"


def test_the_last_criterion_cannot_be_removed(facilitator, panel):
    only = db.session.scalar(select(Criterion.id))
    response = post_form(facilitator, f"{S}/criteria/{only}/remove", status=422)
    assert error_summary(response) == ["A study needs at least one criterion."]


def test_criteria_are_fixed_once_round_1_opens(facilitator, panel):
    open_round(panel.study, actor=panel.facilitator)
    shown = text_of(get_page(facilitator, f"{S}/criteria"))
    assert "can no longer change" in shown and "Add a criterion" not in shown
    refused = post_form(
        facilitator,
        f"{S}/criteria",
        data={"name": "Validity", "question": "Valid?", "kinds": ["indicator"]},
        status=409,
    )
    assert "round 1 has opened" in " ".join(error_summary(refused))
    assert len(_criteria()) == 1


def test_a_completed_studys_criteria_are_read_only(facilitator, panel):
    panel.study.status = StudyStatus.COMPLETED.value
    db.session.commit()
    assert "completed" in text_of(get_page(facilitator, f"{S}/criteria"))
    refused = post_form(
        facilitator,
        f"{S}/criteria",
        data={"name": "Validity", "question": "Valid?", "kinds": ["indicator"]},
        status=409,
    )
    assert "completed" in " ".join(error_summary(refused))


# The ballot

HX = {"HX-Request": "true"}


def _three_criteria(panel: Panel) -> tuple[Criterion, Criterion, Criterion]:
    from app.services.criteria import add_criterion

    add_criterion(
        panel.study, "Validity", "Does it measure what it claims to?", ["indicator"],
        actor=panel.facilitator,
    )
    add_criterion(
        panel.study,
        "Feasibility",
        "Can trusts and CQC collect it reliably from existing data?",
        ["indicator"],
        actor=panel.facilitator,
    )
    importance, validity, feasibility = panel.study.criteria
    return importance, validity, feasibility


def _versions(round_) -> dict[str, int]:
    return {ri.item_version.item.ref: ri.item_version_id for ri in round_.round_items}


def test_the_ballot_asks_each_criterion_of_each_item_and_counts_answers(client, panel):
    importance, validity, feasibility = _three_criteria(panel)
    round_ = open_round(panel.study, actor=panel.facilitator)
    vids = _versions(round_)
    sign_in(client, panel.partners[0].user)
    ballot = get_page(client, f"{S}/rounds/1/ballot")
    soup = page(ballot)
    indicator = soup.select_one(f"#item-{vids['I1']}")
    legends = [lg.get_text(" ", strip=True) for lg in indicator.select("legend")]
    assert legends == [
        "Importance of I1 : How important is this item?",
        "Validity of I1 : Does it measure what it claims to?",
        "Feasibility of I1 : Can trusts and CQC collect it reliably from existing data?",
    ]
    # Each criterion has its own "unable to rate"; the reason box is asked once.
    assert len(indicator.select("input[value=unable]")) == 3
    assert len(indicator.select("textarea[name^=reason-]")) == 1
    prompt = soup.select_one(f"#item-{vids['P1']}")
    assert [lg.get_text(" ", strip=True) for lg in prompt.select("legend")] == [
        "Your rating for P1"
    ]
    # 3 prompts on one criterion, the indicator on three.
    assert soup.select_one("#progress").get_text(" ", strip=True) == "0 of 6 rated"

    vid = vids["I1"]
    url = f"{S}/rounds/1/items/{vid}/rating"
    first = client.post(
        url,
        data={f"score-{vid}": "8", f"reason-{vid}": "Matters", "criterion": importance.id},
        headers=HX,
    )
    assert first.status_code == 200
    second = client.post(
        url,
        data={
            f"score-{vid}-c{feasibility.id}": "2",
            f"score-{vid}": "8",
            f"reason-{vid}": "Matters",
            "criterion": feasibility.id,
        },
        headers=HX,
    )
    soup = page(second)
    assert soup.select_one(f"#status-{vid}-c{feasibility.id}").get_text(strip=True) == "✓Saved"
    assert soup.select_one("#progress").get_text(" ", strip=True) == "2 of 6 rated"
    stored = {
        r.criterion_id: (r.score, r.reason)
        for r in db.session.scalars(select(Rating).where(Rating.item_version_id == vid))
    }
    # One row per rating; the reason on the first criterion's.
    assert stored == {importance.id: (8, "Matters"), feasibility.id: (2, "")}


def test_a_criterion_not_asked_of_an_items_kind_is_refused(client, panel):
    _, validity, _ = _three_criteria(panel)
    round_ = open_round(panel.study, actor=panel.facilitator)
    vid = _versions(round_)["P1"]
    sign_in(client, panel.partners[0].user)
    response = client.post(
        f"{S}/rounds/1/items/{vid}/rating",
        data={f"score-{vid}-c{validity.id}": "5", "criterion": validity.id},
        headers=HX,
    )
    assert response.status_code == 404
    assert "That criterion is not asked of this item." in text_of(response)
    assert db.session.scalar(select(func.count(Rating.id))) == 0


def test_the_ballot_without_javascript_saves_every_criterion_in_one_submit(client, panel):
    importance, validity, feasibility = _three_criteria(panel)
    round_ = open_round(panel.study, actor=panel.facilitator)
    vid = _versions(round_)["I1"]
    sign_in(client, panel.partners[0].user)
    post_form(
        client,
        f"{S}/rounds/1/ballot",
        data={
            f"score-{vid}": "9",
            f"reason-{vid}": "Core",
            f"score-{vid}-c{validity.id}": "7",
            f"score-{vid}-c{feasibility.id}": "unable",
        },
    )
    stored = {
        r.criterion_id: (r.score, r.unable)
        for r in db.session.scalars(select(Rating).where(Rating.item_version_id == vid))
    }
    assert stored == {
        importance.id: (9, False),
        validity.id: (7, False),
        feasibility.id: (None, True),
    }
    shown = text_of(get_page(client, f"{S}/rounds/1/ballot"))
    assert "3 of 6 rated" in shown


# Results: consensus per criterion, the item in only when every criterion is in


def _rate_all(round_, panel: Panel, scores: dict[tuple[str, str], int]) -> None:
    """Every rater gives `scores[(ref, criterion name)]` (other items: 8 on Importance)."""
    by_name = {c.name: c for c in panel.study.criteria}
    for ri in round_.round_items:
        version = ri.item_version
        for criterion in by_name.values():
            if not criterion.applies(version.item_kind):
                continue
            score = scores.get((version.item.ref, criterion.name), 8)
            for rater in panel.raters:
                db.session.add(
                    Rating(
                        round_id=round_.id,
                        panellist_id=rater.id,
                        item_version_id=version.id,
                        criterion_id=criterion.id,
                        score=score,
                    )
                )
    db.session.commit()


def _closed_with(panel: Panel, scores: dict[tuple[str, str], int]):
    from app.services.results import snapshot_of
    from app.services.rounds import close_round

    _three_criteria(panel)
    round_ = open_round(panel.study, actor=panel.facilitator)
    _rate_all(round_, panel, scores)
    close_round(round_.id, actor=panel.facilitator)
    results = snapshot_of(round_)
    return round_, {entry["ref"]: entry for entry in results["items"].values()}, results


def test_an_indicator_that_matters_but_cannot_be_measured_does_not_pass(client, panel):
    _, items, results = _closed_with(panel, {("I1", "Feasibility"): 2})
    indicator = items["I1"]
    assert [(c["criterion"], c["status"]) for c in indicator["criteria"]] == [
        ("Importance", "consensus_in"),
        ("Validity", "consensus_in"),
        ("Feasibility", "consensus_out"),
    ]
    assert (indicator["status"], indicator["suggested"]) == ("consensus_out", "exclude")
    # Prompts are asked Importance only, and stand on it.
    assert [c["criterion"] for c in items["P1"]["criteria"]] == ["Importance"]
    assert (items["P1"]["status"], items["P1"]["suggested"]) == ("consensus_in", "accept")
    assert "An item is in only when every criterion that applies to it is in" in (
        results["rule"]["description"]
    )
    assert set(results["alpha_criteria"]) == {"Importance", "Validity", "Feasibility"}

    sign_in(client, panel.facilitator)
    shown = page(get_page(client, f"{S}/rounds/1/results"))
    rows = [
        " ".join(tr.get_text(" ", strip=True).split())
        for tr in shown.select("tr.app-results__criterion")
    ]
    assert any(r.startswith("I1, Feasibility 5") and "Consensus out" in r for r in rows)
    assert any(r.startswith("I1, Validity 5") and "Consensus in" in r for r in rows)
    assert shown.select_one("#alpha-criteria") is not None


def test_an_indicator_in_on_every_criterion_is_in_and_one_undecided_is_not(client, panel):
    _, items, _ = _closed_with(panel, {})
    assert items["I1"]["status"] == "consensus_in"


def test_one_criterion_without_consensus_keeps_the_item_without_consensus(client, panel):
    _, items, _ = _closed_with(panel, {("I1", "Validity"): 5})
    assert items["I1"]["status"] == "no_consensus"
    assert items["I1"]["suggested"] == "carry_forward"


# The API and the exports carry the criteria


def test_the_api_json_export_and_data_zip_carry_each_criterion(client, panel):
    import io
    import json
    import zipfile
    from pathlib import Path

    import jsonschema
    import pandas as pd

    from tests.web.test_openapi import _validator

    round_, _, _ = _closed_with(panel, {("I1", "Feasibility"): 2})
    sign_in(client, panel.facilitator)

    spec = json.loads(client.get(f"{S}/export/json").get_data(as_text=True))
    schema = json.loads(
        (Path(__file__).resolve().parents[2] / "docs" / "specification.schema.json").read_text()
    )
    jsonschema.Draft202012Validator(schema).validate(spec)
    assert [c["name"] for c in spec["consensus"]["criteria"]] == [
        "Importance",
        "Validity",
        "Feasibility",
    ]
    excluded = {item["ref"]: item for item in spec["excluded"] + spec["no_consensus"]}
    evidence = excluded["I1"]["evidence"]
    assert [(c["criterion"], c["status"]) for c in evidence["criteria"]] == [
        ("Importance", "consensus_in"),
        ("Validity", "consensus_in"),
        ("Feasibility", "consensus_out"),
    ]

    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{S}/export/data").data))
    ratings = pd.read_csv(archive.open("ratings.csv"))
    # One row per rating, each with its criterion: 5 raters x (3 prompts + 1 indicator x 3).
    assert len(ratings) == 30
    i1 = ratings[ratings["item_ref"] == "I1"]
    assert i1.groupby("criterion").size().to_dict() == {
        "Feasibility": 5,
        "Importance": 5,
        "Validity": 5,
    }
    assert set(i1[i1["criterion"] == "Feasibility"]["rating"]) == {2}
    assert "`criterion`" in archive.read("README.md").decode()

    from app.models import ApiToken
    from app.security import new_token

    raw, digest = new_token()
    db.session.add(ApiToken(study_id=panel.study.id, token_hash=digest, label="t"))
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    study = client.get("/api/v1/studies/test-study", headers=headers).json
    assert [c["applies_to"] for c in study["criteria"]] == [
        ["indicator", "prompt"],
        ["indicator"],
        ["indicator"],
    ]
    assert list(_validator("Study").iter_errors(study)) == []
    results = client.get("/api/v1/studies/test-study/rounds/1/results", headers=headers).json
    assert list(_validator("RoundResults").iter_errors(results)) == []
    i1_results = next(i for i in results["items"] if i["ref"] == "I1")
    assert [c["status"] for c in i1_results["criteria"]] == [
        "consensus_in",
        "consensus_in",
        "consensus_out",
    ]
    assert set(results["alpha_criteria"]) == {"Importance", "Validity", "Feasibility"}


def test_feedback_and_the_specification_show_each_criterion(client, panel):
    _closed_with(panel, {("I1", "Feasibility"): 2})
    sign_in(client, panel.partners[0].user)
    feedback = page(get_page(client, f"{S}/rounds/1/feedback"))
    tables = feedback.select("table.app-criteria-figures")
    # Indicators are asked three criteria, prompts one: a table of one row would repeat the
    # figures above it, so a prompt says which criterion it was rated on.
    assert len(tables) == 1
    cards = {c.select_one(".app-ref").get_text(): c for c in feedback.select("section.app-item")}
    assert "Rated on Importance only." in cards["P1"].get_text(" ", strip=True)
    assert "Rated on Importance only." not in cards["I1"].get_text(" ", strip=True)
    i1 = next(t for t in tables if "I1" in t.caption.get_text())
    rows = [" ".join(tr.get_text(" ", strip=True).split()) for tr in i1.select("tbody tr")]
    assert rows == [
        "Importance 8 (8-8) 100% Consensus in 8",
        "Validity 8 (8-8) 100% Consensus in 8",
        "Feasibility 2 (2-2) 0% Consensus out 2",
    ]



def test_the_specification_states_the_agreement_on_each_criterion(client, panel):
    from app.services.rounds import record_decisions
    from delphi import Decision

    round_, items, _ = _closed_with(panel, {("I1", "Validity"): 7})
    choices = {e["item_id"]: (Decision(e["suggested"]), "") for e in items.values()}
    record_decisions(round_, choices, panel.facilitator)
    sign_in(client, panel.facilitator)
    spec = text_of(client.get(f"{S}/export/html"))
    assert (
        "in round 1, on each criterion: Importance 100% rated 7-9, median 8 (IQR 8–8), "
        "5 ratings; Validity 100% rated 7-9, median 7 (IQR 7–7), 5 ratings; Feasibility"
    ) in spec


def test_stability_is_reported_on_each_criterion(client, panel):
    from app.services.results import snapshot_of
    from app.services.rounds import close_round, record_decisions
    from delphi import Decision

    round1, items, _ = _closed_with(panel, {("I1", "Feasibility"): 5})
    choices = {e["item_id"]: (Decision.CARRY_FORWARD, "Again") for e in items.values()}
    record_decisions(round1, choices, panel.facilitator)
    round2 = open_round(panel.study, actor=panel.facilitator)
    # Importance as before; feasibility moves from 5 to 2 for every rater.
    _rate_all(round2, panel, {("I1", "Feasibility"): 2})
    close_round(round2.id, actor=panel.facilitator)
    stability = snapshot_of(round2)["stability"]
    i1 = next(r for r in stability["items"] if r["item_id"] == items["I1"]["item_id"])
    by_criterion = {c["criterion"]: c for c in i1["criteria"]}
    assert set(by_criterion) == {"Importance", "Validity", "Feasibility"}
    assert by_criterion["Importance"]["pct_changed_band"] == 0
    assert by_criterion["Feasibility"]["pct_changed_band"] == 100
    assert by_criterion["Feasibility"]["n_paired"] == 5
    assert by_criterion["Importance"]["stable"] is True
    assert by_criterion["Feasibility"]["stable"] is False
    # The whole study is stable only when every criterion is.
    assert stability["all_stable"] is False

    from app.models import ApiToken
    from app.security import new_token
    from tests.web.test_openapi import _validator

    raw, digest = new_token()
    db.session.add(ApiToken(study_id=panel.study.id, token_hash=digest, label="t"))
    db.session.commit()
    study = client.get(
        "/api/v1/studies/test-study", headers={"Authorization": f"Bearer {raw}"}
    ).json
    assert list(_validator("Study").iter_errors(study)) == []
    sign_in(client, panel.facilitator)
    shown = page(get_page(client, f"{S}/results"))
    rows = [
        " ".join(tr.get_text(" ", strip=True).split())
        for tr in shown.select("tr.app-stability__criterion")
    ]
    assert any(r.startswith("I1, Feasibility 5 5 (100%)") and "Not stable" in r for r in rows)
    api_i1 = next(i for i in study["stability"]["items"] if i["ref"] == "I1")
    assert [(c["criterion"], c["stable"]) for c in api_i1["criteria"]] == [
        ("Importance", True),
        ("Validity", True),
        ("Feasibility", False),
    ]


def test_the_consensus_board_shows_each_criterions_status(client, panel):
    _closed_with(panel, {("I1", "Feasibility"): 2})
    sign_in(client, panel.facilitator)
    board = page(get_page(client, f"{S}/results")).select_one("table.app-board")
    i1 = next(tr for tr in board.select("tbody tr") if tr.th.get_text(strip=True).startswith("I1"))
    assert [li.get_text(" ", strip=True) for li in i1.select(".app-board__criteria li")] == [
        "Importance: Consensus in",
        "Validity: Consensus in",
        "Feasibility: Consensus out",
    ]
    assert "Consensus out" in i1.select_one(".nhsuk-tag").get_text()
