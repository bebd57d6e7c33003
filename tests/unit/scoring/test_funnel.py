"""Funnel plots: hand-worked cases, an independent loop-by-loop implementation on random data
for every method, Spearman against ranks computed here, and the command line."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.errors import ScoringInputError
from scoring.funnel import analyse, assessment, curves, main

TOL = 1e-6


def table(o: list[float], n: list[float], **extra: list[object]) -> pd.DataFrame:
    units = [f"T{i}" for i in range(len(o))]
    frame = pd.DataFrame({"unit": units, "numerator": o, "denominator": n, **extra})
    frame.index = pd.RangeIndex(2, 2 + len(o))
    return frame


# --- hand-worked ---------------------------------------------------------------------------
# O = 10, 20, 30 of 100 each: θ0 = 0.2, s = 0.04, z = −2.5, 0, 2.5. Type-7 quantiles of three
# values at 0.1 and 0.9: −2.5 + 0.2·2.5 = −2.0 and 0 + 0.8·2.5 = 2.0, so z_w = −2, 0, 2 and
# φ = 8/3; Iφ = 8 > 2: over-dispersed. w = 625 each: Σw − Σw²/Σw = 1875 − 625 = 1250, so
# τ² = (8 − 2)/1250 = 0.0048, sd = sqrt(0.0016 + 0.0048) = 0.08, z_adj = −1.25, 0, 1.25.


def test_additive_hand_worked() -> None:
    r = analyse(table([10, 20, 30], [100, 100, 100]))
    assert r.target == pytest.approx(0.2)
    assert r.phi == pytest.approx(8 / 3)
    assert r.overdispersed
    assert r.tau2 == pytest.approx(0.0048)
    assert r.units["z"].tolist() == pytest.approx([-2.5, 0, 2.5])
    assert r.units["z_adjusted"].tolist() == pytest.approx([-1.25, 0, 1.25])
    assert r.units["reliability"].tolist() == pytest.approx([0.75] * 3)
    assert r.reliability == pytest.approx(0.75)
    first = r.as_dict()["units"][0]
    assert first["limits"]["95"] == pytest.approx([0.2 - 1.959964 * 0.08, 0.2 + 1.959964 * 0.08])
    # 0.2 − 3.090232·0.08 < 0: clipped to 0.
    assert first["limits"]["99.8"] == pytest.approx([0.0, 0.2 + 3.090232 * 0.08])
    assert r.units["band"].tolist() == ["expected"] * 3


def test_multiplicative_hand_worked() -> None:
    r = analyse(table([10, 20, 30], [100, 100, 100]), overdispersion="multiplicative")
    sd = 0.04 * math.sqrt(8 / 3)
    assert r.units["z_adjusted"].tolist() == pytest.approx([-0.1 / sd, 0, 0.1 / sd])
    # Reliability comes from the additive τ² whatever the method.
    assert r.reliability == pytest.approx(0.75)
    assert r.tau2 == pytest.approx(0.0048)


def test_none_keeps_the_binomial_limits() -> None:
    r = analyse(table([10, 20, 30], [100, 100, 100]), overdispersion="none")
    assert r.units["z_adjusted"].tolist() == pytest.approx([-2.5, 0, 2.5])
    assert r.units["band"].tolist() == ["lower", "expected", "higher"]


def test_without_over_dispersion_every_method_uses_s() -> None:
    # z = −0.25, 0, 0.25; winsorised −0.2, 0, 0.2; φ = 0.08/3, Iφ = 0.08 ≤ 2.
    for method in ("additive", "multiplicative", "none"):
        r = analyse(table([19, 20, 21], [100, 100, 100]), overdispersion=method)
        assert not r.overdispersed
        assert r.phi == pytest.approx(0.08 / 3)
        assert r.tau2 == 0
        assert r.reliability == 0
        assert r.units["z_adjusted"].tolist() == pytest.approx([-0.25, 0, 0.25])


def test_a_given_target_and_no_winsorising() -> None:
    r = analyse(table([10, 20, 30], [100, 100, 100]), target=0.25, winsorise=0)
    s = math.sqrt(0.25 * 0.75 / 100)
    z = [(p - 0.25) / s for p in (0.1, 0.2, 0.3)]
    assert r.units["z"].tolist() == pytest.approx(z)
    assert r.phi == pytest.approx(sum(v * v for v in z) / 3)


def test_bands_follow_the_limits() -> None:
    r = analyse(table([1, 30, 50, 70, 99, 49, 51], [100] * 7), overdispersion="none", winsorise=0)
    s = math.sqrt(0.5 * 0.5 / 100)
    assert r.units["z"].tolist() == pytest.approx(
        [(p - 0.5) / s for p in (0.01, 0.3, 0.5, 0.7, 0.99, 0.49, 0.51)]
    )
    assert r.units["band"].tolist() == [
        "much-lower",
        "much-lower",
        "expected",
        "much-higher",
        "much-higher",
        "expected",
        "expected",
    ]
    r = analyse(table([40, 50, 60, 50, 50], [100] * 5), overdispersion="none", target=0.5)
    # z = −2, 0, 2: beyond 1.959964, within 3.090232.
    assert r.units["band"].tolist() == ["lower", "expected", "higher", "expected", "expected"]
    counts = r.assessment_counts()
    assert counts == {"needs-improvement": 1, "as-expected": 3, "good": 1}
    assert r.band_counts()["lower"] == 1


def test_direction_words() -> None:
    assert assessment("much-lower") == "needs-improvement"
    assert assessment("lower", lower_is_better=True) == "good"
    assert assessment("higher", lower_is_better=True) == "needs-improvement"
    assert assessment("expected", lower_is_better=True) == "as-expected"


def test_curves_match_the_limits_at_each_unit() -> None:
    r = analyse(table([10, 20, 30, 12], [100, 150, 120, 80]))
    c = curves(r, points=50)
    assert c["denominator"].iloc[0] == pytest.approx(80)
    assert c["denominator"].iloc[-1] == pytest.approx(150)
    assert c["hi95"].iloc[-1] == pytest.approx(r.units["hi95"].iloc[1])
    assert (c["hi95"].diff().dropna() <= 1e-12).all()  # the funnel narrows


# --- an independent implementation, loop by loop ------------------------------------------


def quantile7(values: list[float], q: float) -> float:
    xs = sorted(values)
    h = (len(xs) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def reference(o: list[float], n: list[float], method: str, q: float) -> dict[str, object]:
    units = len(o)
    theta = sum(o) / sum(n)
    p, s, z = [], [], []
    for oi, ni in zip(o, n, strict=True):
        p.append(oi / ni)
        s.append(math.sqrt(theta * (1 - theta) / ni))
        z.append((p[-1] - theta) / s[-1])
    low, high = quantile7(z, q), quantile7(z, 1 - q)
    phi = 0.0
    for zi in z:
        zw = low if zi < low else high if zi > high else zi
        phi += zw * zw
    phi /= units
    sum_w = sum_w2 = 0.0
    for si in s:
        w = 1 / (si * si)
        sum_w += w
        sum_w2 += w * w
    tau2 = max(0.0, (units * phi - (units - 1)) / (sum_w - sum_w2 / sum_w))
    over = units * phi > units - 1
    out = []
    for i in range(units):
        if not over or method == "none":
            sd = s[i]
        elif method == "additive":
            sd = math.sqrt(s[i] ** 2 + tau2)
        else:
            sd = s[i] * math.sqrt(phi)
        za = (p[i] - theta) / sd
        if za < -3.090232:
            band = "much-lower"
        elif za < -1.959964:
            band = "lower"
        elif za <= 1.959964:
            band = "expected"
        elif za <= 3.090232:
            band = "higher"
        else:
            band = "much-higher"

        def clip(v: float) -> float:
            return min(1.0, max(0.0, v))

        out.append(
            {
                "value": p[i],
                "z": z[i],
                "z_adjusted": za,
                "band": band,
                "limits": {
                    "95": [clip(theta - 1.959964 * sd), clip(theta + 1.959964 * sd)],
                    "99.8": [clip(theta - 3.090232 * sd), clip(theta + 3.090232 * sd)],
                },
                "reliability": tau2 / (tau2 + s[i] ** 2) if tau2 > 0 else 0.0,
            }
        )
    return {
        "target": theta,
        "phi": phi,
        "tau2": tau2,
        "reliability": sum(u["reliability"] for u in out) / units,  # type: ignore[misc]
        "units": out,
    }


def random_indicator(seed: int, units: int) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(seed)
    n = rng.integers(20, 3000, size=units)
    true = np.clip(rng.normal(0.3, rng.uniform(0, 0.08), size=units), 0.01, 0.99)
    o = rng.binomial(n, true)
    return o.astype(float).tolist(), n.astype(float).tolist()


def assert_matches(got: dict[str, object], want: dict[str, object]) -> None:
    for key in ("target", "phi", "tau2", "reliability"):
        assert got[key] == pytest.approx(want[key], abs=TOL), key
    for g, w in zip(got["units"], want["units"], strict=True):  # type: ignore[call-overload]
        for key in ("value", "z", "z_adjusted", "reliability"):
            assert g[key] == pytest.approx(w[key], abs=TOL), key
        assert g["band"] == w["band"]
        for k in ("95", "99.8"):
            assert g["limits"][k] == pytest.approx(w["limits"][k], abs=TOL)


@pytest.mark.parametrize("method", ["additive", "multiplicative", "none"])
@pytest.mark.parametrize("seed", range(6))
def test_matches_the_loop_by_loop_definition(method: str, seed: int) -> None:
    q = [0.1, 0.0, 0.05, 0.2, 0.1, 0.25][seed]
    o, n = random_indicator(seed, units=[3, 7, 40, 150, 333, 1000][seed])
    got = analyse(table(o, n), overdispersion=method, winsorise=q).as_dict()
    assert_matches(got, reference(o, n, method, q))


@pytest.mark.parametrize("method", ["additive", "multiplicative", "none"])
def test_the_command_line_reproduces_the_definition_on_unseen_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], method: str
) -> None:
    o, n = random_indicator(99, units=200)
    path = tmp_path / "trusts.csv"
    pd.DataFrame(
        {"Trust": [f"R{i:03d}" for i in range(200)], "Recruits": o, "Admissions": n}
    ).to_csv(path, index=False)
    status = main(
        [
            str(path),
            "--unit",
            "Trust",
            "--numerator",
            "Recruits",
            "--denominator",
            "Admissions",
            "--overdispersion",
            method,
            "--format",
            "json",
        ]
    )
    assert status == 0
    got = json.loads(capsys.readouterr().out)
    assert got["overdispersion"] == method
    assert_matches(got, reference(o, n, method, 0.1))
    assert set(got["units"][0]) == {
        "unit",
        "numerator",
        "denominator",
        "value",
        "z",
        "z_adjusted",
        "band",
        "limits",
        "reliability",
    }
    assert got["association"] is None


# --- association with a quality rating -----------------------------------------------------


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def pearson(x: list[float], y: list[float]) -> float:
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)


def test_spearman_matches_ranks_computed_here_with_cqc_words_and_blanks() -> None:
    o, n = random_indicator(5, units=60)
    words = ["Inadequate", "Requires improvement", "Good", "Outstanding"]
    rng = np.random.default_rng(1)
    rating: list[object] = [words[k] for k in rng.integers(0, 4, size=60)]
    rating[3] = ""  # not rated: left out of the association
    rating[7] = "good"  # words match whatever their case
    r = analyse(table(o, n, rating=rating), rating="rating")
    kept = [i for i in range(60) if rating[i] != ""]
    p = [o[i] / n[i] for i in kept]
    code = [float([w.lower() for w in words].index(str(rating[i]).lower())) for i in kept]
    assert r.association is not None
    assert r.association.n == 59
    assert r.association.spearman_rho == pytest.approx(pearson(ranks(p), ranks(code)), abs=TOL)
    assert r.by_rating is not None
    assert [g.rating for g in r.by_rating] == words
    assert sum(g.n for g in r.by_rating) == 59


def test_numeric_ratings_and_a_given_order() -> None:
    o, n = [10.0, 20, 30, 40], [100.0, 100, 100, 100]
    r = analyse(table(o, n, rating=[1, 2, 3, 4]), rating="rating")
    assert r.association is not None and r.association.spearman_rho == pytest.approx(1.0)
    r = analyse(
        table(o, n, rating=["A", "B", "C", "D"]), rating="rating", rating_order=["D", "C", "B", "A"]
    )
    assert r.association is not None and r.association.spearman_rho == pytest.approx(-1.0)


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("o", "n", "message"),
    [
        ([1, -1, 3], [10, 10, 10], "row 3: numerator is negative"),
        ([1, 1, 3], [10, -10, 10], "row 3: denominator is negative"),
        ([1, 11, 3], [10, 10, 10], "row 3: numerator is more than denominator"),
        ([1, 0, 3], [10, 0, 10], "row 3: denominator is 0"),
        ([1, "x", 3], [10, 10, 10], "row 3: numerator 'x' is not a number"),
        ([1, 2, 3], [10, "", 10], "row 3: denominator '' is not a number"),
        ([1, 2], [10, 10], "at least 3"),
        ([0, 0, 0], [10, 10, 10], "overall proportion is 0"),
        ([10, 10, 10], [10, 10, 10], "overall proportion is 1"),
    ],
)
def test_bad_input_names_the_row(o: list[object], n: list[object], message: str) -> None:
    frame = pd.DataFrame(
        {"unit": [f"T{i}" for i in range(len(o))], "numerator": o, "denominator": n}
    )
    frame.index = pd.RangeIndex(2, 2 + len(o))
    with pytest.raises(ScoringInputError, match=message):
        analyse(frame)


def test_duplicate_units_and_unknown_ratings_name_the_row() -> None:
    frame = table([1, 2, 3], [10, 10, 10])
    frame.loc[4, "unit"] = "t0"
    with pytest.raises(
        ScoringInputError, match=r"row 4: unit 't0' appears twice \(first on row 2\)"
    ):
        analyse(frame)
    with pytest.raises(ScoringInputError, match="row 3: rating 'Great' is not one of"):
        analyse(table([1, 2, 3], [10, 10, 10], rating=["Good", "Great", "Good"]), rating="rating")


@pytest.mark.parametrize(
    "args",
    [
        ["--overdispersion", "additive", "--target", "1.5"],
        ["--winsorise", "0.5"],
        ["--unit", "trust"],
    ],
)
def test_bad_options_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("unit,numerator,denominator\nA,1,10\nB,2,10\nC,3,10\n")
    assert main([str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")


def test_python_dash_m_with_xlsx_csv_output_and_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    pd.DataFrame(
        {"unit": ["A", "B", "C"], "numerator": [1, 2, 3], "denominator": [10, 10, 10]}
    ).to_excel(path, index=False)
    done = subprocess.run(
        [sys.executable, "-m", "scoring.funnel", str(path), "--format", "csv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("unit,numerator,denominator,value,z,z_adjusted")
    assert len(done.stdout.splitlines()) == 4
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,numerator,denominator\nA,1,10\nB,12,10\nC,3,10\n")
    done = subprocess.run(
        [sys.executable, "-m", "scoring.funnel", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == "error: row 3: numerator is more than denominator\n"
    table_out = subprocess.run(
        [sys.executable, "-m", "scoring.funnel", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "reliability:" in table_out and "needs improvement:" in table_out
