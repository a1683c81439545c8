"""Judging raw rows against the catalogue, and planning what an import would change (pure).

``validate`` turns ``RawValue`` rows into ``CleanValue`` rows and collects
every problem with its place: unknown or out-of-scope org codes (the same
message for both), unknown indicator codes, years, text in number cells,
integers, bounds, derived indicators, duplicate rows, the data set each value
belongs to. ``plan`` compares the clean rows with what is stored and refuses
changes to locked (submitted or approved) submissions, naming the rows.
The caller fetches what these functions need from the database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.utils.translation import gettext as _

from kechuang.indicators.exchange import layout
from kechuang.indicators.exchange.problems import ImportProblem, row_ranges
from kechuang.indicators.exchange.reading import ParsedFile
from kechuang.indicators.expressions import same_value

YEAR = re.compile(r"\d{4}")


@dataclass(frozen=True, slots=True)
class IndicatorInfo:
    code: str
    name: str
    value_type: str
    min_value: float | None
    max_value: float | None
    is_derived: bool


@dataclass(frozen=True, slots=True)
class UnitInfo:
    pk: int
    code: str
    name: str
    level: int
    path: str


@dataclass(frozen=True, slots=True)
class DataSetInfo:
    code: str
    name: str
    is_active: bool
    reporting_levels: frozenset[int]
    indicators: frozenset[str]


@dataclass
class Catalogue:
    """What the file's codes mean, as far as the importing actor may know.

    ``units`` holds only the units the actor may enter data for: any other
    code reads as unknown, exactly as a code that does not exist.
    ``value_datasets`` maps (unit pk, indicator code, year) of stored values to
    their submission's data set, so a re-import lands where the value lives.
    """

    indicators: Mapping[str, IndicatorInfo]
    units: Mapping[str, UnitInfo]
    datasets: Mapping[str, DataSetInfo]
    value_datasets: Mapping[tuple[int, str, int], str] = field(default_factory=dict)
    _candidates: dict[tuple[str, int], list[str]] = field(default_factory=dict)

    def candidates(self, indicator: str, level: int) -> list[str]:
        """Active data sets that have units of ``level`` report ``indicator``."""
        key = (indicator, level)
        if key not in self._candidates:
            self._candidates[key] = sorted(
                ds.code
                for ds in self.datasets.values()
                if ds.is_active
                and indicator in ds.indicators
                and (not ds.reporting_levels or level in ds.reporting_levels)
            )
        return self._candidates[key]


class CleanValue(NamedTuple):
    """A value ready to write (a tuple: a national file holds 170,000 of them)."""

    row: int
    unit: UnitInfo
    indicator: str
    year: int
    dataset: str
    value: float | None
    comment: str | None


@dataclass
class Group:
    """The values of one submission (data set × unit × year) that the file changes."""

    dataset: str
    unit: UnitInfo
    year: int
    changes: list[CleanValue] = field(default_factory=list)
    unchanged: int = 0


class _Problems:
    """Problems in file order, each place and message once (a header cell is shared by rows)."""

    def __init__(self, parsed: ParsedFile) -> None:
        self.parsed = parsed
        self.items: dict[tuple[Any, ...], ImportProblem] = {}
        self.grouped: dict[tuple[str, str, str], list[int]] = {}

    def add(self, field_name: str, row: int, message: str, indicator: str | None = None) -> None:
        """``indicator`` places the problem in a wide table, where each indicator has a column."""
        problem = self.parsed.problem(field_name, row, message, indicator=indicator)
        self.items.setdefault((problem.sheet, problem.row, problem.column, message), problem)

    def group(self, field_name: str, code: str, message: str, row: int) -> None:
        """One problem for a code however many rows carry it, naming the rows."""
        self.grouped.setdefault((field_name, code, message), []).append(row)

    def result(self) -> list[ImportProblem]:
        for (field_name, _code, message), rows in self.grouped.items():
            text = message
            # A wide table has many values per row: count rows, not values.
            distinct = len(set(rows))
            if field_name not in self.parsed.fixed and distinct > 1:
                text = _("%(message)s（共 %(n)d 行：第 %(rows)s 行）") % {
                    "message": message,
                    "n": distinct,
                    "rows": row_ranges(rows),
                }
            self.add(field_name, rows[0], text)
        return sorted(self.items.values(), key=_problem_order)


def _problem_order(problem: ImportProblem) -> tuple[int, int, int]:
    column = problem.column or ""
    index = layout.column_index(column) if column.isalpha() and column.isupper() else 0
    return (0 if problem.row is None else 1, problem.row or 0, index)


def parse_year(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float) and float(raw).is_integer():
        year = int(raw)
    elif isinstance(raw, str) and YEAR.fullmatch(raw.strip()):
        year = int(raw.strip())
    else:
        return None
    return year if layout.YEAR_MIN <= year <= layout.YEAR_MAX else None


def parse_number(raw: Any) -> tuple[float | None, bool]:
    """(value, ok): a blank cell is (None, True); text that is not a plain number is not ok."""
    kind = type(raw)
    if kind is float:
        return raw, math.isfinite(raw)
    if raw is None or raw == "":
        return None, True
    if kind is int:
        return float(raw), True
    if kind is str:
        text = raw.strip()
        if not text:
            return None, True
        try:
            number = float(text)
        except ValueError:
            return None, False
        # float() also reads "nan", "inf", "1_000" and non-ASCII digits: none is a plain number.
        return number, math.isfinite(number) and text.isascii() and "_" not in text
    return None, False


def _shown(raw: Any) -> str:
    text = str(raw)
    return text if len(text) <= 40 else text[:40] + "…"


def validate(
    parsed: ParsedFile, catalogue: Catalogue
) -> tuple[list[CleanValue], list[ImportProblem]]:
    """The values that can be imported, and every problem with the rows (all of them)."""
    problems = _Problems(parsed)
    units, indicators, datasets = catalogue.units, catalogue.indicators, catalogue.datasets
    years: dict[Any, int | None] = {}
    seen: dict[tuple[int, str, int], int] = {}
    clean: list[CleanValue] = []
    append = clean.append
    # A wide table's header names each indicator once, whether or not its column has values.
    header = parsed.indicator_columns
    for code in header:
        if code not in indicators:
            problems.add(
                "indicator",
                layout.TABLE_HEADER_ROW,
                _("表头的指标代码「%(code)s」不存在（第 1 行应为指标代码，不是指标名称）。")
                % {"code": code},
                code,
            )
    for raw in parsed.values:
        row = raw.row
        code = raw.indicator_code
        unit = units.get(raw.org_code)
        indicator = indicators.get(code)
        if unit is None:
            if raw.org_code:
                problems.group(
                    "org",
                    raw.org_code,
                    _("单位代码「%(code)s」不存在，或不在您可以填报的范围内。")
                    % {"code": raw.org_code},
                    row,
                )
            else:
                problems.add("org", row, _("缺少单位代码。"))
        # A wide table's unknown code was reported once, at its header cell.
        if indicator is None and code not in header:
            if code:
                problems.group(
                    "indicator",
                    raw.indicator_code,
                    _("指标代码「%(code)s」不存在。") % {"code": raw.indicator_code},
                    row,
                )
            else:
                problems.add("indicator", row, _("缺少指标代码。"), code)
        if raw.year not in years:
            years[raw.year] = parse_year(raw.year)
        year = years[raw.year]
        if year is None:
            problems.add(
                "year",
                row,
                _("年度应为四位数字的年份（如 2023），填的是「%(year)s」。")
                % {"year": _shown(raw.year)},
            )
        if indicator is not None and indicator.is_derived:
            if raw.value not in ("", None, layout.DERIVED_MARK):
                problems.add(
                    "value",
                    row,
                    _("「%(name)s」是派生指标，由系统计算，不能填写。") % {"name": indicator.name},
                    code,
                )
            continue
        value, good = parse_number(raw.value)
        if not good:
            problems.add("value", row, _number_message(raw.value, indicator), code)
        elif value is not None and indicator is not None:
            good = _check_bounds(value, indicator, problems, row)
        comment = raw.comment
        if comment is not None and len(comment) > layout.MAX_COMMENT_LENGTH:
            good = False
            problems.add(
                "comment",
                row,
                _("说明过长（%(n)d 字），最多 %(max)d 字。")
                % {"n": len(comment), "max": layout.MAX_COMMENT_LENGTH},
            )
        if unit is None or indicator is None or year is None:
            continue
        cell = (unit.pk, indicator.code, year)
        first = seen.get(cell)
        if first is not None:
            problems.add(
                "indicator",
                row,
                _("与第 %(row)d 行重复：同一单位、指标和年度只能出现一次。") % {"row": first},
                code,
            )
            continue
        seen[cell] = row
        named = raw.dataset_code
        known = datasets.get(named) if named else None
        if (
            known is not None
            and known.is_active
            and indicator.code in known.indicators
            and (not known.reporting_levels or unit.level in known.reporting_levels)
        ):
            dataset: str | None = named
        else:
            dataset = _dataset_of(named, unit, indicator, year, catalogue, problems, row)
        if dataset is None or not good:
            continue
        append(CleanValue(row, unit, indicator.code, year, dataset, value, comment))
    return clean, problems.result()


def _number_message(raw: Any, indicator: IndicatorInfo | None) -> str:
    name = indicator.name if indicator is not None else _("本年值")
    if hasattr(raw, "isoformat"):
        return _("「%(name)s」应为数字，该单元格是日期或时间格式。") % {"name": name}
    return _("「%(name)s」应为数字，填的是「%(value)s」（不要带单位、逗号或文字）。") % {
        "name": name,
        "value": _shown(raw),
    }


def _check_bounds(value: float, indicator: IndicatorInfo, problems: _Problems, row: int) -> bool:
    good = True
    if indicator.value_type == "integer" and not value.is_integer():
        good = False
        problems.add(
            "value",
            row,
            _("「%(name)s」应为整数，填的是 %(value)s。")
            % {"name": indicator.name, "value": layout.format_number(value)},
            indicator.code,
        )
    if indicator.min_value is not None and value < indicator.min_value:
        good = False
        problems.add(
            "value",
            row,
            _("「%(name)s」不能小于 %(min)s，填的是 %(value)s。")
            % {
                "name": indicator.name,
                "min": layout.format_number(float(indicator.min_value)),
                "value": layout.format_number(value),
            },
            indicator.code,
        )
    if indicator.max_value is not None and value > indicator.max_value:
        good = False
        problems.add(
            "value",
            row,
            _("「%(name)s」不能大于 %(max)s，填的是 %(value)s。")
            % {
                "name": indicator.name,
                "max": layout.format_number(float(indicator.max_value)),
                "value": layout.format_number(value),
            },
            indicator.code,
        )
    return good


def _dataset_of(
    named: str | None,
    unit: UnitInfo,
    indicator: IndicatorInfo,
    year: int,
    catalogue: Catalogue,
    problems: _Problems,
    row: int,
) -> str | None:
    """The value's data set: named by the file, else where it is stored, else the only one."""
    if named:
        dataset = catalogue.datasets.get(named)
        if dataset is None:
            problems.group(
                "dataset", named, _("填报表代码「%(code)s」不存在。") % {"code": named}, row
            )
            return None
        if not dataset.is_active:
            problems.group(
                "dataset", named, _("填报表「%(name)s」已停用。") % {"name": dataset.name}, row
            )
            return None
        if indicator.code not in dataset.indicators:
            problems.add(
                "indicator",
                row,
                _("指标「%(code)s」不在填报表「%(dataset)s」中。")
                % {"code": indicator.code, "dataset": dataset.name},
                indicator.code,
            )
            return None
        if dataset.reporting_levels and unit.level not in dataset.reporting_levels:
            problems.group(
                "org",
                unit.code,
                _("「%(unit)s」不是填报表「%(dataset)s」的填报单位。")
                % {"unit": unit.name, "dataset": dataset.name},
                row,
            )
            return None
        return dataset.code
    stored = catalogue.value_datasets.get((unit.pk, indicator.code, year))
    if stored is not None:
        return stored
    candidates = catalogue.candidates(indicator.code, unit.level)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        problems.add(
            "indicator",
            row,
            _("没有在用的填报表让「%(unit)s」填报指标「%(code)s」。")
            % {"unit": unit.name, "code": indicator.code},
            indicator.code,
        )
    else:
        problems.add(
            "indicator",
            row,
            _("指标「%(code)s」属于多个填报表（%(datasets)s），请在文件中注明填报表代码。")
            % {"code": indicator.code, "datasets": "、".join(candidates)},
            indicator.code,
        )
    return None


