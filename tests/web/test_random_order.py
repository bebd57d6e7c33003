"""Items in a random order per panellist (issue 16): the study setting, the ballot's order
(fixed across reloads and rounds, different between panellists, themes kept together, the
study's order when off and on facilitators' pages) and the specification's methods."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Item, Panellist, Rating, Round, Study
from app.services.cycle import revise_item
from app.services.export import RANDOM_ORDER, build_specification
from app.services.rounds import close_round, open_round
from tests.conftest import Panel, build_panel, sign_in
from tests.web.helpers import get_page, page, post_form, text_of

S = "/studies/shuffle"
SETTINGS = {
    "title": "Shuffle study",
    "purpose": "To agree prompts.",
    "scale": "9",
    "rule": "percentage",
    "pct_in": "70",
    "pct_out_max": "15",
    "max_iqr": "2",
    "max_rounds": "3",
    "mode": "rounds",
}


@pytest.fixture
def shuffled(app) -> Panel:
    """Two themes: 8 prompts in "Offers research", 4 indicators in "Conduct"; random order on."""
    panel = build_panel(slug="shuffle", title="Shuffle study", prompts=8, indicators=4)
    panel.study.random_item_order = True
    db.session.commit()
    return panel


def shown(client, number: int = 1) -> list[tuple[str, str]]:
    """(theme heading, item ref) in the order the ballot page shows them."""
    soup = page(get_page(client, f"{S}/rounds/{number}/ballot"))
    refs = {
        f"item-{version.id}": item.ref
        for item in db.session.scalars(select(Item))
        for version in item.versions
    }
    out = []
    theme = ""
    # Headings and items come in document order: each item belongs to the heading above it.
    for node in soup.select("form.app-ballot h2.app-theme-heading, form.app-ballot div.app-item"):
        if node.name == "h2":
            theme = node.get_text(strip=True)
        else:
            out.append((theme, refs[node["id"]]))
    return out


def expected(panel: Panel, panellist: Panellist) -> list[tuple[str, str]]:
    """The documented order, computed here from the SHA-256 recipe: themes in the study's
    order, then items by sha256("delphi-item-order-v1:<study>:<panellist>:<item>")."""
    items = db.session.scalars(select(Item).where(Item.study_id == panel.study.id)).all()

    def key(item: Item) -> tuple[int, bytes]:
        text = f"delphi-item-order-v1:{panel.study.id}:{panellist.id}:{item.id}"
        return item.theme.position, hashlib.sha256(text.encode()).digest()

    return [(i.theme.name, i.ref) for i in sorted(items, key=key)]


def study_order(panel: Panel) -> list[tuple[str, str]]:
    items = db.session.scalars(select(Item).where(Item.study_id == panel.study.id)).all()
    return [
        (i.theme.name, i.ref) for i in sorted(items, key=lambda i: (i.theme.position, i.position))
    ]


def test_each_panellist_sees_their_own_order_the_same_on_every_reload(client, shuffled):
    open_round(shuffled.study, actor=shuffled.facilitator)
    orders = []
    for panellist in shuffled.raters:
        sign_in(client, panellist.user)
        first = shown(client)
        assert first == expected(shuffled, panellist)
        assert shown(client) == first  # a reload
        orders.append(first)
    # Five panellists, 8! × 4! orders each: they differ, and not all follow the study.
    assert len({tuple(o) for o in orders}) == len(orders)
    assert any(o != study_order(shuffled) for o in orders)


def test_themes_stay_together_in_the_study_order(client, shuffled):
    open_round(shuffled.study, actor=shuffled.facilitator)
    sign_in(client, shuffled.partners[0].user)
    themes = [theme for theme, _ in shown(client)]
    assert themes == ["Offers research"] * 8 + ["Conduct"] * 4
    refs = [ref for _, ref in shown(client)]
    assert sorted(refs[:8]) == sorted(f"P{n}" for n in range(1, 9))


def test_the_order_is_the_same_in_round_two(client, shuffled):
    round1 = open_round(shuffled.study, actor=shuffled.facilitator)
    me = shuffled.partners[1]
    sign_in(client, me.user)
    before = shown(client)
    for ri in round1.round_items:
        for p in shuffled.raters:
            db.session.add(
                Rating(
                    round_id=round1.id,
                    panellist_id=p.id,
                    item_version_id=ri.item_version_id,
                    score=5,
                )
            )
    db.session.commit()
    close_round(round1.id, actor=shuffled.facilitator)
    sign_in(client, shuffled.facilitator)
    item_ids = [ri.item_version.item_id for ri in round1.round_items]
    post_form(
        client,
        f"{S}/rounds/1/decisions",
        {f"decision-{i}": "carry_forward" for i in item_ids}
        | {f"reason-{i}": "More discussion" for i in item_ids},
    )
    # Reworded items get new versions (new ids): each keeps its place, as the order is the
    # item's, not the wording's.
    for item in db.session.scalars(select(Item).where(Item.ref.in_(["P2", "P5", "I3"]))):
        revise_item(item, {"text": f"Reworded {item.ref}?"}, "Clearer", shuffled.facilitator)
    post_form(client, f"{S}/rounds/open", {})
    round2 = db.session.scalar(select(Round).where(Round.number == 2))
    assert {ri.item_version_id for ri in round2.round_items}.isdisjoint(
        {ri.item_version_id for ri in round1.round_items if ri.item_version.item.ref == "P2"}
    )
    sign_in(client, me.user)
    assert shown(client, 2) == before


def test_facilitators_and_a_study_without_the_setting_keep_the_study_order(client, shuffled):
    open_round(shuffled.study, actor=shuffled.facilitator)
    sign_in(client, shuffled.facilitator)
    assert shown(client) == study_order(shuffled)
    shuffled.study.random_item_order = False
    db.session.commit()
    for panellist in shuffled.raters[:3]:
        sign_in(client, panellist.user)
        assert shown(client) == study_order(shuffled)


def test_the_setting_is_saved_audited_and_fixed_once_round_one_opens(client, app):
    panel = build_panel(slug="shuffle", title="Shuffle study")
    sign_in(client, panel.facilitator)
    form = page(get_page(client, f"{S}/settings"))
    box = form.select_one("#random_item_order")
    assert box is not None and not box.has_attr("checked")
    assert box["aria-describedby"] == "random_item_order-hint"
    post_form(client, f"{S}/settings", SETTINGS | {"random_item_order": "y"})
    db.session.expire_all()
    assert db.session.get(Study, panel.study.id).random_item_order is True
    assert (
        page(get_page(client, f"{S}/settings")).select_one("#random_item_order").has_attr("checked")
    )
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "study.item_order_changed")
    ).all()
    assert [e.detail for e in events] == [{"random": True}]
    # Saving again without a change records no new order event.
    post_form(client, f"{S}/settings", SETTINGS | {"random_item_order": "y"})
    assert (
        len(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "study.item_order_changed")
            ).all()
        )
        == 1
    )
    assert "Changed the order panellists see the items in" in text_of(
        get_page(client, f"{S}/audit")
    )

    post_form(client, f"{S}/rounds/open", {})
    refused = post_form(client, f"{S}/settings", SETTINGS, status=422)
    assert "item order are fixed once round 1 has opened" in text_of(refused)
    db.session.expire_all()
    assert db.session.get(Study, panel.study.id).random_item_order is True
    # The title may still change, with the order left as it is.
    post_form(client, f"{S}/settings", SETTINGS | {"title": "Renamed", "random_item_order": "y"})


def test_the_specification_methods_say_the_items_were_in_random_order(client, shuffled):
    open_round(shuffled.study, actor=shuffled.facilitator)
    spec = build_specification(shuffled.study)
    assert spec["methods"]["item_order"] == RANDOM_ORDER
    sign_in(client, shuffled.facilitator)
    html = get_page(client, f"{S}/export/html").get_data(as_text=True)
    assert "each panellist saw the items of each theme in a random order" in html
    markdown = client.get(f"{S}/export/md").get_data(as_text=True)
    assert "each panellist saw the items of each theme in a random order" in markdown
    shuffled.study.random_item_order = False
    db.session.commit()
    assert build_specification(shuffled.study)["methods"]["item_order"] is None
    html = get_page(client, f"{S}/export/html").get_data(as_text=True)
    assert "random order" not in html
