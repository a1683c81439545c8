"""Method variants against COINr 1.1.14 (reference files made by coinr_reference/make_reference.R).

Each reference holds the aggregate scores of a complete ASEM build that
differs from the default one in one step; a wrong normalisation, imputation
or treatment of any indicator shows up in its pillar's score.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kechuang.evaluation.engine.framework import Framework
from kechuang.evaluation.engine.pipeline import BuildResult, build
from kechuang.evaluation.engine.spec import parse_spec
from kechuang.evaluation.engine.steps.treat import TreatRecord
from kechuang.evaluation.engine.table import DataTable
from kechuang.evaluation.engine.weights import pca_loadings

from .conftest import PURSE_SPEC, needs_asem, number

pytestmark = needs_asem

REFERENCE = Path(__file__).resolve().parent / "coinr_reference"
DENOMINATE = {"denominate": {}}
IMPUTE = {"impute": {"method": "mean_group", "group": "EurAsia_group"}}
SCREEN = {"screen": {"min_share": 0.9}}
TREAT = {"treat": {"winmax": 5}}
MINMAX = {"normalise": {"method": "minmax", "lower": 0, "upper": 100}}
ONE_TO_HUNDRED = {"normalise": {"method": "minmax", "lower": 1, "upper": 100}}
ARITHMETIC = {"aggregate": {"method": "arithmetic"}}
UP_TO_TREAT = [DENOMINATE, IMPUTE, SCREEN, TREAT]


def normalised(params: dict[str, Any]) -> list[dict[str, Any]]:
    return [*UP_TO_TREAT, {"normalise": params}, ARITHMETIC]


def aggregated(params: dict[str, Any]) -> list[dict[str, Any]]:
    return [*UP_TO_TREAT, ONE_TO_HUNDRED, {"aggregate": params}]


VARIANTS: dict[str, list[dict[str, Any]]] = {
    "normalise_zscore": normalised({"method": "zscore", "mean": 10, "sd": 2}),
    "normalise_rank": normalised({"method": "rank"}),
    "normalise_percentile_rank": normalised({"method": "percentile_rank"}),
    "normalise_borda": normalised({"method": "borda"}),
    "normalise_fraction_of_max": normalised({"method": "fraction_of_max"}),
    "normalise_distance_to_max": normalised({"method": "distance_to_max"}),
    "normalise_distance_to_target": normalised({"method": "distance_to_target"}),
    "normalise_distance_to_target_cap": normalised({"method": "distance_to_target", "cap": True}),
    "normalise_distance_to_reference": normalised(
        {"method": "distance_to_reference", "reference": "DEU", "cap": True}
    ),
    "normalise_goalposts_reflect": normalised(
        {"method": "goalposts", "lower": 0, "upper": "target", "negative": "reflect"}
    ),
    "aggregate_geometric": aggregated({"method": "geometric"}),
    "aggregate_harmonic": aggregated({"method": "harmonic"}),
    "aggregate_generalised_mean": aggregated({"method": "generalised_mean", "p": 2}),
    "aggregate_by_level": aggregated(
        {"by_level": {2: "arithmetic", 3: "geometric", 4: "arithmetic"}}
    ),
    "aggregate_by_level_generalised": aggregated(
        {"by_level": {2: {"method": "generalised_mean", "p": 3}}}
    ),
    "impute_mean": [DENOMINATE, {"impute": {"method": "mean"}}, SCREEN, TREAT, MINMAX, ARITHMETIC],
    "impute_median": [
        DENOMINATE,
        {"impute": {"method": "median"}},
        SCREEN,
        TREAT,
        MINMAX,
        ARITHMETIC,
    ],
    "impute_median_group": [
        DENOMINATE,
        {"impute": {"method": "median_group", "group": "GDPpc_group"}},
        SCREEN,
        TREAT,
        MINMAX,
        ARITHMETIC,
    ],
    "screen_na": [DENOMINATE, {"screen": {"min_share": 0.95}}, IMPUTE, TREAT, MINMAX, ARITHMETIC],
    "screen_zeros": [
        DENOMINATE,
        {"screen": {"by": "zeros", "min_nonzero_share": 0.95}},
        TREAT,
        MINMAX,
        ARITHMETIC,
    ],
    "screen_na_and_zeros": [
        DENOMINATE,
        {"screen": {"by": "na_and_zeros", "min_share": 0.95, "min_nonzero_share": 0.95}},
        TREAT,
        MINMAX,
        ARITHMETIC,
    ],
    "treat_winmax0": [DENOMINATE, IMPUTE, SCREEN, {"treat": {"winmax": 0}}, MINMAX, ARITHMETIC],
    "treat_winmax2": [DENOMINATE, IMPUTE, SCREEN, {"treat": {"winmax": 2}}, MINMAX, ARITHMETIC],
    "raw_arithmetic": [MINMAX, ARITHMETIC],
    "raw_data_threshold": [MINMAX, {"aggregate": {"data_threshold": 0.8}}],
}


def reference(name: str) -> list[dict[str, str]]:
    with gzip.open(REFERENCE / f"{name}.csv.gz", "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(io.StringIO(handle.read())))


def assert_scores(result: BuildResult, rows: list[dict[str, str]], key: tuple[str, ...]) -> None:
    table = result.table
    position = {}
    for i, row in enumerate(result.rows):
        unit = (str(table.unit_codes[row]),)
        if "Time" in key:
            unit += (str(int(table.times[row])),)  # type: ignore[index]
        position[unit] = i
    assert sorted(position) == sorted(tuple(row[k] for k in key) for row in rows)
    for row in rows:
        i = position[tuple(row[k] for k in key)]
        for column, text in row.items():
            if column in key:
                continue
            want, got = number(text), result.scores(column)[i]
            if np.isnan(want):
                assert np.isnan(got), (row, column)
            else:
                assert got == pytest.approx(want, abs=1e-9, rel=0), (row["uCode"], column)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_matches_coinr(name: str, asem_table: DataTable, asem_framework: Framework) -> None:
    result = build(asem_table, asem_framework, parse_spec({"steps": VARIANTS[name]}))
    assert_scores(result, reference(name), ("uCode",))


def check_log(records: list[TreatRecord], rows: list[dict[str, str]], key: tuple[str, ...]) -> None:
    by_key = {(r.code,) if key == ("iCode",) else (f"{r.time:g}", r.code): r for r in records}
    assert sorted(by_key) == sorted(tuple(row[k] for k in key) for row in rows)
    for row in rows:
        record = by_key[tuple(row[k] for k in key)]
        mine = {
            "check_SkewKurt0.Pass": record.pass0,
            "check_SkewKurt0.Skew": record.skew0,
            "check_SkewKurt0.Kurt": record.kurt0,
            "winsorise.nwin": record.nwin,
            "check_SkewKurt1.Pass": record.pass1,
            "check_SkewKurt1.Skew": record.skew1,
            "check_SkewKurt1.Kurt": record.kurt1,
            "check_SkewKurt2.Pass": record.pass2,
            "check_SkewKurt2.Skew": record.skew2,
            "check_SkewKurt2.Kurt": record.kurt2,
        }
        for column, text in row.items():
            if column in key:
                continue
            if text in ("TRUE", "FALSE"):
                assert mine[column] is (text == "TRUE"), (row, column)
            elif text == "":
                assert mine[column] is None, (row, column)
            else:
                assert mine[column] == pytest.approx(float(text), abs=1e-9), (row, column)


@pytest.mark.parametrize(
    ("name", "steps"),
    [
        ("treat_winmax0", VARIANTS["treat_winmax0"]),
        ("treat_winmax2", VARIANTS["treat_winmax2"]),
        ("treat_raw", [{"treat": {}}]),
    ],
)
def test_treatment_log_matches_coinr(
    name: str, steps: list[dict[str, Any]], asem_table: DataTable, asem_framework: Framework
) -> None:
    result = build(asem_table, asem_framework, parse_spec({"steps": steps}))
    assert result.treat_log is not None
    check_log(list(result.treat_log.records), reference(f"{name}_details"), ("iCode",))
    if name != "treat_raw":
        # Both reach COINr's log_CT fallback for some indicators.
        assert result.treat_log.reached_fallback


def test_pca_loadings_match_coinr_up_to_sign(
    asem_table: DataTable, asem_framework: Framework
) -> None:
    result = build(
        asem_table, asem_framework, parse_spec({"steps": [*UP_TO_TREAT, MINMAX, ARITHMETIC]})
    )
    values = result.datasets["Normalised"].values
    expected = {row["iCode"]: float(row["Weight"]) for row in reference("pca_loadings_level1")}
    plan = asem_framework.plans[0]
    for parent in range(len(plan.parents)):
        children = plan.children[plan.parent_position == parent]
        mine = pca_loadings(values[:, children])
        theirs = np.array([expected[asem_framework.nodes[c]] for c in children])
        sign = 1.0 if np.dot(mine, theirs) >= 0 else -1.0
        np.testing.assert_allclose(sign * mine, theirs, atol=1e-9)


def test_purse_matches_coinr(asem_panel: DataTable, asem_framework: Framework) -> None:
    result = build(asem_panel, asem_framework, parse_spec(PURSE_SPEC))
    assert_scores(result, reference("purse"), ("uCode", "Time"))
    assert result.treat_log is not None
    check_log(list(result.treat_log.records), reference("purse_treat_details"), ("Time", "iCode"))
    ranks = {(row["Time"], row["uCode"]): float(row["Rank"]) for row in reference("purse_ranks")}
    for i, row in enumerate(result.rows):
        key = (f"{result.table.times[row]:g}", str(result.table.unit_codes[row]))  # type: ignore[index]
        assert result.ranks[i] == ranks[key]  # type: ignore[index]
