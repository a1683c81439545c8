"""Uncertainty analysis: COINr's UA on ASEM, the stacked aggregation against build(), properties."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kechuang.evaluation.engine import uncertainty as ua
from kechuang.evaluation.engine.fast_aggregate import StackAggregator, rank_runs
from kechuang.evaluation.engine.framework import Framework
from kechuang.evaluation.engine.pipeline import build, rank_descending
from kechuang.evaluation.engine.spec import Spec
from kechuang.evaluation.engine.steps.aggregate import LevelMethod
from kechuang.evaluation.engine.table import DataTable
from kechuang.evaluation.management.commands import _index_analysis as cli

from .conftest import DEFAULT_SPEC, needs_asem, spec_of, table_for, tree_framework

FEW = settings(max_examples=30, deadline=None)

# ---------------------------------------------------------------- COINr's own UA

# Generated with COINr 1.1.14 (R 4.2.2):
#   set.seed(7); coin <- build_example_coin(quietly = TRUE)
#   SA_specs: Winmax = 1:5 ($Log$Treat$global_specs$f1_para$winmax),
#     Normalisation = list(n_minmax c(1,100), n_zscore c(10,2), n_minmax c(0,100))
#     ($Log$Normalise$global_specs), Aggregation = c("a_amean", "a_gmean") ($Log$Aggregate$f_ag)
#   res <- get_sensitivity(coin, SA_specs, N = 16, SA_type = "UA", dset = "Aggregated",
#                          iCode = "Index")
# The choices COINr drew (0-based alternatives), then res$RankStats printed with %.17g.
# Three runs (min-max 0–100 with the geometric mean) fail in COINr: NA, skipped by the stats.
COINR_WINMAX = (5, 2, 1, 1, 1, 4, 2, 5, 1, 3, 1, 1, 4, 1, 3, 1)
COINR_NORMALISATION = (1, 0, 2, 0, 1, 0, 2, 2, 2, 0, 1, 1, 2, 1, 2, 0)
COINR_AGGREGATION = (0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1)
COINR_RANK_STATS = """
AUS 35 34.92307692307692 35 34.600000000000001 35
AUT 7 7.5384615384615383 7 7 9
BEL 5 5.5384615384615383 6 3.6000000000000001 8
BGD 46 45.692307692307693 46 44.200000000000003 47
BGR 30 27.76923076923077 28 24 30
BRN 40 40 40 38.599999999999994 41
CHE 1 1 1 1 1
CHN 49 49.07692307692308 49 47 50
CYP 29 30.46153846153846 31 29 31
CZE 17 15.461538461538462 16 14 17
DEU 9 7.9230769230769234 8 6 9.3999999999999986
DNK 3 2.0769230769230771 2 2 2.3999999999999986
ESP 19 21.692307692307693 21 18 25
EST 22 21.076923076923077 22 16.799999999999997 26
FIN 13 12.538461538461538 13 11.6 13.399999999999999
FRA 21 19.923076923076923 20 16 23
GBR 15 15.153846153846153 15 13.600000000000001 17
GRC 32 32.615384615384613 33 32 33
HRV 18 18.46153846153846 19 13 22
HUN 20 20.153846153846153 20 18 23.399999999999999
IDN 43 43.46153846153846 44 42 44
IND 45 45.384615384615387 45 43.600000000000001 47
IRL 12 11.076923076923077 12 9.5999999999999996 12
ITA 28 28.46153846153846 28 28 29.399999999999999
JPN 34 35.153846153846153 34 34 39
KAZ 47 44.692307692307693 44 42.600000000000001 47.399999999999999
KHM 37 37.384615384615387 37 36 39.999999999999993
KOR 31 30.384615384615383 30 29.600000000000001 31.399999999999999
LAO 48 47.846153846153847 48 47 48.399999999999999
LTU 16 13.538461538461538 14 11 16
LUX 8 15.076923076923077 10 7 29
LVA 23 19 18 16 23
MLT 10 14 12 10.600000000000001 23
MMR 41 43.384615384615387 42 40.200000000000003 50
MNG 44 44.384615384615387 45 41.200000000000003 48
MYS 39 38 39 34 40.799999999999997
NLD 2 4.5384615384615383 4 2.6000000000000001 9
NOR 4 3.3846153846153846 3 3 4
NZL 33 32.307692307692307 32 31.600000000000001 33
PAK 50 49.769230769230766 50 48.600000000000001 51
PHL 38 39.230769230769234 39 38 41
POL 26 24.76923076923077 26 21 26
PRT 27 26.923076923076923 27 26 27.399999999999999
ROU 25 22.846153846153847 25 19 25.799999999999997
RUS 51 50.615384615384613 51 49 51
SGP 14 17.692307692307693 17 13.600000000000001 27
SVK 24 23.384615384615383 24 22 25
SVN 11 9 9 6 10.399999999999999
SWE 6 5.2307692307692308 5 4.5999999999999996 6
THA 42 39.53846153846154 41 36 42
VNM 36 36.46153846153846 36 36 37
"""


@needs_asem
def test_reproduces_coinr_uncertainty_on_asem(
    asem_framework: Framework, asem_table: DataTable
) -> None:
    spec = spec_of(*DEFAULT_SPEC["steps"])
    design = ua.alternatives(
        asem_framework,
        spec,
        winmax=[1, 2, 3, 4, 5],
        normalisations=[
            {"method": "minmax", "lower": 1, "upper": 100},
            {"method": "zscore", "mean": 10, "sd": 2},
            {"method": "minmax", "lower": 0, "upper": 100},
        ],
        aggregations=["arithmetic", "geometric"],
    )
    choices = np.array([[w - 1 for w in COINR_WINMAX], COINR_NORMALISATION, COINR_AGGREGATION]).T
    nominal = build(asem_table, asem_framework, spec)
    weights = np.tile(design.base_weights, (len(choices), 1))
    evaluation = ua.Runner(asem_table, design).evaluate(choices, weights, nominal.rows)
    assert evaluation.failed.tolist() == [n == 2 and a == 1 for n, a in choices[:, 1:].tolist()]
    mean, median, q05, q95 = ua.rank_statistics(evaluation.ranks)
    codes = asem_table.unit_codes[nominal.rows].tolist()
    expected = [line.split() for line in COINR_RANK_STATS.strip().splitlines()]
    assert sorted(codes) == [row[0] for row in expected]
    for code, *numbers in expected:
        i = codes.index(code)
        got = [nominal.ranks[i], mean[i], median[i], q05[i], q95[i]]
        # R's type-7 quantiles to the last bit (e.g. 38.599999999999994).
        assert got == [float(v) for v in numbers], code


# ---------------------------------------------------------------- small data


def framework_and_table(
    seed: int = 0, n: int = 40, missing: float = 0.1
) -> tuple[Framework, DataTable]:
    framework = tree_framework([3, 2, 4, 3], upper=[2, 2], directions=[1, -1, 1] + [1] * 9)
    rng = np.random.default_rng(seed)
    x = rng.lognormal(1.0, 0.8, size=(n, 12))
    x[rng.random(x.shape) < missing] = np.nan
    return framework, table_for(framework, x)


SPEC = spec_of(
    {"impute": {"method": "mean_group", "group": "Region"}},
    {"treat": {"winmax": 3}},
    {"normalise": {"method": "minmax", "lower": 1, "upper": 100}},
    {"aggregate": {}},
)
CHOICES = {
    "normalisations": [
        {"method": "minmax", "lower": 1, "upper": 100},
        {"method": "zscore", "mean": 10, "sd": 2},
        "rank",
    ],
    "aggregations": ["arithmetic", "geometric", {"method": "generalised_mean", "p": 0.5}],
    "winmax": [1, 3, None],
}


def test_every_run_equals_a_full_build_bit_for_bit() -> None:
    framework, table = framework_and_table()
    result = ua.uncertainty(
        table, framework, SPEC, runs=60, rng=np.random.default_rng(5), weight_noise=0.4, **CHOICES
    )
    assert not result.failed.any()
    combinations = {tuple(c) for c in result.choices.tolist()}
    assert len(combinations) > 10
    for run in range(0, 60, 3):
        spec = result.alternatives.spec_for(result.choices[run], result.weights[run])
        built = build(table, framework, spec)
        np.testing.assert_array_equal(result.scores[run], built.index)
        np.testing.assert_array_equal(result.ranks[run], built.ranks)


def test_stacked_aggregation_handles_gaps_thresholds_and_mixed_levels() -> None:
    """Missing aggregates at the upper levels, a data threshold and by_level methods."""
    framework, _ = framework_and_table()
    rng = np.random.default_rng(3)
    x = rng.uniform(1, 100, size=(30, 12))
    x[rng.random(x.shape) < 0.35] = np.nan
    x[0, :3] = np.nan  # P0 has no child for unit 0: a NaN at level 3
    table = table_for(framework, x)
    spec = spec_of(
        {"aggregate": {"by_level": {2: "harmonic", 3: "arithmetic", 4: "geometric"}}},
    )
    spec_threshold = spec_of({"aggregate": {"data_threshold": 0.6}})
    for each in (spec, spec_threshold):
        design = ua.alternatives(framework, each)
        weights = ua.noisy_weights(design.base_weights, framework, {1: 0.5, 2: 0.5, 3: 0.5}, 8, rng)
        methods = design.aggregate[0]
        threshold = design.aggregate_step.data_threshold
        top, failed = StackAggregator(framework, x, methods, threshold).top(weights)
        assert not failed.any()
        for run in range(len(weights)):
            built = build(table, framework, design.spec_for((0, 0, 0), weights[run]))
            np.testing.assert_array_equal(top[run], built.index)


def test_zero_noise_and_no_alternatives_give_the_nominal_ranks_in_every_run() -> None:
    framework, table = framework_and_table(seed=2)
    result = ua.uncertainty(
        table, framework, SPEC, runs=25, rng=np.random.default_rng(0), weight_noise=0
    )
    expected = np.broadcast_to(result.nominal, result.ranks.shape)
    np.testing.assert_array_equal(result.ranks, expected)
    for statistic in (result.mean, result.median, result.q05, result.q95):
        np.testing.assert_array_equal(statistic, result.nominal)


@FEW
@given(
    arrays(np.float64, (12, 7), elements=st.integers(0, 4).map(float)),
    st.integers(0, 2**32 - 1),
)
def test_tied_data_with_zero_noise_reproduce_the_nominal_ranks(x: np.ndarray, seed: int) -> None:
    """Integer data make many exact ties; the stacked sums must keep every one of them."""
    framework = tree_framework([3, 4], weights=[1, 2, 1, 0.5, 1, 1, 3])
    table = table_for(framework, x)
    spec = spec_of({"normalise": {"method": "minmax"}}, {"aggregate": {}})
    result = ua.uncertainty(
        table, framework, spec, runs=4, rng=np.random.default_rng(seed), weight_noise=0
    )
    np.testing.assert_array_equal(result.ranks, np.broadcast_to(result.nominal, (4, 12)))


def check_ranks(scores: np.ndarray, ranks: np.ndarray) -> None:
    present = ~np.isnan(scores)
    assert np.all(np.isnan(ranks[~present]))
    for score, rank in zip(scores[present], ranks[present], strict=True):
        assert rank == 1 + np.sum(scores[present] > score)


@FEW
@given(
    st.integers(0, 2**32 - 1),
    st.floats(0, 0.9),
    st.integers(1, 40),
    st.booleans(),
)
def test_ranks_are_permutations_with_ties_and_intervals_are_ordered(
    seed: int, noise: float, runs: int, vary: bool
) -> None:
    framework, table = framework_and_table(seed=seed % 7, n=15)
    choices = CHOICES if vary else {}
    result = ua.uncertainty(
        table,
        framework,
        SPEC,
        runs=runs,
        rng=np.random.default_rng(seed),
        weight_noise=noise,
        **choices,
    )
    assert result.ranks.shape == (runs, len(result.rows))
    for run in range(runs):
        check_ranks(result.scores[run], result.ranks[run])
    low, high = np.nanmin(result.ranks, axis=0), np.nanmax(result.ranks, axis=0)
    assert np.all(low <= result.q05)
    assert np.all(result.q05 <= result.median)
    assert np.all(result.median <= result.q95)
    assert np.all(result.q95 <= high)
    assert np.all((low <= result.mean) & (result.mean <= high))


def test_rank_runs_matches_the_engine_ranking_row_by_row() -> None:
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 5, size=(20, 30)).astype(float)
    scores[rng.random(scores.shape) < 0.1] = np.nan
    blocks = [np.arange(0, 12), np.arange(12, 30)]
    ranks = rank_runs(scores, blocks)
    for run in range(len(scores)):
        np.testing.assert_array_equal(ranks[run], rank_descending(scores[run], blocks))


def test_same_seed_same_result_and_threads_do_not_matter() -> None:
    framework, table = framework_and_table(seed=4)

    def run(seed: int, workers: int) -> ua.UncertaintyResult:
        return ua.uncertainty(
            table,
            framework,
            SPEC,
            runs=200,
            rng=np.random.default_rng(seed),
            workers=workers,
            **CHOICES,
        )

    first, again, threaded, other = run(11, 1), run(11, 1), run(11, 2), run(12, 1)
    for a in (again, threaded):
        for name in ("scores", "ranks", "choices", "weights", "mean", "q05", "q95"):
            np.testing.assert_array_equal(getattr(first, name), getattr(a, name))
    assert not np.array_equal(first.weights, other.weights)


def test_a_run_the_engine_would_refuse_fails_alone() -> None:
    framework, table = framework_and_table(seed=6)
    spec = spec_of({"impute": {}}, {"normalise": {"method": "minmax"}}, {"aggregate": {}})
    result = ua.uncertainty(
        table,
        framework,
        spec,
        runs=80,
        rng=np.random.default_rng(2),
        normalisations=["minmax", {"method": "minmax", "lower": 1}],
        aggregations=["arithmetic", "geometric"],
    )
    # min-max 0–100 has zeros: the geometric mean cannot take them (COINr: the run is NA).
    refused = (result.choices[:, 1] == 0) & (result.choices[:, 2] == 1)
    assert refused.any()
    assert not refused.all()
    np.testing.assert_array_equal(result.failed, refused)
    assert np.isnan(result.ranks[refused]).all()
    assert not np.isnan(result.ranks[~refused]).any()
    ok = result.ranks[~refused]
    np.testing.assert_array_equal(result.q95, ua.rank_statistics(ok)[3])
    with pytest.raises(ValueError, match="所有运行都失败了"):
        ua.uncertainty(
            table,
            framework,
            spec,
            runs=5,
            rng=np.random.default_rng(2),
            aggregations=["geometric"],
        )


def test_panel_ranks_are_within_each_year() -> None:
    framework, base = framework_and_table(seed=8, n=20)
    values = np.vstack([base.values, base.values * 1.1, base.values[::-1]])
    table = DataTable(
        unit_codes=np.tile(base.unit_codes, 3),
        indicators=framework.indicators,
        values=values,
        times=np.repeat([2021.0, 2022.0, 2023.0], 20),
        groups={"Region": np.tile(base.groups["Region"], 3)},
    )
    result = ua.uncertainty(
        table, framework, SPEC, runs=30, rng=np.random.default_rng(1), **CHOICES
    )
    assert result.times is not None
    for year in (2021.0, 2022.0, 2023.0):
        in_year = result.times == year
        assert in_year.sum() == 20
        for run in range(30):
            check_ranks(result.scores[run, in_year], result.ranks[run, in_year])


# ---------------------------------------------------------------- helpers against R


# R: x <- c(seq(0, 1, by = 0.125), 1/3, 2/3, 0.2, 0.4, 0.6, 0.8, 0.1, 0.3, 0.7, 0.9)
#    as.integer(cut(x, n, 1:n)) for n = 2..7, and a few more.
CUT_X = [0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1, 1 / 3, 2 / 3]
CUT_X += [0.2, 0.4, 0.6, 0.8, 0.1, 0.3, 0.7, 0.9]
CUT_R = {
    2: [1, 1, 1, 1, 1, 2, 2, 2, 2, 1, 2, 1, 1, 2, 2, 1, 1, 2, 2],
    3: [1, 1, 1, 2, 2, 2, 3, 3, 3, 1, 2, 1, 2, 2, 3, 1, 1, 3, 3],
    4: [1, 1, 1, 2, 2, 3, 3, 4, 4, 2, 3, 1, 2, 3, 4, 1, 2, 3, 4],
    5: [1, 1, 2, 2, 3, 4, 4, 5, 5, 2, 4, 1, 2, 3, 4, 1, 2, 4, 5],
    6: [1, 1, 2, 3, 3, 4, 5, 6, 6, 2, 4, 2, 3, 4, 5, 1, 2, 5, 6],
    7: [1, 1, 2, 3, 4, 5, 6, 7, 7, 3, 5, 2, 3, 5, 6, 1, 3, 5, 7],
}


@pytest.mark.parametrize("n", sorted(CUT_R))
def test_discrete_choice_is_r_cut(n: int) -> None:
    assert (ua.discrete_choice(np.array(CUT_X), n) + 1).tolist() == CUT_R[n]


def test_discrete_choice_uses_the_samples_own_range() -> None:
    y = np.array([0.05, 0.31, 0.32, 0.33, 0.5, 0.9])
    assert (ua.discrete_choice(y, 2) + 1).tolist() == [1, 1, 1, 1, 2, 2]
    assert (ua.discrete_choice(y, 3) + 1).tolist() == [1, 1, 1, 1, 2, 3]
    assert (ua.discrete_choice(y, 5) + 1).tolist() == [1, 2, 2, 2, 3, 5]
    assert (ua.discrete_choice(np.full(3, 0.4), 3) + 1).tolist() == [2, 2, 2]  # R: constant
    assert ua.discrete_choice(y, 1).tolist() == [0] * 6


def test_quantile7_is_r_quantile_with_na_rm() -> None:
    # R: quantile(c(3, 1, NA, 2, 10, 7.5, 4), c(0.05, 0.5, 0.95), na.rm = TRUE)
    x = np.array([[3, 1, np.nan, 2, 10, 7.5, 4]]).T
    ordered, n = np.sort(x, axis=0), np.array([6])
    assert [ua.quantile7(ordered, n, p)[0] for p in (0.05, 0.5, 0.95)] == [1.25, 3.5, 9.375]
    assert np.isnan(ua.quantile7(np.full((3, 1), np.nan), np.array([0]), 0.5)[0])


def test_noisy_weights_stay_within_the_factor_on_their_levels() -> None:
    framework, _ = framework_and_table()
    base = framework.weights * 2
    noise = ua.noise_levels(framework, {1: 0.5, 3: 0.1})
    w = ua.noisy_weights(base, framework, noise, 500, np.random.default_rng(0))
    level = framework.levels
    for lv, factor in ((1, 0.5), (3, 0.1)):
        nodes = level == lv
        ratio = w[:, nodes] / base[nodes]
        assert np.all((ratio >= 1 - factor) & (ratio <= 1 + factor))
        assert ratio.min() < 1 - factor / 2
        assert ratio.max() > 1 + factor / 2
    quiet = (level == 2) | (level == 4)
    assert np.all(w[:, quiet] == base[quiet])
    assert ua.noise_levels(framework, 0.2) == {1: 0.2, 2: 0.2, 3: 0.2}
    assert ua.noise_levels(framework, 0) == {}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"runs": 0}, "运行次数"),
        ({"winmax": [-1]}, "winmax"),
        ({"normalisations": ["nope"]}, "归一化备选方案 1"),
        ({"aggregations": [{"method": "arithmetic", "w": 1}]}, "汇总备选方案 1"),
        ({"weight_noise": {9: 0.1}}, "层级 9"),
        ({"weight_noise": -0.1}, "非负"),
    ],
)
def test_bad_choices_are_refused_in_chinese(kwargs: dict[str, object], message: str) -> None:
    framework, table = framework_and_table()
    arguments: dict[str, object] = {"runs": 3, "rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(ValueError, match=message):
        ua.uncertainty(table, framework, SPEC, **arguments)  # type: ignore[arg-type]


def test_choices_need_their_step_in_the_spec() -> None:
    framework, table = framework_and_table()
    bare = spec_of({"impute": {}}, {"aggregate": {}})
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="没有 treat 步骤"):
        ua.uncertainty(table, framework, bare, runs=2, rng=rng, winmax=[2, 3])
    with pytest.raises(ValueError, match="没有 normalise 步骤"):
        ua.uncertainty(table, framework, bare, runs=2, rng=rng, normalisations=["minmax"])
    entropy = spec_of({"normalise": {}}, {"aggregate": {"weights": {"method": "entropy"}}})
    with pytest.raises(ValueError, match="按数据计算的权重"):
        ua.uncertainty(table, framework, entropy, runs=2, rng=rng)


def test_stack_aggregator_checks_its_methods() -> None:
    framework, _ = framework_and_table()
    x = np.ones((3, 12))
    with pytest.raises(ValueError, match="每个汇总层级"):
        StackAggregator(framework, x, [LevelMethod()])


# ---------------------------------------------------------------- the CLI handler


def write_inputs(tmp_path: Path, framework: Framework, table: DataTable, spec: str) -> dict:
    meta = tmp_path / "META.csv"
    with meta.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Level", "iCode", "iName", "Parent", "Direction", "Type", "Weight"])
        for i, code in enumerate(framework.nodes):
            parent = framework.parents[i]
            writer.writerow(
                [
                    int(framework.levels[i]),
                    code,
                    f"名称{code}",
                    "" if parent < 0 else framework.nodes[parent],
                    int(framework.directions[i]) if i < len(framework.indicators) else 1,
                    "Indicator" if i < len(framework.indicators) else "Aggregate",
                    repr(float(framework.weights[i])),
                ]
            )
        writer.writerow(["", "Region", "", "", "", "Group", ""])
    data = tmp_path / "DATA.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["uCode", "uName", "Region", *framework.indicators])
        for i, code in enumerate(table.unit_codes):
            values = ["" if np.isnan(v) else repr(float(v)) for v in table.values[i]]
            writer.writerow([code, f"县{i}", table.groups["Region"][i], *values])
    path = tmp_path / "SPEC.yaml"
    path.write_text(spec, encoding="utf-8")
    return {"data": data, "meta": meta, "spec": path, "out": tmp_path / "out"}


SPEC_YAML = """steps:
  - impute: {method: mean_group, group: Region}
  - treat: {winmax: 3}
  - normalise: {method: minmax, lower: 1, upper: 100}
  - aggregate: {}
