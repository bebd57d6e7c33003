"""A burst of panellists saving ratings against gunicorn on PostgreSQL, with faults.

Used by `bench/bench_load.py` (200 panellists x 20 saves) and by
`tests/web/test_load_and_faults.py` (a smaller burst). Everything runs on loopback in a
temporary PostgreSQL database that is dropped afterwards, and is bounded in time.

Each simulated panellist has a signed session cookie and CSRF token (made with the server's
secret, as a sign-in would), then saves `saves` ratings through the htmx autosave endpoint:
every item once, then again with a new value (repeats), with every fifth save sent twice at
once (a double-click). Optionally the facilitator closes the round from two tabs at once
part-way through, and a gunicorn worker is killed with SIGKILL part-way through; a request
that loses its connection is retried, as a person would.

Afterwards the database is checked: one rating per (panellist, item, round); each
acknowledged save's last value is stored; the snapshot counts exactly the stored ratings;
nothing was written after the close.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-load-secret"
T = TypeVar("T")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CLOSED_MESSAGE = "This round has closed"


@dataclass
class LoadConfig:
    clients: int = 200
    saves: int = 20
    items: int = 10
    workers: int = 4
    threads: int = 8
    close_at: float | None = None  # fraction of planned saves acknowledged before closing
    kill_at: float | None = None  # fraction of planned saves acknowledged before SIGKILL
    time_limit: float = 120.0
    think: float = 0.0  # seconds of random pause (0..think) between one person's saves
    seed: int = 7
    sequential: int = 0  # saves by one extra panellist, one at a time, before the burst
    # Concurrent saves by that panellist, each on a new connection, before anything is
    # measured: a fresh worker thread opens its database connection and fills its template
    # and SQL caches on its first requests, which is start-up, not a save.
    warm_up: int = 0
    # Fraction of planned saves acknowledged before the database is restarted, and how:
    # "cluster" restarts the PostgreSQL cluster (pg_ctlcluster, needs root or postgres);
    # "backends" closes every connection to the load database from the server side (what a
    # restart does to the app's pool), which disturbs no other database on a shared server.
    restart_at: float | None = None
    restart: str = "backends"


@dataclass
class Outcome:
    requests: int = 0
    acknowledged: int = 0
    refused_closed: int = 0
    connection_errors: int = 0
    unexpected: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    sequential_ms: list[float] = field(default_factory=list)
    warm_up_ms: list[float] = field(default_factory=list)
    duration_s: float = 0.0
    close_statuses: list[int] = field(default_factory=list)
    killed_pid: int | None = None
    checks: dict[str, int] = field(default_factory=dict)
    restart_method: str | None = None
    restart_s: float = 0.0
    unavailable_retried: int = 0  # 503 answers (database down), sent again as the page does
    errors_after_restart: int = 0  # any 5xx once the restart had finished

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
        return ordered[index]

    def summary(self) -> dict[str, Any]:
        alone = sorted(self.sequential_ms)
        return {
            "warm_up_saves": len(self.warm_up_ms),
            "warm_up_max_ms": round(max(self.warm_up_ms), 1) if self.warm_up_ms else None,
            "one_client_p95_ms": round(alone[int(0.95 * (len(alone) - 1))], 1) if alone else None,
            "requests": self.requests,
            "acknowledged": self.acknowledged,
            "refused_round_closed": self.refused_closed,
            "connection_errors_retried": self.connection_errors,
            "unexpected_errors": len(self.unexpected),
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "saves_per_s": round(self.acknowledged / self.duration_s, 1) if self.duration_s else 0,
            "duration_s": round(self.duration_s, 2),
            "close_statuses": sorted(self.close_statuses),
            "worker_killed": self.killed_pid is not None,
            "database_restart": self.restart_method,
            "database_restart_s": round(self.restart_s, 2),
            "unavailable_retried": self.unavailable_retried,
            "errors_after_restart": self.errors_after_restart,
            **self.checks,
        }


# ---------------------------------------------------------------- database and server


def database_url(base: str | None = None, name: str = "") -> str:
    from sqlalchemy.engine import make_url

    url = make_url(base or os.environ.get("DATABASE_URL") or DEFAULT_PG)
    return url.set(database=name).render_as_string(hide_password=False)


def create_database(name: str, base: str | None = None) -> str:
    """A fresh, empty PostgreSQL database; returns its SQLAlchemy URL."""
    import psycopg

    admin = database_url(base, "postgres").replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return database_url(base, name)


def drop_database(name: str, base: str | None = None) -> None:
    import psycopg

    admin = database_url(base, "postgres").replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(
    target: str, port: int, env: dict[str, str], workers: int, threads: int
) -> subprocess.Popen[bytes]:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    process = subprocess.Popen(
        [
            gunicorn,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--graceful-timeout",
            "3",
            target,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if answers_http(port):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"gunicorn ({target}) did not start on port {port}")


def answers_http(port: int) -> bool:
    """Whether a worker answers HTTP on `port` (any status: the bare app has no /healthz)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's children, read from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == master:
            children.append(int(entry.name))
    return children


