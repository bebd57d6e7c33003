"""Pages as a study grows: 25x24x2, 100x60x3 and 500x200x3 (50 / 500 / 3,000 messages).

Each size is built once (`bench/study_builder.py`, the last round open) in its own
PostgreSQL database and served by gunicorn (`wsgi:app`, 2 workers x 4 threads, as the load
benchmark does). Every page is requested sequentially by a signed-in facilitator or
panellist: 2 warm-up requests, then SAMPLES timed ones (p50, p95, size). The SQL statements
of one request are counted in this process, on the same database, with SQLAlchemy's
"before_cursor_execute" event. Baseline for every page: the same page at the small size;
the bare Flask endpoint under the same server is reported as `pages.bare_flask`. Each note
also gives the CPU time of one request in this process (Flask's test client, p50), which the
load of a shared machine moves much less than the server's wall-clock times, and the load
average during the run.

`python -m bench pages` runs this alone. BENCH_PAGES_KEEP=1 keeps the databases
(bench_pages_<size>) and reuses them on the next run; otherwise they are dropped.
Skipped (reported as such) when PostgreSQL is not reachable.
"""

from __future__ import annotations

import http.client
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from bench.study_builder import Size, page_urls

SIZES = {
    "small": Size(25, 24, 2, 50),
    "medium": Size(100, 60, 3, 500),
    "large": Size(500, 200, 3, 3000),
}
SAMPLES = int(os.environ.get("BENCH_PAGES_SAMPLES", "15"))
CPU_SAMPLES = 7
GOAL_MS = 250.0
GOAL_SQL_GROWTH = 2
GOAL_BALLOT_KB = 1024.0
SECRET = "bench-pages-secret"
SLUG = "bench"


@dataclass
class Measured:
    times_ms: list[float] = field(default_factory=list)
    size_kb: float = 0.0
    sql: int = 0
    status: int = 0
    cpu_ms: float = 0.0  # in this process (Flask's test client): CPU p50, less load-bound

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass
class Site:
    """One size's database, served: who reads which page with which cookie."""

    url: str
    pages: dict[str, tuple[str, str]]
    cookies: dict[str, str]


def _prepare(label: str, size: Size, keep: bool) -> Site:
    """Build (or, kept from an earlier run, reuse) the study; sessions for its two readers."""
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from app import create_app
    from app.extensions import db
    from app.models import Item, Panellist, Study, StudyFacilitator, User
    from app.services import sessions
    from bench.loadgen import _credentials, create_database, database_url
    from bench.study_builder import build_study

    name = f"bench_pages_{label}"
    url = database_url(None, name)
    app = None
    if keep:
        try:
            app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
            with app.app_context():
                if db.session.scalar(select(Study.id).where(Study.slug == SLUG)) is None:
                    app = None
                else:
                    upgrade()  # a kept database gets the migrations added since
                db.engine.dispose()
        except Exception:  # noqa: BLE001 - no such database yet: build it
            app = None
    if app is None:
        url = create_database(name)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            build_study(db, size, slug=SLUG, open_last=True)
            # Planner statistics as autovacuum keeps them on a database in use: freshly
            # bulk-loaded tables have none, and PostgreSQL then guesses joins badly.
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            print(f"bench_pages: built {size.label} in {time.perf_counter() - started:.0f}s")
            db.engine.dispose()
    with app.app_context():
        study = db.session.scalar(select(Study).where(Study.slug == SLUG))
        facilitator = db.session.scalar(
            select(User)
            .join(StudyFacilitator, StudyFacilitator.user_id == User.id)
            .where(StudyFacilitator.study_id == study.id)
        )
        panellist = db.session.scalar(
            select(User)
            .join(Panellist, Panellist.user_id == User.id)
            .where(Panellist.study_id == study.id)
            .order_by(Panellist.id)
            .limit(1)
        )
        busiest = db.session.scalar(
            select(Item.ref).where(Item.study_id == study.id).order_by(Item.position).limit(1)
        )
        lifetime = app.permanent_session_lifetime
        keys = {
            "facilitator": sessions.start(facilitator, lifetime),
            "panellist": sessions.start(panellist, lifetime),
        }
        db.session.commit()
        cookies = {role: _credentials(app, key)[0] for role, key in keys.items()}
        db.engine.dispose()
    return Site(url=url, pages=page_urls(size, SLUG, busiest), cookies=cookies)


def _count_statements(site: Site) -> dict[str, tuple[int, float]]:
    """Statements one request to each page runs (the second request: the first may keep
    figures of a round closed before they were stored), and the CPU time of a request in
    this process (p50 of CPU_SAMPLES, `time.process_time`): on a machine shared with other
    work the wall-clock figures of the server vary with the load; this much less."""
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": site.url, "SECRET_KEY": SECRET, "SESSION_COOKIE_SECURE": False}
    )
    clients = {}
    for role, cookie in site.cookies.items():
        clients[role] = app.test_client()
        clients[role].set_cookie(*cookie.split("=", 1))
    with app.app_context():
        engine = db.engine
    out = {}
    for name, (role, path) in site.pages.items():
        client = clients[role]
        assert client.get(path).status_code == 200, (name, path)
        statements: list[str] = []

        def count(*args: Any, statements: list[str] = statements) -> None:
            statements.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        try:
            client.get(path)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        cpu = []
        for _ in range(CPU_SAMPLES):
            started = time.process_time()
            client.get(path)
            cpu.append((time.process_time() - started) * 1000)
        out[name] = (len(statements), statistics.median(cpu))
    with app.app_context():
        db.engine.dispose()
    return out


