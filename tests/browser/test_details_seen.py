"""Small things a new facilitator saw (issue 13, point 18), each looked at in the browser at
1280 and 375 pixels: a number typed wrongly, a hide reason's full stop, the feedback chart's
labels, the results grouped by theme, the decision select, pages at phone widths, the guide's
bands for the study's own scale and the abbreviations explained."""

from __future__ import annotations

import itertools
import re

import pytest
from flask import render_template_string
from playwright.sync_api import expect

from app.extensions import db
from app.models import Rating
from app.security import hash_password
from app.services.discussion import Viewer
from app.services.discussion_writes import post_message
from app.services.rounds import close_round, open_round
from delphi import Scale
from tests.browser.conftest import screenshot, sign_in_page
from tests.conftest import PASSWORD, build_panel

pytestmark = pytest.mark.browser

S = "/studies/test-study"
WIDTHS = [1280, 375]


@pytest.fixture
def signed_in(app, live_server, new_page):
    """A study ready for round 1 whose facilitator and panellists have passwords; `page_at`
    signs a person in at a width."""
    panel = build_panel(partners=3, patients=3)
    for user in [panel.facilitator] + [p.user for p in panel.raters]:
        user.password_hash = hash_password(PASSWORD)
    db.session.commit()

    def page_at(user, width: int):
        page = new_page(width, 900)
        sign_in_page(page, live_server, user.email)
        return page

    return panel, page_at


def _rate_and_close(panel, scores: list[list[int]]) -> None:
    """Round 1 opened, rated (one list of scores per rater, in item order) and closed."""
    round_ = open_round(panel.study, actor=panel.facilitator)
    for panellist, row in zip(panel.raters, scores, strict=True):
        for round_item, score in zip(round_.round_items, row, strict=True):
            db.session.add(
                Rating(
                    round_id=round_.id,
                    panellist_id=panellist.id,
                    item_version_id=round_item.item_version_id,
                    score=score,
                )
            )
    db.session.commit()
    close_round(round_.id, actor=panel.facilitator)


# ------------------------------------------------------------- a. a number typed wrongly


@pytest.mark.parametrize("width", WIDTHS)
def test_a_number_typed_wrongly_gets_one_plain_message_and_stays_in_the_box(
    signed_in, live_server, width
):
    panel, page_at = signed_in
    page = page_at(panel.facilitator, width)
    page.goto(f"{live_server}{S}/settings")
    page.fill("#max_iqr", "2,5")
    page.fill("#max_rounds", "three")
    page.get_by_role("button", name="Save study").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    screenshot(page, f"details-number-typed-wrongly-{width}")
    summary = page.locator(".nhsuk-error-summary li").all_inner_texts()
    assert summary == ["Enter a number from 0 to 8", "Enter a number of rounds from 1 to 10"]
    beside = " ".join(page.locator("#max_iqr-error").inner_text().split())
    assert beside == "Error: Enter a number from 0 to 8"
    assert "Not a valid" not in page.inner_text("main")
    # What was typed is still there to correct.
    assert page.input_value("#max_iqr") == "2,5"
    assert page.input_value("#max_rounds") == "three"


# ------------------------------------------------------------- b. a hide reason's full stop


@pytest.mark.parametrize("width", WIDTHS)
def test_a_hide_reason_ending_in_a_full_stop_is_not_given_another(signed_in, live_server, width):
    panel, page_at = signed_in
    open_round(panel.study, actor=panel.facilitator)
    author = panel.partners[0]
    item = panel.study.items[0]
    message = post_message(
        panel.study, item, Viewer(author.user_id, author, False), "Something about a named trust"
    )
    db.session.commit()
    page = page_at(panel.facilitator, width)
    page.goto(f"{live_server}{S}/discussion/messages/{message.id}/hide")
    page.fill("#reason", "Off topic for this item.")
    page.get_by_role("button", name="Hide the message").click()
    note = page.locator(f"#message-{message.id} .app-message__hidden-note")
    expect(note).to_be_visible()
    screenshot(page, f"details-hide-reason-{width}")
    text = note.inner_text()
    assert "item.." not in text
    assert text.startswith("Hidden by a facilitator: Off topic for this item. Panellists")


# ------------------------------------------------------------- c. the feedback chart's labels


def _overlaps(a: dict, b: dict, slack: float = 0.5) -> bool:
    return (
        a["x"] + slack < b["x"] + b["width"]
        and b["x"] + slack < a["x"] + a["width"]
        and a["y"] + slack < b["y"] + b["height"]
        and b["y"] + slack < a["y"] + a["height"]
    )


