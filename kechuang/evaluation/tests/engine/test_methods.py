"""Worked examples: the 标准值 method, base-year indices, data-driven weights, build-time errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kechuang.evaluation.engine import files, weights
from kechuang.evaluation.engine.pipeline import build
from kechuang.evaluation.engine.spec import parse_spec
from kechuang.evaluation.engine.table import DataTable

from .conftest import REPOSITORY, spec_of, table_for, tree_framework


def test_engine_imports_no_django() -> None:
    code = (
        "import sys, kechuang.evaluation.engine.pipeline, kechuang.evaluation.engine.files; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework') "
        "or m.startswith('kechuang.core')]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPOSITORY, check=True, timeout=120)


def test_standard_value_method() -> None:
    """d = x / s × 100 capped at 100; for 逆指标 d = s / x × 100 (the default), or reflected."""
    framework = tree_framework([2], directions=[1, -1], targets=[8.0, 0.5])
    x = np.array([[4.0, 1.0], [8.0, 0.5], [12.0, 0.25], [0.0, 0.0], [np.nan, 2.0]])
    table = table_for(framework, x)
    standard = {"method": "goalposts", "lower": 0, "upper": "target", "scale": 100}
    result = build(table, framework, spec_of({"normalise": standard}, {"aggregate": {}}))
    scores = result.datasets["Normalised"].values
    np.testing.assert_allclose(scores[:, 0], [50, 100, 100, 0, np.nan])
    np.testing.assert_allclose(scores[:, 1], [50, 100, 100, 100, 25])
    np.testing.assert_allclose(result.index, [50, 100, 100, 50, 25])
    reflect = build(table, framework, spec_of({"normalise": {**standard, "negative": "reflect"}}))
    # COINr's iMeta goalposts: (U − x) / (U − L) with L = 0, clipped.
    np.testing.assert_allclose(reflect.datasets["Normalised"].values[:, 1], [0, 0, 50, 100, 0])
    fixed = build(
        table,
        framework,
        spec_of({"normalise": {"method": "goalposts", "upper": 10, "clip": False}}),
    )
    np.testing.assert_allclose(fixed.datasets["Normalised"].values[:, 0], [40, 80, 120, 0, np.nan])


def test_methods_needing_targets_say_which_are_missing() -> None:
    framework = tree_framework([2], targets=[1.0, float("nan")])
    table = table_for(framework, np.ones((3, 2)))
    with pytest.raises(ValueError, match="第 1 步 normalise：以下指标在 META 中没有 Target：I1"):
        build(table, framework, spec_of({"normalise": {"method": "goalposts", "upper": "target"}}))
    with pytest.raises(ValueError, match="没有 Target：I1"):
        build(table, framework, spec_of({"normalise": {"method": "distance_to_target"}}))


def panel_table(framework, values: np.ndarray, years: list[int]) -> DataTable:  # type: ignore[no-untyped-def]
    units = len(values) // len(years)
    return DataTable(
        unit_codes=np.array([f"U{i % units}" for i in range(len(values))], dtype=object),
        indicators=framework.indicators,
        values=values,
        times=np.repeat(years, units).astype(float),
    )


def test_base_year_index() -> None:
    framework = tree_framework([2], directions=[1, -1])
    x = np.array([[10.0, 4.0], [20.0, 8.0], [15.0, 2.0], [30.0, np.nan]])
    table = panel_table(framework, x, [2018, 2019])
    result = build(
        table,
        framework,
        spec_of({"normalise": {"method": "base_year", "base": 2018}}, {"aggregate": {}}),
    )
    np.testing.assert_allclose(
        result.datasets["Normalised"].values, [[100, 100], [100, 100], [150, 200], [150, np.nan]]
    )
    np.testing.assert_allclose(result.index, [100, 100, 175, 150])
    np.testing.assert_array_equal(result.ranks, [1, 1, 1, 2])  # within each year
    with pytest.raises(ValueError, match="数据中没有基年 2017"):
        build(table, framework, spec_of({"normalise": {"method": "base_year", "base": 2017}}))
    cross_section = table_for(framework, x)
    with pytest.raises(ValueError, match="base_year 需要面板数据"):
        build(
            cross_section, framework, spec_of({"normalise": {"method": "base_year", "base": 2018}})
        )


def test_entropy_and_critic_weights_by_hand() -> None:
    # Column 0 is spread out, column 1 nearly flat: entropy favours column 0.
    x = np.array([[0.0, 10.0], [5.0, 10.0], [10.0, 11.0]])
    groups = np.array([0, 0])
    p = x / x.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = -np.nansum(np.where(p > 0, p * np.log(p), 0), axis=0) / np.log(3)
    d = 1 - e
    np.testing.assert_allclose(weights.entropy(x, groups), d / d.sum())
    sd = x.std(axis=0, ddof=1)
    r = np.corrcoef(x, rowvar=False)
    c = sd * (1 - r).sum(axis=0)
    np.testing.assert_allclose(weights.critic(x, groups), c / c.sum())
    np.testing.assert_allclose(weights.equal(x, np.array([0, 1])), [1, 1])
    with pytest.raises(ValueError, match="熵权法要求数据非负"):
        weights.entropy(-x, groups)


def test_data_driven_weights_in_the_aggregate_step() -> None:
    framework = tree_framework([2, 2])
    rng = np.random.default_rng(7)
    x = rng.uniform(1, 100, size=(12, 4))
    table = table_for(framework, x)
    spec = spec_of(
        {"normalise": {"method": "minmax"}},
        {"aggregate": {"weights": {"method": "entropy", "levels": [2]}}},
    )
    result = build(table, framework, spec)
    assert result.aggregation is not None
    used = result.aggregation.weights[0]
    normalised = result.datasets["Normalised"].values
    expected = weights.entropy(normalised, np.array([0, 0, 1, 1]))
    np.testing.assert_allclose(used[:4], expected)
    np.testing.assert_allclose(used[4:], 1)  # level 3 keeps the META weights
    p0 = normalised[:, :2] @ expected[:2]
    np.testing.assert_allclose(result.scores("P0"), p0)
    np.testing.assert_allclose(np.nansum(result.contributions, axis=1), result.index)
    effective = weights.effective_weights(framework, used)
    assert effective[:4].sum() == pytest.approx(1)


def test_panel_weights_are_per_year_unless_pooled() -> None:
    framework = tree_framework([3])
    rng = np.random.default_rng(3)
    table = panel_table(framework, rng.uniform(1, 100, size=(10, 3)), [2020, 2021])
    for pooled in (False, True):
        spec = spec_of(
            {"normalise": {"method": "minmax", "pooled": True}},
            {"aggregate": {"weights": {"method": "critic", "pooled": pooled}}},
        )
        result = build(table, framework, spec)
        used = result.aggregation.weights[:, :3]  # type: ignore[union-attr]
        same = np.allclose(used[0], used[-1])
        assert same is pooled


def test_geometric_mean_refuses_zero_scores_and_names_them() -> None:
    framework = tree_framework([2])
    table = table_for(framework, np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 1.0]]))
    with pytest.raises(
        ValueError,
        match="第 2 步 aggregate：第 2 层使用 geometric：几何平均要求所有值为正数，"
        "但单位 'U000' 的 'I0' 为 0",
    ):
        build(table, framework, spec_of({"normalise": {}}, {"aggregate": {"method": "geometric"}}))
    ok = build(
        table,
        framework,
        spec_of({"normalise": {"lower": 1, "upper": 100}}, {"aggregate": {"method": "geometric"}}),
    )
    assert np.all(ok.index > 0)


def test_build_time_errors_name_the_step() -> None:
    framework = tree_framework([2])
    table = table_for(framework, np.ones((3, 2)))
    with pytest.raises(
        ValueError, match="第 1 步 aggregate：by_level 中的层级 5 不存在（汇总层级为 2–3）"
    ):
        build(table, framework, spec_of({"aggregate": {"by_level": {5: "geometric"}}}))
    with pytest.raises(ValueError, match="第 1 步 impute：分组列 'Province' 不存在"):
        build(table, framework, spec_of({"impute": {"method": "mean_group", "group": "Province"}}))
    with pytest.raises(ValueError, match="第 1 步 screen：exclude 中的单位不在数据中：X9"):
        build(table, framework, spec_of({"screen": {"exclude": ["X9"]}}))
    with pytest.raises(ValueError, match="参照单位 'X9' 不在"):
        build(
            table,
            framework,
            spec_of({"normalise": {"method": "distance_to_reference", "reference": "X9"}}),
        )


def test_weights_file_with_unknown_code(tmp_path: Path) -> None:
    framework = tree_framework([2])
    table = table_for(framework, np.ones((3, 2)))
    (tmp_path / "w.csv").write_text("iCode,Weight\nI0,2\nI9,1\n", encoding="utf-8")
    spec = parse_spec({"steps": [{"aggregate": {"weights": "w.csv"}}]}, base_dir=tmp_path)
    with pytest.raises(ValueError, match=re.escape("w.csv 第 3 行 iCode 列：'I9' 不在指标体系中")):
        build(table, framework, spec)


def test_screen_forces_units_in_and_out() -> None:
    framework = tree_framework([2])
    x = np.array([[1.0, np.nan], [1.0, 2.0], [3.0, 4.0]])
    table = table_for(framework, x)
    result = build(
        table,
        framework,
        spec_of({"screen": {"min_share": 1, "include": ["U000"], "exclude": ["U002"]}}),
    )
    assert result.table.unit_codes[result.rows].tolist() == ["U000", "U001"]


def test_screening_out_every_unit_stops_with_a_message() -> None:
    framework = tree_framework([2])
    table = table_for(framework, np.array([[np.nan, 1.0], [np.nan, 2.0]]))
    with pytest.raises(ValueError, match="第 1 步 screen：没有单位留下"):
        build(table, framework, spec_of({"screen": {"min_share": 1}}, {"normalise": {}}))


def test_only_the_steps_in_the_spec_run(tmp_path: Path) -> None:
    framework = tree_framework([2])
    table = table_for(framework, np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 1.0]]))
    result = build(table, framework, spec_of({"treat": {}}))
    assert list(result.datasets) == ["Raw", "Treated"]
    assert result.aggregation is None
    assert result.ranks is None
    written = files.write_outputs(result, tmp_path)
    assert sorted(p.name for p in written) == [
        "dset_Raw.csv",
        "dset_Treated.csv",
        "treat_details.csv",
    ]


def test_treatment_fallbacks() -> None:
    x = np.append(np.linspace(1, 2, 19), 100.0)[:, None]  # one far outlier
    framework = tree_framework([1])
    table = table_for(framework, x)
    for fallback in ("log_CT", "log_CT_orig", "log_CT_plus", "none"):
        result = build(table, framework, spec_of({"treat": {"winmax": 0, "fallback": fallback}}))
        out = result.datasets["Treated"].values[:, 0]
        record = result.treat_log.records[0]  # type: ignore[union-attr]
        if fallback == "none":
            np.testing.assert_array_equal(out, x[:, 0])
            assert record.stage == 1
            continue
        assert record.stage == 2
        low, high = x.min(), x.max()
        expected = {
            "log_CT": np.log(x[:, 0] - low + 0.01 * (high - low)),
            "log_CT_orig": np.log(x[:, 0] - low + 1),
            "log_CT_plus": np.log(x[:, 0] - low + 0.01 * (high - low)),
        }[fallback]
        np.testing.assert_allclose(out, expected)


def test_constant_and_tiny_columns_are_left_alone_like_coinr() -> None:
    framework = tree_framework([3])
    x = np.array([[5.0, 1.0, np.nan], [5.0, 2.0, np.nan], [5.0, 3.0, 1.0], [5.0, 4.0, 2.0]])
    table = table_for(framework, x)
    result = build(table, framework, spec_of({"treat": {}}, {"normalise": {}}))
    np.testing.assert_array_equal(result.datasets["Treated"].values, x)
    # COINr logs only indicators whose check could be decided.
    assert [r.code for r in result.treat_log.records] == ["I1"]  # type: ignore[union-attr]
    # A constant column has no range: min-max gives NaN, as COINr does.
    assert np.isnan(result.datasets["Normalised"].values[:, 0]).all()


def test_impute_leaves_cells_of_units_without_a_group_label() -> None:
    from kechuang.evaluation.engine.steps.impute import impute

    values = np.array([[np.nan, 1.0], [2.0, np.nan]])
    groups = np.array([None, None], dtype=object)
    for method in ("mean_group", "median_group"):
        out = impute(values, method, groups)
        assert np.array_equal(np.isnan(out), np.isnan(values))
