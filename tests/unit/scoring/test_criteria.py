"""Figures per criterion: alpha against the krippendorff package on each criterion's own
ratings, stability per criterion, the command line with and without a criterion column, and
the errors for a bad criterion column."""

from __future__ import annotations

import json
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest

from scoring import (
    PercentageRule,
    Scale,
    ScoringInputError,
    alpha,
    alpha_by_criterion,
    alpha_by_criterion_and_group,
    analyse_by_criterion,
    item_summary,
    load_ratings,
    split_by_criterion,
    stability,
    stability_by_criterion,
    validate_ratings,
)
from scoring.cli import main
from scoring.report import analyse_round

GOLDEN = Path(__file__).parent / "golden"
CRITERIA = ("importance", "validity", "feasibility")
SCALE = Scale()


def criterion_table(seed: int = 0, panellists: int = 12, items: int = 8) -> pd.DataFrame:
    """Every item rated on importance; half of them on validity and feasibility too. The
    criteria are given different centres and noise so that pooling them would change alpha."""
    rng = np.random.default_rng(seed)
    rows = []
    for c, criterion in enumerate(CRITERIA):
        rated_items = range(items) if c == 0 else range(0, items, 2)
        centre = rng.integers(2, 9, size=items)
        for p in range(panellists):
            for i in rated_items:
                if rng.random() < 0.15:
                    continue  # did not answer
                value = float(np.clip(centre[i] + rng.integers(-1 - c, 2 + c), 1, 9))
                rows.append(
                    {
                        "panellist": f"p{p:02d}",
                        "item": f"q{i}",
                        "criterion": criterion,
                        "rating": value,
                        "group": ("clinician", "patient", "manager")[p % 3],
                    }
                )
    return pd.DataFrame(rows)


def package_alpha(df: pd.DataFrame, level: str = "ordinal") -> float:
    """krippendorff.alpha on a raters × units matrix built here with plain loops."""
    raters = sorted(set(df["panellist"]))
    units = sorted(set(df["item"]))
    matrix = np.full((len(raters), len(units)), np.nan)
    for p, i, r in zip(df["panellist"], df["item"], df["rating"], strict=True):
        matrix[raters.index(p), units.index(i)] = r
    return float(
        krippendorff.alpha(
            reliability_data=matrix, value_domain=SCALE.points, level_of_measurement=level
        )
    )


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_alpha_per_criterion_is_the_package_alpha_of_that_criterion_alone(level: str) -> None:
    df = criterion_table()
    result = alpha_by_criterion(df, level=level, bootstrap=0)  # type: ignore[arg-type]
    assert list(result) == list(CRITERIA)
    for criterion in CRITERIA:
        expected = package_alpha(df[df["criterion"] == criterion], level)
        assert result[criterion].value == pytest.approx(expected, rel=1e-9)
    # The split matters: pooling the criteria (items × criteria as units) gives another value.
    pooled = df.assign(item=df["item"] + "/" + df["criterion"])
    assert package_alpha(pooled, level) != pytest.approx(result["importance"].value, rel=1e-3)


def test_alpha_per_criterion_and_group_is_the_package_alpha_of_that_slice() -> None:
    df = criterion_table(seed=3, panellists=15)
    result = alpha_by_criterion_and_group(df, bootstrap=0)
    assert list(result) == list(CRITERIA)
    for criterion in CRITERIA:
        assert set(result[criterion]) == {"clinician", "manager", "patient"}
        for group, res in result[criterion].items():
            part = df[(df["criterion"] == criterion) & (df["group"] == group)]
            assert res.value == pytest.approx(package_alpha(part), rel=1e-9)
            assert res.n_raters == part["panellist"].nunique()


def test_the_interval_per_criterion_is_the_one_of_alpha_on_that_criterion() -> None:
    df = criterion_table(seed=5)
    result = alpha_by_criterion(df, bootstrap=300, seed=11)
    for criterion in CRITERIA:
        alone = alpha(
            df[df["criterion"] == criterion].drop(columns="criterion"), bootstrap=300, seed=11
        )
        assert result[criterion].ci == alone.ci
        assert result[criterion].ci is not None


