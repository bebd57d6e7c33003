"""``python -m scoring FILE``: analyse a ratings file from the command line.

Bad input ends with one line on stderr naming the problem (and the row) and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import cast

from scoring.coincidence import LEVELS, Level
from scoring.errors import ScoringInputError
from scoring.loading import Form, load_ratings
from scoring.reliability import CiMethod
from scoring.report import analyse_round, to_csv, to_json, to_markdown, to_table
from scoring.rules import RULE_NAMES, rule_from_name
from scoring.scale import parse_scale


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scoring",
        description="Consensus figures, Krippendorff's alpha and stability for Delphi ratings.",
    )
    parser.add_argument(
        "file",
        help="CSV or XLSX, long (panellist,item,rating[,group][,round][,criterion]) "
        "or wide (panellist, then one column per item); with a criterion column each "
        "criterion is analysed separately",
    )
    parser.add_argument("--level", choices=LEVELS, default="ordinal")
    parser.add_argument("--scale", default="1-9", help="LOW-HIGH (default 1-9)")
    parser.add_argument(
        "--rule",
        # The name of old, "median-iqr", is still understood.
        type=lambda name: name.replace("-", "_"),
        choices=RULE_NAMES,
        default=RULE_NAMES[0],
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        help="resamples for the alpha interval; 0 skips it (default 1000)",
    )
    parser.add_argument("--ci-method", choices=("units", "kalpha"), default="units")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--format", choices=("table", "markdown", "json", "csv"), default="table")
    parser.add_argument("--form", choices=("long", "wide"), default=None)
    parser.add_argument(
        "--require-all-groups",
        action="store_true",
        help="consensus only if every stakeholder group meets the rule",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input)."""
    args = _parser().parse_args(argv)
    try:
        scale = parse_scale(args.scale)
        ratings = load_ratings(args.file, form=cast(Form | None, args.form), scale=scale)
        report = analyse_round(
            ratings,
            scale,
            rule_from_name(args.rule),
            level=cast(Level, args.level),
            bootstrap=args.bootstrap,
            seed=args.seed,
            ci_method=cast(CiMethod, args.ci_method),
            require_all_groups=args.require_all_groups,
        )
    except ScoringInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    renderers = {"json": to_json, "csv": to_csv, "table": to_table, "markdown": to_markdown}
    render = renderers[args.format]
    sys.stdout.write(render(report) + ("\n" if args.format == "json" else ""))
    return 0
