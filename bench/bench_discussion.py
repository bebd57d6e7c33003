"""Live discussion under load: the "nothing new" poll against a bare Flask endpoint, and how
long a posted message takes to reach 100 panellists polling every 3 s.

Both apps run under gunicorn with 2 sync workers on loopback, on a temporary SQLite file,
so each worker answers from the database alone. Bounded to well under 60 s.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ProcessPoolExecutor
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PANELLISTS = 100
POLL_EVERY = 3.0
THROUGHPUT_SECONDS = 4.0
LOAD_PROCESSES = 2
LOAD_THREADS = 8
MESSAGES = 3
SECRET = "bench-discussion-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gunicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    process = subprocess.Popen(
        [gunicorn, "--workers", "2", "--threads", "1", "--bind", f"127.0.0.1:{port}"]
        + ["--log-level", "warning", app],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"gunicorn for {app} did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def _get(port: int, path: str, cookie: str = "") -> tuple[int, bytes]:
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Cookie": cookie, "HX-Request": "true"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _hammer(args: tuple[int, str, str, float]) -> tuple[int, int]:
    """One load process: threads request as fast as they can until the deadline."""
    port, path, cookie, seconds = args
    counts = [0] * LOAD_THREADS
    errors = [0] * LOAD_THREADS
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        while time.monotonic() < deadline:
            try:
                status, _ = _get(port, path, cookie)
                if status == 204:
                    counts[n] += 1
                else:
                    errors[n] += 1
            except OSError:
                errors[n] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(LOAD_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), sum(errors)


def _throughput(port: int, path: str, cookie: str = "") -> float:
    with ProcessPoolExecutor(LOAD_PROCESSES) as pool:
        _get(port, path, cookie)  # warm up
        results = list(
            pool.map(_hammer, [(port, path, cookie, THROUGHPUT_SECONDS)] * LOAD_PROCESSES)
        )
    ok = sum(r[0] for r in results)
    if sum(r[1] for r in results) > ok * 0.01:
        raise RuntimeError(f"too many failed requests on {path}: {results}")
    return ok / THROUGHPUT_SECONDS


def _setup(database: str) -> dict[str, Any]:
    """A study with 100 joined panellists and an open round; their session cookies."""
    os.environ["DATABASE_URL"] = database
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.models import Study, StudyFacilitator, User, utcnow
    from app.services.panel import add_panellist
    from app.services.rounds import open_round
    from app.services.studies import ItemFields, add_group, add_item
    from delphi import ItemKind, PanelRole

    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": database})
    with app.app_context():
        upgrade()
        facilitator = User(
            email="fac@bench.test", name="Bench Facilitator", can_create_studies=True
        )
        db.session.add(facilitator)
        study = Study(slug="bench", title="Bench study", purpose="Load")
        db.session.add(study)
        db.session.flush()
        db.session.add(StudyFacilitator(study_id=study.id, user_id=facilitator.id))
        group = add_group(study, "CQC")
        patients = add_group(study, "Patient representatives")
        db.session.flush()
        add_item(study, ItemFields(ItemKind.PROMPT, "Offers research", "Prompt one?"))
        users = []
        for n in range(PANELLISTS):
            panellist = add_panellist(
                study,
                name=f"Bench Person {n}",
                email=f"p{n}@bench.test",
                group=patients if n % 4 == 0 else group,
                role=PanelRole.PATIENT_REP if n % 4 == 0 else PanelRole.PARTNER,
            )
            panellist.joined_at = utcnow()
            users.append(panellist.user)
        db.session.commit()
        open_round(study, actor=None)
        from app.services import sessions

        keys = [sessions.start(u, app.permanent_session_lifetime) for u in users]
        db.session.commit()
        with app.test_request_context():
            serializer = app.session_interface.get_signing_serializer(app)
            assert serializer is not None
            cookies = [
                "session=" + serializer.dumps({"_user_id": key, "_fresh": True}) for key in keys
            ]
        from app.services.discussion import latest_event_id

        cursor = latest_event_id(study.id)
        db.engine.dispose()
    return {"cookies": cookies, "cursor": cursor}


def _post(port: int, cookie: str, body: str) -> None:
    """Post as a panellist the way a browser without JavaScript does (CSRF token included)."""
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/studies/bench/discussion/P1", headers={"Cookie": cookie})
    response = connection.getresponse()
    html = response.read().decode()
    new_cookie = response.getheader("Set-Cookie", "")
    if new_cookie:
        cookie = new_cookie.split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, "no CSRF token on the thread page"
    data = urllib.parse.urlencode({"csrf_token": token.group(1), "item-1-body": body})
    connection.request(
        "POST",
        "/studies/bench/discussion/P1/messages",
        body=data,
        headers={
            "Cookie": cookie,
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{port}/",
        },
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 303:
        raise RuntimeError(f"posting answered {response.status}")


def _delivery(port: int, cookies: list[str], cursor: int) -> list[float]:
    """100 pollers every 3 s; seconds from each post's answer until each poller has it."""
    posted: dict[str, float] = {}
    seen: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()

    def poller(n: int, cookie: str) -> None:
        after = cursor
        time.sleep(POLL_EVERY * n / len(cookies))  # spread like real browsers
        while not stop.is_set():
            try:
                status, body = _get(
                    port, f"/studies/bench/discussion/poll?after={after}&scope=item:1", cookie
                )
            except OSError:
                status, body = 0, b""
            now = time.monotonic()
            if status == 200:
                text = body.decode()
                found = re.search(r'name="after" value="(\d+)"', text)
                after = int(found.group(1)) if found else after
                for marker in re.findall(r"bench-message-\d+", text):
                    with lock:
                        if marker in posted:
                            seen.append(now - posted[marker])
            stop.wait(POLL_EVERY)

    threads = [
        threading.Thread(target=poller, args=(n, c), daemon=True) for n, c in enumerate(cookies)
    ]
    for t in threads:
        t.start()
    time.sleep(POLL_EVERY + 0.5)
    for m in range(MESSAGES):
        marker = f"bench-message-{m}"
        _post(port, cookies[m], f"Load test {marker}")
        with lock:
            posted[marker] = time.monotonic()
        time.sleep(POLL_EVERY + 0.2)
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline and len(seen) < MESSAGES * len(cookies):
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(timeout=5)
    if len(seen) < MESSAGES * len(cookies):
        seen.extend([float("inf")] * (MESSAGES * len(cookies) - len(seen)))
    return seen


