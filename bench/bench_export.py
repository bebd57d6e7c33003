"""Exporting a large study: 500 panellists × 200 items × 3 closed rounds, every format.

The study is built in a temporary SQLite file (ratings bulk-inserted, each round's snapshot
computed by the app's own `compute_results`), then `export_study` runs once per format (HTML,
Markdown, DOCX, PDF, JSON, data zip), each building the specification from the database as the
web view and `flask export` do. Baseline: reading the 300,000 ratings into a DataFrame.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path
from typing import Any

PANELLISTS, ITEMS, ROUNDS = 500, 200, 3
BUDGET_S = 10.0


def _build(db: Any) -> Any:
    """The study, by the builder the page benchmark and the query-count test share."""
    from app.models import Study
    from bench.study_builder import Size, build_study

    built = build_study(db, Size(PANELLISTS, ITEMS, ROUNDS))
    return db.session.get(Study, built.study_id)


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