# ---------------------------------------------------------------- the study


@dataclass
class World:
    slug: str
    round_id: int
    round_number: int
    version_ids: list[int]
    panellists: list[tuple[int, str, str]]  # (panellist id, cookie, csrf token)
    facilitator: tuple[str, str]  # (cookie, csrf token)


def _credentials(app: Any, user_id_value: str) -> tuple[str, str]:
    """A session cookie and CSRF token, as Flask-Login and Flask-WTF would have made them."""
    from itsdangerous import URLSafeTimedSerializer

    raw = hashlib.sha1(os.urandom(64)).hexdigest()
    session = {"_user_id": user_id_value, "_fresh": True, "csrf_token": raw}
    cookie = app.session_interface.get_signing_serializer(app).dumps(session)
    token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)
    return f"session={cookie}", token


def seed(url: str, clients: int, items: int) -> World:
    """Schema by migration, then a study with `items` prompts, `clients` partners, round 1 open."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.models import Panellist, Study, StudyFacilitator, User, utcnow
    from app.services.rounds import open_round
    from app.services.studies import ItemFields, add_group, add_item
    from delphi import ItemKind, PanelRole

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade()
        facilitator = User(email="facilitator@load.test", name="Load Facilitator")
        db.session.add(facilitator)
        study = Study(slug="load-study", title="Load study", purpose="Load.")
        db.session.add(study)
        db.session.flush()
        db.session.add(StudyFacilitator(study_id=study.id, user_id=facilitator.id))
        groups = [add_group(study, "CQC"), add_group(study, "HRA")]
        db.session.flush()
        for n in range(items):
            add_item(study, ItemFields(ItemKind.PROMPT, "Theme", f"Prompt {n + 1}?"))
        db.session.flush()
        now = utcnow()
        users = [User(email=f"p{n}@load.test", name=f"Panellist Person{n}") for n in range(clients)]
        db.session.add_all(users)
        db.session.flush()
        for n, user in enumerate(users):
            db.session.add(
                Panellist(
                    study_id=study.id,
                    user_id=user.id,
                    group_id=groups[n % 2].id,
                    role=PanelRole.PARTNER.value,
                    pseudonym=f"Partner {n + 1}",
                    joined_at=now,
                )
            )
        db.session.commit()
        round_ = open_round(study, actor=None)
        panellists = db.session.scalars(
            db.select(Panellist).where(Panellist.study_id == study.id).order_by(Panellist.id)
        ).all()
        from app.services import sessions

        lifetime = app.permanent_session_lifetime
        keys = {p.id: sessions.start(p.user, lifetime) for p in panellists}
        facilitator_key = sessions.start(facilitator, lifetime)
        db.session.commit()
        world = World(
            slug=study.slug,
            round_id=round_.id,
            round_number=round_.number,
            version_ids=[ri.item_version_id for ri in round_.round_items],
            panellists=[(p.id, *_credentials(app, keys[p.id])) for p in panellists],
            facilitator=_credentials(app, facilitator_key),
        )
        db.engine.dispose()
    return world


# ---------------------------------------------------------------- the burst


def _client(base: str, connections: int) -> aiohttp.ClientSession:
    """The simulated browsers' HTTP client.

    aiohttp parses HTTP in C: the load generator shares the server's two cores, so every
    millisecond it spends per request is taken from the server and added to the latency it
    measures. Each request carries its panellist's own cookie, so the session keeps none.
    """
    return aiohttp.ClientSession(
        base_url=base,
        connector=aiohttp.TCPConnector(limit=connections),
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=30),
    )


def restart_database(url: str, how: str) -> str:
    """Restart PostgreSQL under the running app (`how`: "cluster" or "backends"; see
    LoadConfig.restart). Returns what was done, in words; a cluster restart that is not
    allowed falls back to closing the load database's connections, and says so."""
    import psycopg

    if how == "cluster":
        try:
            port = str(_url_port(url))
            clusters = subprocess.run(
                ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
            ).stdout.split("\n")
            version, name = next(
                line.split()[:2] for line in clusters if line.split()[2:3] == [port]
            )
            subprocess.run(
                ["pg_ctlcluster", version, name, "restart"],
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            )
            return f"PostgreSQL {version}/{name} restarted (pg_ctlcluster)"
        except (OSError, StopIteration, subprocess.SubprocessError) as error:
            fallback = f"pg_ctlcluster not allowed or failed ({type(error).__name__})"
    else:
        fallback = ""
    plain = url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as connection:
        closed = connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    words = f"every connection to the load database closed by the server ({closed[0]})"
    return f"{fallback}; {words}" if fallback else words


