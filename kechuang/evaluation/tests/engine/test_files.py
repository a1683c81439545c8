"""DATA.csv and META.csv: parsing, validation messages naming file, line and column; writing."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from kechuang.evaluation.engine import files
from kechuang.evaluation.engine.framework import Framework
from kechuang.evaluation.engine.pipeline import build

from .conftest import spec_of

META = """Level,iCode,iName,Direction,Weight,Target,Denominator,Parent,Type
1,rd,R&D 强度,1,1,2.5,,inputs,Indicator
1,patents,万人专利,1,1,10,pop,outputs,Indicator
1,energy,能耗,-1,2,0.5,,outputs,Indicator
2,inputs,投入,1,1,,,index,Aggregate
2,outputs,产出,1,1,,,index,Aggregate
3,index,综合指数,1,1,,,,Aggregate
,region,地区,,,,,,Group
,pop,人口,,,,,,Denominator
"""
DATA = """uCode,uName,region,pop,rd,patents,energy
620821,泾川县,平凉,30,1.5,NA,0.8
620823,崇信县,平凉,10,,5,0.4
620102,城关区,兰州,120,3.1,600,0.3
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def framework(tmp_path: Path) -> Framework:
    return files.read_framework(write(tmp_path, "META.csv", META))


def test_framework_from_meta(framework: Framework) -> None:
    assert framework.indicators == ("rd", "patents", "energy")
    assert framework.aggregates == ("inputs", "outputs", "index")
    assert framework.levels.tolist() == [1, 1, 1, 2, 2, 3]
    assert [framework.nodes[p] if p >= 0 else None for p in framework.parents] == [
        "inputs",
        "outputs",
        "outputs",
        "index",
        "index",
        None,
    ]
    assert framework.directions.tolist() == [1, 1, -1]
    assert framework.weights.tolist() == [1, 1, 2, 1, 1, 1]
    assert framework.targets.tolist() == [2.5, 10, 0.5]
    assert framework.denominator_of == (None, "pop", None)
    assert framework.groups == ("region",)
    assert framework.names["energy"] == "能耗"
    assert framework.nodes[framework.top] == "index"  # type: ignore[index]


def test_table_reads_missing_markers_and_sorts_like_coinr(
    tmp_path: Path, framework: Framework
) -> None:
    table = files.read_table(write(tmp_path, "DATA.csv", DATA), framework)
    assert table.unit_codes.tolist() == ["620102", "620821", "620823"]
    assert table.unit_names.tolist() == ["城关区", "泾川县", "崇信县"]  # type: ignore[union-attr]
    assert math.isnan(table.values[1, 1])  # "NA"
    assert math.isnan(table.values[2, 0])  # empty
    assert table.groups["region"].tolist() == ["兰州", "平凉", "平凉"]
    assert table.denominator_values[:, 0].tolist() == [120, 30, 10]  # type: ignore[index]
    assert table.times is None
    assert not table.is_panel


def test_bom_and_blank_lines_are_accepted(tmp_path: Path, framework: Framework) -> None:
    path = tmp_path / "DATA.csv"
    path.write_bytes(("\ufeff" + DATA + "\n\n").encode("utf-8"))
    assert files.read_table(path, framework).n_rows == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (DATA.replace("0.4", "0,4"), "DATA.csv 第 3 行：有 8 个字段，多于表头的 7 个"),
        (DATA.replace("3.1", "三点一"), "DATA.csv 第 4 行 rd 列：无法解析为数字：'三点一'"),
        (DATA.replace(",10,", ",十,"), "DATA.csv 第 3 行 pop 列：无法解析为数字：'十'"),
        (
            DATA.replace("620823", "620821"),
            "DATA.csv 第 3 行 uCode 列：单位 '620821'重复（第 2 行已有）",
        ),
        (DATA.replace("620823", ""), "DATA.csv 第 3 行 uCode 列：单位代码不能为空"),
        (DATA.replace("energy", "notes"), "DATA.csv 第 1 行 notes 列：该列不在 META 中"),
        (DATA.replace(",energy", ",energy,index").replace("0.8", "0.8,1"), "汇总指标由计算得出"),
        (DATA.replace("uCode", "code"), "DATA.csv：缺少必需的列：uCode"),
        (DATA.replace(",pop", ",popp"), "DATA.csv 第 1 行 popp 列：该列不在 META 中"),
    ],
)
def test_bad_data_names_file_line_and_column(
    tmp_path: Path, framework: Framework, data: str, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        files.read_table(write(tmp_path, "DATA.csv", data), framework)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("2.5,,inputs", "2.5,,Xyz", "META.csv 第 2 行 Parent 列：未知的父节点 'Xyz'"),
        ("1,energy", "2,energy", "META.csv 第 4 行 Level 列：Indicator 的层级应为 1"),
        ("-1,2,0.5", "0,2,0.5", "META.csv 第 4 行 Direction 列：方向应为 1 或 -1"),
        ("-1,2,0.5", "-1,heavy,0.5", "META.csv 第 4 行 Weight 列：无法解析为数字：'heavy'"),
        ("-1,2,0.5", "-1,-2,0.5", "META.csv 第 4 行 Weight 列：权重不能为负"),
        ("Denominator\n", "Denominatr\n", "META.csv 第 9 行 Type 列：未知的类型 'Denominatr'"),
        (
            ",pop,outputs",
            ",people,outputs",
            "META.csv 第 3 行 Denominator 列：'people' 不是类型为 Denominator",
        ),
        ("1,energy", "1,rd", "META.csv 第 4 行 iCode 列：重复的代码 'rd'（第 2 行已有）"),
        ("3,index,综合指数,1,1,,,,Aggregate\n", "", "第 5 行 Parent 列：'inputs' 在最高层级（2）"),
        (
            "2,outputs,产出,1,1,,,index",
            "2,outputs,产出,1,1,,,",
            "META.csv 第 6 行 Parent 列：'outputs' 缺少父节点",
        ),
        ("3,index", "4,index", "Level 列：缺少层级 3（层级应从 1 连续到 4）"),
        ("Target,", "Goal,", None),
        ("Parent,Type", "Parents,Type", "META.csv：缺少必需的列：Parent"),
    ],
)
def test_bad_meta_names_file_line_and_column(
    tmp_path: Path, old: str, new: str, message: str | None
) -> None:
    assert old in META
    text = META.replace(old, new, 1)
    if message is None:
        # Without a Target column there are no targets, which is fine until a method needs them.
        framework = files.read_framework(write(tmp_path, "META.csv", text))
        assert np.isnan(framework.targets).all()
        return
    with pytest.raises(ValueError, match=re.escape(message)):
        files.read_framework(write(tmp_path, "META.csv", text))


