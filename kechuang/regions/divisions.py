"""Reading an edition of the statistical division codes (no database here).

The files are those of ``data/divisions/`` (see its README); a newer edition
in the same layout can be read from any directory. Bad input raises
``DivisionFileError`` naming the file, row and column, and nothing is loaded.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kechuang.regions.choices import Level, UnitKind

SHIPPED_DIR = Path(__file__).resolve().parent / "data" / "divisions"
SHIPPED_EDITION = "国家统计局 2023年统计用区划代码（2023-06-30）"

# (file stem, level, code width, parent column, parent code width)
_FILES = (
    ("provinces", Level.PROVINCE, 2, None),
    ("cities", Level.CITY, 4, "provinceCode"),
    ("areas", Level.COUNTY, 6, "cityCode"),
    ("streets", Level.TOWNSHIP, 9, "areaCode"),
)


class DivisionFileError(ValueError):
    def __init__(self, file: str, row: int, column: str, problem: str) -> None:
        self.file, self.row, self.column, self.problem = file, row, column, problem
        super().__init__(f"{file} 第 {row} 行「{column}」列：{problem}")


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    level: Level
    parent_code: str | None
    kind: UnitKind


def read_divisions(
    source: Path = SHIPPED_DIR,
    *,
    provinces: Iterable[str] | None = None,
    max_level: Level = Level.TOWNSHIP,
) -> list[Division]:
    """All divisions of the chosen provinces (all when None), parents before children."""
    wanted = {p.strip() for p in provinces} if provinces is not None else None
    if wanted is not None:
        bad = sorted(p for p in wanted if not (len(p) == 2 and p.isdigit()))
        if bad:
            raise ValueError(f"省级代码应为两位数字：{'、'.join(bad)}")
    result: list[Division] = []
    city_names: dict[str, str] = {}
    known: set[str] = set()
    for stem, level, width, parent_column in _FILES:
        if level > max_level:
            break
        file = _file_name(source, stem)
        first_line: dict[str, int] = {}
        for line, row in _rows(source, stem):
            code = _field(row, "code", file, line)
            name = _field(row, "name", file, line)
            if len(code) != width or not code.isdigit():
                raise DivisionFileError(file, line, "code", f"「{code}」不是 {width} 位数字代码")
            # A code listed twice would become two current units with one code, which the
            # database refuses at load time with no word of where the duplicate is.
            if code in first_line:
                raise DivisionFileError(
                    file, line, "code", f"代码「{code}」重复（第 {first_line[code]} 行已有）"
                )
            first_line[code] = line
            if wanted is not None and code[:2] not in wanted:
                continue
            parent = _field(row, parent_column, file, line) if parent_column else None
            if parent is not None and parent not in known:
                raise DivisionFileError(
                    file, line, parent_column or "", f"上级代码「{parent}」在上一级文件中不存在"
                )
            # Codes are hierarchical (the first two digits are the province, and so on); the
            # province filter here and the retirement of absent codes in load_divisions rely
            # on it, so a row filed under another parent is an error, not a move.
            if parent is not None and not code.startswith(parent):
                raise DivisionFileError(
                    file, line, parent_column or "", f"代码「{code}」不属于上级代码「{parent}」"
                )
            if level == Level.CITY:
                city_names[code] = name
            kind = _kind(code, name, level, city_names)
            result.append(Division(code, name, level, parent, kind))
            known.add(code)
    if wanted is not None:
        missing = sorted(wanted - {d.code for d in result if d.level == Level.PROVINCE})
        if missing:
            raise ValueError(f"区划数据中没有这些省级代码：{'、'.join(missing)}")
    return result


def _kind(code: str, name: str, level: Level, city_names: dict[str, str]) -> UnitKind:
    if level == Level.COUNTY:
        if 71 <= int(code[-2:]) <= 79:
            return UnitKind.STATISTICAL
        if city_names.get(code[:4]) == name:
            return UnitKind.CITY_PROPER
    return UnitKind.ADMINISTRATIVE


def _file_name(source: Path, stem: str) -> str:
    plain = source / f"{stem}.csv"
    return plain.name if plain.exists() else f"{stem}.csv.gz"


def _rows(source: Path, stem: str) -> Iterator[tuple[int, dict[str, str]]]:
    plain, packed = source / f"{stem}.csv", source / f"{stem}.csv.gz"
    if plain.exists():
        raw = plain.open("rb")
    elif packed.exists():
        raw = gzip.open(packed)  # noqa: SIM115 -- closed by the TextIOWrapper below
    else:
        raise FileNotFoundError(f"区划数据目录 {source} 中缺少 {stem}.csv")
    with io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
        # Line 1 is the header, so the first record is on line 2, as a spreadsheet shows it.
        # The reader's own line count, not a count of records: DictReader skips blank lines,
        # which a spreadsheet still shows as rows.
        reader = csv.DictReader(handle)
        for row in reader:
            yield reader.line_num, row


def _field(row: dict[str, str], column: str, file: str, line: int) -> str:
    value = row.get(column)
    if value is None:
        raise DivisionFileError(file, line, column, "缺少该列")
    value = value.strip()
    if not value:
        raise DivisionFileError(file, line, column, "不能为空")
    return value
