"""Every page type, as every role, in a real browser: axe-core finds no WCAG 2.2 AA violation;
pages reflow at 320 px; a patient representative completes a ballot and posts a comment with
the keyboard alone. Screenshots of the main pages land in test-artifacts/screenshots.

One demo study (the seed project's content, round 1 closed, round 2 open) serves the module;
the last test closes round 2 so the results pages show two rounds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import DiscussionMessage, Panellist, Rating, Round, Study, User
from app.security import hash_password
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "demo-panellist"
S = "/studies/research-well-led"
EMAILS = {
    "observer": "observer1@demo.test",
    "partner": "partner1@demo.test",
    "patient": "patient1@demo.test",
    "facilitator": "facilitator@demo.test",
}


@pytest.fixture(scope="module", autouse=True)
def _clean_database(app) -> Iterator[None]:
    """One seeded study for the whole module (overrides the per-test clean-up)."""
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        tables = list(reversed(db.metadata.sorted_tables))
        with db.engine.begin() as connection:
            if db.engine.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(table.delete())


@pytest.fixture(scope="module")
def demo(app, _clean_database) -> dict[str, object]:
    from app.demo import seed_demo
    from app.services.discussion_writes import ensure_thread

    study = seed_demo()
    for email in EMAILS.values():
        user = db.session.scalar(select(User).where(User.email == email))
        user.password_hash = hash_password(PASSWORD)
    round2 = next(r for r in study.rounds if r.number == 2)
    carried = round2.round_items[0].item_version.item
    thread = ensure_thread(study.id, carried.id)
    thread.summary = "Most agreed this matters; some asked for plainer wording."
    db.session.commit()
    return {"study": study, "carried": carried.ref, "round2": round2}


@pytest.fixture(scope="module")
def sessions(browser, live_server, demo) -> dict[str, dict]:
    """Each role signs in once; its cookies are reused by every page of the module."""
    states: dict[str, dict] = {"anonymous": {"cookies": [], "origins": []}}
    for role, email in EMAILS.items():
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{live_server}/login")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        assert "/login" not in page.url, (role, page.inner_text("main")[:300])
        states[role] = context.storage_state()
        context.close()
    return states


@pytest.fixture
def as_role(browser, live_server, sessions):
    contexts = []

    def open_as(role: str, width: int = 1280, height: int = 900):
        context = browser.new_context(
            storage_state=sessions[role], viewport={"width": width, "height": height}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_as
    for context in contexts:
        context.close()


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2.2 AA violations on the page as it is, with every <details> open."""
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    # Served by the app itself, so the page's CSP (no inline scripts) stays in force.
    page.add_script_tag(
        url=page.url.split("/", 3)[0]
        + "//"
        + page.url.split("/")[2]
        + "/static/vendor/axe-core/axe.min.js"
    )
    found = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => `${v.id} (${v.impact}): ${v.help} -> ` +
                v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | '));
        }""",
        WCAG,
    )
    return list(found)


def fits_width(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"
    )


def pages_for(role: str, demo) -> list[tuple[str, str]]:
    """(name, path) of every page type the role can open."""
    carried = demo["carried"]
    if role == "anonymous":
        return [
            ("login", "/login"),
            ("how-it-works", "/how-this-works"),
            ("request-link", "/sign-in-link"),
            ("sign-in-link", "/sign-in/not-a-token"),
            ("not-found", "/invitation/not-a-token"),
            ("unsubscribe", f"/unsubscribe/{_unsubscribe_token()}"),
        ]
    panellist = [
        ("studies", "/studies"),
        ("study", S),
        ("ballot-open", f"{S}/rounds/2/ballot"),
        ("ballot-closed", f"{S}/rounds/1/ballot"),
        ("feedback", f"{S}/rounds/1/feedback"),
        ("discussion", f"{S}/discussion"),
        ("thread", f"{S}/discussion/{carried}"),
        ("proposals", f"{S}/proposals"),
        ("ideas", f"{S}/ideas"),
        ("indicator-testing", f"{S}/items/I1/testing"),
        ("how-it-works", "/how-this-works"),
        ("forbidden", f"{S}/results"),
        ("account", "/account"),
    ]
    if role != "facilitator":
        return panellist
    return [
        ("studies", "/studies"),
        ("new-study", "/studies/new"),
        ("dashboard", S),
        ("settings", f"{S}/settings"),
        ("criteria", f"{S}/criteria"),
        ("items", f"{S}/items"),
        ("new-item", f"{S}/items/new"),
        ("revise", f"{S}/items/{carried}/revise"),
        ("indicator-testing", f"{S}/items/I1/testing"),
        ("indicators-guide", "/help/indicators"),
        ("panel", f"{S}/panel"),
        ("round", f"{S}/rounds/2"),
        ("close-round", f"{S}/rounds/2/close"),
        ("closed-round", f"{S}/rounds/1"),
        ("responders", f"{S}/rounds/2/responders"),
        ("results", f"{S}/rounds/1/results"),
        ("overview", f"{S}/results"),
        ("item-history", f"{S}/results/items/{carried}"),
        ("feedback", f"{S}/rounds/1/feedback"),
        ("ballot-preview", f"{S}/rounds/2/ballot"),
        ("discussion", f"{S}/discussion"),
        ("thread", f"{S}/discussion/{carried}"),
        ("proposals", f"{S}/proposals"),
        ("ideas", f"{S}/ideas"),
        ("ideas-manage", f"{S}/ideas/manage"),
        ("specification", f"{S}/export"),
        ("reporting-settings", f"{S}/export/reporting-settings"),
        ("audit", f"{S}/audit"),
        ("api-tokens", f"{S}/api-tokens"),
        ("complete", f"{S}/complete"),
        ("account", "/account"),
    ]


def _unsubscribe_token() -> str:
    """A one-click unsubscribe token as the live server (its own SECRET_KEY) signs them."""
    from itsdangerous import URLSafeSerializer

    from app.services.notifications import UNSUBSCRIBE_SALT

    user_id = db.session.scalar(select(User.id).order_by(User.id))
    return URLSafeSerializer("browser-test-secret", salt=UNSUBSCRIBE_SALT).dumps(
        {"u": user_id, "k": "reminder"}
    )


SCREENSHOT_PAGES = {
    "login",
    "how-it-works",
    "study",
    "ballot-open",
    "feedback",
    "dashboard",
    "results",
    "overview",
    "item-history",
    "thread",
    "indicator-testing",
}


@pytest.mark.parametrize("role", ["anonymous", "observer", "partner", "patient", "facilitator"])
def test_every_page_has_no_wcag_violations_for(role, as_role, live_server, demo):
    page = as_role(role)
    problems: dict[str, list[str]] = {}
    titles = set()
    # Script errors, htmx's own (e.g. a trigger filter, which needs eval, which the config
    # forbids) and what the Content-Security-Policy blocks; not the 403 of "forbidden".
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(f"{page.url}: {error}"))
    page.on(
        "console",
        lambda m: script_errors.append(f"{page.url}: {m.text}")
        if m.type == "error" and ("htmx" in m.text or "Content Security Policy" in m.text)
        else None,
    )
    for name, path in pages_for(role, demo):
        response = page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        assert response is not None and response.status < 500, (path, response and response.status)
        title = page.title()
        assert title and title.endswith("– Delphi panel"), (path, title)
        titles.add(title)
        assert page.locator("a.nhsuk-skip-link").count() == 1, path
        assert page.locator("h1").count() == 1, path
        found = axe_violations(page)
        if found:
            problems[f"{name} {path}"] = found
        if name in SCREENSHOT_PAGES:
            page.reload()
            screenshot(page, f"{role}-{name}-1280")
    assert problems == {}
    assert script_errors == []
    assert len(titles) > 1  # each page says what it is


@pytest.mark.parametrize("role", ["patient", "facilitator"])
def test_main_pages_reflow_at_320_pixels_and_read_well_on_a_phone(role, as_role, live_server, demo):
    wanted = {
        "study",
        "ballot-open",
        "feedback",
        "dashboard",
        "overview",
        "results",
        "item-history",
        "how-it-works",
    }
    narrow = as_role(role, 320, 800)
    phone = as_role(role, 375, 800)
    too_wide = []
    for name, path in pages_for(role, demo):
        if name not in wanted:
            continue
        narrow.goto(live_server + path)
        if not fits_width(narrow):
            too_wide.append(name)
        phone.goto(live_server + path)
        screenshot(phone, f"{role}-{name}-375")
    assert too_wide == []


def test_forms_with_errors_are_announced_and_pass_axe(as_role, live_server, demo):
    page = as_role("anonymous")
    page.goto(f"{live_server}/login")
    page.fill("#email", "nobody@demo.test")
    page.fill("#password", "wrong")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()  # waits for the answer, unlike is_visible()
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert axe_violations(page) == []

    facilitator = as_role("facilitator")
    facilitator.goto(f"{live_server}/studies/new")
    facilitator.locator("form button[type=submit]").last.click()
    expect(facilitator.locator(".nhsuk-error-summary")).to_be_visible()
    expect(facilitator).to_have_title(re.compile(r"^Error:"))
    # The summary takes focus so screen readers announce it at once.
    # (nhsuk-frontend's module script moves it there once loaded: wait for it, up to 5 s.)
    facilitator.wait_for_function(
        "document.activeElement && document.activeElement.closest('.nhsuk-error-summary')",
        timeout=5000,
    )
    assert axe_violations(facilitator) == []
    screenshot(facilitator, "facilitator-new-study-errors-375")


def _focused(page) -> dict:
    return page.evaluate(
        """() => { const e = document.activeElement;
            return {id: e.id, name: e.getAttribute('name') || '', tag: e.tagName,
                    text: (e.innerText || '').trim().slice(0, 80)}; }"""
    )


def _tab_to(page, matches, limit: int = 400) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if matches(focused):
            return focused
    raise AssertionError("never reached the element with the keyboard")


def test_a_patient_representative_completes_the_ballot_and_comments_with_the_keyboard_only(
    as_role, live_server, demo
):
    study = db.session.scalar(select(Study).where(Study.slug == "research-well-led"))
    round2 = db.session.scalar(select(Round).where(Round.study_id == study.id, Round.number == 2))
    patient = db.session.scalar(select(Panellist).join(User).where(User.email == EMAILS["patient"]))
    page = as_role("patient", 375, 800)
    page.goto(f"{live_server}{S}/rounds/2/ballot")
    # One row of the scale per criterion asked: the indicators' three, the prompts' one.
    names = page.eval_on_selector_all(
        "input[type=radio][name^='score-']", "els => [...new Set(els.map(e => e.name))]"
    )
    total = len(names)
    assert total > len(round2.round_items)
    assert page.inner_text("#progress") == f"0 of {total} rated"
    # The first Tab reaches the skip link, which jumps to the main content.
    page.keyboard.press("Tab")
    assert _focused(page)["text"].lower().startswith("skip to main content")

    for number, name in enumerate(names, start=1):
        focused = _tab_to(page, lambda f, name=name: f["name"] == name)
        assert focused["id"] == f"{name}-1"  # nothing chosen yet: the first point
        page.keyboard.press("Space")  # 1
        for _ in range(7):
            page.keyboard.press("ArrowRight")  # ... to 8
        expect(page.locator(f"#{name}-8")).to_be_checked()
        assert _focused(page)["id"] == f"{name}-8"
        page.locator(f"#status-{name.removeprefix('score-')}").filter(has_text="Saved").wait_for()
        page.locator("#progress").filter(has_text=f"{number} of {total} rated").wait_for()
    screenshot(page, "patient-ballot-keyboard-375")

    # A comment on the first item: open its discussion, type, send, all from the keyboard.
    first_ref = round2.round_items[0].item_version.item.ref
    page.goto(f"{live_server}{S}/rounds/2/ballot")
    _tab_to(page, lambda f: f["tag"] == "SUMMARY" and f"Discussion of {first_ref}" in f["text"])
    page.keyboard.press("Enter")
    _tab_to(page, lambda f: f["tag"] == "TEXTAREA" and f["name"].endswith("body"))
    page.keyboard.type("Plainer words would help patients answer this.")
    _tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Send message")
    page.keyboard.press("Enter")
    page.locator("li.app-message", has_text="Plainer words would help").first.wait_for()

    db.session.expire_all()
    scores = db.session.scalars(
        select(Rating.score).where(Rating.round_id == round2.id, Rating.panellist_id == patient.id)
    ).all()
    assert sorted(scores) == [8] * total
    assert (
        db.session.scalar(
            select(func.count(DiscussionMessage.id)).where(
                DiscussionMessage.author_panellist_id == patient.id,
                DiscussionMessage.body.contains("Plainer words"),
            )
        )
        == 1
    )
    # Focus is visible: the focused radio gets NHS.UK's yellow focus ring.
    page.goto(f"{live_server}{S}/rounds/2/ballot")
    _tab_to(page, lambda f: f["name"].startswith("score-"))
    shadow = page.evaluate(
        "getComputedStyle(document.activeElement).boxShadow + getComputedStyle("
        "document.activeElement.nextElementSibling, '::before').boxShadow"
    )
    assert "255, 235, 59" in shadow or "rgb(255, 235, 59)" in shadow


def test_after_a_second_round_the_results_show_the_trend_and_pass_axe(as_role, live_server, demo):
    from app.services.rounds import close_round

    round2 = db.session.scalar(
        select(Round).join(Study).where(Study.slug == "research-well-led", Round.number == 2)
    )
    close_round(round2.id, actor=None)
    db.session.commit()
    page = as_role("facilitator")
    problems = {}
    for name, path in [
        ("overview", f"{S}/results"),
        ("item-history", f"{S}/results/items/{demo['carried']}"),
        ("dashboard", S),
        ("results", f"{S}/rounds/2/results"),
    ]:
        page.goto(live_server + path)
        found = axe_violations(page)
        if found:
            problems[name] = found
        page.reload()
        screenshot(page, f"facilitator-{name}-two-rounds-1280")
    assert problems == {}
    page.goto(f"{live_server}{S}/results")
    assert "Round 2" in page.inner_text("#board ~ div table")
    assert page.locator("svg[role=img] title", has_text="alpha").count() >= 1
    assert "Stability per item" in page.inner_text("main")
    # The attrition-bias check (issue 17): round 1 against round 2, group figures only.
    attrition = page.inner_text("#attrition-bias ~ p")
    assert attrition.startswith("Did the people who left the panel rate differently")
    assert page.locator("table.app-attrition").count() == 1

    patient = as_role("patient", 375, 800)
    patient.goto(f"{live_server}{S}/rounds/2/feedback")
    assert axe_violations(patient) == []
    screenshot(patient, "patient-feedback-round-2-375")