def run() -> dict[str, dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-discussion-"))
    database = f"sqlite:///{tmp / 'bench.sqlite3'}"
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL",)}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        state = _setup(database)
        env = dict(
            os.environ,
            DATABASE_URL=database,
            SECRET_KEY=SECRET,
            APP_ENV="production",
            PYTHONPATH=str(ROOT),
        )
        app_port, bare_port = _free_port(), _free_port()
        processes.append(_gunicorn("wsgi:app", app_port, env))
        processes.append(_gunicorn("bench._discussion_bare:app", bare_port, env))
        cookie = state["cookies"][0]
        status, _ = _get(
            app_port, f"/studies/bench/discussion/poll?after={state['cursor']}", cookie
        )
        if status != 204:
            raise RuntimeError(f"the nothing-new poll answered {status}, not 204")
        bare = _throughput(bare_port, "/poll")
        poll = _throughput(
            app_port,
            f"/studies/bench/discussion/poll?after={state['cursor']}&scope=item:1",
            cookie,
        )
        latencies = _delivery(app_port, state["cookies"], state["cursor"])
    finally:
        for process in processes:
            _stop(process)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(tmp, ignore_errors=True)
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
    delivered = sum(1 for x in latencies if x != float("inf"))
    return {
        "discussion.poll_nothing_new": {
            "value": round(poll, 1),
            "unit": "requests/s",
            "baseline": round(bare, 1),
            "ratio": round(poll / bare, 3),
            "note": (
                "204 'nothing new' poll vs a bare Flask endpoint, gunicorn 2 sync workers, "
                f"{LOAD_PROCESSES}x{LOAD_THREADS} clients, SQLite; target ratio >= 0.5"
            ),
        },
        "discussion.delivery_p95_s": {
            "value": round(p95, 2),
            "unit": "s",
            "baseline": 5.0,
            "ratio": round(p95 / 5.0, 3),
            "note": (
                f"{PANELLISTS} panellists polling every {POLL_EVERY:g} s, {MESSAGES} messages; "
                f"{delivered}/{len(latencies)} deliveries; median "
                f"{statistics.median(latencies):.2f} s; target p95 <= 5 s"
            ),
        },
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