def test_analyse_by_criterion_gathers_alpha_groups_and_stability() -> None:
    before = criterion_table(seed=1)
    after = before.copy()
    # Two panellists move feasibility of q0 from one band to another; importance is untouched.
    moved = (after["criterion"] == "feasibility") & (after["item"] == "q0")
    after.loc[moved & after["panellist"].isin(["p00", "p01"]), "rating"] = 1.0
    after.loc[moved & after["panellist"].isin(["p02"]), "rating"] = 9.0
    result = analyse_by_criterion(after, bootstrap=0, previous=before)
    assert list(result) == list(CRITERIA)
    importance = result["importance"].stability
    feasibility = result["feasibility"].stability
    assert importance is not None and feasibility is not None
    assert (importance["n_changed_rating"] == 0).all()
    old = before.loc[moved].set_index("panellist")["rating"]
    new = after.loc[moved].set_index("panellist")["rating"]
    assert int(feasibility.loc["q0", "n_changed_rating"]) == int((old != new).sum()) >= 1
    # Stability per criterion is stability on that criterion's two rounds, nothing else.
    expected = stability(
        before[before["criterion"] == "feasibility"].drop(columns="criterion"),
        after[after["criterion"] == "feasibility"].drop(columns="criterion"),
    )
    pd.testing.assert_frame_equal(feasibility, expected)
    figures = result["validity"].as_dict()
    assert set(figures) == {"criterion", "alpha", "groups", "stability"}
    assert set(figures["groups"]) == {"clinician", "manager", "patient"}
    json.dumps(figures, allow_nan=False)
    assert analyse_by_criterion(after, bootstrap=0)["importance"].stability is None


def test_a_criterion_rated_only_in_the_previous_round_reads_not_rated_in_both() -> None:
    before = criterion_table(seed=2)
    after = before[before["criterion"] != "validity"]
    result = stability_by_criterion(before, after)
    assert list(result) == ["importance", "feasibility", "validity"]
    assert set(result["validity"]["verdict"]) == {"not rated in both rounds"}


def test_functions_that_would_mix_criteria_refuse_the_table() -> None:
    df = criterion_table()
    for call in (
        lambda: alpha(df, bootstrap=0),
        lambda: item_summary(df, SCALE, PercentageRule()),
        lambda: stability(df, df),
    ):
        with pytest.raises(ScoringInputError, match="needs the ratings of one criterion"):
            call()
    one = df[df["criterion"] == "importance"]
    other = df[df["criterion"] == "validity"]
    with pytest.raises(ScoringInputError, match="compares one criterion across rounds"):
        stability(one, other)
    assert alpha(one, bootstrap=0).value == pytest.approx(package_alpha(one), rel=1e-9)
    with pytest.raises(ScoringInputError, match="no 'criterion' column"):
        split_by_criterion(one.drop(columns="criterion"))


