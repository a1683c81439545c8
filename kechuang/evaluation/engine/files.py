"""DATA.csv, META.csv and SPEC.yaml in; dset_*.csv, results.csv and treat_details.csv out.

Empty cells and "NA" are missing. Numbers are written with Python's repr, so
they read back to the same float; missing values as an empty field.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import yaml

from kechuang.evaluation.engine.cells import is_missing, parse_number, where
from kechuang.evaluation.engine.csvfile import read_csv
from kechuang.evaluation.engine.framework import Framework, framework_from_rows
from kechuang.evaluation.engine.pipeline import BuildResult, Dataset
from kechuang.evaluation.engine.spec import Spec, parse_spec
from kechuang.evaluation.engine.steps.treat import TreatLog
from kechuang.evaluation.engine.table import DataTable

SPECIAL_COLUMNS = ("uCode", "uName", "Time")


def read_framework(path: Path) -> Framework:
    header, rows = read_csv(path)
    return framework_from_rows(
        header,
        [values for _, values in rows],
        source=path.name,
        lines=[line for line, _ in rows],
    )


def read_table(path: Path, framework: Framework) -> DataTable:
    """The data in COINr's row order (uCode, or Time then uCode for a panel)."""
    source = path.name
    header, rows = read_csv(path)
    if "uCode" not in header:
        raise ValueError(f"{source}：缺少必需的列：uCode")
    known = set(framework.indicators) | set(framework.groups) | set(framework.denominators)
    known |= set(framework.others) | set(SPECIAL_COLUMNS)
    for name in header:
        if name in framework.aggregates:
            raise ValueError(f"{where(source, 1, name)}：汇总指标由计算得出，不应出现在数据中")
        if name not in known:
            raise ValueError(f"{where(source, 1, name)}：该列不在 META 中")
    absent = [
        code
        for code in (*framework.indicators, *framework.groups, *framework.denominators)
        if code not in header
    ]
    if absent:
        raise ValueError(f"{source}：缺少 META 中的列：{'、'.join(absent)}")
    position = {name: i for i, name in enumerate(header)}

    codes, names, times = [], [], []
    seen: dict[tuple[str, float], int] = {}
    has_time = "Time" in position
    for line, values in rows:
        code = values[position["uCode"]].strip()
        if is_missing(code):
            raise ValueError(f"{where(source, line, 'uCode')}：单位代码不能为空")
        codes.append(code)
        name = values[position["uName"]].strip() if "uName" in position else ""
        names.append(name or code)
        if has_time:
            time = parse_number(values[position["Time"]], source, line, "Time")
            if math.isnan(time):
                raise ValueError(f"{where(source, line, 'Time')}：年份不能为空")
            times.append(time)
    is_panel = has_time and len(set(times)) > 1
    for i, (line, _) in enumerate(rows):
        key = (codes[i], times[i] if is_panel else 0.0)
        if key in seen:
            what = f"单位 '{codes[i]}' 在 {times[i]:g} 年" if is_panel else f"单位 '{codes[i]}'"
            raise ValueError(f"{where(source, line, 'uCode')}：{what}重复（第 {seen[key]} 行已有）")
        seen[key] = line

    if not rows:
        raise ValueError(f"{source}：没有数据行")

    def numbers(columns: Sequence[str]) -> np.ndarray:
        out = np.empty((len(rows), len(columns)))
        for j, column in enumerate(columns):
            at = position[column]
            for i, (line, values) in enumerate(rows):
                out[i, j] = parse_number(values[at], source, line, column)
        return out

    groups = {
        group: np.array(
            [
                None if is_missing(values[position[group]]) else values[position[group]].strip()
                for _, values in rows
            ],
            dtype=object,
        )
        for group in framework.groups
    }
    table = DataTable(
        unit_codes=np.array(codes, dtype=object),
        indicators=framework.indicators,
        values=numbers(framework.indicators),
        unit_names=np.array(names, dtype=object),
        times=np.array(times) if has_time else None,
        groups=groups,
        denominators=framework.denominators,
        denominator_values=numbers(framework.denominators),
    )
    return table.take(table.coinr_order())


def load_spec(path: Path) -> Spec:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileNotFoundError(f"找不到文件：{path}") from None
    except IsADirectoryError:
        raise FileNotFoundError(f"不是文件：{path}") from None
    except PermissionError:
        raise ValueError(f"没有读取权限：{path}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path.name}：不是 UTF-8 编码的文件") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"第 {mark.line + 1} 行：" if mark is not None else ""
        raise ValueError(f"{path.name}：{at}YAML 格式错误") from None
    return parse_spec(data, base_dir=path.parent, source=path.name)