# Every label of every chart (and every bar), as boxes on the page.
_BOXES = """() => [...document.querySelectorAll('svg.app-chart__svg')].map(svg => {
  const box = e => { const r = e.getBoundingClientRect();
    return {x: r.x, y: r.y, width: r.width, height: r.height, text: e.textContent,
            cls: e.getAttribute('class') || ''}; };
  return {id: svg.closest('figure').id, svg: box(svg),
          texts: [...svg.querySelectorAll('text')].map(box),
          bars: [...svg.querySelectorAll('rect')].map(box).filter(r => r.height > 0)};
})"""


def _chart_cases() -> list[tuple[int, list[int], int | None]]:
    """(scale high, counts, own score): the shapes where labels meet: the viewer's rating on
    the tallest bar, on an empty point, beside tall neighbours, large counts, all equal."""
    cases = []
    for high in (9, 5):
        n = high
        for own in [None, *range(1, high + 1)]:
            shapes = [
                [0] * n,
                [1] * n,
                [24] + [0] * (n - 1),
                [0] * (n - 1) + [24],
                [3, 12, 24, 100, 7, 0, 1, 24, 24][:n],
            ]
            if own is not None:
                lone = [0] * n
                lone[own - 1] = 9
                tall = [9] * n
                shapes += [lone, tall, [c if i != own - 1 else 0 for i, c in enumerate(tall)]]
            cases += [(high, shape, own) for shape in shapes]
    return cases


@pytest.mark.parametrize("width", WIDTHS)
def test_no_label_on_the_distribution_chart_overlaps_another_at_any_count_or_scale(
    app, live_server, new_page, width
):
    cases = _chart_cases()
    with app.test_request_context():
        html = render_template_string(
            """{% import "_charts.html" as charts %}<!doctype html><html><head>
            <link rel="stylesheet" href="{{ base }}/static/{{ nhsuk }}">
            <link rel="stylesheet" href="{{ base }}/static/css/app.css"></head><body>
            {% for high, counts, own in cases %}{% for small in (false, true) %}
            <div id="case-{{ loop.index }}-{{ small }}">{{ charts.distribution("c" ~ loop.index,
               counts, Scale(1, high), "chart", own=own, small=small, table=false) }}</div>
            {% endfor %}{% endfor %}</body></html>""",
            cases=[(h, c, o) for h, c, o in cases],
            Scale=Scale,
            base=live_server,
            nhsuk="vendor/nhsuk-frontend/nhsuk-frontend.min.css",
        )
    page = new_page(width, 900)
    page.set_content(html, wait_until="load")
    charts = page.evaluate(_BOXES)
    assert len(charts) == 2 * len(cases)
    problems = []
    for (high, counts, own), chart in zip([c for c in cases for _ in (0, 1)], charts, strict=True):
        for a, b in itertools.combinations(chart["texts"], 2):
            if _overlaps(a, b):
                problems.append((high, counts, own, a["text"], b["text"]))
        for label in chart["texts"]:
            for bar in chart["bars"]:
                if _overlaps(label, bar, slack=1):
                    problems.append((high, counts, own, label["text"], "a bar"))
            s = chart["svg"]
            bottom = label["y"] + label["height"]
            if label["y"] < s["y"] - 0.5 or bottom > s["y"] + s["height"] + 0.5:
                problems.append((high, counts, own, label["text"], "outside the chart"))
    assert problems[:10] == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_you_label_stands_clear_of_the_count_on_a_panellists_feedback(
    signed_in, live_server, width
):
    panel, page_at = signed_in
    # The first rater gave P1 an 8, as did most of the panel: "you" sits on the tallest bar.
    usual, other = [8, 2, 5, 8], [8, 1, 6, 4]
    _rate_and_close(panel, [usual, usual, other, usual, [9, 1, 6, 4], usual])
    page = page_at(panel.raters[0].user, width)
    page.goto(f"{live_server}{S}/rounds/1/feedback")
    chart = page.locator("svg.app-chart__svg").first
    expect(chart).to_be_visible()
    chart.scroll_into_view_if_needed()
    screenshot(page, f"details-feedback-chart-{width}")
    you = page.locator("svg.app-chart__svg").first.locator(".app-chart__you").bounding_box()
    own_bar = page.locator("svg.app-chart__svg").first.locator(".app-chart__bar--own")
    count = own_bar.locator(".app-chart__count").bounding_box()
    assert you is not None and count is not None
    assert not _overlaps(you, count)
    assert you["y"] + you["height"] <= count["y"] + 0.5  # "you" above its count


