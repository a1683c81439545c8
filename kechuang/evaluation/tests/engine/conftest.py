"""Fixtures for the engine tests: the COINr ASEM reference data and small frameworks."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from kechuang.core.workspace import shared_folder
from kechuang.evaluation.engine import files
from kechuang.evaluation.engine.framework import Framework, framework_from_rows
from kechuang.evaluation.engine.spec import Spec, parse_spec
from kechuang.evaluation.engine.table import DataTable

REPOSITORY = Path(__file__).resolve().parents[4]
# The reference data live next to the repository, not in it (see its README.md).
ASEM = (shared_folder() or REPOSITORY / ".." / "shared") / "data" / "coinr-asem"
EXPECTED = ASEM / "expected-default-build"

DEFAULT_SPEC = {
    "steps": [
        {"denominate": {}},
        {"impute": {"method": "mean_group", "group": "EurAsia_group"}},
        {"screen": {"min_share": 0.9}},
        {"treat": {"winmax": 5, "skew": 2.0, "kurtosis": 3.5}},
        {"normalise": {"method": "minmax", "lower": 0, "upper": 100}},
        {"aggregate": {"method": "arithmetic"}},
    ]
}
# COINr's build_example_purse: screen on Raw, default treatment per year, pooled min-max.
PURSE_SPEC = {
    "steps": [
        {"screen": {"min_share": 0.9}},
        {"treat": {}},
        {"normalise": {"method": "minmax", "pooled": True}},
        {"aggregate": {}},
    ]
}

needs_asem = pytest.mark.skipif(
    not EXPECTED.is_dir(), reason=f"COINr reference data not found at {ASEM.resolve()}"
)


@pytest.fixture(scope="session")
def asem_framework() -> Framework:
    return files.read_framework(ASEM / "ASEM_iMeta.csv")


@pytest.fixture(scope="session")
def asem_table(asem_framework: Framework) -> DataTable:
    return files.read_table(ASEM / "ASEM_iData.csv", asem_framework)


@pytest.fixture(scope="session")
def asem_panel(asem_framework: Framework) -> DataTable:
    return files.read_table(ASEM / "ASEM_iData_p.csv", asem_framework)


def read_rows(path: Path, key: Sequence[str] = ("uCode",)) -> dict[tuple[str, ...], dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return {tuple(row[k] for k in key): row for row in csv.DictReader(handle)}


def number(text: str) -> float:
    return math.nan if text in ("", "NA") else float(text)


def assert_same_table(
    expected: dict[tuple[str, ...], dict[str, str]],
    actual: dict[tuple[str, ...], dict[str, str]],
    *,
    skip: Sequence[str] = ("uCode",),
    tolerance: float = 1e-9,
) -> None:
    """Same keys and columns; numbers equal to `tolerance`, NaN exactly where expected."""
    assert set(actual) == set(expected)
    for key, row in expected.items():
        assert set(actual[key]) >= set(row), key
        for column, text in row.items():
            if column in skip:
                continue
            want, got = number(text), number(actual[key][column])
            if math.isnan(want):
                assert math.isnan(got), (key, column, got)
            else:
                assert got == pytest.approx(want, abs=tolerance, rel=0), (key, column)


def tree_framework(
    sizes: Sequence[int],
    *,
    upper: Sequence[int] = (),
    directions: Sequence[int] | None = None,
    weights: Sequence[float] | None = None,
    targets: Sequence[float] | None = None,
) -> Framework:
    """Indicators I0… under parents P0… (sizes[j] children each), P's optionally under S's.

    One top aggregate, "Index"; a Group column "Region".
    """
    header = ["Level", "iCode", "Parent", "Direction", "Type", "Weight", "Target"]
    rows: list[list[str]] = []
    count = 0
    top_level = 3 if upper else 2
    for j, size in enumerate(sizes):
        for _ in range(size):
            direction = directions[count] if directions is not None else 1
            weight = weights[count] if weights is not None else 1.0
            target = targets[count] if targets is not None else ""
            rows.append(
                ["1", f"I{count}", f"P{j}", str(direction), "Indicator", str(weight), str(target)]
            )
            count += 1
    parents = list(range(len(sizes)))
    if upper:
        assert sum(upper) == len(sizes)
        position = 0
        for k, size in enumerate(upper):
            for j in parents[position : position + size]:
                rows.append(["2", f"P{j}", f"S{k}", "1", "Aggregate", "1", ""])
            position += size
        rows += [["3", f"S{k}", "Index", "1", "Aggregate", "1", ""] for k in range(len(upper))]
    else:
        rows += [["2", f"P{j}", "Index", "1", "Aggregate", "1", ""] for j in parents]
    rows.append([str(top_level + 1), "Index", "", "1", "Aggregate", "1", ""])
    rows.append(["", "Region", "", "", "Group", "", ""])
    return framework_from_rows(header, rows, source="META.csv")


def table_for(framework: Framework, values: np.ndarray, **kwargs: object) -> DataTable:
    n = values.shape[0]
    kwargs.setdefault("groups", {"Region": np.array([f"R{i % 3}" for i in range(n)], dtype=object)})
    return DataTable(
        unit_codes=np.array([f"U{i:03d}" for i in range(n)], dtype=object),
        indicators=framework.indicators,
        values=values,
        **kwargs,  # type: ignore[arg-type]
    )


def spec_of(*steps: dict[str, object]) -> Spec:
    return parse_spec({"steps": list(steps)})
