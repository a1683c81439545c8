"""What-if and the improvement path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kechuang.evaluation.engine.framework import Framework, framework_from_rows
from kechuang.evaluation.engine.improve import ImprovementPath, improvement_path, what_if
from kechuang.evaluation.engine.pipeline import build
from kechuang.evaluation.engine.table import DataTable

from .conftest import spec_of, table_for, tree_framework

FEW = settings(max_examples=25, deadline=None)
MINMAX = spec_of(
    {"impute": {"method": "mean"}},
    {"normalise": {"method": "minmax"}},
    {"aggregate": {}},
)


def setup(seed: int = 0, n: int = 15) -> tuple[Framework, DataTable]:
    framework = tree_framework([3, 2], directions=[1, 1, -1, 1, 1], weights=[1, 2, 1, 1, 3])
    x = np.random.default_rng(seed).uniform(10, 100, size=(n, 5))
    return framework, table_for(framework, x)


def middle_unit(framework: Framework, table: DataTable) -> int:
    ranks = build(table, framework, MINMAX).ranks
    assert ranks is not None
    return int(np.argsort(ranks)[len(ranks) // 2])


def check_path(path: ImprovementPath, framework: Framework, table: DataTable) -> None:
    """Every step raises the score, moves one indicator the good way, and is what what_if says."""
    score = path.start_score
    changes: dict[str, float] = {}
    effort = 0.0
    for step in path.steps:
        assert step.score > score
        j = framework.indicators.index(step.indicator)
        assert framework.directions[j] * (step.to_value - step.from_value) > 0
        column = table.values[:, j]
        # Never beyond the best value of the field (min-max: no cap but the peers' best).
        best = np.nanmax(column) if framework.directions[j] > 0 else np.nanmin(column)
        assert framework.directions[j] * (best - step.to_value) >= -1e-9
        changes[step.indicator] = step.to_value
        effort += abs(step.to_value - step.from_value) / (np.nanmax(column) - np.nanmin(column))
        score = step.score
    if path.steps:
        again = what_if(table, framework, MINMAX, path.unit_row, changes)
        assert again == (path.steps[-1].score, path.steps[-1].rank)
    assert path.effort == pytest.approx(effort, rel=1e-12)


def test_what_if_without_changes_is_the_build_and_with_changes_a_rebuild() -> None:
    framework, table = setup()
    built = build(table, framework, MINMAX)
    assert built.ranks is not None
    row = 4
    assert what_if(table, framework, MINMAX, row, {}) == (built.index[row], built.ranks[row])
    changed = table.values.copy()
    changed[row, 1] = 99.0
    rebuilt = build(table_for(framework, changed), framework, MINMAX)
    assert rebuilt.ranks is not None
    assert what_if(table, framework, MINMAX, row, {"I1": 99.0}) == (
        rebuilt.index[row],
        rebuilt.ranks[row],
    )
    with pytest.raises(ValueError, match="不在指标体系中"):
        what_if(table, framework, MINMAX, row, {"NOPE": 1.0})
    with pytest.raises(ValueError, match="超出范围"):
        what_if(table, framework, MINMAX, 99, {})
    with pytest.raises(ValueError, match="假设值无效"):
        what_if(table, framework, MINMAX, row, {"I1": float("nan")})


def test_path_reaches_a_reachable_score() -> None:
    framework, table = setup()
    row = middle_unit(framework, table)
    start, _ = what_if(table, framework, MINMAX, row, {})
    path = improvement_path(table, framework, MINMAX, row, target_score=start + 10)
    assert path.reached
    assert path.reason == ""
    assert path.steps[-1].score >= start + 10
    check_path(path, framework, table)
    # The negative indicator (I2) can only improve by going down.
    for step in path.steps:
        if step.indicator == "I2":
            assert step.to_value < step.from_value


def test_path_reaches_a_reachable_rank() -> None:
    framework, table = setup(seed=1)
    row = middle_unit(framework, table)
    path = improvement_path(table, framework, MINMAX, row, target_rank=2)
    assert path.reached
    assert path.steps[-1].rank <= 2
    check_path(path, framework, table)
    assert path.changes  # indicator → (first value, last value)
    for code, (first, last) in path.changes.items():
        j = framework.indicators.index(code)
        assert first == table.values[row, j]
        assert framework.directions[j] * (last - first) > 0


def test_an_unreachable_target_is_reported() -> None:
    framework, table = setup(seed=2)
    row = middle_unit(framework, table)
    path = improvement_path(table, framework, MINMAX, row, target_score=101.0, step=0.2)
    assert not path.reached
    assert "没有哪个指标" in path.reason
    check_path(path, framework, table)
    short = improvement_path(table, framework, MINMAX, row, target_score=101.0, max_steps=2)
    assert not short.reached
    assert 1 <= len(short.steps) <= 2
    assert "最大步数" in short.reason


def test_an_already_met_target_needs_no_step() -> None:
    framework, table = setup()
    row = middle_unit(framework, table)
    path = improvement_path(table, framework, MINMAX, row, target_score=0.0)
    assert path.reached
    assert path.steps == ()
    assert path.effort == 0


def test_goalposts_cap_indicators_at_their_standard_value() -> None:
    """标准值法: an indicator at or past its standard value gains nothing and is never touched."""
    targets = [50.0, 50.0, 20.0, 60.0, 60.0]
    framework = tree_framework(
        [3, 2], directions=[1, 1, -1, 1, 1], weights=[3, 1, 1, 1, 1], targets=targets
    )
    x = np.random.default_rng(4).uniform(10, 40, size=(12, 5))
    row = 3
    x[row, 0] = 55.0  # past its standard value 50: capped although it weighs most
    x[row, 2] = 15.0  # negative, already below its standard value 20: capped
    x[row, 3] = 80.0  # past 60, but the best of the field is lower: still capped
    table = table_for(framework, x)
    spec = spec_of(
        {"normalise": {"method": "goalposts", "lower": 0, "upper": "target"}},
        {"aggregate": {}},
    )
    path = improvement_path(table, framework, spec, row, target_score=100.0)
    assert set(path.capped) == {"I0", "I2", "I3"}
    touched = {step.indicator for step in path.steps}
    assert touched == {"I1", "I4"}
    # Each stops at its standard value, where the score is full.
    assert path.changes["I1"][1] == 50.0
    assert path.changes["I4"][1] == 60.0
    assert path.reached
    assert path.steps[-1].score == pytest.approx(100.0)


def test_standard_values_of_denominated_indicators_follow_the_units_denominator() -> None:
    header = ["Level", "iCode", "Parent", "Direction", "Type", "Weight", "Target", "Denominator"]
    rows = [
        ["1", "I0", "Index", "1", "Indicator", "1", "10", "Pop"],
        ["1", "I1", "Index", "1", "Indicator", "1", "10", ""],
        ["2", "Index", "", "1", "Aggregate", "1", "", ""],
        ["", "Pop", "", "", "Denominator", "", "", ""],
    ]
    framework = framework_from_rows(header, rows)
    table = DataTable(
        unit_codes=np.array(["A", "B", "C"], dtype=object),
        indicators=framework.indicators,
        values=np.array([[100.0, 1.0], [300.0, 2.0], [500.0, 3.0]]),
        denominators=("Pop",),
        denominator_values=np.array([[20.0], [10.0], [10.0]]),
    )
    spec = spec_of(
        {"denominate": {}},
        {"normalise": {"method": "goalposts", "lower": 0, "upper": "target"}},
        {"aggregate": {}},
    )
    path = improvement_path(table, framework, spec, 0, target_score=100.0)
    assert path.reached
    # I0 per head is 100 / 20 = 5: its standard value 10 per head is 200 for this unit.
    assert path.changes == {"I0": (100.0, 200.0), "I1": (1.0, 10.0)}
    assert path.steps[-1].score == 100.0


def test_only_the_allowed_indicators_move() -> None:
    framework, table = setup(seed=3)
    row = middle_unit(framework, table)
    path = improvement_path(
        table, framework, MINMAX, row, target_score=100.0, indicators=["I3"], max_steps=50
    )
    assert {step.indicator for step in path.steps} == {"I3"}
    assert not path.reached


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "目标得分"),
        ({"target_score": 50, "step": 0}, "步长"),
        ({"target_score": 50, "indicators": ["X"]}, "不在指标体系中"),
        ({"target_score": 50, "max_steps": -1}, "最大步数"),
    ],
)
def test_bad_requests_are_refused_in_chinese(kwargs: dict[str, object], message: str) -> None:
    framework, table = setup()
    with pytest.raises(ValueError, match=message):
        improvement_path(table, framework, MINMAX, 0, **kwargs)  # type: ignore[arg-type]


def test_a_screened_out_unit_has_no_path() -> None:
    framework, table = setup()
    values = table.values.copy()
    values[0, :4] = np.nan
    spec = spec_of({"screen": {"min_share": 0.5}}, {"normalise": {}}, {"aggregate": {}})
    with pytest.raises(ValueError, match="筛选中被剔除"):
        improvement_path(table_for(framework, values), framework, spec, 0, target_score=50)


@FEW
@given(
    arrays(np.float64, (8, 5), elements=st.integers(0, 20).map(float)),
    st.integers(0, 7),
    st.floats(0, 1),
)
def test_every_step_strictly_raises_the_score(x: np.ndarray, row: int, share: float) -> None:
    framework = tree_framework([3, 2], directions=[1, 1, -1, 1, 1])
    table = table_for(framework, x)
    start, _ = what_if(table, framework, MINMAX, row, {})
    assume(np.isfinite(start))
    target = start + share * (100 - start)
    path = improvement_path(table, framework, MINMAX, row, target_score=target, max_steps=15)
    check_path(path, framework, table)
    final = path.steps[-1].score if path.steps else start
    assert path.reached == (final >= target)
    if not path.reached:
        assert path.reason
