"""A study the size of issue 19's large case, built fast (bulk inserts) for page-size tests:
`items` items in three themes, seven stakeholder groups, round 1 closed with its snapshot and
every item carried forward, round 2 open, and `messages` discussion messages spread over the
items' threads (the busiest thread gets a fifth of them)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select, update

from app.extensions import db
from app.models import (
    DiscussionMessage,
    DiscussionThread,
    Item,
    ItemDecision,
    Panellist,
    Rating,
    Round,
    Study,
    StudyFacilitator,
    User,
    utcnow,
)
from app.services.panel import add_panellist
from app.services.rounds import close_round, open_round
from app.services.studies import ItemFields, add_group, add_item
from delphi import ItemKind, PanelRole
from tests.conftest import make_user

THEMES = ("Offers research opportunities", "Facilitates research", "Enables equity")


@dataclass
class BigStudy:
    study: Study
    facilitator: User
    panellist: Panellist
    busiest: Item
    round2: Round


def build_big_study(
    *, items: int = 200, messages: int = 3000, per_group: int = 3, slug: str = "big"
) -> BigStudy:
    rng = random.Random(19)
    facilitator = make_user(f"fac-{slug}@example.test", "Facilitator Big", facilitator=True)
    study = Study(slug=slug, title="A large study", purpose="To agree prompts.")
    db.session.add(study)
    db.session.flush()
    db.session.add(StudyFacilitator(study_id=study.id, user_id=facilitator.id))
    groups = [add_group(study, f"Stakeholder group {g + 1}") for g in range(7)]
    db.session.flush()
    for n in range(items):
        kind = ItemKind.INDICATOR if n % 10 == 0 else ItemKind.PROMPT
        add_item(
            study,
            ItemFields(
                kind,
                THEMES[n % 3],
                f"How does the board assure itself of research activity number {n + 1}?",
                definition="Share of eligible patients offered a study"
                if kind.value == "indicator"
                else "",
            ),
        )
    panellists: list[Panellist] = []
    now = utcnow()
    for g, group in enumerate(groups):
        for k in range(per_group):
            p = add_panellist(
                study,
                name=f"Person {g}-{k}",
                email=f"p{g}-{k}-{slug}@example.test",
                group=group,
                role=PanelRole.PATIENT_REP if g == 6 else PanelRole.PARTNER,
            )
            p.joined_at = now - timedelta(days=30)
            panellists.append(p)
    db.session.commit()
    round1 = open_round(study, actor=facilitator)
    db.session.execute(
        insert(Rating),
        [
            {
                "round_id": round1.id,
                "panellist_id": p.id,
                "item_version_id": ri.item_version_id,
                "score": max(1, min(9, round(rng.gauss(6.5, 1.6)))),
                "unable": False,
                "reason": "",
                "created_at": now,
                "updated_at": now,
            }
            for ri in round1.round_items
            for p in panellists
        ],
    )
    db.session.commit()
    close_round(round1.id, actor=facilitator)
    db.session.execute(
        update(ItemDecision)
        .where(ItemDecision.round_id == round1.id)
        .values(decision="carry_forward", decided_at=now, decided_by_id=facilitator.id)
    )
    db.session.execute(update(Item).where(Item.study_id == study.id).values(decision=None))
    db.session.commit()
    db.session.expire_all()
    round2 = open_round(db.session.get(Study, study.id), actor=facilitator)
    all_items = db.session.scalars(
        select(Item).where(Item.study_id == study.id).order_by(Item.position)
    ).all()
    db.session.execute(
        insert(DiscussionThread),
        [
            {"study_id": study.id, "key": f"item:{i.id}", "item_id": i.id, "summary": ""}
            for i in all_items
        ],
    )
    threads = dict(
        db.session.execute(
            select(DiscussionThread.item_id, DiscussionThread.id).where(
                DiscussionThread.study_id == study.id, DiscussionThread.item_id.is_not(None)
            )
        ).all()
    )
    busiest = all_items[0]
    rows = []
    for n in range(messages):
        item = busiest if n % 5 == 0 else all_items[n % len(all_items)]
        author = panellists[n % len(panellists)]
        rows.append(
            {
                "thread_id": threads[item.id],
                "kind": "message",
                "author_user_id": author.user_id,
                "author_panellist_id": author.id,
                "as_facilitator": False,
                "round_id": round1.id,
                "category": "",
                "body": f"Message {n + 1}: I rated this one *higher* because the evidence from "
                "trusts that offer research to every specialty shows it matters to patients.",
                "created_at": now - timedelta(minutes=messages - n),
                "hidden_reason": "",
            }
        )
    db.session.execute(insert(DiscussionMessage), rows)
    db.session.commit()
    return BigStudy(
        study=db.session.get(Study, study.id),
        facilitator=facilitator,
        panellist=panellists[0],
        busiest=busiest,
        round2=round2,
    )