def test_one_panellist_may_rate_an_item_once_per_criterion_not_twice_on_one() -> None:
    df = pd.DataFrame(
        {
            "panellist": ["a", "a", "a"],
            "item": ["q1", "q1", "q1"],
            "criterion": ["importance", "validity", "importance"],
            "rating": [7, 8, 2],
        }
    )
    validate_ratings(df.iloc[:2], SCALE)
    with pytest.raises(
        ScoringInputError,
        match="row 2: panellist 'a' rated item 'q1' more than once on criterion 'importance'",
    ):
        validate_ratings(df, SCALE)


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        (["importance", "", "validity"], "row 1: criterion is empty"),
        (["importance", None, "validity"], "row 1: criterion is empty"),
        (["importance", "  ", "validity"], "row 1: criterion is empty"),
        (["importance", np.nan, "validity"], "row 1: criterion is empty"),
        (["importance", "validity", 3], "row 2: criterion 3 mixes a number with names"),
        ([3, 4, "validity"], "row 2: criterion 'validity' mixes a name with numbers"),
        ([1.0, 2.0, 3.0], "row 0: criterion 1.0 is a number with a fraction"),
        (["importance", True, "validity"], "row 1: criterion True is a yes/no value"),
        (["importance", "validity", ["a", "b"]], "row 2: criterion ['a', 'b'] is of type list"),
    ],
)
def test_bad_criteria_are_named_with_their_row(criteria: list[object], message: str) -> None:
    df = pd.DataFrame(
        {"panellist": ["a", "b", "c"], "item": ["q1", "q1", "q1"], "rating": [7, 8, 9]}
    )
    df["criterion"] = pd.Series(criteria, dtype=object)
    with pytest.raises(ScoringInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate_ratings(df, SCALE)


# ----- the command line ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("ratings.json", ["ratings.csv", "--format", "json", "--seed", "7", "--bootstrap", "300"]),
        (
            "ratings.table",
            ["ratings.csv", "--format", "table", "--seed", "7", "--bootstrap", "300"],
        ),
        ("ratings.csv", ["ratings.csv", "--format", "csv", "--seed", "7", "--bootstrap", "300"]),
        (
            "ratings-kalpha.json",
            [
                "ratings.csv",
                "--format",
                "json",
                "--seed",
                "7",
                "--bootstrap",
                "300",
                "--ci-method",
                "kalpha",
                "--level",
                "interval",
                "--rule",
                "rand",
                "--require-all-groups",
            ],
        ),
        ("wide.json", ["wide.csv", "--format", "json", "--seed", "3", "--bootstrap", "200"]),
        ("wide.table", ["wide.csv", "--format", "table", "--seed", "3", "--bootstrap", "200"]),
        ("wide.csv", ["wide.csv", "--format", "csv", "--seed", "3", "--bootstrap", "200"]),
    ],
)
def test_without_a_criterion_column_the_output_is_what_it_was_before_criteria(
    capsys: pytest.CaptureFixture[str], name: str, args: list[str]
) -> None:
    """The goldens were written by `python -m scoring` at the commit before criteria existed."""
    assert main([str(GOLDEN / args[0]), *args[1:]]) == 0
    assert capsys.readouterr().out == (GOLDEN / f"{name}.golden").read_text()


def test_one_criterion_reports_exactly_what_the_table_without_the_column_reports() -> None:
    plain_table = load_ratings(GOLDEN / "ratings.csv")
    with_column = plain_table.assign(criterion="importance")
    args = (SCALE, PercentageRule(), "ordinal", 300, 7)
    without = analyse_round(plain_table, *args)
    per_criterion = analyse_round(with_column, *args)
    assert "criteria" not in without
    assert list(per_criterion["criteria"]) == ["importance"]
    for key in ("alpha", "items", "groups", "stability", "alpha_trend"):
        assert per_criterion["criteria"]["importance"][key] == without[key], key


def write_criteria_file(tmp_path: Path, header: str = "rating") -> Path:
    plain_table = load_ratings(GOLDEN / "ratings.csv")
    both = pd.concat(
        [
            plain_table.assign(criterion="importance"),
            # Feasibility mirrors the ratings, so its figures differ from importance's.
            plain_table.assign(criterion="feasibility", rating=10 - plain_table["rating"]),
        ]
    )
    path = tmp_path / "criteria.csv"
    both.rename(columns={"rating": header}).to_csv(path, index=False)
    return path