def _url_port(url: str) -> int:
    from sqlalchemy.engine import make_url

    return make_url(url).port or 5432


async def _burst(
    base: str, world: World, config: LoadConfig, gunicorn_pid: int, url: str = ""
) -> tuple[Outcome, dict[tuple[int, int], int]]:
    outcome = Outcome()
    last_acked: dict[tuple[int, int], int] = {}
    planned = config.clients * config.saves
    rng = random.Random(config.seed)
    close_event = asyncio.Event()
    kill_event = asyncio.Event()
    restart_event = asyncio.Event()
    restart_done = [float("inf")]  # perf_counter() when the restart had finished
    prefix = f"/studies/{world.slug}/rounds/{world.round_number}"

    def progress() -> None:
        done = outcome.acknowledged + outcome.refused_closed
        if config.close_at is not None and done >= config.close_at * planned:
            close_event.set()
        if config.kill_at is not None and done >= config.kill_at * planned:
            kill_event.set()
        if config.restart_at is not None and done >= config.restart_at * planned:
            restart_event.set()

    async with _client(base, config.clients + 4) as client:

        async def save(
            panellist: tuple[int, str, str], version_id: int, score: int, fresh: bool = False
        ) -> str:
            """One autosave; retried when the connection drops. Returns the outcome.

            `fresh` asks the server to close the connection afterwards, so that concurrent
            warm-up saves each land on whichever worker accepts them.
            """
            pid, cookie, token = panellist
            headers = {"Cookie": cookie, "X-CSRFToken": token, "HX-Request": "true"}
            if fresh:
                headers["Connection"] = "close"
            data = {f"score-{version_id}": str(score)}
            unavailable = 0
            for _attempt in range(60):
                outcome.requests += 1
                started = time.perf_counter()
                try:
                    async with client.post(
                        f"{prefix}/items/{version_id}/rating", data=data, headers=headers
                    ) as response:
                        body = await response.text()
                except (TimeoutError, aiohttp.ClientConnectionError):
                    outcome.connection_errors += 1
                    await asyncio.sleep(0.05)
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                if response.status == 200 and "Saved" in body:
                    outcome.latencies_ms.append(elapsed)
                    return "saved"
                if response.status == 409 and CLOSED_MESSAGE in body:
                    return "closed"
                if response.status >= 500 and started > restart_done[0]:
                    # Sent after the restart had finished (one in flight at the moment the
                    # connections closed may fail, and is sent again).
                    outcome.errors_after_restart += 1
                if response.status == 503 and unavailable < 40:
                    # The database is down (a restart): the page sends it again later.
                    unavailable += 1
                    outcome.unavailable_retried += 1
                    await asyncio.sleep(0.25)
                    continue
                outcome.unexpected.append(f"{response.status}: {body[:200]}")
                return "error"
            outcome.unexpected.append("gave up after 60 dropped connections")
            return "error"

        async def panellist_run(index: int) -> None:
            panellist = world.panellists[index]
            plan = []
            for n in range(config.saves):
                version = world.version_ids[n % len(world.version_ids)]
                plan.append((version, rng.randint(1, 9)))
            for n, (version, score) in enumerate(plan):
                if config.think:
                    await asyncio.sleep(rng.random() * config.think)
                double = n % 5 == 4
                results = await asyncio.gather(
                    *[save(panellist, version, score) for _ in range(2 if double else 1)]
                )
                for result in results:
                    if result == "saved":
                        outcome.acknowledged += 1
                    elif result == "closed":
                        outcome.refused_closed += 1
                if "saved" in results:
                    last_acked[(panellist[0], version)] = score
                progress()

        async def closer() -> None:
            if config.close_at is None:
                return
            await close_event.wait()
            cookie, token = world.facilitator
            headers = {"Cookie": cookie, "X-CSRFToken": token}

            async def close_tab() -> int:
                async with client.post(
                    f"{prefix}/close",
                    data={"confirm": "yes"},
                    headers=headers,
                    allow_redirects=False,
                ) as response:
                    await response.read()
                    return response.status

            outcome.close_statuses = list(await asyncio.gather(close_tab(), close_tab()))

        async def killer() -> None:
            if config.kill_at is None:
                return
            await kill_event.wait()
            workers = worker_pids(gunicorn_pid)
            if workers:
                victim = random.Random(config.seed).choice(workers)
                os.kill(victim, signal.SIGKILL)
                outcome.killed_pid = victim

        async def restarter() -> None:
            if config.restart_at is None:
                return
            await restart_event.wait()
            started = time.perf_counter()
            outcome.restart_method = await asyncio.to_thread(restart_database, url, config.restart)
            restart_done[0] = time.perf_counter()
            outcome.restart_s = restart_done[0] - started

        alone = world.panellists[config.clients]
        if config.warm_up:
            for _batch in range(2):
                versions = [
                    world.version_ids[n % len(world.version_ids)] for n in range(config.warm_up)
                ]
                results = await asyncio.gather(*[save(alone, v, 5, fresh=True) for v in versions])
                for version, result in zip(versions, results, strict=True):
                    if result == "saved":
                        last_acked[(alone[0], version)] = 5
            outcome.warm_up_ms = outcome.latencies_ms[:]
            del outcome.latencies_ms[:]
            outcome.requests = 0
        if config.sequential:
            for n in range(config.sequential):
                version = world.version_ids[n % len(world.version_ids)]
                score = rng.randint(1, 9)
                before = len(outcome.latencies_ms)
                if await save(alone, version, score) == "saved":
                    last_acked[(alone[0], version)] = score
                    outcome.sequential_ms.extend(outcome.latencies_ms[before:])
            del outcome.latencies_ms[:]
            outcome.requests = 0

        started = time.perf_counter()
        tasks = [panellist_run(i) for i in range(config.clients)]
        await asyncio.wait_for(
            asyncio.gather(*tasks, closer(), killer(), restarter()), timeout=config.time_limit
        )
        outcome.duration_s = time.perf_counter() - started
    return outcome, last_acked


