"""The ASEM example against COINr 1.1.14's own output (build_example_coin, build_example_purse)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import yaml
from django.core.management import CommandError, call_command

from kechuang.evaluation.engine import files
from kechuang.evaluation.engine.framework import Framework
from kechuang.evaluation.engine.pipeline import BuildResult, build
from kechuang.evaluation.engine.spec import parse_spec
from kechuang.evaluation.engine.table import DataTable
from kechuang.evaluation.engine.weights import effective_weights

from .conftest import (
    ASEM,
    DEFAULT_SPEC,
    EXPECTED,
    PURSE_SPEC,
    assert_same_table,
    needs_asem,
    number,
    read_rows,
)

pytestmark = needs_asem

DATASETS = ("Raw", "Denominated", "Imputed", "Screened", "Treated", "Normalised", "Aggregated")


@pytest.fixture(scope="module")
def default_build(asem_table: DataTable, asem_framework: Framework) -> BuildResult:
    return build(asem_table, asem_framework, parse_spec(DEFAULT_SPEC))


@pytest.fixture(scope="module")
def written(default_build: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("api")
    files.write_outputs(default_build, out)
    return out


@pytest.fixture(scope="module")
def commanded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("command")
    spec = folder / "SPEC.yaml"
    spec.write_text(yaml.safe_dump(DEFAULT_SPEC), encoding="utf-8")
    out = folder / "out"
    stdout = io.StringIO()
    call_command(
        "index",
        "build",
        "--data",
        str(ASEM / "ASEM_iData.csv"),
        "--meta",
        str(ASEM / "ASEM_iMeta.csv"),
        "--spec",
        str(spec),
        "--out",
        str(out),
        stdout=stdout,
    )
    assert "51 行" in stdout.getvalue()
    return out


def check_outputs(out: Path) -> None:
    for name in DATASETS:
        assert_same_table(
            read_rows(EXPECTED / f"dset_{name}.csv"), read_rows(out / f"dset_{name}.csv")
        )
    expected = read_rows(EXPECTED / "results_full.csv")
    actual = read_rows(out / "results.csv")
    assert set(actual) == set(expected)
    for key, row in expected.items():
        assert actual[key]["Rank"] == row["Rank"], key
        assert actual[key]["uName"] == row["uName"]
    aggregates = [c for c in next(iter(actual.values())) if c not in ("uCode", "uName", "Rank")]
    assert len(aggregates) == 11
    assert_same_table(
        {k: {c: row[c] for c in aggregates} for k, row in expected.items()},
        actual,
    )
    expected_log = read_rows(EXPECTED / "treat_details.csv", key=("iCode",))
    actual_log = read_rows(out / "treat_details.csv", key=("iCode",))
    assert list(actual_log) == list(expected_log)
    with (out / "treat_details.csv").open(encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    with (EXPECTED / "treat_details.csv").open(encoding="utf-8") as handle:
        assert header == [name.strip('"') for name in handle.readline().strip().split(",")]
    for key, row in expected_log.items():
        for column, text in row.items():
            if text in ("TRUE", "FALSE", "") or column == "iCode":
                assert actual_log[key][column] == text, (key, column)
            else:
                assert number(actual_log[key][column]) == pytest.approx(number(text), abs=1e-9)


def test_python_api_reproduces_every_coinr_file(written: Path) -> None:
    check_outputs(written)


def test_command_reproduces_every_coinr_file(commanded: Path) -> None:
    check_outputs(commanded)
    produced = sorted(path.name for path in commanded.iterdir())
    assert produced == sorted(
        [f"dset_{name}.csv" for name in DATASETS] + ["results.csv", "treat_details.csv"]
    )


def test_rows_are_in_coinr_order(written: Path) -> None:
    for name in ("dset_Raw.csv", "dset_Aggregated.csv"):
        assert list(read_rows(written / name)) == list(read_rows(EXPECTED / name))
    # results.csv is sorted by rank like COINr's get_results.
    assert list(read_rows(written / "results.csv")) == list(
        read_rows(EXPECTED / "results_full.csv")
    )


def test_numbers_round_trip_exactly(default_build: BuildResult, written: Path) -> None:
    rows = read_rows(written / "dset_Aggregated.csv")
    values = default_build.datasets["Aggregated"].values
    codes = default_build.datasets["Aggregated"].codes
    for i, code in enumerate(default_build.table.unit_codes[default_build.rows]):
        read_back = [number(rows[(code,)][c]) for c in codes]
        np.testing.assert_array_equal(np.array(read_back), values[i])


def test_known_headline_scores(default_build: BuildResult) -> None:
    codes = list(default_build.table.unit_codes[default_build.rows])
    index = default_build.index
    assert index[codes.index("CHE")] == pytest.approx(68.3837, abs=1e-4)
    assert index[codes.index("RUS")] == pytest.approx(35.6555, abs=1e-4)
    assert default_build.ranks[codes.index("CHE")] == 1
    assert default_build.ranks[codes.index("RUS")] == 51


def test_treatment_summary_matches_coinr(default_build: BuildResult) -> None:
    log = default_build.treat_log
    assert log is not None
    winsorised = [r for r in log.records if r.stage == 1]
    assert len(winsorised) == 15
    assert all(1 <= r.nwin <= 4 for r in winsorised)  # type: ignore[operator]
    assert not log.reached_fallback


def test_contributions_add_up_to_the_index(default_build: BuildResult) -> None:
    contributions = default_build.contributions
    np.testing.assert_allclose(np.nansum(contributions, axis=1), default_build.index, atol=1e-10)
    # Without missing data, a contribution is the effective weight × the normalised score.
    effective = effective_weights(default_build.framework)[
        : len(default_build.framework.indicators)
    ]
    normalised = default_build.datasets["Normalised"].values
    np.testing.assert_allclose(contributions, normalised * effective, atol=1e-10)
    assert effective[default_build.framework.indicators.index("Goods")] == pytest.approx(0.02)


def test_weights_file_changes_only_listed_codes(
    asem_table: DataTable, asem_framework: Framework, tmp_path: Path
) -> None:
    (tmp_path / "w.csv").write_text("iCode,Weight,Note\nConn,3,x\n", encoding="utf-8")
    steps = [dict(step) for step in DEFAULT_SPEC["steps"]]
    steps[-1] = {"aggregate": {"method": "arithmetic", "weights": "w.csv"}}
    spec = parse_spec({"steps": steps}, base_dir=tmp_path)
    result = build(asem_table, asem_framework, spec)
    conn, sust = result.scores("Conn"), result.scores("Sust")
    np.testing.assert_allclose(result.index, (3 * conn + sust) / 4, atol=1e-12)


# ---------------------------------------------------------------- panel (build_example_purse)


@pytest.fixture(scope="module")
def purse(asem_panel: DataTable, asem_framework: Framework) -> BuildResult:
    return build(asem_panel, asem_framework, parse_spec(PURSE_SPEC))


def test_panel_keeps_the_unit_years_coinr_keeps(purse: BuildResult) -> None:
    assert purse.table.is_panel
    # COINr's build_example_purse keeps 230 of the 255 unit-years.
    assert len(purse.rows) == 230
    raw = purse.datasets["Raw"].values
    available = 1 - np.isnan(raw).mean(axis=1)
    np.testing.assert_array_equal(np.sort(np.flatnonzero(available >= 0.9)), np.sort(purse.rows))


def test_panel_pooled_minmax_spans_0_to_100_over_all_years(purse: BuildResult) -> None:
    normalised = purse.datasets["Normalised"].values
    np.testing.assert_allclose(np.nanmin(normalised, axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.nanmax(normalised, axis=0), 100.0, atol=1e-12)
    times = purse.table.times[purse.rows]  # type: ignore[index]
    # Pooled, not per year: some year does not reach 100 for some indicator.
    per_year_max = np.array([np.nanmax(normalised[times == t], axis=0) for t in np.unique(times)])
    assert (per_year_max < 100).any()


def test_panel_treats_each_year_separately(purse: BuildResult) -> None:
    log = purse.treat_log
    assert log is not None
    years = {record.time for record in log.records}
    assert years == {2018.0, 2019.0, 2020.0, 2021.0, 2022.0}
    for year in years:
        assert len([r for r in log.records if r.time == year]) == 49


def test_panel_ranks_are_per_year_permutations(purse: BuildResult) -> None:
    times = purse.table.times[purse.rows]  # type: ignore[index]
    index = purse.index
    for year in np.unique(times):
        ranks = purse.ranks[times == year]  # type: ignore[index]
        scores = index[times == year]
        assert ranks.min() == 1
        for rank, score in zip(ranks, scores, strict=True):
            assert rank == 1 + np.sum(scores > score)


def test_panel_files(purse: BuildResult, tmp_path: Path) -> None:
    files.write_outputs(purse, tmp_path)
    results = read_rows(tmp_path / "results.csv", key=("Time", "uCode"))
    assert len(results) == 230
    first = next(iter(results.values()))
    assert list(first)[:4] == ["Time", "uCode", "uName", "Rank"]
    assert first["Time"] == "2018"
    raw = read_rows(tmp_path / "dset_Raw.csv", key=("uCode", "Time"))
    assert len(raw) == 255
    treat = read_rows(tmp_path / "treat_details.csv", key=("Time", "iCode"))
    assert len(treat) == 5 * 49


def test_single_time_value_is_a_cross_section(
    asem_table: DataTable, asem_framework: Framework
) -> None:
    assert asem_table.times is not None
    assert set(asem_table.times.tolist()) == {2018.0}
    assert not asem_table.is_panel


def test_bad_spec_through_the_command(tmp_path: Path) -> None:
    spec = tmp_path / "SPEC.yaml"
    spec.write_text("steps:\n  - normalise: {method: minmaxx}\n", encoding="utf-8")
    with pytest.raises(CommandError, match="第 1 步 normalise：未知的方法 'minmaxx'") as error:
        call_command(
            "index",
            "build",
            "--data",
            str(ASEM / "ASEM_iData.csv"),
            "--meta",
            str(ASEM / "ASEM_iMeta.csv"),
            "--spec",
            str(spec),
            "--out",
            str(tmp_path / "out"),
        )
    assert error.value.returncode == 1
    assert not (tmp_path / "out").exists()
