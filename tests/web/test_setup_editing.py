"""Setup is not one-way: before round 1 items, themes, groups and panellists can be deleted,
reordered, renamed and moved; after it, what leaves the record true; nothing once completed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEvent,
    DiscussionEvent,
    DiscussionMessage,
    DiscussionThread,
    Invitation,
    Item,
    Panellist,
    StakeholderGroup,
    Study,
    User,
)
from app.services.discussion_writes import ensure_thread
from app.services.rounds import open_round
from app.services.studies import ItemFields, create_group, create_item
from delphi import ItemKind, StudyStatus
from tests.conftest import Panel, sign_in
from tests.web.helpers import error_summary, get_page, page, post_form, text_of

S = "/studies/test-study"


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _refs() -> list[str]:
    return list(db.session.scalars(select(Item.ref).order_by(Item.position)))


def _open_round_1(panel: Panel) -> None:
    open_round(panel.study, actor=panel.facilitator)


@pytest.fixture
def facilitator(client, panel: Panel):
    sign_in(client, panel.facilitator)
    return client


# Items


def test_deleting_an_item_before_round_1_asks_first_then_deletes_it(facilitator, panel):
    shown = text_of(get_page(facilitator, f"{S}/items/P2/delete"))
    assert "Delete P2?" in shown and "Prompt number 2?" in shown
    # A POST without the answer only asks again.
    post_form(facilitator, f"{S}/items/P2/delete", data={}, status=200)
    assert "P2" in _refs()
    post_form(facilitator, f"{S}/items/P2/delete", data={"confirm": "yes"})
    assert _refs() == ["P1", "P3", "I1"]
    assert [e.detail["ref"] for e in _events("item.deleted")] == ["P2"]
    assert _events("item.deleted")[0].user_id == panel.facilitator.id


def _message(panel: Panel, item: Item | None, author: Panellist) -> DiscussionMessage:
    thread = ensure_thread(panel.study.id, item.id if item else None)
    message = DiscussionMessage(
        thread=thread, author_user_id=author.user_id, author_panellist_id=author.id, body="Hm."
    )
    db.session.add(message)
    db.session.flush()
    db.session.add(
        DiscussionEvent(study_id=panel.study.id, thread=thread, message=message, kind="posted")
    )
    db.session.commit()
    return message


def test_deleting_an_item_deletes_its_discussion_thread_too(facilitator, panel):
    p2 = next(i for i in panel.study.items if i.ref == "P2")
    _message(panel, p2, panel.partners[0])
    post_form(facilitator, f"{S}/items/P2/delete", data={"confirm": "yes"})
    db.session.expire_all()
    assert not db.session.scalar(select(func.count(DiscussionMessage.id)))
    assert not db.session.scalar(
        select(func.count(DiscussionThread.id)).where(DiscussionThread.item_id.is_not(None))
    )


def test_an_item_put_to_the_panel_cannot_be_deleted_and_the_page_says_why(facilitator, panel):
    _open_round_1(panel)
    items_page = get_page(facilitator, f"{S}/items")
    assert not page(items_page).select(f'a[href="{S}/items/P1/delete"]')
    response = post_form(facilitator, f"{S}/items/P1/delete", data={"confirm": "yes"}, status=409)
    assert "P1 was put to the panel in round 1" in error_summary(response)[0]
    assert "exclude it when you record the round's decisions" in text_of(response)
    assert "P1" in _refs()


def test_an_item_added_after_round_1_opened_can_still_be_deleted(facilitator, panel):
    _open_round_1(panel)
    item = create_item(
        panel.study, ItemFields(ItemKind.PROMPT, "Offers research", "Late idea?"), panel.facilitator
    )
    items_page = get_page(facilitator, f"{S}/items")
    assert page(items_page).select(f'a[href="{S}/items/{item.ref}/delete"]')
    post_form(facilitator, f"{S}/items/{item.ref}/delete", data={"confirm": "yes"})
    assert item.ref not in _refs()


def test_moving_an_item_up_and_down_within_its_theme(facilitator, panel):
    post_form(facilitator, f"{S}/items/P2/move", data={"direction": "up"})
    assert _refs() == ["P2", "P1", "P3", "I1"]
    post_form(facilitator, f"{S}/items/P2/move", data={"direction": "down"})
    post_form(facilitator, f"{S}/items/P2/move", data={"direction": "down"})
    assert _refs() == ["P1", "P3", "P2", "I1"]
    shown = text_of(get_page(facilitator, f"{S}/items"))
    assert shown.index("Prompt number 3?") < shown.index("Prompt number 2?")
    assert len(_events("item.moved")) == 3


def test_moving_the_first_item_up_changes_nothing(facilitator, panel):
    post_form(facilitator, f"{S}/items/P1/move", data={"direction": "up"})
    assert _refs() == ["P1", "P2", "P3", "I1"]
    post_form(facilitator, f"{S}/items/P1/move", data={"direction": "sideways"}, status=400)


def test_moving_a_theme_up_puts_its_items_first(facilitator, panel):
    conduct = next(t for t in panel.study.themes if t.name == "Conduct")
    post_form(facilitator, f"{S}/themes/{conduct.id}/move", data={"direction": "up"})
    headings = [h.get_text(strip=True) for h in page(get_page(facilitator, f"{S}/items"))("h2")]
    assert headings.index("Conduct") < headings.index("Offers research")
    assert _refs() == ["I1", "P1", "P2", "P3"]
    assert _events("theme.moved")[0].detail["theme"] == "Conduct"


def test_reordering_stays_possible_after_round_1_for_later_rounds(facilitator, panel):
    _open_round_1(panel)
    post_form(facilitator, f"{S}/items/P3/move", data={"direction": "up"})
    assert _refs() == ["P1", "P3", "P2", "I1"]


# Groups


def test_renaming_a_group_renames_its_partners_pseudonyms(facilitator, panel):
    cqc = panel.study.groups[0]
    get_page(facilitator, f"{S}/groups/{cqc.id}")
    post_form(facilitator, f"{S}/groups/{cqc.id}", data={"name": "Care Quality Commission"})
    assert db.session.get(StakeholderGroup, cqc.id).name == "Care Quality Commission"
    pseudonyms = db.session.scalars(
        select(Panellist.pseudonym).where(Panellist.group_id == cqc.id).order_by(Panellist.id)
    ).all()
    assert pseudonyms[:3] == [f"Care Quality Commission partner {n}" for n in (1, 2, 3)]
    assert _events("group.renamed")[0].detail == {"old": "CQC", "name": "Care Quality Commission"}


def test_renaming_a_group_to_another_groups_name_is_refused(facilitator, panel):
    cqc = panel.study.groups[0]
    response = post_form(
        facilitator, f"{S}/groups/{cqc.id}", data={"name": "patient representatives"}, status=422
    )
    assert "There is already a group called patient representatives" in error_summary(response)


def test_a_group_can_be_renamed_after_round_1(facilitator, panel):
    _open_round_1(panel)
    cqc = panel.study.groups[0]
    post_form(facilitator, f"{S}/groups/{cqc.id}", data={"name": "CQC inspectors"})
    assert db.session.get(StakeholderGroup, cqc.id).name == "CQC inspectors"


@pytest.mark.parametrize("after_round_1", [False, True])
def test_only_an_empty_group_can_be_deleted(facilitator, panel, after_round_1):
    if after_round_1:
        _open_round_1(panel)
    cqc = panel.study.groups[0]
    response = post_form(
        facilitator, f"{S}/groups/{cqc.id}/delete", data={"confirm": "yes"}, status=409
    )
    assert "CQC has 4 panellists, so it cannot be deleted" in error_summary(response)[0]
    spare = create_group(panel.study, "NIHR", panel.facilitator)
    assert "Delete the group NIHR?" in text_of(
        get_page(facilitator, f"{S}/groups/{spare.id}/delete")
    )
    post_form(facilitator, f"{S}/groups/{spare.id}/delete", data={"confirm": "yes"})
    assert [g.name for g in db.session.get(Study, panel.study.id).groups] == [
        "CQC",
        "Patient representatives",
    ]
    assert _events("group.deleted")[0].detail == {"name": "NIHR"}


# Panellists


def test_moving_a_panellist_to_another_group_and_role_before_round_1(facilitator, panel):
    person = panel.partners[0]
    patients = panel.study.groups[1]
    get_page(facilitator, f"{S}/panel/{person.id}/change")
    post_form(
        facilitator,
        f"{S}/panel/{person.id}/change",
        data={"group": str(patients.id), "role": "patient_rep"},
    )
    moved = db.session.get(Panellist, person.id)
    assert (moved.group_id, moved.role) == (patients.id, "patient_rep")
    assert moved.pseudonym == "Patient representative 3"
    assert _events("panel.changed")[0].detail["role"] == "Partner \u2192 Patient representative"


def test_removing_a_panellist_before_round_1_asks_first_and_ends_their_link(facilitator, panel):
    person = panel.partners[1]
    user_id = person.user_id
    assert "Remove Partner Person2" in text_of(
        get_page(facilitator, f"{S}/panel/{person.id}/remove")
    )
    post_form(facilitator, f"{S}/panel/{person.id}/remove", data={"confirm": "yes"})
    db.session.expire_all()
    assert db.session.get(Panellist, person.id) is None
    assert db.session.get(User, user_id) is not None
    assert not db.session.scalar(
        select(func.count(Invitation.id)).where(Invitation.panellist_id == person.id)
    )
    assert _events("panel.removed")[0].detail == {"pseudonym": "CQC partner 2", "group": "CQC"}
    table = page(get_page(facilitator, f"{S}/panel")).select_one(".app-panel-table")
    assert "Partner Person2" not in table.get_text()


def test_a_panellist_who_wrote_in_the_discussion_is_not_removed(facilitator, panel):
    person = panel.partners[0]
    _message(panel, None, person)
    response = post_form(
        facilitator, f"{S}/panel/{person.id}/remove", data={"confirm": "yes"}, status=409
    )
    assert "has written in the discussion" in error_summary(response)[0]
    assert db.session.get(Panellist, person.id) is not None


@pytest.mark.parametrize("action", ["change", "remove"])
def test_after_round_1_a_panellist_cannot_be_moved_or_removed_and_the_page_says_why(
    facilitator, panel, action
):
    _open_round_1(panel)
    person = panel.partners[0]
    patients = panel.study.groups[1]
    assert "Change or remove" not in text_of(get_page(facilitator, f"{S}/panel"))
    data = (
        {"confirm": "yes"} if action == "remove" else {"group": str(patients.id), "role": "partner"}
    )
    response = post_form(facilitator, f"{S}/panel/{person.id}/{action}", data=data, status=409)
    assert (
        "Round 1 has opened, so Partner Person1 test-study cannot be" in error_summary(response)[0]
    )
    db.session.expire_all()
    assert db.session.get(Panellist, person.id).group_id == panel.study.groups[0].id


# A completed study


@pytest.mark.parametrize(
    "path,data",
    [
        ("/items/P1/delete", {"confirm": "yes"}),
        ("/items/P2/move", {"direction": "up"}),
        ("/themes/<theme>/move", {"direction": "up"}),
        ("/groups/<group>", {"name": "Renamed"}),
        ("/groups/<spare>/delete", {"confirm": "yes"}),
        ("/panel/<person>/change", {"group": "<group>", "role": "patient_rep"}),
        ("/panel/<person>/remove", {"confirm": "yes"}),
    ],
)
def test_a_completed_study_refuses_every_setup_change_with_the_reason(
    facilitator, panel, path, data
):
    spare = create_group(panel.study, "NIHR", panel.facilitator)
    ids = {
        "<theme>": str(panel.study.themes[1].id),
        "<group>": str(panel.study.groups[0].id),
        "<spare>": str(spare.id),
        "<person>": str(panel.partners[0].id),
    }
    for key, value in ids.items():
        path = path.replace(key, value)
        data = {k: v.replace(key, value) for k, v in data.items()}
    panel.study.status = StudyStatus.COMPLETED.value
    db.session.commit()
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    response = facilitator.post(S + path, data=data)
    assert response.status_code in (409, 422), response.status_code
    assert "This study is completed" in text_of(response)
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before