def plan(
    parsed: ParsedFile,
    clean: list[CleanValue],
    stored: Mapping[tuple[int, str, int], tuple[float | None, str]],
    locked: Mapping[tuple[str, int, int], str],
    catalogue: Catalogue | None = None,
) -> tuple[list[Group], list[ImportProblem]]:
    """Group the values by submission, keeping only real changes; refuse changes to locked ones.

    ``stored`` maps (unit pk, indicator code, year) to the stored value and
    comment; ``locked`` maps (data set code, unit pk, year) of submitted or
    approved submissions to their status label. ``catalogue`` names the data sets.
    """
    datasets = catalogue.datasets if catalogue is not None else {}
    groups: dict[tuple[str, int, int], Group] = {}
    for item in clean:
        key = (item.dataset, item.unit.pk, item.year)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(item.dataset, item.unit, item.year)
        current = stored.get((item.unit.pk, item.indicator, item.year))
        if current is None:
            changed = item.value is not None or bool(item.comment)
        else:
            comment = current[1] if item.comment is None else item.comment
            changed = not same_value(current[0], item.value) or comment != current[1]
        if changed:
            group.changes.append(item)
        else:
            group.unchanged += 1
    problems = []
    for key, group in groups.items():
        status = locked.get(key)
        if status is None or not group.changes:
            continue
        rows = [item.row for item in group.changes]
        problems.append(
            parsed.problem(
                "value",
                rows[0],
                indicator=group.changes[0].indicator,
                message=_(
                    "「%(unit)s」%(year)d 年的填报（%(dataset)s）%(status)s，数值已锁定，"
                    "不能修改第 %(rows)s 行的数值；如需修改，请先由审核单位退回。"
                )
                % {
                    "unit": group.unit.name,
                    "year": group.year,
                    "dataset": datasets[group.dataset].name
                    if group.dataset in datasets
                    else group.dataset,
                    "status": status,
                    "rows": row_ranges(rows),
                },
            )
        )
    return list(groups.values()), problems
