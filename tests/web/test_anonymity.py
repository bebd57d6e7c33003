"""Anonymity: nothing a panellist can reach shows another panellist's name or email.

A crawler signs in as each kind of panellist on the demo study (two rounds of ratings and
discussion) and follows every same-site link, htmx fragment and form-less GET address it
can find, and every GET route of the app filled in with the demo's numbers, refs and ids;
no answer may contain another panellist's name or email address, and exports that
facilitators can download must be refused.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from app.demo import seed_demo
from app.extensions import db
from app.models import DiscussionMessage, Item, Panellist
from delphi import PanelRole
from tests.conftest import sign_in

MAX_PAGES = 150
SKIP = ("/logout", "/static/", "/sign-in/", "/invitation/")


@pytest.fixture
def demo(app):
    return seed_demo()


def _seeds(app, study) -> list[str]:
    """Every GET route, filled in with this study's slug, round numbers, refs and ids."""
    refs = db.session.scalars(select(Item.ref).where(Item.study_id == study.id)).all()
    messages = db.session.scalars(
        select(DiscussionMessage.id).order_by(DiscussionMessage.id).limit(5)
    ).all()
    fills = {
        "<slug>": [study.slug],
        "<int:number>": [str(r.number) for r in study.rounds],
        "<ref>": ["channel", *refs[:3]],
        "<int:message_id>": [str(m) for m in messages],
        "<fmt>": ["csv", "json", "md", "html", "xlsx", "docx", "data"],
        "<int:panellist_id>": ["1"],
        "<int:version_id>": ["1"],
        "<int:proposal_id>": ["1"],
    }
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        paths = [rule.rule]
        for placeholder, values in fills.items():
            paths = (
                [p.replace(placeholder, v) for p in paths for v in values]
                if any(placeholder in p for p in paths)
                else paths
            )
        out.extend(p for p in paths if "<" not in p)
    return out


def _links(base: str, html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    found = [a.get("href") for a in soup.select("a[href]")]
    found += [el.get("hx-get") for el in soup.select("[hx-get]")]
    found += [
        form.get("action") for form in soup.select("form") if form.get("method", "get") == "get"
    ]
    out = []
    for href in found:
        if not href or href.startswith(("#", "mailto:", "javascript:")):
            continue
        url = urlsplit(urljoin(base, href))
        if url.netloc not in ("", "localhost"):
            continue
        out.append(url.path + (f"?{url.query}" if url.query else ""))
    return out


@pytest.mark.parametrize(
    "role", [PanelRole.PARTNER, PanelRole.PATIENT_REP, PanelRole.OBSERVER], ids=lambda r: r.value
)
def test_no_page_a_panellist_can_reach_names_another_panellist(app, demo, role):
    panellists = db.session.scalars(
        select(Panellist).where(Panellist.study_id == demo.id, Panellist.joined_at.is_not(None))
    ).all()
    me = next(p for p in panellists if p.panel_role is role)
    others = [p for p in panellists if p.id != me.id]
    secrets = {p.user.email for p in others} | {p.user.name for p in others if len(p.user.name) > 3}
    pattern = re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))

    client = app.test_client()
    sign_in(client, me.user)
    queue = deque(["/studies", f"/studies/{demo.slug}", *_seeds(app, demo)])
    seen: set[str] = set()
    leaks: list[str] = []
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen or path.startswith(SKIP):
            continue
        seen.add(path)
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(path, headers=headers)
            assert response.status_code < 500, (path, response.status_code)
            body = response.get_data(as_text=True)
            if match := pattern.search(body):
                leaks.append(f"{path} ({'fragment' if headers else 'page'}): {match.group(0)}")
            if not headers and response.status_code == 200 and "html" in response.mimetype:
                queue.extend(link for link in _links(path, body) if link not in seen)
    print(f"{role.value}: crawled {len(seen)} addresses")
    assert leaks == []
    assert len(seen) > 20, f"the crawler reached only {sorted(seen)}"


def test_facilitator_exports_with_names_are_refused_to_panellists(app, demo):
    partner = db.session.scalar(
        select(Panellist).where(
            Panellist.study_id == demo.id, Panellist.role == PanelRole.PARTNER.value
        )
    )
    client = app.test_client()
    sign_in(client, partner.user)
    for path in (
        f"/studies/{demo.slug}/export",
        f"/studies/{demo.slug}/export/json",
        f"/studies/{demo.slug}/export/data",
        f"/studies/{demo.slug}/discussion/channel/export.csv",
        f"/studies/{demo.slug}/audit.csv",
        f"/studies/{demo.slug}/panel",
        f"/api/v1/studies/{demo.slug}",
    ):
        assert client.get(path).status_code in (401, 403, 404), path


def test_the_names_the_crawler_looks_for_do_appear_to_facilitators(app, demo):
    """The check above is not vacuous: the same names are on the facilitator's panel page."""
    from app.models import StudyFacilitator, User

    facilitator = db.session.scalar(
        select(User).join(StudyFacilitator).where(StudyFacilitator.study_id == demo.id)
    )
    partner = db.session.scalar(
        select(Panellist).where(
            Panellist.study_id == demo.id, Panellist.role == PanelRole.PARTNER.value
        )
    )
    client = app.test_client()
    sign_in(client, facilitator)
    body = client.get(f"/studies/{demo.slug}/panel").get_data(as_text=True)
    assert partner.user.name in body and partner.user.email in body
