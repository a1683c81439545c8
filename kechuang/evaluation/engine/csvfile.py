"""Reading CSV files with Chinese errors (UTF-8, with or without BOM)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from kechuang.evaluation.engine.cells import is_missing, parse_number, where


def read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank rows with their line numbers; short rows padded with ""."""
    source = path.name
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            rows = []
            for values in reader:
                line = reader.line_num
                if not any(value.strip() for value in values):
                    continue
                if len(values) > len(header):
                    raise ValueError(
                        f"{where(source, line)}：有 {len(values)} 个字段，"
                        f"多于表头的 {len(header)} 个"
                    )
                rows.append((line, values + [""] * (len(header) - len(values))))
    except FileNotFoundError:
        raise FileNotFoundError(f"找不到文件：{path}") from None
    except IsADirectoryError:
        raise FileNotFoundError(f"不是文件：{path}") from None
    except PermissionError:
        raise ValueError(f"没有读取权限：{path}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{source}：不是 UTF-8 编码的文件（请另存为 UTF-8 CSV）") from None
    except csv.Error as error:
        raise ValueError(f"{source}：CSV 格式错误：{error}") from None
    if not header or not any(header):
        raise ValueError(f"{source}：文件为空或缺少表头")
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        raise ValueError(f"{where(source, 1)}：重复的列名：{'、'.join(duplicates)}")
    return header, rows


def read_weights(path: Path) -> tuple[tuple[str, float, int], ...]:
    """(iCode, Weight, line) from a weights file; other columns are ignored."""
    source = path.name
    header, rows = read_csv(path)
    for column in ("iCode", "Weight"):
        if column not in header:
            raise ValueError(f"{source}：缺少必需的列：{column}")
    code_at, weight_at = header.index("iCode"), header.index("Weight")
    out = []
    seen: dict[str, int] = {}
    for line, values in rows:
        code = values[code_at].strip()
        if is_missing(code):
            raise ValueError(f"{where(source, line, 'iCode')}：代码不能为空")
        if code in seen:
            raise ValueError(
                f"{where(source, line, 'iCode')}：重复的代码 '{code}'（第 {seen[code]} 行已有）"
            )
        seen[code] = line
        weight = parse_number(values[weight_at], source, line, "Weight")
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"{where(source, line, 'Weight')}：权重应为非负数字")
        out.append((code, weight, line))
    return tuple(out)
