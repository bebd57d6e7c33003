"""Run the benchmarks: ``python -m bench`` runs all, ``python -m bench scoring`` a subset.

Names are module names with or without the ``bench_`` prefix. A module that raises is
reported as an error and the others still run; the exit status is then 1. Results are merged
into bench/results.json, keeping entries other modules wrote earlier.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"


def discover() -> list[str]:
    """Names (without the ``bench_`` prefix) of every bench_*.py module, sorted."""
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name.startswith("bench_")
    )


def merge(entries: dict[str, dict[str, Any]], path: Path = RESULTS) -> dict[str, Any]:
    """Update ``path`` with ``entries`` and return the merged content."""
    existing: dict[str, Any] = {}
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except json.JSONDecodeError:
            existing = {}
    existing.update(entries)
    path.write_text(json.dumps(dict(sorted(existing.items())), indent=2) + "\n")
    return existing


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def table(entries: dict[str, dict[str, Any]]) -> str:
    """Readable table of entries."""
    header = ["benchmark", "value", "unit", "baseline", "ratio", "note"]
    rows = [
        [
            name,
            _cell(e.get("value")),
            str(e.get("unit", "")),
            _cell(e.get("baseline")),
            _cell(e.get("ratio")),
            str(e.get("note", "")),
        ]
        for name, e in entries.items()
    ]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen modules, print the table, merge results; 1 if any module failed."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="modules to run (default: all)")
    parser.add_argument("--no-save", action="store_true", help="do not update results.json")
    args = parser.parse_args(argv)
    available = discover()
    wanted = [n.removeprefix("bench_") for n in args.names] or available
    unknown = [n for n in wanted if n not in available]
    if unknown:
        print(
            f"unknown benchmark module(s): {', '.join(unknown)}; available: {', '.join(available)}",
            file=sys.stderr,
        )
        return 2
    collected: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    for name in wanted:
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.bench_{name}")
            entries = module.run()
        except Exception:  # noqa: BLE001 - one broken module must not stop the others
            failed.append(name)
            print(f"ERROR in bench_{name}:\n{traceback.format_exc()}", file=sys.stderr)
            continue
        print(f"bench_{name}: {len(entries)} entries in {time.perf_counter() - started:.1f}s")
        collected.update(entries)
    if collected:
        print(table(collected))
        if not args.no_save:
            merge(collected)
            print(f"merged into {RESULTS.relative_to(HERE.parent)}")
    for name in failed:
        print(f"bench_{name}: ERROR (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
