"""Load and faults: 200 panellists x 20 saves against gunicorn on PostgreSQL.

Three runs on loopback, each in its own temporary database: a plain burst (latency and
throughput, against a bare Flask app under the same server and client), a paced run with
PostgreSQL restarted half-way (see RESTART), then the same burst with the round closed from
two tabs half-way and a worker killed a quarter of the way in.
Skipped (reported as such) when PostgreSQL is not reachable.
"""

from __future__ import annotations

import os
from typing import Any

from bench.loadgen import LoadConfig, run_bare, run_load

CLIENTS = int(os.environ.get("BENCH_LOAD_CLIENTS", "200"))
SAVES = int(os.environ.get("BENCH_LOAD_SAVES", "20"))
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", str(max(2, (os.cpu_count() or 2)))))
# People read an item before they rate it: in the paced run each panellist pauses a random
# 0..THINK seconds before each save (mean THINK/2), so 200 of them offer ~200/(THINK/2)
# saves per second between them, all at once. The burst run has no pause at all.
THINK = float(os.environ.get("BENCH_LOAD_THINK", "6"))
# Half-way through the paced run PostgreSQL is restarted under the app. "backends" (the
# default) closes every connection to the load database from the server, which is what a
# restart does to the app's pool and leaves other databases alone; "cluster" restarts the
# whole PostgreSQL cluster with pg_ctlcluster (root or postgres only; it interrupts every
# other user of the server, so only on a machine of its own).
RESTART = os.environ.get("BENCH_LOAD_RESTART", "backends")


def _entry(value: Any, unit: str, baseline: Any, ratio: Any, note: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "baseline": baseline, "ratio": ratio, "note": note}


def _config(**changes: Any) -> LoadConfig:
    """The shared shape of every run: CLIENTS x SAVES over 10 items, WORKERS x 4 threads,
    after a warm-up of two rounds of 2 x WORKERS x 4 concurrent saves by one more panellist."""
    return LoadConfig(
        clients=CLIENTS,
        saves=SAVES,
        items=10,
        workers=WORKERS,
        threads=4,
        time_limit=600,
        warm_up=2 * WORKERS * 4,
        **changes,
    )


def run() -> dict[str, dict[str, Any]]:
    config = _config(sequential=50)
    try:
        import psycopg

        from bench.loadgen import database_url

        psycopg.connect(database_url(None, "postgres").replace("+psycopg", ""), connect_timeout=3)
    except Exception as error:  # PostgreSQL not running: say so rather than fail the suite
        note = f"skipped, PostgreSQL unreachable: {type(error).__name__}: {error}"[:300]
        return {"load.lost_ratings": _entry(None, "ratings", 0, None, note)}
    plain = run_load(config)
    paced = run_load(_config(think=THINK, restart_at=0.5, restart=RESTART))
    bare = run_bare(config)
    faults = run_load(_config(close_at=0.5, kill_at=0.25))
    p, f, q = plain.summary(), faults.summary(), paced.summary()
    print("load, paced:", q)
    print("load, plain burst:", p)
    print("load, close + kill:", f)
    lost = p["lost_ratings"] + f["lost_ratings"] + q["lost_ratings"]
    save_rate = p["saves_per_s"]
    shape = (
        f"{CLIENTS} panellists x {SAVES} saves, gunicorn {WORKERS} workers x 4 threads, PostgreSQL"
    )
    return {
        "load.lost_ratings": _entry(
            lost,
            "ratings",
            0,
            None,
            f"{shape}; paced, with the database restarted half-way "
            f"({q['database_restart']}, {q['database_restart_s']} s): {q['acknowledged']} "
            f"acknowledged, {q['lost_ratings']} lost, {q['unavailable_retried']} saves "
            f"answered 503 while it was down and sent again, {q['errors_after_restart']} "
            f"errors after it; "
            f"burst: {p['acknowledged']} acknowledged, {p['duplicate_ratings']} "
            f"duplicates, {p['unexpected_errors']} unexpected errors; with close at 50% and a "
            f"worker SIGKILLed at 25%: {f['acknowledged']} acknowledged, "
            f"{f['refused_round_closed']} refused 'round closed', "
            f"{f['connection_errors_retried']} dropped connections retried, "
            f"closes {f['close_statuses']}, snapshots {f.get('snapshots')}, snapshot "
            f"mismatches {f.get('snapshot_mismatches')}, written after close "
            f"{f.get('written_after_close')}, unexpected {f['unexpected_errors']}",
        ),
        "load.rating_save_p95_ms": _entry(
            q["p95_ms"],
            "ms",
            50,
            round(q["p95_ms"] / 50, 2),
            f"{shape}, paced (each panellist pauses 0-{THINK:g} s before each save; "
            f"{q['saves_per_s']} saves/s offered and answered): p50 {q['p50_ms']} ms, "
            f"p99 {q['p99_ms']} ms, {q['requests']} requests, {q['unexpected_errors']} "
            f"unexpected errors; measured after {q['warm_up_saves']} warm-up saves (slowest "
            f"{q['warm_up_max_ms']} ms: fresh workers connecting and compiling queries); "
            f"client: aiohttp on the same 2 cores; baseline = goal 50 ms",
        ),
        "load.rating_save_p95_ms_burst": _entry(
            p["p95_ms"],
            "ms",
            50,
            round(p["p95_ms"] / 50, 2),
            f"{shape}, closed loop (no pause: each save fires as the last returns, so latency "
            f"is queueing, ~clients / throughput): p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms, "
            f"{p['requests']} requests; one panellist alone: p95 {p['one_client_p95_ms']} ms",
        ),
        "load.save_vs_bare_flask": _entry(
            save_rate,
            "saves/s",
            round(bare, 1),
            round(save_rate / bare, 3) if bare else None,
            f"{shape}; baseline: a bare Flask POST endpoint under the same server and client",
        ),
    }
