"""Exporting a large study: 500 panellists × 200 items × 3 closed rounds, every format.

The study is built in a temporary SQLite file (ratings bulk-inserted, each round's snapshot
computed by the app's own `compute_results`), then `export_study` runs once per format (HTML,
Markdown, DOCX, PDF, JSON, data zip), each building the specification from the database as the
web view and `flask export` do. Baseline: reading the 300,000 ratings into a DataFrame.
"""

from __future__ import annotations

import random
import resource
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

PANELLISTS, ITEMS, ROUNDS, GROUPS = 500, 200, 3, 7
BUDGET_S = 10.0


def _build(db: Any) -> Any:
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
        Theme,
        User,
        utcnow,
    )
    from app.services.results import compute_results

    rng = random.Random(7)
    now = utcnow()
    study = Study(slug="bench", title="Benchmark study", purpose="Export benchmark", max_rounds=3)
    db.session.add(study)
    db.session.flush()
    groups = [
        StakeholderGroup(study_id=study.id, name=f"Group {g + 1}", position=g)
        for g in range(GROUPS)
    ]
    themes = [Theme(study_id=study.id, name=f"Theme {t + 1}", position=t) for t in range(3)]
    db.session.add_all(groups + themes)
    db.session.flush()
    db.session.execute(
        insert(User),
        [
            {
                "email": f"p{n}@bench.test",
                "name": f"Person {n}",
                "session_version": 1,
                "can_create_studies": False,
                "created_at": now,
            }
            for n in range(PANELLISTS)
        ],
    )
    users = db.session.scalars(db.select(User.id).order_by(User.id)).all()
    db.session.execute(
        insert(Panellist),
        [
            {
                "study_id": study.id,
                "user_id": uid,
                "group_id": groups[n % GROUPS].id,
                "role": "partner",
                "pseudonym": f"Group {n % GROUPS + 1} partner {n // GROUPS + 1}",
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
    for n in range(ITEMS):
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
    centre = [rng.uniform(3, 8.5) for _ in range(ITEMS)]
    for number in range(1, ROUNDS + 1):
        round_ = Round(
            study_id=study.id,
            number=number,
            status="closed",
            opened_at=now - timedelta(days=40 - 10 * number),
            closed_at=now - timedelta(days=35 - 10 * number),
        )
        db.session.add(round_)
        db.session.flush()
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
        for k, item in enumerate(items):
            vid = item.current.id
            mean = centre[k] + 0.3 * (number - 1) * (1 if centre[k] > 6 else -1)
            for pid in panellists:
                if rng.random() < 0.03:
                    rows.append(
                        {
                            "round_id": round_.id,
                            "panellist_id": pid,
                            "item_version_id": vid,
                            "score": None,
                            "unable": True,
                            "reason": "",
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                else:
                    score = max(1, min(9, round(rng.gauss(mean, 1.4))))
                    rows.append(
                        {
                            "round_id": round_.id,
                            "panellist_id": pid,
                            "item_version_id": vid,
                            "score": score,
                            "unable": False,
                            "reason": "=SUM(A1)" if rng.random() < 0.01 else "",
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
        db.session.execute(insert(Rating), rows)
        payload = compute_results(round_)
        db.session.add(RoundSnapshot(round_id=round_.id, payload=payload))
        for entry in payload["items"].values():
            final = number == ROUNDS
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
        db.session.commit()
    return study


def _cpu() -> float:
    """CPU seconds of this process and its finished children (Chromium printing the PDF)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run() -> dict[str, dict[str, Any]]:
    from app import create_app
    from app.export.formats import FORMATS
    from app.export.service import GUIDE_FORMATS, export_documents
    from app.extensions import db
    from app.services.export_data import ratings_table

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "BOOTSTRAP_RESAMPLES": 200,
                "TESTING": True,
                "SERVER_NAME": "localhost",
            }
        )
        with app.app_context(), app.test_request_context():
            db.create_all()
            study = _build(db)
            db.session.expire_all()
            start = time.perf_counter()
            frame = ratings_table(study)
            baseline = time.perf_counter() - start
            assert len(frame) == PANELLISTS * ITEMS * ROUNDS
            # Every format from one reading of the database, as `flask export --format all`
            # does; Chromium prints the PDF in its own process meanwhile.
            db.session.expire_all()
            cpu_before = _cpu()
            start = time.perf_counter()
            # Both documents (issue 15): the specification and the inspectors' brief guide.
            files = export_documents(
                study,
                {"specification": list(FORMATS), "guide": list(GUIDE_FORMATS)},
                actor=None,
            )
            total = time.perf_counter() - start
            cpu = _cpu() - cpu_before
            sizes = {f.filename.removeprefix(f"{study.slug}-"): len(f.body) for f in files}
            db.session.remove()
            db.engine.dispose()
    detail = ", ".join(f"{ext} {size / 1e6:.1f} MB" for ext, size in sizes.items())
    return {
        "export.all_formats_500x200x3": {
            "value": total,
            "unit": "s",
            "baseline": baseline,
            "ratio": total / baseline if baseline else None,
            "note": f"budget {BUDGET_S:g} s ({'met' if total < BUDGET_S else 'MISSED'}); "
            f"CPU {cpu:.1f} s incl. Chromium (wall time grows on a busy machine); {detail}; "
            "baseline: 300,000 ratings read into a long-form DataFrame with pseudonyms",
        }
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