"""


def test_cli_writes_rank_intervals(tmp_path: Path) -> None:
    framework, table = framework_and_table(seed=9, n=25)
    options = write_inputs(tmp_path, framework, table, SPEC_YAML)
    parser = cli.argparse.ArgumentParser()
    cli.add_arguments(parser.add_subparsers(dest="action"))
    arguments = [
        "uncertainty",
        *("--data", str(options["data"]), "--meta", str(options["meta"])),
        *("--spec", str(options["spec"]), "--out", str(options["out"])),
        *("--runs", "100", "--seed", "3", "--winmax", "1,3,none"),
        *("--normalisations", "minmax:lower=1:upper=100,zscore:mean=10:sd=2"),
        *("--aggregations", "arithmetic,generalised_mean:p=0.5"),
    ]
    parsed = vars(parser.parse_args(arguments))
    out = io.StringIO()
    path = cli.handle_uncertainty(parsed, out)
    assert path == options["out"] / "rank_intervals.csv"
    assert "100 次不确定性运行" in out.getvalue()
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["uCode", "uName", "nominal", "mean", "median", "q05", "q95"]
    assert [int(row["nominal"]) for row in rows] == sorted(int(row["nominal"]) for row in rows)
    assert rows[0]["uName"].startswith("县")

    framework_read = cli.files.read_framework(options["meta"])
    table_read = cli.files.read_table(options["data"], framework_read)
    again = ua.uncertainty(
        table_read,
        framework_read,
        cli.files.load_spec(options["spec"]),
        runs=100,
        rng=np.random.default_rng(3),
        winmax=[1, 3, None],
        normalisations=[
            {"method": "minmax", "lower": 1, "upper": 100},
            {"method": "zscore", "mean": 10, "sd": 2},
        ],
        aggregations=["arithmetic", {"method": "generalised_mean", "p": 0.5}],
    )
    by_code = {str(code): i for i, code in enumerate(again.unit_codes)}
    for row in rows:
        i = by_code[row["uCode"]]
        for column in ("mean", "median", "q05", "q95"):
            assert float(row[column]) == getattr(again, column)[i]  # repr round-trips


def test_cli_parses_alternatives_and_refuses_bad_ones() -> None:
    assert cli.parse_alternatives("minmax:lower=1:upper=100, rank", "x") == [
        {"method": "minmax", "lower": 1, "upper": 100},
        {"method": "rank"},
    ]
    assert cli.parse_alternatives("", "x") == []
    assert cli.parse_winmax("2, none") == [2, None]
    assert cli.parse_noise(0.3, "2,3") == {2: 0.3, 3: 0.3}
    with pytest.raises(ValueError, match="参数=值"):
        cli.parse_alternatives("minmax:lower", "--normalisations")
    with pytest.raises(ValueError, match="空项"):
        cli.parse_alternatives("minmax,,rank", "--normalisations")
    with pytest.raises(ValueError, match="不是整数"):
        cli.parse_winmax("3,x")
    with pytest.raises(ValueError, match="非负"):
        cli.parse_noise(-1.0, "")


def test_cli_reports_bad_files_in_chinese(tmp_path: Path) -> None:
    options = {
        "data": tmp_path / "missing.csv",
        "meta": tmp_path / "missing_meta.csv",
        "spec": tmp_path / "SPEC.yaml",
        "out": tmp_path / "out",
        "runs": 10,
        "seed": 1,
    }
    with pytest.raises(FileNotFoundError, match="找不到文件"):
        cli.handle_uncertainty(options, io.StringIO())


def test_spec_for_rebuilds_the_nominal_without_noise() -> None:
    framework, table = framework_and_table()
    design = ua.alternatives(framework, SPEC)
    spec = design.spec_for((0, 0, 0), design.base_weights)
    assert isinstance(spec, Spec)
    np.testing.assert_array_equal(
        build(table, framework, spec).index, build(table, framework, SPEC).index
    )


def test_a_branch_that_screens_other_units_is_ranked_on_its_own_units() -> None:
    """Screening after normalise: min-max 0–100 makes zeros, so that branch drops units."""
    framework, table = framework_and_table(seed=10, n=24, missing=0)
    spec = spec_of(
        {"normalise": {"method": "minmax", "lower": 1, "upper": 100}},
        {"screen": {"by": "zeros", "min_nonzero_share": 0.9}},
        {"aggregate": {}},
    )
    result = ua.uncertainty(
        table,
        framework,
        spec,
        runs=30,
        rng=np.random.default_rng(3),
        normalisations=["minmax", {"method": "minmax", "lower": 1, "upper": 100}],
    )
    assert len(result.rows) == 24  # the nominal build keeps everyone
    dropping = np.flatnonzero(result.choices[:, 1] == 0)
    assert len(dropping)
    for run in dropping[:3].tolist():
        built = build(
            table, framework, result.alternatives.spec_for(result.choices[run], result.weights[run])
        )
        assert built.ranks is not None
        assert len(built.rows) < 24
        kept = np.isin(result.rows, built.rows)
        np.testing.assert_array_equal(result.ranks[run, kept], built.ranks)
        np.testing.assert_array_equal(result.scores[run, kept], built.index)
        assert np.isnan(result.ranks[run, ~kept]).all()


def test_rank_statistics_skip_missing_runs_per_unit() -> None:
    rng = np.random.default_rng(0)
    ranks = rng.integers(1, 9, size=(11, 6)).astype(float)
    ranks[rng.random(ranks.shape) < 0.3] = np.nan
    ranks[:, 5] = np.nan
    mean, median, q05, q95 = ua.rank_statistics(ranks)
    for j in range(5):
        present = ranks[~np.isnan(ranks[:, j]), j]
        assert mean[j] == pytest.approx(present.mean(), rel=1e-15)
        assert median[j] == np.median(present)
        np.testing.assert_allclose([q05[j], q95[j]], np.quantile(present, [0.05, 0.95]))
    assert np.isnan([mean[5], median[5], q05[5], q95[5]]).all()
