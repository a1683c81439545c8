"""Spec parsing: COINr defaults, and Chinese errors that name the step and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kechuang.evaluation.engine.files import load_spec
from kechuang.evaluation.engine.spec import parse_spec
from kechuang.evaluation.engine.steps.aggregate import AggregateStep, LevelMethod
from kechuang.evaluation.engine.steps.impute import ImputeStep
from kechuang.evaluation.engine.steps.normalise import NormaliseStep
from kechuang.evaluation.engine.steps.screen import ScreenStep
from kechuang.evaluation.engine.steps.treat import TreatStep


def test_missing_parameters_take_coinr_defaults() -> None:
    spec = parse_spec(
        {
            "steps": [
                {"denominate": {}},
                {"impute": None},
                "screen",
                {"treat": {}},
                {"normalise": {}},
                {"aggregate": {"method": "generalised_mean"}},
            ]
        }
    )
    impute, screen, treat, normalise, aggregate = spec.steps[1:]
    assert impute == ImputeStep(2, "mean", None)
    assert screen == ScreenStep(3, min_share=2 / 3, by="na", min_nonzero_share=0.05)
    assert treat == TreatStep(4, winmax=5, skew=2.0, kurtosis=3.5)
    assert normalise == NormaliseStep(5, "minmax", {"lower": 0.0, "upper": 100.0}, False)
    assert isinstance(aggregate, AggregateStep)
    assert aggregate.method == LevelMethod("generalised_mean", 2.0)


def test_other_normalisation_defaults() -> None:
    zscore, goalposts = (
        parse_spec({"steps": [{"normalise": params}]}).steps[0]
        for params in ({"method": "zscore"}, {"method": "goalposts", "upper": "target"})
    )
    assert zscore.params == {"mean": 0.0, "sd": 1.0}  # type: ignore[attr-defined]
    assert goalposts.params == {  # type: ignore[attr-defined]
        "lower": 0.0,
        "upper": "target",
        "scale": 100.0,
        "negative": "inverse_ratio",
        "clip": True,
    }


def test_by_level_accepts_names_and_parameters() -> None:
    step = parse_spec(
        {
            "steps": [
                {
                    "aggregate": {
                        "by_level": {2: {"method": "generalised_mean", "p": 3}, "3": "geometric"},
                        "data_threshold": 0.9,
                    }
                }
            ]
        }
    ).steps[0]
    assert isinstance(step, AggregateStep)
    assert step.method_for(2) == LevelMethod("generalised_mean", 3.0)
    assert step.method_for(3) == LevelMethod("geometric")
    assert step.method_for(4) == LevelMethod("arithmetic")
    assert step.data_threshold == 0.9


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"normalize": {}}], "第 1 步：未知的步骤 'normalize'（可用：denominate、impute"),
        ([{"impute": {"method": "mode"}}], "第 1 步 impute：未知的方法 'mode'"),
        ([{"impute": {"method": "mean_group"}}], "第 1 步 impute：缺少参数 'group'"),
        ([{"impute": {"method": "mean", "group": "G"}}], "不使用参数 'group'"),
        ([{"screen": {"min_share": 1.5}}], "第 1 步 screen：参数 'min_share' 应不大于 1"),
        ([{"screen": {"min_shar": 0.9}}], "第 1 步 screen：未知的参数 'min_shar'"),
        ([{"treat": {"winmax": 2.5}}], "第 1 步 treat：参数 'winmax' 应为不小于 0 的整数"),
        ([{"treat": {"skew": "high"}}], "参数 'skew' 应为数字"),
        ([{"treat": {"fallback": "sqrt"}}], "参数 'fallback' 的取值 'sqrt'"),
        ([{"normalise": {"method": "minmax", "sd": 1}}], "方法 minmax 未知的参数 'sd'"),
        ([{"normalise": {"method": "goalposts"}}], "缺少参数 'upper'（数字或 target）"),
        ([{"normalise": {"method": "goalposts", "upper": "max"}}], "应为数字或 target"),
        ([{"normalise": {"method": "goalposts", "upper": 1, "negative": "flip"}}], "'negative'"),
        ([{"normalise": {"method": "minmax", "lower": 5, "upper": 5}}], "不能相等"),
        ([{"normalise": {"method": "zscore", "sd": 0}}], "参数 'sd' 应为正数"),
        ([{"normalise": {"method": "base_year"}}], "缺少参数 'base'"),
        ([{"normalise": {"method": "base_year", "base": 2018, "pooled": True}}], "不能与 pooled"),
        ([{"normalise": {"method": "rank", "pooled": "yes"}}], "'pooled' 应为 true 或 false"),
        ([{"aggregate": {"method": "median"}}], "第 1 步 aggregate：未知的方法 'median'"),
        ([{"aggregate": {"method": "arithmetic", "p": 2}}], "方法 arithmetic 不使用参数 'p'"),
        ([{"aggregate": {"method": "generalised_mean", "p": 0}}], "'p' 不能为 0"),
        ([{"aggregate": {"by_level": {1: "arithmetic"}}}], "by_level 的层级应不小于 2"),
        ([{"aggregate": {"by_level": {2: "mode"}}}], "by_level 中层级 2：未知的方法 'mode'"),
        ([{"aggregate": {"by_level": {2: {"method": "geometric", "q": 1}}}}], "未知的参数 'q'"),
        ([{"aggregate": {"data_threshold": 2}}], "'data_threshold' 应不大于 1"),
        ([{"aggregate": {"weights": {"method": "ahp"}}}], "weights：未知的方法 'ahp'"),
        ([{"aggregate": {"weights": {"method": "entropy", "levels": [1]}}}], "levels"),
        ([{"aggregate": {"weights": 5}}], "weights 应为文件路径"),
        ([{"aggregate": {}}, {"treat": {}}], "第 2 步 treat：aggregate 之后不能再有步骤"),
        ([{"treat": {}}, {"treat": {}}], "第 2 步 treat：每个步骤只能出现一次"),
        ([{"treat": {}, "screen": {}}], "第 1 步：应为 {步骤名: {参数}}"),
        ([{"treat": [1, 2]}], "第 1 步 treat：参数应为键值对"),
    ],
)
def test_bad_specs_name_the_step_and_key(steps: list[object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_spec({"steps": steps})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"step": []}, "未知的顶层键 'step'"),
        ({"steps": []}, "steps 应为非空的步骤列表"),
        ("treat", "steps 应为非空的步骤列表"),
    ],
)
def test_bad_spec_shapes(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_spec(data, source="SPEC.yaml")


def test_spec_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "SPEC.yaml"
    path.write_text("steps:\n  - treat: {winmax: [\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"SPEC.yaml：第 \d+ 行：YAML 格式错误"):
        load_spec(path)
    path.write_text("steps:\n  - treat: {winmax: -1}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape("SPEC.yaml 第 1 步 treat：参数 'winmax'")):
        load_spec(path)
    with pytest.raises(FileNotFoundError, match="找不到文件"):
        load_spec(tmp_path / "missing.yaml")


def test_weights_file_is_relative_to_the_spec(tmp_path: Path) -> None:
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "w.csv").write_text("iCode,Weight\nI0,2\n", encoding="utf-8")
    (tmp_path / "SPEC.yaml").write_text(
        "steps:\n  - aggregate: {weights: weights/w.csv}\n", encoding="utf-8"
    )
    step = load_spec(tmp_path / "SPEC.yaml").steps[0]
    assert isinstance(step, AggregateStep)
    assert step.weight_overrides == (("I0", 2.0, 2),)
    (tmp_path / "weights" / "w.csv").write_text("iCode,Weight\nI0,heavy\n", encoding="utf-8")
    with pytest.raises(
        ValueError, match=re.escape("w.csv 第 2 行 Weight 列：无法解析为数字：'heavy'")
    ):
        load_spec(tmp_path / "SPEC.yaml")
    (tmp_path / "weights" / "w.csv").write_text("Code,Weight\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape("w.csv：缺少必需的列：iCode")):
        load_spec(tmp_path / "SPEC.yaml")
    (tmp_path / "weights" / "w.csv").unlink()
    with pytest.raises(FileNotFoundError, match="找不到文件"):
        load_spec(tmp_path / "SPEC.yaml")
