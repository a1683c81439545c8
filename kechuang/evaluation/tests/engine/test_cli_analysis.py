"""`kechuang index build|uncertainty|sensitivity` as the acceptance checks call them."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

from kechuang.evaluation.tests.engine.conftest import ASEM, REPOSITORY, needs_asem

SPEC = """steps:
  - denominate: {}
  - impute: {method: mean_group, group: EurAsia_group}
  - screen: {min_share: 0.9}
  - treat: {winmax: 5}
  - normalise: {method: minmax, lower: 1, upper: 100}
  - aggregate: {method: arithmetic}
"""


def inputs(tmp_path: Path) -> list[str]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return [
        "--data",
        str(ASEM / "ASEM_iData.csv"),
        "--meta",
        str(ASEM / "ASEM_iMeta.csv"),
        "--spec",
        str(spec),
    ]


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


@needs_asem
def test_uncertainty_writes_ordered_rank_intervals(tmp_path) -> None:
    out = tmp_path / "ua"
    call_command(
        "index", "uncertainty", *inputs(tmp_path), "--out", str(out), "--runs", "40",
        "--seed", "7", "--aggregations", "arithmetic,geometric",
    )  # fmt: skip
    table = rows(out / "rank_intervals.csv")
    assert len(table) == 51
    for row in table:
        q05, median, q95 = float(row["q05"]), float(row["median"]), float(row["q95"])
        assert 1 <= q05 <= median <= q95 <= 51
    again = tmp_path / "again"
    call_command(
        "index", "uncertainty", *inputs(tmp_path), "--out", str(again), "--runs", "40",
        "--seed", "7", "--aggregations", "arithmetic,geometric",
    )  # fmt: skip
    assert rows(again / "rank_intervals.csv") == table  # the seed decides everything


@needs_asem
def test_sensitivity_writes_sobol_indices(tmp_path) -> None:
    out = tmp_path / "sa"
    call_command(
        "index", "sensitivity", *inputs(tmp_path), "--out", str(out), "--samples", "20",
        "--seed", "3", "--aggregations", "arithmetic,geometric", "--winmax", "3,5",
    )  # fmt: skip
    table = {row["parameter"]: row for row in rows(out / "sobol.csv")}
    assert set(table) == {"winmax", "weights", "aggregation"}
    for row in table.values():
        assert float(row["ST_i_low"]) <= float(row["ST_i"]) <= float(row["ST_i_high"])


@needs_asem
def test_the_program_builds_on_a_fresh_checkout_without_any_settings(tmp_path) -> None:
    """The acceptance checks run `kechuang index build` with no environment prepared."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KECHUANG_", "DJANGO_"))}
    program = Path(sys.executable).with_name("kechuang")
    result = subprocess.run(
        [str(program), "index", "build", *inputs(tmp_path), "--out", str(tmp_path / "out")],
        env=env,
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "results.csv").is_file()
