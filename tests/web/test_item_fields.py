"""Panellists see and rate every field the specification presents as agreed, and see every
change to any of them, before and after (issue 13, point 8)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Item
from app.services.export import build_specification
from app.services.rounds import open_round, record_decisions
from delphi import Decision
from tests.conftest import Panel, sign_in
from tests.web.helpers import get_page, page, post_form, text_of
from tests.web.test_panel_views import rate_and_close

SCORES = [[5, 5, 6, 5, 4]] * 4  # no consensus on anything: every item carried forward


def item(panel: Panel, ref: str) -> Item:
    return db.session.scalar(select(Item).where(Item.study_id == panel.study.id, Item.ref == ref))


def with_every_field(panel: Panel) -> None:
    indicator = item(panel, "I1").current
    indicator.numerator = "Patients recruited to studies"
    indicator.denominator = "Patients admitted"
    indicator.data_source = "NIHR CRN"
    indicator.reporting_frequency = "Quarterly"
    indicator.threshold = "Good: at least 5 in 100"
    indicator.rationale = "Research-active trusts have better outcomes"
    indicator.notes = "Ask how the board tracks it"
    item(panel, "P1").current.notes = "Look for minutes of the research committee"
    db.session.commit()


def fields_shown(soup, version_id: int) -> dict[str, str]:
    return {
        row.dt.get_text(strip=True): row.dd.get_text(strip=True)
        for row in soup.select(f"#fields-{version_id} .nhsuk-summary-list__row")
    }


def test_the_ballot_shows_every_field_the_specification_presents(client, panel):
    with_every_field(panel)
    round_ = open_round(panel.study, actor=panel.facilitator)
    vids = {ri.item_version.item.ref: ri.item_version_id for ri in round_.round_items}
    sign_in(client, panel.partners[0].user)
    soup = page(get_page(client, "/studies/test-study/rounds/1/ballot"))
    spec = {i["ref"]: i for i in build_specification(panel.study)["no_consensus"]}
    for ref in ("I1", "P1"):
        presented = {f["label"]: f["value"] for f in spec[ref]["fields"] if f["value"]}
        assert fields_shown(soup, vids[ref]) == presented
    assert fields_shown(soup, vids["I1"])["Reporting frequency"] == "Quarterly"
    assert fields_shown(soup, vids["I1"])["Threshold: good / needs improvement"] == (
        "Good: at least 5 in 100"
    )
    assert fields_shown(soup, vids["P1"]) == {
        "Notes for inspectors": "Look for minutes of the research committee"
    }


def test_the_revise_form_edits_every_field_the_type_and_the_theme(client, panel):
    with_every_field(panel)
    sign_in(client, panel.facilitator)
    soup = page(get_page(client, "/studies/test-study/items/I1/revise"))
    names = {tag["name"] for tag in soup.select("form[method=post] [name]")}
    assert {
        "kind",
        "theme",
        "text",
        "notes",
        "definition",
        "numerator",
        "denominator",
        "data_source",
        "reporting_frequency",
        "threshold",
        "rationale",
        "change_note",
    } <= names
    assert soup.select_one("#theme")["value"] == "Conduct"
    assert soup.select_one("#threshold").get_text() == "Good: at least 5 in 100"
    form = {
        tag["name"]: tag.get("value", tag.get_text())
        for tag in soup.select("form[method=post] input[name], form[method=post] textarea")
        if tag.get("type") != "radio"
    }
    form.update(
        kind="indicator",
        theme="Equity across specialties",
        threshold="Good: at least 8 in 100",
        reporting_frequency="Annually",
        change_note="Threshold raised after the discussion",
    )
    post_form(client, "/studies/test-study/items/I1/revise", form)
    revised = item(panel, "I1")
    assert revised.current.number == 2
    assert (revised.current.threshold, revised.current.reporting_frequency) == (
        "Good: at least 8 in 100",
        "Annually",
    )
    assert revised.theme.name == "Equity across specialties"
    assert revised.versions[0].theme_shown == "Conduct"  # what round 1 would have rated
    assert revised.current.notes == "Ask how the board tracks it"


def test_a_revision_that_changes_nothing_is_refused_with_a_message(client, panel):
    sign_in(client, panel.facilitator)
    response = post_form(
        client,
        "/studies/test-study/items/P1/revise",
        {"change_note": "No change really"},
        status=422,
    )
    assert "Nothing has changed" in text_of(response)
    assert item(panel, "P1").current.number == 1


def test_round_two_shows_each_changed_field_before_and_after(client, panel):
    with_every_field(panel)
    round1 = open_round(panel.study, actor=panel.facilitator)
    rate_and_close(panel, round1, SCORES)
    record_decisions(
        round1,
        {ri.item_version.item_id: (Decision.CARRY_FORWARD, "") for ri in round1.round_items},
        panel.facilitator,
    )
    sign_in(client, panel.facilitator)
    post_form(
        client,
        "/studies/test-study/items/I1/revise",
        {
            "theme": "Equity across specialties",
            "threshold": "Good: at least 8 in 100",
            "change_note": "Threshold raised after the discussion",
        },
    )
    post_form(
        client,
        "/studies/test-study/items/P1/revise",
        {"kind": "indicator", "definition": "Share of board meetings", "change_note": "A measure"},
    )
    round2 = open_round(panel.study, actor=panel.facilitator)
    vids = {ri.item_version.item.ref: ri.item_version_id for ri in round2.round_items}
    sign_in(client, panel.patients[0].user)
    soup = page(get_page(client, "/studies/test-study/rounds/2/ballot"))

    def changes(ref: str) -> dict[str, str]:
        return {
            row.dt.get_text(strip=True): " ".join(row.dd.get_text(" ").split())
            for row in soup.select(f"#changes-{vids[ref]} .nhsuk-summary-list__row")
        }

    i1 = changes("I1")
    assert set(i1) == {"Theme", "Threshold: good / needs improvement"}
    assert i1["Theme"] == "Before: Conduct Now: Equity across specialties"
    assert i1["Threshold: good / needs improvement"].startswith(
        "Before: Good: at least 5 in 100 Now: Good: at least 8 in 100"
    )
    p1 = changes("P1")
    assert p1["Type of item"] == "Before: Prompt Now: Indicator"
    assert p1["Definition"] == "Before: (nothing) Now: Share of board meetings"
    assert "Wording" not in p1
    assert soup.find(string="Changed since round 1") is not None
    # The round 1 feedback tells the same story.
    feedback = page(get_page(client, "/studies/test-study/rounds/1/feedback"))
    block = feedback.select_one(f"#fb-{item(panel, 'I1').id}-changes").get_text(" ")
    assert "Equity across specialties" in block and "Good: at least 8 in 100" in block
