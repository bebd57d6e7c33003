"""Tiny benchmark framework: ``python -m bench [NAME ...]``.

Every ``bench/bench_*.py`` module exposes ``run() -> dict[str, dict]`` returning entries
``{"<name>": {"value": number, "unit": str, "baseline": number, "ratio": number,
"note": str}}`` where ratio = value / baseline, both measured in the same run. Results are
merged into ``bench/results.json`` (entries written by other modules are kept).
"""