def test_two_top_aggregates_are_refused(tmp_path: Path) -> None:
    text = META.replace("2,outputs,产出,1,1,,,index", "2,outputs,产出,1,1,,,other")
    text += "3,other,另一指数,1,1,,,,Aggregate\n"
    with pytest.raises(ValueError, match="最高层级 3 应只有一个总指数，实际有 2 个：index、other"):
        files.read_framework(write(tmp_path, "META.csv", text))


def test_childless_aggregate_is_refused(tmp_path: Path) -> None:
    text = META + "2,spare,空,1,1,,,index,Aggregate\n"
    with pytest.raises(
        ValueError, match=re.escape("META.csv 第 10 行 iCode 列：汇总指标 'spare' 没有下级")
    ):
        files.read_framework(write(tmp_path, "META.csv", text))


def test_unreadable_files(tmp_path: Path, framework: Framework) -> None:
    with pytest.raises(FileNotFoundError, match="找不到文件"):
        files.read_table(tmp_path / "none.csv", framework)
    path = tmp_path / "gbk.csv"
    path.write_bytes(DATA.encode("gbk"))
    with pytest.raises(ValueError, match=re.escape("gbk.csv：不是 UTF-8 编码的文件")):
        files.read_table(path, framework)
    with pytest.raises(ValueError, match=re.escape("empty.csv：文件为空或缺少表头")):
        files.read_framework(write(tmp_path, "empty.csv", ""))
    header_only = write(tmp_path, "DATA.csv", DATA.splitlines()[0] + "\n")
    with pytest.raises(ValueError, match=re.escape("DATA.csv：没有数据行")):
        files.read_table(header_only, framework)
    with pytest.raises(FileNotFoundError, match="不是文件"):
        files.read_table(tmp_path, framework)


def test_panel_data(tmp_path: Path, framework: Framework) -> None:
    rows = DATA.replace("uName,", "uName,Time,").splitlines()
    lines = [rows[0]]
    for year in (2021, 2020):
        lines += [
            line.replace(",", f",{year},", 2).replace(f",{year},", ",", 1) for line in rows[1:]
        ]
    table = files.read_table(write(tmp_path, "DATA.csv", "\n".join(lines) + "\n"), framework)
    assert table.is_panel
    assert table.times.tolist() == [2020] * 3 + [2021] * 3  # type: ignore[union-attr]
    assert table.unit_codes.tolist()[:3] == ["620102", "620821", "620823"]
    duplicated = "\n".join([*lines, lines[1]]) + "\n"
    with pytest.raises(
        ValueError, match="第 8 行 uCode 列：单位 '620821' 在 2021 年重复（第 2 行已有）"
    ):
        files.read_table(write(tmp_path, "DATA.csv", duplicated), framework)
    blank_year = "\n".join([lines[0], lines[1].replace(",2021,", ",,")]) + "\n"
    with pytest.raises(ValueError, match="第 2 行 Time 列：年份不能为空"):
        files.read_table(write(tmp_path, "DATA.csv", blank_year), framework)


def test_outputs_round_trip_and_leave_missing_empty(tmp_path: Path, framework: Framework) -> None:
    table = files.read_table(write(tmp_path, "DATA.csv", DATA), framework)
    result = build(
        table,
        framework,
        spec_of({"denominate": {}}, {"normalise": {"method": "minmax"}}, {"aggregate": {}}),
    )
    written = files.write_outputs(result, tmp_path / "out" / "nested")
    assert sorted(p.name for p in written) == [
        "dset_Aggregated.csv",
        "dset_Denominated.csv",
        "dset_Normalised.csv",
        "dset_Raw.csv",
        "results.csv",
    ]
    lines = (tmp_path / "out" / "nested" / "dset_Denominated.csv").read_text().splitlines()
    assert lines[0] == "uCode,rd,patents,energy"
    assert lines[1] == "620102,3.1,5.0,0.3"  # 600 / 120
    assert lines[2] == "620821,1.5,,0.8"  # NA stays empty
    results = (tmp_path / "out" / "nested" / "results.csv").read_text().splitlines()
    assert results[0] == "uCode,uName,Rank,index,inputs,outputs"
    assert results[1].startswith("620102,城关区,1,")
    assert files.format_number(0.1 + 0.2) == "0.30000000000000004"
    assert float(files.format_number(1 / 3)) == 1 / 3


def test_output_directory_that_is_a_file(tmp_path: Path, framework: Framework) -> None:
    table = files.read_table(write(tmp_path, "DATA.csv", DATA), framework)
    result = build(table, framework, spec_of({"treat": {}}))
    blocker = write(tmp_path, "taken", "")
    with pytest.raises(ValueError, match="无法创建输出目录"):
        files.write_outputs(result, blocker)
