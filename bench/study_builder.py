"""A study of any size, bulk-inserted: the benchmarks' and the query-count test's builder.

Panellists in stakeholder groups (7 unless said); items in 3 themes, every tenth an
indicator and every tenth reworded for round 2; closed rounds with the results `close_round`
stores (`round_payload`) and decisions; optionally the last round left open with two thirds
of the panel part-way through it; discussion messages, a seventh of them in the first item's
thread and the rest spread over the other items and the study channel.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class Size:
    panellists: int
    items: int
    rounds: int
    messages: int = 0
    groups: int = 7

    @property
    def label(self) -> str:
        return f"{self.panellists}x{self.items}x{self.rounds}"


@dataclass
class Built:
    study_id: int
    slug: str
    facilitator_id: int
    panellist_user_id: int  # the first panellist's account: the one whose pages are read
    busiest_ref: str  # the item whose thread holds the most messages


def page_urls(size: Size, slug: str, busiest_ref: str) -> dict[str, tuple[str, str]]:
    """The pages measured by `bench_pages` and counted by tests/web/test_query_counts.py, for
    a study built with `open_last`: name -> (who reads it, URL)."""
    last_closed = size.rounds - 1
    return {
        "dashboard": ("facilitator", f"/studies/{slug}"),
        "results_across_rounds": ("facilitator", f"/studies/{slug}/results"),
        "ballot": ("panellist", f"/studies/{slug}/rounds/{size.rounds}/ballot"),
        "feedback": ("panellist", f"/studies/{slug}/rounds/{last_closed}/feedback"),
        "round_results": ("facilitator", f"/studies/{slug}/rounds/{last_closed}/results"),
        "export_spec": ("facilitator", f"/studies/{slug}/export"),
        "thread": ("facilitator", f"/studies/{slug}/discussion/{busiest_ref}"),
        "panellist_study": ("panellist", f"/studies/{slug}"),
        "api_round_results": (
            "facilitator",
            f"/api/v1/studies/{slug}/rounds/{last_closed}/results",
        ),
    }


def build_study(
    db: Any, size: Size, *, slug: str = "bench", open_last: bool = False, seed: int = 7
) -> Built:
    """Bulk-insert the study in `db` (Flask-SQLAlchemy, inside an app context) and commit."""
    from sqlalchemy import insert

    from app.models import (
        Item,
        ItemDecision,
        ItemVersion,
        Panellist,
        Rating,
        Round,
        RoundItem,
        RoundSnapshot,
        StakeholderGroup,
        Study,
        StudyFacilitator,
        Theme,
        User,
        utcnow,
    )
    from app.services.results import summarise
    from app.services.rounds import round_payload

    rng = random.Random(seed)
    now = utcnow()
    study = Study(
        slug=slug,
        title="Benchmark study",
        purpose="Benchmark",
        max_rounds=max(3, size.rounds),
        status="active",
    )
    facilitator = User(email=f"facilitator@{slug}.test", name="Bench Facilitator")
    db.session.add_all([study, facilitator])
    db.session.flush()
    db.session.add(StudyFacilitator(study_id=study.id, user_id=facilitator.id))
    groups = [
        StakeholderGroup(study_id=study.id, name=f"Group {g + 1}", position=g)
        for g in range(size.groups)
    ]
    themes = [Theme(study_id=study.id, name=f"Theme {t + 1}", position=t) for t in range(3)]
    db.session.add_all(groups + themes)
    db.session.flush()
    db.session.execute(
        insert(User),
        [
            {
                "email": f"p{n}@{slug}.test",
                "name": f"Person {n}",
                "session_version": 1,
                "can_create_studies": False,
                "created_at": now,
            }
            for n in range(size.panellists)
        ],
    )
    users = db.session.scalars(
        db.select(User.id).where(User.email.like(f"p%@{slug}.test")).order_by(User.id)
    ).all()
    db.session.execute(
        insert(Panellist),
        [
            {
                "study_id": study.id,
                "user_id": uid,
                "group_id": groups[n % size.groups].id,
                "role": "partner",
                "pseudonym": f"Group {n % size.groups + 1} partner {n // size.groups + 1}",
                "invited_at": now - timedelta(days=60),
                "joined_at": now - timedelta(days=59),
            }
            for n, uid in enumerate(users)
        ],
    )
    panellists = db.session.scalars(
        db.select(Panellist.id).where(Panellist.study_id == study.id).order_by(Panellist.id)
    ).all()
    items = []
    for n in range(size.items):
        kind = "indicator" if n % 10 == 0 else "prompt"
        item = Item(
            study_id=study.id,
            theme_id=themes[n % 3].id,
            kind=kind,
            ref=f"{'I' if kind == 'indicator' else 'P'}{n + 1}",
            position=n + 1,
        )
        item.versions.append(
            ItemVersion(
                number=1,
                text=f"Candidate {kind} number {n + 1}: how does the board assure itself?",
                definition="A definition" if kind == "indicator" else "",
                threshold="Good: 10 or more" if kind == "indicator" else "",
            )
        )
        items.append(item)
    db.session.add_all(items)
    db.session.flush()
    centre = [rng.uniform(3, 8.5) for _ in range(size.items)]
    rounds = []
    for number in range(1, size.rounds + 1):
        is_open = open_last and number == size.rounds
        round_ = Round(
            study_id=study.id,
            number=number,
            status="open" if is_open else "closed",
            opened_at=now - timedelta(days=40 - 10 * number),
            closed_at=None if is_open else now - timedelta(days=35 - 10 * number),
        )
        db.session.add(round_)
        db.session.flush()
        rounds.append(round_)
        if number == 2:  # a tenth of the items are reworded for round 2
            for item in items[::10]:
                item.versions.append(
                    ItemVersion(
                        number=2,
                        text=item.current.text + " (revised)",
                        change_note="Clearer wording",
                    )
                )
            db.session.flush()
        db.session.add_all(
            RoundItem(round_id=round_.id, item_version_id=item.current.id, position=k)
            for k, item in enumerate(items)
        )
        db.session.flush()
        rows = []
        # In the open round most of the panel is part-way through, the first panellist too.
        raters = panellists[: max(1, len(panellists) * 2 // 3)] if is_open else panellists
        for k, item in enumerate(items):
            if is_open and k % 2:
                continue
            vid = item.current.id
            mean = centre[k] + 0.3 * (number - 1) * (1 if centre[k] > 6 else -1)
            for pid in raters:
                unable = rng.random() < 0.03
                # About a quarter give a reason (the reasons pages read them), a few hostile.
                draw = rng.random()
                reason = "=SUM(A1)" if draw < 0.01 else f"Reason on item {k}" if draw < 0.25 else ""
                rows.append(
                    {
                        "round_id": round_.id,
                        "panellist_id": pid,
                        "item_version_id": vid,
                        "score": None if unable else max(1, min(9, round(rng.gauss(mean, 1.4)))),
                        "unable": unable,
                        "reason": reason,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        if rows:
            db.session.execute(insert(Rating), rows)
        if is_open:
            continue
        payload = round_payload(round_)
        db.session.add(
            RoundSnapshot(round_id=round_.id, payload=payload, summary=summarise(payload))
        )
        final = number == size.rounds
        for entry in payload["items"].values():
            decision = entry["suggested"] if final else "carry_forward"
            db.session.add(
                ItemDecision(
                    round_id=round_.id,
                    item_id=entry["item_id"],
                    suggested=entry["suggested"],
                    decision=decision,
                    reason="" if final else "Rated in every round",
                    decided_at=now,
                )
            )
            if final:
                item = next(i for i in items if i.id == entry["item_id"])
                item.decision = decision if decision != "carry_forward" else None
        db.session.flush()
    authors = list(zip(panellists, users, strict=True))
    _discussion(db, study, items, rounds, authors, size.messages, rng)
    db.session.commit()
    return Built(
        study_id=study.id,
        slug=slug,
        facilitator_id=facilitator.id,
        panellist_user_id=users[0],
        busiest_ref=items[0].ref,
    )


def _discussion(
    db: Any,
    study: Any,
    items: list[Any],
    rounds: list[Any],
    authors: list[tuple[int, int]],  # (panellist id, user id)
    count: int,
    rng: random.Random,
) -> None:
    from sqlalchemy import insert

    from app.models import DiscussionMessage, DiscussionThread, utcnow

    if not count:
        return
    now = utcnow()
    threads = [DiscussionThread(study_id=study.id, key="channel")]
    threads += [
        DiscussionThread(study_id=study.id, key=f"item:{item.id}", item_id=item.id)
        for item in items
    ]
    db.session.add_all(threads)
    db.session.flush()
    busiest = count // 7
    rows = []
    for n in range(count):
        thread = threads[1] if n < busiest else threads[rng.randrange(len(threads))]
        panellist_id, user_id = authors[rng.randrange(len(authors))]
        rows.append(
            {
                "thread_id": thread.id,
                "kind": "message",
                "author_user_id": user_id,
                "author_panellist_id": panellist_id,
                "as_facilitator": False,
                "round_id": rounds[rng.randrange(len(rounds))].id if rounds else None,
                "category": "",
                "body": f"Message {n + 1}: I think the wording could say **who** does this.",
                "created_at": now - timedelta(minutes=count - n),
                "hidden_reason": "",
            }
        )
    db.session.execute(insert(DiscussionMessage), rows)