# ------------------------------------------------ d, e, h. the round results and decisions


LONG = (
    "How does the board assure itself that patients in every specialty, including those "
    "seen only in outpatient clinics or in the community, are offered the chance to take "
    "part in research that is relevant to their condition?"
)


@pytest.fixture
def closed_round(signed_in):
    """Round 1 closed with items of two themes interleaved (P4 of the first theme added
    after the indicator of the second), some with long wording."""
    from app.services.studies import ItemFields, add_item
    from delphi import ItemKind

    panel, page_at = signed_in
    add_item(panel.study, ItemFields(ItemKind.PROMPT, "Offers research", LONG))
    panel.study.items[0].current.text = LONG
    db.session.commit()
    _rate_and_close(panel, [[8, 2, 5, 8, 9]] * 3 + [[9, 1, 6, 4, 3]] * 3)
    return panel, page_at


@pytest.mark.parametrize("width", WIDTHS)
def test_the_round_results_are_grouped_by_theme_as_on_the_ballot(closed_round, live_server, width):
    panel, page_at = closed_round
    page = page_at(panel.facilitator, width)
    page.goto(f"{live_server}{S}/rounds/1/results")
    screenshot(page, f"details-results-by-theme-{width}")
    groups = page.evaluate(
        """() => [...document.querySelectorAll('#decisions tbody')].map(body => [
            body.querySelector('.app-results__theme').textContent.trim(),
            [...body.querySelectorAll('tr:not(.app-results__theme) td:first-child strong')]
              .map(ref => ref.textContent.trim())])"""
    )
    assert groups == [["Offers research", ["P1", "P2", "P3", "P4"]], ["Conduct", ["I1"]]]
    expect(page.locator(".app-results__theme th", has_text="Offers research")).to_be_visible()


# The widest option's text against the room inside the select (padding and arrow taken off).
_SELECTS = """() => [...document.querySelectorAll('#decisions select')].map(select => {
  const style = getComputedStyle(select);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const widest = Math.max(...[...select.options].map(o => ctx.measureText(o.text).width));
  const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  const room = select.clientWidth - padding - 20;
  const box = select.getBoundingClientRect();
  return {id: select.id, widest, room, left: box.left, right: box.right};
})"""


@pytest.mark.parametrize("width", [1280, 375, 320])
def test_every_decision_choice_reads_in_full_and_the_select_is_on_screen(
    closed_round, live_server, width
):
    panel, page_at = closed_round
    page = page_at(panel.facilitator, width)
    page.goto(f"{live_server}{S}/rounds/1/results")
    page.locator("#decisions select").first.scroll_into_view_if_needed()
    screenshot(page, f"details-decision-select-{width}")
    selects = page.evaluate(_SELECTS)
    assert len(selects) == 5
    for s in selects:
        assert s["widest"] <= s["room"], s
        # Usable without scrolling sideways: the whole control is within the window.
        assert 0 <= s["left"] and s["right"] <= width, s
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # Nothing in the table is cut off at the edge of its scrolling region either.
    region = page.locator("#decisions")
    sizes = region.evaluate("r => [r.scrollWidth, r.clientWidth]")
    assert sizes[0] <= sizes[1] + 4, sizes  # NHS.UK tables hang 4px over, for their borders
    controls = page.locator("#decisions input, #decisions select").all()
    for box in [control.bounding_box() for control in controls]:
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_the_disagreement_index_and_iqr_are_explained_where_shown(closed_round, live_server, width):
    panel, page_at = closed_round
    page = page_at(panel.facilitator, width)
    page.goto(f"{live_server}{S}/rounds/1/results")
    table = page.locator("#decisions table")
    assert table.locator("thead abbr", has_text="DI").get_attribute("title") == (
        "disagreement index"
    )
    assert table.locator("thead abbr", has_text="IQR").get_attribute("title") == (
        "interquartile range"
    )
    help_text = page.locator("#results-help").inner_text()
    assert "DI: disagreement index" in help_text and "above 1" in help_text
    assert "IQR: interquartile range" in help_text
    # Each cell names its column where the table is laid out as cards (phones).
    if width < 700:
        labels = page.locator("#decisions tbody tr:not(.app-results__theme)").first.evaluate(
            "row => [...row.cells].map(c => getComputedStyle(c, '::before').content)"
        )
        assert '"Disagreement index (DI)"' in labels and '"Median (IQR)"' in labels
    screenshot(page, f"details-results-explained-{width}")