def format_number(value: float) -> str:
    if value is None or math.isnan(value):
        return ""
    return repr(float(value))


def _format_time(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _format_flag(value: bool | None) -> str:
    return "" if value is None else ("TRUE" if value else "FALSE")


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_outputs(result: BuildResult, outdir: Path) -> list[Path]:
    """Write every data set, results.csv (after aggregate) and treat_details.csv (after treat)."""
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"无法创建输出目录 {outdir}：{error.strerror or error}") from None
    written = [
        write_dataset(result, dataset, outdir / f"dset_{dataset.name}.csv")
        for dataset in result.datasets.values()
    ]
    if result.aggregation is not None:
        written.append(write_results(result, outdir / "results.csv"))
    if result.treat_log is not None:
        written.append(write_treat_log(result, result.treat_log, outdir / "treat_details.csv"))
    return written


def write_dataset(result: BuildResult, dataset: Dataset, path: Path) -> Path:
    table = result.table
    panel = table.is_panel
    header = ["uCode", *(["Time"] if panel else []), *dataset.codes]
    rows = []
    for position, values in zip(dataset.rows, dataset.values.tolist(), strict=True):
        row = [str(table.unit_codes[position])]
        if panel:
            assert table.times is not None
            row.append(_format_time(table.times[position]))
        row.extend(format_number(v) for v in values)
        rows.append(row)
    return _write(path, header, rows)


def write_results(result: BuildResult, path: Path) -> Path:
    """uCode, uName, Rank and every aggregate, top level first; sorted by Time and Rank."""
    aggregation, table, framework = result.aggregation, result.table, result.framework
    assert aggregation is not None
    assert result.ranks is not None
    panel = table.is_panel
    n_ind = len(framework.indicators)
    order = sorted(
        range(len(aggregation.codes)),
        key=lambda j: (-int(framework.levels[n_ind + j]), j),
    )
    codes = [aggregation.codes[j] for j in order]
    header = [*(["Time"] if panel else []), "uCode", "uName", "Rank", *codes]

    def sort_key(i: int) -> tuple[float, float, str]:
        rank = result.ranks[i]  # type: ignore[index]
        time = table.times[result.rows[i]] if panel else 0.0  # type: ignore[index]
        return (time, math.inf if math.isnan(rank) else rank, str(table.unit_codes[result.rows[i]]))

    rows = []
    scores = aggregation.scores[:, order].tolist()
    for i in sorted(range(len(result.rows)), key=sort_key):
        position = result.rows[i]
        row = []
        if panel:
            assert table.times is not None
            row.append(_format_time(table.times[position]))
        rank = result.ranks[i]
        row += [
            str(table.unit_codes[position]),
            str(table.unit_names[position]),  # type: ignore[index]
            "" if math.isnan(rank) else str(int(rank)),
        ]
        row.extend(format_number(v) for v in scores[i])
        rows.append(row)
    return _write(path, header, rows)


def write_treat_log(result: BuildResult, log: TreatLog, path: Path) -> Path:
    """COINr's Dets_Table; the check_SkewKurt2 columns only when some indicator reached them."""
    panel = result.table.is_panel
    stages = ("0", "1", "2") if log.reached_fallback else ("0", "1")
    header = [*(["Time"] if panel else []), "iCode"]
    for stage in stages:
        header += [f"check_SkewKurt{stage}.{part}" for part in ("Pass", "Skew", "Kurt")]
        if stage == "0":
            header.append("winsorise.nwin")
    rows = []
    for record in log.records:
        row = [_format_time(record.time)] if panel and record.time is not None else []
        row.append(record.code)
        row += [
            _format_flag(record.pass0),
            format_number(record.skew0),
            format_number(record.kurt0),
        ]
        row.append("" if record.nwin is None else str(record.nwin))
        if record.nwin is None:
            row += [""] * 3
        else:
            row += [
                _format_flag(record.pass1),
                _optional(record.skew1),
                _optional(record.kurt1),
            ]
        if "2" in stages:
            row += [_format_flag(record.pass2), _optional(record.skew2), _optional(record.kurt2)]
        rows.append(row)
    return _write(path, header, rows)


def _optional(value: float | None) -> str:
    return "" if value is None else format_number(value)
