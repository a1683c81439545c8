"""`kechuang index uncertainty` and `kechuang index sensitivity`: the handlers and their arguments.

    kechuang index uncertainty --data DATA.csv --meta META.csv --spec SPEC.yaml --out OUTDIR
        --runs N --seed S [--weight-noise 0.25] [--noise-levels 2,3]
        [--normalisations minmax:lower=1,zscore:mean=10:sd=2] [--aggregations arithmetic,geometric]
        [--winmax 3,5]
    kechuang index sensitivity … --samples N --seed S [--weight-sets 100] [--bootstrap 1000]
        (and the same choices)

OUTDIR receives rank_intervals.csv (uCode, uName, [Time], nominal, mean,
median, q05, q95) or sobol.csv (parameter, S_i, ST_i and their 5 % / 95 %
bootstrap bounds). Numbers are written with repr (they read back exactly),
missing ones as an empty field. Bad input raises ValueError with a Chinese
message, which `KechuangCommand` prints as one line (exit status 1).

An alternative is a method name, optionally followed by `:key=value` pairs
for its parameters (`minmax:lower=1:upper=100`); alternatives are separated
by commas. Wiring into `index.py`'s SUBCOMMANDS:

    "uncertainty": Subcommand(
        help=UNCERTAINTY_HELP,
        add_arguments=uncertainty_arguments,
        handle=lambda command, options: handle_uncertainty(options, command.stdout),
    ),
"""

from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml

from kechuang.evaluation.engine import files
from kechuang.evaluation.engine.sensitivity import SensitivityResult, sensitivity
from kechuang.evaluation.engine.uncertainty import UncertaintyResult, uncertainty

UNCERTAINTY_HELP = "不确定性分析：随机扰动权重与方法，给出每个单位的排名区间"
SENSITIVITY_HELP = "敏感性分析：各个不确定因素对排名的一阶与总 Sobol 指数"


class Writable(Protocol):
    def write(self, text: str) -> Any: ...


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="数据文件 DATA.csv（COINr iData）")
    parser.add_argument(
        "--meta", type=Path, required=True, help="指标体系文件 META.csv（COINr iMeta）"
    )
    parser.add_argument("--spec", type=Path, required=True, help="计算步骤 SPEC.yaml（名义方案）")
    parser.add_argument("--out", type=Path, required=True, help="输出目录（不存在时创建）")
    parser.add_argument("--seed", type=int, required=True, help="随机数种子（相同种子结果相同）")
    parser.add_argument(
        "--weight-noise",
        type=float,
        default=0.25,
        help="权重扰动幅度：w·(1 + U(−1,1)·幅度)，默认 0.25；0 为不扰动",
    )
    parser.add_argument(
        "--noise-levels", default="", help="扰动哪些层级的权重，如 2,3（默认总指数以下的所有层级）"
    )
    parser.add_argument(
        "--normalisations",
        default="",
        help="归一化备选方案，如 minmax:lower=1:upper=100,zscore:mean=10:sd=2（默认沿用 SPEC）",
    )
    parser.add_argument(
        "--aggregations",
        default="",
        help="汇总方法备选，如 arithmetic,geometric（默认沿用 SPEC）",
    )
    parser.add_argument(
        "--winmax",
        default="",
        help="缩尾点数上限的备选值，如 3,5（none 为不设上限；默认沿用 SPEC）",
    )


def uncertainty_arguments(parser: argparse.ArgumentParser) -> None:
    _common_arguments(parser)
    parser.add_argument("--runs", type=int, required=True, help="运行次数，如 1000")


def sensitivity_arguments(parser: argparse.ArgumentParser) -> None:
    _common_arguments(parser)
    parser.add_argument(
        "--samples", type=int, required=True, help="每个设计矩阵的样本量 N（共运行 N·(d+2) 次）"
    )
    parser.add_argument(
        "--weight-sets", type=int, default=100, help="预先抽取的扰动权重集个数（默认 100）"
    )
    parser.add_argument(
        "--bootstrap", type=int, default=1000, help="自助法重抽样次数（默认 1000，0 为不计算区间）"
    )


def add_arguments(subparsers: Any) -> None:
    """Add `uncertainty` and `sensitivity` to an argparse sub-parser collection."""
    uncertainty_arguments(subparsers.add_parser("uncertainty", help=UNCERTAINTY_HELP))
    sensitivity_arguments(subparsers.add_parser("sensitivity", help=SENSITIVITY_HELP))


# ---------------------------------------------------------------- parsing the choices


def parse_alternatives(text: str, what: str) -> list[dict[str, Any]]:
    """'minmax:lower=1,zscore' → [{method: minmax, lower: 1}, {method: zscore}]."""
    out = []
    for item in _items(text):
        name, *pairs = item.split(":")
        entry: dict[str, Any] = {"method": name.strip()}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ValueError(f"{what}：'{item}' 中的 '{pair}' 应写成 参数=值")
            try:
                entry[key.strip()] = yaml.safe_load(value.strip())
            except yaml.YAMLError:
                raise ValueError(f"{what}：无法解析 '{pair}' 的值") from None
        out.append(entry)
    return out


def parse_winmax(text: str) -> list[int | None]:
    out: list[int | None] = []
    for item in _items(text):
        if item.lower() == "none":
            out.append(None)
            continue
        try:
            value = int(item)
        except ValueError:
            raise ValueError(f"--winmax：'{item}' 不是整数（不设上限请写 none）") from None
        if value < 0:
            raise ValueError(f"--winmax：'{item}' 应为非负整数")
        out.append(value)
    return out


