"""Reading files and the command line: forms, formats, and one-line errors with status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring import (
    RULE_NAMES,
    MedianIQRRule,
    PercentageRule,
    Scale,
    ScoringInputError,
    load_ratings,
    rule_from_name,
)
from scoring.cli import main

LONG = """panellist,item,rating,group,round
p1,q1,8,clin,1
p2,q1,7,clin,1
p3,q1,9,pat,1
p1,q2,3,clin,1
p2,q2,,clin,1
p3,q2,5,pat,1
p1,q1,8,clin,2
p2,q1,8,clin,2
p3,q1,9,pat,2
p1,q2,2,clin,2
p2,q2,unable,clin,2
p3,q2,3,pat,2
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_long_csv(tmp_path: Path) -> None:
    df = load_ratings(write(tmp_path, "r.csv", LONG))
    assert len(df) == 12
    assert df["rating"].isna().sum() == 2  # blank and "unable" are unable to rate
    assert sorted(df["round"].unique()) == [1, 2]


def test_wide_csv_and_forced_form(tmp_path: Path) -> None:
    path = write(tmp_path, "w.csv", "panellist,q1,q2,q3\np1,8,3,\np2,7,unable,9\n")
    df = load_ratings(path)
    assert len(df) == 5  # the empty cell is "did not answer": no row
    assert df.loc[df["item"] == "q2", "rating"].isna().sum() == 1
    with pytest.raises(ScoringInputError, match="unknown column 'q1'"):
        load_ratings(path, form="long")


def test_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    pd.DataFrame({"panellist": ["a", "b", "c"], "q1": [8, 9, None], "q2": [2, 3, 1]}).to_excel(
        path, index=False
    )
    df = load_ratings(path)
    assert len(df) == 5
    assert set(df["item"]) == {"q1", "q2"}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "a.csv",
            "panellist,item,rating\np1,q1,8\np2,q1,ten\n",
            "row 3: rating 'ten' is not a number",
        ),
        (
            "b.csv",
            "panellist,item,rating\np1,q1,8\np2,q1,12\n",
            "row 3: rating 12 is outside the scale 1-9",
        ),
        ("c.csv", "panellist,item,rating,colour\np1,q1,8,red\n", "unknown column 'colour'"),
        ("d.csv", "who,item,score\np1,q1,8\n", "cannot tell the form"),
        ("e.csv", "panellist,q1,q2\np1,8,3\np2,7,0\n", "row 3 (column 'q2'): rating 0 is outside"),
        ("f.txt", "x", "unsupported file type"),
    ],
)
def test_bad_files_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, message: str
) -> None:
    path = write(tmp_path, name, text)
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["/nonexistent/ratings.csv"]) == 2
    assert capsys.readouterr().err == "error: file not found: /nonexistent/ratings.csv\n"


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "r.csv", LONG)
    assert main([str(path), "--format", "json", "--seed", "1", "--bootstrap", "200"]) == 0
    report = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(c))
    assert set(report["alpha"]) >= {"value", "ci", "level", "n_units", "n_raters"}
    assert report["alpha"]["level"] == "ordinal"
    assert report["round"] == 2
    assert [i["item"] for i in report["items"]] == ["q1", "q2"]
    assert set(report["items"][0]) >= {
        "item",
        "n",
        "median",
        "iqr",
        "pct_top",
        "pct_bottom",
        "di",
        "status",
    }
    assert set(report["groups"]) == {"clin", "pat"}
    assert report["stability"]["rounds"] == [1, 2]
    assert [t["round"] for t in report["alpha_trend"]] == [1, 2]


def test_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "r.csv", LONG)
    args = [
        str(path),
        "--format",
        "json",
        "--bootstrap",
        "0",
        "--level",
        "interval",
        "--rule",
        "rand",
        "--scale",
        "1-9",
    ]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["alpha"]["ci"] is None and report["alpha"]["level"] == "interval"
    assert report["settings"]["rule"] == "rand"
    assert main([str(path), "--format", "csv", "--bootstrap", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("scope,item,n,n_unable")
    assert len(lines) == 1 + 2 + 2 * 2  # header, all items, items per group
    assert main([str(path), "--bootstrap", "0"]) == 0
    assert "Stability, round 1 to 2" in capsys.readouterr().out
    assert main([str(path), "--scale", "9"]) == 2


def test_python_dash_m(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "panellist,item,rating\np1,q1,8\np2,q1,x\n")
    done = subprocess.run(
        [sys.executable, "-m", "scoring", str(path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == "error: row 3: rating 'x' is not a number\n"


def test_scale_option_changes_validation(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "panellist,item,rating\np1,q1,5\np2,q1,4\n")
    assert len(load_ratings(path, scale=Scale(1, 5))) == 2
    with pytest.raises(ScoringInputError, match="outside the scale 1-4"):
        load_ratings(path, scale=Scale(1, 4))
    assert np.isfinite(load_ratings(path)["rating"]).all()


@pytest.mark.parametrize("name", RULE_NAMES)
def test_each_rule_is_found_by_its_one_name(name: str) -> None:
    assert rule_from_name(name).name == name


def test_a_rule_takes_its_own_thresholds_from_the_name_lookup() -> None:
    rule = rule_from_name("percentage", in_min_pct=80, out_max_pct=10, max_iqr=1)
    assert rule == PercentageRule(in_min_pct=80, out_max_pct=10)
    assert rule_from_name("median_iqr", max_iqr=1.5) == MedianIQRRule(max_iqr=1.5)
    with pytest.raises(ScoringInputError, match="percentage, median_iqr, rand"):
        rule_from_name("median-iqr")


@pytest.mark.parametrize("spelling", ["median_iqr", "median-iqr"])
def test_the_command_line_names_the_median_rule_one_way_and_still_reads_the_old_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    path = write(tmp_path, "r.csv", LONG)
    assert main([str(path), "--format", "json", "--bootstrap", "0", "--rule", spelling]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["rule"] == "median_iqr"