# ------------------------------------------------ f. facilitator pages at phone widths


SETUP_PAGES = {
    "study and groups": S,
    "panel": f"{S}/panel",
    "items": f"{S}/items",
    "new item": f"{S}/items/new",
    "settings": f"{S}/settings",
    "round": f"{S}/rounds/1",
    "results and decisions": f"{S}/rounds/1/results",
    "study results": f"{S}/results",
}


MATRICES = {"Rounds of this study", "Items by status per round"}


@pytest.mark.parametrize("width", [375, 320])
def test_no_facilitator_setup_page_scrolls_sideways_on_a_phone(closed_round, live_server, width):

    panel, page_at = closed_round
    page = page_at(panel.facilitator, width)
    # What widened the panel page: open invitation links (listed to copy, as no mail is set
    # up) for people with long names and addresses.
    for n in range(2):
        page.goto(f"{live_server}{S}/panel")
        page.fill("#name", f"Professor Bartholomew Fotheringham-Smythe{n}")
        page.fill("#email", f"bartholomew.fotheringham-smythe{n}@research-development.example.test")
        page.get_by_role("button", name="Send invitation").click()
        expect(page.locator(".app-invite-link").nth(n)).to_be_visible()
    wide = {}
    for name, url in SETUP_PAGES.items():
        page.goto(f"{live_server}{url}")
        screenshot(page, f"details-phone-{name.replace(' ', '-')}-{width}")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > width:
            wide[name] = scroll
        # Nor does a table hide columns in a region that scrolls on its own (NHS.UK tables
        # hang 4px over, for their borders).
        regions = page.evaluate(
            "[...document.querySelectorAll('.app-table-scroll')]"
            ".filter(r => r.scrollWidth > r.clientWidth + 4).map(r => r.getAttribute('aria-label')"
            " || r.getAttribute('aria-labelledby'))"
        )
        # Matrices of figures by round may scroll inside their region (a data table that
        # needs both dimensions, as WCAG 1.4.10 allows); lists of people and items may not.
        regions = [r for r in regions if r not in MATRICES]
        if regions:
            wide[f"{name}: tables"] = regions
    # The form page shown again after a refused group name, too.
    page.goto(f"{live_server}{S}")
    page.get_by_role("button", name=re.compile("Add (the )?group")).click()
    if page.evaluate("document.documentElement.scrollWidth") > width:
        wide["refused group"] = page.evaluate("document.documentElement.scrollWidth")
    assert wide == {}


# ------------------------------------------------ g. the guide's bands are the study's own


@pytest.mark.parametrize("width", WIDTHS)
def test_the_guide_reached_from_a_1_to_5_study_states_that_studys_bands(
    live_server, new_page, width
):
    panel = build_panel(scale_max=5)
    panellist = panel.patients[0]
    panellist.user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    page = new_page(width, 900)
    sign_in_page(page, live_server, panellist.user.email)
    page.goto(f"{live_server}{S}")
    if width < 700:
        menu = page.locator(".nhsuk-header__navigation-list")
        if not menu.get_by_role("link", name="How this works").is_visible():
            page.locator(".nhsuk-header__menu-toggle").click()
    page.get_by_role("link", name="How this works").click()
    expect(page).to_have_title(re.compile(r"^How this works"))
    assert page.url == f"{live_server}{S}/how-this-works"
    screenshot(page, f"details-guide-1-to-5-{width}")
    bands = page.locator("main ul.nhsuk-list--bullet li").all_inner_texts()
    # From the study's scale (scale_bands/), top band first.
    assert bands == [
        "4 to 5: critical or appropriate; it should be included",
        "3: uncertain; important but not critical",
        "1 to 2: not important; it should be left out",
    ]
    text = page.inner_text("main")
    assert "rates items from 1 to 5" in text
    assert "7 to 9" not in text and "7-9" not in text
    assert "at least 70% rate 4-5 and at most 15% rate 1-2" in text


def test_the_guide_outside_any_study_shows_both_scales(live_server, new_page):
    page = new_page(1280, 900)
    page.goto(f"{live_server}/how-this-works")
    headings = page.locator("main h3").all_inner_texts()
    assert headings == ["On a 1 to 9 scale", "On a 1 to 5 scale"]
    assert "1 to 2: not important" in page.inner_text("main")