def check(url: str, world: World, outcome: Outcome, last_acked: dict[tuple[int, int], int]) -> None:
    """Compare the database with what the clients were told; fills `outcome.checks`."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        stored = {
            (row.panellist_id, row.item_version_id): row.score
            for row in connection.execute(
                text(
                    "SELECT panellist_id, item_version_id, score FROM ratings WHERE round_id = :r"
                ),
                {"r": world.round_id},
            )
        }
        duplicates = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT 1 FROM ratings WHERE round_id = :r "
                "GROUP BY panellist_id, item_version_id HAVING count(*) > 1) d"
            ),
            {"r": world.round_id},
        ).scalar_one()
        lost = sum(1 for key, score in last_acked.items() if stored.get(key) != score)
        checks = {
            "ratings_stored": len(stored),
            "keys_acknowledged": len(last_acked),
            "lost_ratings": lost,
            "duplicate_ratings": int(duplicates),
        }
        snapshot_rows = connection.execute(
            text("SELECT payload FROM round_snapshots WHERE round_id = :r"),
            {"r": world.round_id},
        ).all()
        if outcome.close_statuses:
            import json

            checks["snapshots"] = len(snapshot_rows)
            payload = snapshot_rows[0][0] if snapshot_rows else {"items": {}}
            if isinstance(payload, str):
                payload = json.loads(payload)
            per_version: dict[int, int] = {}
            for pid_version in stored:
                per_version[pid_version[1]] = per_version.get(pid_version[1], 0) + 1
            mismatched = 0
            for version_id in world.version_ids:
                entry = payload["items"].get(str(version_id), {})
                counted = int(entry.get("n") or 0) + int(entry.get("n_unable") or 0)
                mismatched += counted != per_version.get(version_id, 0)
            checks["snapshot_mismatches"] = mismatched
            checks["written_after_close"] = connection.execute(
                text(
                    "SELECT count(*) FROM ratings JOIN rounds ON rounds.id = ratings.round_id "
                    "WHERE rounds.id = :r AND ratings.updated_at > rounds.closed_at"
                ),
                {"r": world.round_id},
            ).scalar_one()
    engine.dispose()
    outcome.checks = checks


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, even when the calling thread already has a loop.

    Playwright's sync API leaves an event loop running in pytest's main thread, and
    asyncio.run() refuses to nest, so the burst then gets a thread of its own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run_load(config: LoadConfig, base_url: str | None = None) -> Outcome:
    """Seed a temporary database, serve it with gunicorn, run the burst, check, clean up."""
    name = f"delphi_load_{os.getpid()}_{random.randrange(10**6)}"
    url = create_database(name, base_url)
    process = None
    try:
        world = seed(url, config.clients + 1, config.items)
        port = free_port()
        process = start_gunicorn(
            "wsgi:app",
            port,
            {
                "DATABASE_URL": url,
                "SECRET_KEY": SECRET,
                "APP_ENV": "development",
                "LOGIN_MAX_PER_ADDRESS": "100000",
            },
            config.workers,
            config.threads,
        )
        outcome, last_acked = run_coroutine(
            _burst(f"http://127.0.0.1:{port}", world, config, process.pid, url)
        )
        check(url, world, outcome, last_acked)
        return outcome
    finally:
        if process is not None:
            stop(process)
        drop_database(name, base_url)


def run_bare(config: LoadConfig) -> float:
    """Saves per second that a bare Flask app answers under the same server and client."""
    port = free_port()
    process = start_gunicorn("bench._load_bare:app", port, {}, config.workers, config.threads)

    async def burst() -> float:
        async with _client(f"http://127.0.0.1:{port}", config.clients + 4) as client:

            async def one(n: int) -> None:
                for k in range(config.saves):
                    async with client.post("/save", data={f"score-{k}": "5"}) as response:
                        await response.read()
                        response.raise_for_status()

            started = time.perf_counter()
            await asyncio.gather(*[one(n) for n in range(config.clients)])
            return config.clients * config.saves / (time.perf_counter() - started)

    try:
        return run_coroutine(burst())
    finally:
        stop(process)