def parse_noise(factor: float, levels_text: str) -> float | dict[int, float]:
    if not math.isfinite(factor) or factor < 0:
        raise ValueError(f"--weight-noise 应为非负数，实际为 {factor!r}")
    if not levels_text.strip():
        return factor
    levels = {}
    for item in _items(levels_text):
        try:
            levels[int(item)] = factor
        except ValueError:
            raise ValueError(f"--noise-levels：'{item}' 不是层级数字") from None
    return levels


def _items(text: str) -> list[str]:
    items = [item.strip() for item in (text or "").split(",")]
    if any(not item for item in items) and any(items):
        raise ValueError(f"备选方案列表中有空项：'{text}'")
    return [item for item in items if item]


def _inputs(options: Mapping[str, Any]) -> tuple[Any, Any, Any, dict[str, Any]]:
    framework = files.read_framework(options["meta"])
    table = files.read_table(options["data"], framework)
    spec = files.load_spec(options["spec"])
    noise = parse_noise(options.get("weight_noise", 0.25), options.get("noise_levels", ""))
    choices = {
        "weight_noise": noise,
        "normalisations": parse_alternatives(options.get("normalisations", ""), "--normalisations"),
        "aggregations": parse_alternatives(options.get("aggregations", ""), "--aggregations"),
        "winmax": parse_winmax(options.get("winmax", "")),
    }
    return table, framework, spec, choices


def _outdir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"无法创建输出目录 {path}：{error.strerror or error}") from None
    return path


# ---------------------------------------------------------------- handlers


def handle_uncertainty(options: Mapping[str, Any], stdout: Writable) -> Path:
    """Run the uncertainty analysis and write OUTDIR/rank_intervals.csv; returns its path."""
    table, framework, spec, choices = _inputs(options)
    result = uncertainty(
        table,
        framework,
        spec,
        runs=options["runs"],
        rng=np.random.default_rng(options["seed"]),
        **choices,
    )
    path = write_rank_intervals(result, _outdir(options["out"]) / "rank_intervals.csv")
    failed = int(result.failed.sum())
    note = f"，其中 {failed} 次因汇总方法不适用于数据而失败（不计入区间）" if failed else ""
    stdout.write(
        f"已完成 {result.runs} 次不确定性运行{note}；{len(result.rows)} 行的排名区间写入 {path}\n"
    )
    return path


def handle_sensitivity(options: Mapping[str, Any], stdout: Writable) -> Path:
    """Run the sensitivity analysis and write OUTDIR/sobol.csv; returns its path."""
    table, framework, spec, choices = _inputs(options)
    if options.get("weight_sets", 100) < 1:
        raise ValueError("--weight-sets 应为正整数")
    if options.get("bootstrap", 1000) < 0:
        raise ValueError("--bootstrap 应为非负整数")
    result = sensitivity(
        table,
        framework,
        spec,
        samples=options["samples"],
        rng=np.random.default_rng(options["seed"]),
        weight_sets=options.get("weight_sets", 100),
        bootstrap=options.get("bootstrap", 1000) or None,
        **choices,
    )
    path = write_sobol(result, _outdir(options["out"]) / "sobol.csv")
    runs = len(result.outputs)
    failed = int(result.uncertainty.failed.sum())
    note = f"，其中 {failed} 次失败" if failed else ""
    stdout.write(
        f"已完成 {runs} 次敏感性运行（N = {result.samples}，{len(result.parameters)} 个因素："
        f"{'、'.join(result.parameters)}）{note}；Sobol 指数写入 {path}\n"
    )
    return path


# ---------------------------------------------------------------- output files


def _number(value: float) -> str:
    return files.format_number(value)


def _time(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _rank(value: float) -> str:
    return "" if math.isnan(value) else str(int(value))


def write_rank_intervals(result: UncertaintyResult, path: Path) -> Path:
    """One row per unit (unit-year), sorted by Time, nominal rank and uCode."""
    panel = result.times is not None
    header = ["uCode", "uName", *(["Time"] if panel else []), "nominal", "mean", "median"]
    header += ["q05", "q95"]

    def key(i: int) -> tuple[float, float, str]:
        time = float(result.times[i]) if result.times is not None else 0.0
        rank = float(result.nominal[i])
        return (time, math.inf if math.isnan(rank) else rank, str(result.unit_codes[i]))

    rows = []
    for i in sorted(range(len(result.rows)), key=key):
        row = [str(result.unit_codes[i]), str(result.unit_names[i])]
        if result.times is not None:
            row.append(_time(result.times[i]))
        row.append(_rank(result.nominal[i]))
        row += [_number(v[i]) for v in (result.mean, result.median, result.q05, result.q95)]
        rows.append(row)
    return _write(path, header, rows)


def write_sobol(result: SensitivityResult, path: Path) -> Path:
    indices = result.indices
    header = ["parameter", "S_i", "ST_i", "S_i_low", "S_i_high", "ST_i_low", "ST_i_high"]
    columns = (
        indices.first,
        indices.total,
        indices.first_low,
        indices.first_high,
        indices.total_low,
        indices.total_high,
    )
    rows = [
        [name, *(_number(column[i]) for column in columns)]
        for i, name in enumerate(result.parameters)
    ]
    return _write(path, header, rows)


def _write(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
