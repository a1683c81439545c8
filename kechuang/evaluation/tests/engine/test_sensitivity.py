"""Sensitivity analysis: the Saltelli design, COINr's estimators, analytic Sobol indices."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kechuang.evaluation.engine import sensitivity as sa
from kechuang.evaluation.engine.pipeline import build
from kechuang.evaluation.management.commands import _index_analysis as cli

from .test_uncertainty import CHOICES, SPEC, SPEC_YAML, framework_and_table, write_inputs

FEW = settings(max_examples=30, deadline=None)


# ---------------------------------------------------------------- the design


@FEW
@given(st.integers(1, 30), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_design_has_the_saltelli_block_structure(n: int, d: int, seed: int) -> None:
    x = sa.sa_sample(n, d, np.random.default_rng(seed))
    assert x.shape == (n * (d + 2), d)
    a, b = x[:n], x[n : 2 * n]
    for i in range(d):
        block = x[(2 + i) * n : (3 + i) * n]
        np.testing.assert_array_equal(block[:, i], b[:, i])
        others = [j for j in range(d) if j != i]
        np.testing.assert_array_equal(block[:, others], a[:, others])
    assert np.all((x >= 0) & (x < 1))


def test_design_fills_a_and_b_column_by_column_as_r_does() -> None:
    """R: Xbase <- matrix(runif(2dN), nrow = N); A = Xbase[, 1:d], B = Xbase[, (d+1):(2d)]."""
    n, d = 5, 3
    stream = np.random.default_rng(42).random(2 * d * n)
    x = sa.sa_sample(n, d, np.random.default_rng(42))
    for j in range(d):
        np.testing.assert_array_equal(x[:n, j], stream[j * n : (j + 1) * n])
        np.testing.assert_array_equal(x[n : 2 * n, j], stream[(d + j) * n : (d + j + 1) * n])


def test_discrete_parameters_are_cut_over_the_whole_column() -> None:
    design = np.array([[0.10, 0.2], [0.30, 0.5], [0.55, 0.9], [0.90, 0.95]])
    mapped = sa.map_sample(design, [sa.Discrete(2), sa.Continuous(10, 20)])
    # cut(c(.1, .3, .55, .9), 2): breaks at the middle of the sample's range, 0.5.
    assert mapped[:, 0].tolist() == [0, 0, 1, 1]
    np.testing.assert_allclose(mapped[:, 1], [12, 15, 19, 19.5])
    with pytest.raises(ValueError, match="上限应大于下限"):
        sa.map_sample(design, [sa.Discrete(2), sa.Continuous(1, 1)])


# ---------------------------------------------------------------- the estimators


def test_estimators_are_coinr_sa_estimate() -> None:
    # R: SA_estimate(c(1.5, 2.25, 0.5, 3, 2, 1, 4.5, 2.5, 1.75, 2.25, 0.25, 3.5, 2.5,
    #                  1.5, 4, 2.75), N = 4, d = 2), printed with %.17g.
    y = [1.5, 2.25, 0.5, 3, 2, 1, 4.5, 2.5, 1.75, 2.25, 0.25, 3.5, 2.5, 1.5, 4, 2.75]
    result = sa.sobol_estimates(np.array(y), 4, 2)
    assert result.variance == pytest.approx(1.5524553571428572, rel=1e-15)
    np.testing.assert_allclose(result.first, [0.100647016534867, 2.6369518332135153], rtol=1e-14)
    np.testing.assert_allclose(result.total, [0.0301941049604601, 1.1171818835370237], rtol=1e-14)
    assert np.isnan(result.first_low).all()


def test_estimators_match_r_on_a_random_output() -> None:
    # R: set.seed(3); yy <- runif(50); SA_estimate(yy, N = 10, d = 3)
    y = np.array(
        [
            0.16804152633994818, 0.80751639907248318, 0.38494235137477517, 0.32773431716486812,
            0.60210067476145923, 0.60439405404031277, 0.12463344424031675, 0.29460092424415052,
            0.57760991901159286, 0.63097927439957857, 0.51201589754782617, 0.50502391415648162,
            0.53403535345569253, 0.5572494356893003, 0.86791948764584959, 0.82970869331620634,
            0.11144915339536965, 0.70368835888803005, 0.89748826436698437, 0.27973255375400186,
            0.22820188128389418, 0.015329892514273524, 0.12898155860602856, 0.093381928512826562,
            0.23688500747084618, 0.79114740947261453, 0.59973156568594277, 0.91014771093614399,
            0.56042455392889678, 0.75570476916618645, 0.37917189113795757, 0.37328097689896822,
            0.17029064288362861, 0.45330732362344861, 0.25841396045871079, 0.33626595232635736,
            0.8895830346737057, 0.20194629882462323, 0.57918604277074337, 0.20763202989473939,
            0.2814687923528254, 0.78628120408393443, 0.17301934934221208, 0.57074751821346581,
            0.4192829632665962, 0.26762216514907777, 0.047809441806748509, 0.10349305393174291,
            0.3140314556658268, 0.80064106220379472,
        ]
    )  # fmt: skip
    result = sa.sobol_estimates(y, 10, 3)
    assert result.variance == pytest.approx(0.058830139316088839, rel=1e-14)
    np.testing.assert_allclose(
        result.first, [-0.49806668384614178, -1.3149218352642118, -1.1909503472496685], rtol=1e-13
    )
    np.testing.assert_allclose(
        result.total, [1.3091443210180416, 1.0691388368035677, 0.34404469577255997], rtol=1e-13
    )


def test_linear_model_has_the_analytic_indices() -> None:
    """y = Σ a_i x_i, x_i ~ U(−1, 1) independent: S_i = ST_i = a_i² / Σ a_j²."""
    a = np.array([1.0, 2.0, 3.0, 0.5])
    analytic = a**2 / np.sum(a**2)
    n = 20_000
    result = sa.sobol(
        lambda x: x @ a,
        [sa.Continuous(-1, 1)] * 4,
        n,
        np.random.default_rng(2024),
        bootstrap=200,
    )
    # The estimators' standard errors at this N are about 0.01.
    np.testing.assert_allclose(result.first, analytic, atol=0.03)
    np.testing.assert_allclose(result.total, analytic, atol=0.03)
    assert np.all(result.first_low < result.first_high)
    assert np.all(result.total_low < result.total_high)
    assert np.all((result.first_low - 0.02 <= analytic) & (analytic <= result.first_high + 0.02))
    assert np.all((result.total_low - 0.02 <= analytic) & (analytic <= result.total_high + 0.02))


def test_ishigami_has_the_analytic_indices() -> None:
    """Ishigami (a = 7, b = 0.1) on [−π, π]³: x3 acts only through its interaction with x1."""
    a, b, pi = 7.0, 0.1, math.pi

    def ishigami(x: np.ndarray) -> np.ndarray:
        return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])

    variance = a**2 / 8 + b * pi**4 / 5 + b**2 * pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 / 18 - b**2 * pi**8 / 50
    first = np.array([v1, v2, 0.0]) / variance  # 0.3139, 0.4424, 0
    total = np.array([v1 + v13, v2, v13]) / variance  # 0.5576, 0.4424, 0.2437
    result = sa.sobol(ishigami, [sa.Continuous(-pi, pi)] * 3, 30_000, np.random.default_rng(7))
    np.testing.assert_allclose(result.first, first, atol=0.04)
    np.testing.assert_allclose(result.total, total, atol=0.04)


def test_estimates_are_deterministic_given_the_generator() -> None:
    y = np.random.default_rng(0).random(100 * 5)
    one = sa.sobol_estimates(y, 100, 3, bootstrap=300, rng=np.random.default_rng(1))
    two = sa.sobol_estimates(y, 100, 3, bootstrap=300, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(one.first_low, two.first_low)
    np.testing.assert_array_equal(one.total_high, two.total_high)
    with pytest.raises(ValueError, match="N\\(d \\+ 2\\)"):
        sa.sobol_estimates(y[:-1], 100, 3)
    with pytest.raises(ValueError, match="rng"):
        sa.sobol_estimates(y, 100, 3, bootstrap=10)


# ---------------------------------------------------------------- the index


def test_sensitivity_of_the_index_ranks() -> None:
    framework, table = framework_and_table(seed=3, n=30)
    n = 40

    def run(seed: int) -> sa.SensitivityResult:
        return sa.sensitivity(
            table,
            framework,
            SPEC,
            samples=n,
            rng=np.random.default_rng(seed),
            weight_noise=0.5,
            weight_sets=20,
            bootstrap=100,
            **CHOICES,
        )

    result = run(1)
    assert result.parameters == ("winmax", "normalisation", "weights", "aggregation")
    d = len(result.parameters)
    assert result.design.shape == (n * (d + 2), d)
    assert result.outputs.shape == (n * (d + 2),)
    assert np.all(np.isfinite(result.outputs))
    assert np.all(result.outputs >= 0)
    assert np.all(np.isfinite(result.indices.total))
    assert np.all(result.indices.total >= 0)
    # The output of a run is the mean absolute rank shift from the nominal build.
    nominal = build(table, framework, SPEC).ranks
    assert nominal is not None
    shifts = np.abs(result.uncertainty.ranks - nominal)
    np.testing.assert_allclose(result.outputs, shifts.mean(axis=1))
    # A run of block AB_i differs from the matching run of A in choice i only.
    choices = result.uncertainty.choices
    columns = {"winmax": 0, "normalisation": 1, "aggregation": 2}
    for i, name in enumerate(result.parameters):
        block = slice((2 + i) * n, (3 + i) * n)
        for other, column in columns.items():
            if other != name:
                np.testing.assert_array_equal(choices[block, column], choices[:n, column])
    again = run(1)
    np.testing.assert_array_equal(result.outputs, again.outputs)
    np.testing.assert_array_equal(result.indices.first_high, again.indices.first_high)
    # COINr's rank statistics come from the 2N random runs (A and B) only.
    assert result.uncertainty.q95.shape == (30,)


def test_sensitivity_needs_two_factors_and_enough_samples() -> None:
    framework, table = framework_and_table()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="至少需要两个"):
        sa.sensitivity(table, framework, SPEC, samples=10, rng=rng, weight_noise=0.3)
    with pytest.raises(ValueError, match="不小于 3"):
        sa.sensitivity(
            table, framework, SPEC, samples=2, rng=rng, winmax=[1, 2], aggregations=["arithmetic"]
        )


def test_cli_writes_sobol_csv(tmp_path: Path) -> None:
    framework, table = framework_and_table(seed=5, n=20)
    options = write_inputs(tmp_path, framework, table, SPEC_YAML)
    parser = cli.argparse.ArgumentParser()
    cli.add_arguments(parser.add_subparsers(dest="action"))
    arguments = [
        "sensitivity",
        *("--data", str(options["data"]), "--meta", str(options["meta"])),
        *("--spec", str(options["spec"]), "--out", str(options["out"])),
        *("--samples", "30", "--seed", "4", "--winmax", "1,3"),
        *("--aggregations", "arithmetic,geometric", "--weight-sets", "10", "--bootstrap", "50"),
    ]
    out = io.StringIO()
    path = cli.handle_sensitivity(vars(parser.parse_args(arguments)), out)
    assert "150 次敏感性运行" in out.getvalue()  # N(d + 2) = 30 · 5
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["parameter"] for row in rows] == ["winmax", "weights", "aggregation"]
    header = ["parameter", "S_i", "ST_i", "S_i_low", "S_i_high", "ST_i_low", "ST_i_high"]
    assert list(rows[0]) == header
    for row in rows:
        assert float(row["S_i_low"]) <= float(row["S_i_high"])
        assert float(row["ST_i_low"]) <= float(row["ST_i_high"])