def test_the_json_reports_each_criterion_separately(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_criteria_file(tmp_path)
    assert main([str(path), "--format", "json", "--seed", "7", "--bootstrap", "300"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report["criteria"]) == ["importance", "feasibility"]
    assert report["settings"]["criteria"] == ["importance", "feasibility"]
    assert report["alpha"] is None and report["items"] == [] and report["groups"] == {}
    golden = json.loads((GOLDEN / "ratings.json.golden").read_text())
    importance = report["criteria"]["importance"]
    for key in ("alpha", "items", "groups", "stability", "alpha_trend"):
        assert importance[key] == golden[key], key
    feasibility = report["criteria"]["feasibility"]
    table = load_ratings(path)
    part = table[(table["criterion"] == "feasibility") & (table["round"] == 2)]
    assert feasibility["alpha"]["value"] == pytest.approx(package_alpha(part.dropna()), rel=1e-9)
    assert [i["median"] for i in feasibility["items"]] == [
        10 - i["median"] for i in importance["items"]
    ]
    assert feasibility["stability"]["rounds"] == [1, 2]
    assert set(feasibility["groups"]) == {"clin", "nurse", "pat"}


def test_table_markdown_and_csv_show_each_criterion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_criteria_file(tmp_path, header="score")  # "score" reads as "rating"
    assert main([str(path), "--bootstrap", "0"]) == 0
    text = capsys.readouterr().out
    assert text.index("Criterion: importance") < text.index("Criterion: feasibility")
    assert text.count("Stability, round 1 to 2") == 2
    assert text.count("All panellists: alpha") == 2

    assert main([str(path), "--bootstrap", "0", "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "## Criterion: importance" in md and "## Criterion: feasibility" in md
    assert md.count("| item | n | unable | median | IQR |") == 2
    assert md.count("### Stability, round 1 to 2") == 2

    assert main([str(path), "--bootstrap", "0", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("criterion,scope,item,n,")
    assert len(lines) == 1 + 2 * (3 + 3 * 3)  # per criterion: 3 items, 3 groups × 3 items
    assert {line.split(",")[0] for line in lines[1:]} == {"importance", "feasibility"}


def test_markdown_escapes_a_criterion_name_that_would_break_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "panellist,item,criterion,rating\n"
        "p1,a|b,*bold*,8\np2,a|b,*bold*,7\np1,c,*bold*,2\np2,c,*bold*,3\n"
    )
    assert main([str(path), "--bootstrap", "0", "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "## Criterion: \\*bold\\*" in md
    assert "| a\\|b | 2 |" in md


def test_markdown_without_criteria_has_the_table_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(
            [
                str(GOLDEN / "ratings.csv"),
                "--format",
                "markdown",
                "--seed",
                "7",
                "--bootstrap",
                "300",
            ]
        )
        == 0
    )
    md = capsys.readouterr().out
    assert "Criterion" not in md
    assert "alpha (ordinal) = 0.373, 95% CI \\[-0.222, 0.714\\]" in md  # as in the table golden
    assert "| q2 | 4 | 1 | 2.5 | 1.0 | 100 | 0 | 0.16 | consensus\\_out |" in md


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "panellist,item,criterion,rating\np1,q1,importance,8\np2,q1,,7\n",
            "row 3: criterion is empty",
        ),
        (
            "panellist,item,rating,score\np1,q1,8,8\n",
            "the header has both 'rating' and 'score'",
        ),
        (
            "panellist,item,criterion,rating\np1,q1,importance,8\np1,q1, importance ,7\n",
            "row 3: panellist 'p1' rated item 'q1' more than once on criterion 'importance'",
        ),
    ],
)
def test_bad_criterion_files_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = tmp_path / "r.csv"
    path.write_text(text)
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_an_xlsx_criterion_column_mixing_names_and_numbers_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.xlsx"
    pd.DataFrame(
        {
            "panellist": ["a", "b", "a", "b"],
            "item": ["q1", "q1", "q1", "q1"],
            "criterion": ["importance", "importance", 2, 2],
            "rating": [8, 9, 3, 4],
        }
    ).to_excel(path, index=False)
    assert main([str(path)]) == 2
    assert "row 4: criterion 2 mixes a number with names" in capsys.readouterr().err


def test_criteria_may_be_whole_number_ids_and_keep_them_as_keys() -> None:
    df = criterion_table(seed=4)
    ids = df.assign(criterion=df["criterion"].map({c: k + 1 for k, c in enumerate(CRITERIA)}))
    by_name = alpha_by_criterion(df, bootstrap=0)
    by_id = alpha_by_criterion(ids, bootstrap=0)
    assert list(by_id) == [1, 2, 3]
    assert [r.value for r in by_id.values()] == [r.value for r in by_name.values()]
    assert list(split_by_criterion(ids.assign(criterion=ids["criterion"].astype(np.int64)))) == [
        1,
        2,
        3,
    ]