def _time(port: int, path: str, cookie: str | None, samples: int) -> Measured:
    measured = Measured()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Cookie": cookie} if cookie else {}
    try:
        for n in range(samples + 2):
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            measured.status = response.status
            if response.status != 200 and not (cookie is None and response.status == 204):
                raise RuntimeError(f"{path} answered {response.status}")
            if n >= 2:  # the first two warm the worker and the page's caches
                measured.times_ms.append(elapsed)
                measured.size_kb = len(body) / 1024
    finally:
        connection.close()
    return measured


def _measure(site: Site) -> dict[str, Measured]:
    from bench.loadgen import free_port, start_gunicorn, stop

    port = free_port()
    env = {"DATABASE_URL": site.url, "SECRET_KEY": SECRET, "APP_ENV": "development"}
    process = start_gunicorn("wsgi:app", port, env, 2, 4)
    try:
        return {
            name: _time(port, path, site.cookies[role], SAMPLES)
            for name, (role, path) in site.pages.items()
        }
    finally:
        stop(process)


def _bare() -> Measured:
    from bench.loadgen import free_port, start_gunicorn, stop

    port = free_port()
    process = start_gunicorn("bench._discussion_bare:app", port, {}, 2, 4)
    try:
        return _time(port, "/poll", None, 50)
    finally:
        stop(process)


def _entry(value: Any, unit: str, baseline: Any, note: str) -> dict[str, Any]:
    ratio = value / baseline if isinstance(value, float | int) and baseline else None
    return {"value": value, "unit": unit, "baseline": baseline, "ratio": ratio, "note": note}


def run() -> dict[str, dict[str, Any]]:
    try:
        import psycopg

        from bench.loadgen import database_url

        psycopg.connect(database_url(None, "postgres").replace("+psycopg", ""), connect_timeout=3)
    except Exception as error:  # PostgreSQL not running: say so rather than fail the suite
        note = f"skipped, PostgreSQL unreachable: {type(error).__name__}: {error}"[:300]
        return {"pages.sql_growth": _entry(None, "statements", GOAL_SQL_GROWTH, note)}
    from bench.loadgen import drop_database

    keep = os.environ.get("BENCH_PAGES_KEEP", "") == "1"
    load_before = os.getloadavg()[0]
    results: dict[str, dict[str, Measured]] = {}
    try:
        for label, size in SIZES.items():
            site = _prepare(label, size, keep)
            counts = _count_statements(site)
            results[label] = _measure(site)
            for name, (sql, cpu_ms) in counts.items():
                results[label][name].sql = sql
                results[label][name].cpu_ms = cpu_ms
            line = ", ".join(
                f"{n} {m.p50:.0f} ms/{m.cpu_ms:.0f} ms CPU/{m.size_kb:.0f} KB/{m.sql} SQL"
                for n, m in results[label].items()
            )
            print(f"bench_pages {size.label}: {line}")
        bare = _bare()
    finally:
        if not keep:
            for label in SIZES:
                drop_database(f"bench_pages_{label}")
    load = f"load average {load_before:.1f}-{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    date = time.strftime("%Y-%m-%d")
    entries: dict[str, dict[str, Any]] = {}
    small, large = results["small"], results["large"]
    for name in large:
        at = "; ".join(
            f"{SIZES[label].label}: p50 {results[label][name].p50:.0f} ms, "
            f"p95 {results[label][name].p95:.0f} ms, {results[label][name].size_kb:.0f} KB, "
            f"{results[label][name].sql} SQL, in-process CPU p50 "
            f"{results[label][name].cpu_ms:.0f} ms"
            for label in SIZES
        )
        met = "met" if large[name].p50 <= GOAL_MS else "MISSED"
        entries[f"pages.{name}"] = _entry(
            round(large[name].p50, 1),
            "ms",
            round(small[name].p50, 1),
            f"{date}; goal p50 <= {GOAL_MS:g} ms at 500x200x3: {met}; {at}; "
            f"gunicorn 2x4 on PostgreSQL, {SAMPLES} sequential requests; {load}",
        )
    growth = {name: large[name].sql - small[name].sql for name in large}
    worst = max(growth, key=lambda n: growth[n])
    entries["pages.sql_growth"] = _entry(
        growth[worst],
        "statements",
        GOAL_SQL_GROWTH,
        f"{date}; largest difference in SQL statements per request between 500x200x3 and "
        f"25x24x2 ({worst}); goal <= {GOAL_SQL_GROWTH}: "
        f"{'met' if growth[worst] <= GOAL_SQL_GROWTH else 'MISSED'}",
    )
    kb = round(large["ballot"].size_kb, 1)
    entries["pages.ballot_kb"] = _entry(
        kb,
        "KB",
        GOAL_BALLOT_KB,
        f"{date}; the 500x200x3 ballot of the open round; goal <= {GOAL_BALLOT_KB:g} KB: "
        f"{'met' if kb <= GOAL_BALLOT_KB else 'MISSED'}",
    )
    entries["pages.bare_flask"] = _entry(
        round(bare.p50, 2),
        "ms",
        None,
        f"{date}; a bare Flask endpoint under the same gunicorn (2x4), p95 {bare.p95:.2f} ms; "
        f"{load}",
    )
    return entries


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
