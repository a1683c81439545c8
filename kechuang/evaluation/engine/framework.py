"""The indicator tree read from META rows (COINr's iMeta).

Nodes are the indicators (level 1) followed by the aggregates (levels 2..max),
each in META order; arrays over "nodes" use that order. Validation follows
COINr's `check_iMeta`, with messages naming the file, line and column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from kechuang.evaluation.engine.cells import is_missing, parse_number, where

INDICATOR = "Indicator"
AGGREGATE = "Aggregate"
GROUP = "Group"
DENOMINATOR = "Denominator"
OTHER = "Other"
TYPES = (INDICATOR, AGGREGATE, GROUP, DENOMINATOR, OTHER)
REQUIRED_COLUMNS = ("Level", "iCode", "Parent", "Direction", "Type", "Weight")


class Grouping:
    """Children → parents, a partition of the children, on arrays with children along axis 0.

    Sums over each parent's children add whole rows (a few numpy calls per
    parent): for these small shapes that beats both np.add.reduceat and a
    membership matmul, whose BLAS threads cost more than the arithmetic.
    """

    def __init__(self, parent_position: np.ndarray, n_parents: int) -> None:
        self.parent_position = np.asarray(parent_position, dtype=np.intp)
        self.n_parents = n_parents
        self.order = np.argsort(self.parent_position, kind="stable")
        self.contiguous = bool(np.all(self.order == np.arange(len(self.order))))
        self.sizes = np.bincount(self.parent_position, minlength=n_parents)
        if len(self.sizes) > n_parents or np.any(self.sizes == 0):
            raise ValueError("每个上级指标至少需要一个下级")
        ends = np.cumsum(self.sizes)
        self.ranges = [slice(int(e - n), int(e)) for n, e in zip(self.sizes, ends, strict=True)]

    def sum(self, a: np.ndarray, dtype: type | None = None) -> np.ndarray:
        """(children × units) → (parents × units)."""
        if not self.contiguous:
            a = a[self.order]
        out = np.empty((self.n_parents, *a.shape[1:]), dtype=dtype or a.dtype)
        for j, children in enumerate(self.ranges):
            np.add.reduce(a[children], axis=0, out=out[j], dtype=dtype)
        return out

    def divide_children(self, a: np.ndarray, per_parent: np.ndarray) -> None:
        """a[child] /= per_parent[parent(child)], in place."""
        if self.contiguous:
            for j, children in enumerate(self.ranges):
                a[children] /= per_parent[j]
        else:
            a /= per_parent[self.parent_position]

    def multiply_children(self, a: np.ndarray, per_parent: np.ndarray) -> None:
        """a[child] *= per_parent[parent(child)], in place."""
        if self.contiguous:
            for j, children in enumerate(self.ranges):
                a[children] *= per_parent[j]
        else:
            a *= per_parent[self.parent_position]


@dataclass(frozen=True, eq=False)
class LevelPlan:
    """How one level is aggregated: which nodes feed which parents."""

    level: int
    children: np.ndarray  # node indices of the level below
    parents: np.ndarray  # node indices of this level's aggregates
    parent_position: np.ndarray  # for each child, the column of its parent in `parents`
    grouping: Grouping


@dataclass(frozen=True, eq=False)
class Framework:
    """Indicators, aggregates and their tree, directions, weights, targets and denominators."""

    indicators: tuple[str, ...]
    aggregates: tuple[str, ...]
    levels: np.ndarray  # int, over nodes
    parents: np.ndarray  # int node index of the parent, -1 at the top, over nodes
    weights: np.ndarray  # over nodes
    directions: np.ndarray  # ±1.0, over indicators
    targets: np.ndarray  # over indicators, NaN where none
    denominator_of: tuple[str | None, ...]  # over indicators
    scale_factors: np.ndarray  # over indicators (COINr's denomby$ScaleFactor, default 1)
    groups: tuple[str, ...] = ()
    denominators: tuple[str, ...] = ()
    others: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n_nodes = len(self.indicators) + len(self.aggregates)
        for name in ("levels", "parents", "weights"):
            if len(getattr(self, name)) != n_nodes:
                raise ValueError(f"Framework.{name} 的长度应为 {n_nodes}")
        for name in ("directions", "targets", "scale_factors", "denominator_of"):
            if len(getattr(self, name)) != len(self.indicators):
                raise ValueError(f"Framework.{name} 的长度应为 {len(self.indicators)}")

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.indicators + self.aggregates

    @property
    def max_level(self) -> int:
        return int(self.levels.max()) if len(self.levels) else 1

    @cached_property
    def node_index(self) -> dict[str, int]:
        return {code: i for i, code in enumerate(self.nodes)}

    @property
    def top(self) -> int | None:
        """Node index of the single top aggregate (None without aggregates)."""
        if not self.aggregates:
            return None
        return int(np.flatnonzero(self.levels == self.max_level)[0])

    @cached_property
    def plans(self) -> tuple[LevelPlan, ...]:
        plans = []
        for level in range(2, self.max_level + 1):
            children = np.flatnonzero(self.levels == level - 1)
            parents = np.flatnonzero(self.levels == level)
            lookup = {int(p): j for j, p in enumerate(parents)}
            position = np.array([lookup[int(self.parents[c])] for c in children], dtype=np.intp)
            grouping = Grouping(position, len(parents))
            plans.append(LevelPlan(level, children, parents, position, grouping))
        return tuple(plans)


@dataclass
class _Row:
    line: int
    code: str
    type: str
    cells: Mapping[str, str | None]


def framework_from_rows(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    source: str = "META.csv",
    lines: Sequence[int] | None = None,
) -> Framework:
    """Validate META rows (strings, as read from the CSV) and build the tree.

    `lines` are the rows' line numbers in the file (default: 2, 3, … after the header).
    """
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ValueError(f"{source}：缺少必需的列：{'、'.join(missing)}")
    parsed: list[_Row] = []
    seen: dict[str, int] = {}
    for offset, values in enumerate(rows):
        line = lines[offset] if lines is not None else offset + 2
        cells = dict(zip(header, values, strict=False))
        code = (cells.get("iCode") or "").strip()
        if not code:
            raise ValueError(f"{where(source, line, 'iCode')}：代码不能为空")
        if code in seen:
            raise ValueError(
                f"{where(source, line, 'iCode')}：重复的代码 '{code}'（第 {seen[code]} 行已有）"
            )
        seen[code] = line
        kind = (cells.get("Type") or "").strip()
        if kind not in TYPES:
            raise ValueError(
                f"{where(source, line, 'Type')}：未知的类型 '{kind}'（可用：{'、'.join(TYPES)}）"
            )
        parsed.append(_Row(line, code, kind, cells))

    tree_rows = [row for row in parsed if row.type in (INDICATOR, AGGREGATE)]
    by_code = {row.code: row for row in tree_rows}
    level: dict[str, int] = {}
    direction: dict[str, float] = {}
    weight: dict[str, float] = {}
    for row in tree_rows:
        level[row.code] = _level(row, source)
        direction[row.code] = _direction(row, source)
        weight[row.code] = _weight(row, source)
    if not any(row.type == INDICATOR for row in tree_rows):
        raise ValueError(f"{source}：没有类型为 Indicator 的行")
    max_level = max(level.values())
    present = set(level.values())
    gaps = [str(lv) for lv in range(1, max_level + 1) if lv not in present]
    if gaps:
        raise ValueError(
            f"{source} Level 列：缺少层级 {'、'.join(gaps)}（层级应从 1 连续到 {max_level}）"
        )

    parent_of: dict[str, str | None] = {}
    for row in tree_rows:
        parent = (row.cells.get("Parent") or "").strip()
        if is_missing(parent):
            if level[row.code] != max_level:
                raise ValueError(f"{where(source, row.line, 'Parent')}：'{row.code}' 缺少父节点")
            parent_of[row.code] = None
            continue
        if level[row.code] == max_level:
            raise ValueError(
                f"{where(source, row.line, 'Parent')}：'{row.code}' 在最高层级（{max_level}），"
                "不应有父节点"
            )
        target = by_code.get(parent)
        if target is None or target.type != AGGREGATE:
            raise ValueError(f"{where(source, row.line, 'Parent')}：未知的父节点 '{parent}'")
        if level[parent] != level[row.code] + 1:
            raise ValueError(
                f"{where(source, row.line, 'Parent')}：父节点 '{parent}' 在第 {level[parent]} 层，"
                f"应在第 {level[row.code] + 1} 层"
            )
        parent_of[row.code] = parent

    has_children = {p for p in parent_of.values() if p is not None}
    for row in tree_rows:
        if row.type == AGGREGATE and row.code not in has_children:
            raise ValueError(f"{where(source, row.line, 'iCode')}：汇总指标 '{row.code}' 没有下级")
    tops = [row.code for row in tree_rows if level[row.code] == max_level]
    if max_level > 1 and len(tops) > 1:
        raise ValueError(
            f"{source}：最高层级 {max_level} 应只有一个总指数，"
            f"实际有 {len(tops)} 个：{'、'.join(tops)}"
        )

    indicators = tuple(row.code for row in tree_rows if row.type == INDICATOR)
    aggregates = tuple(row.code for row in tree_rows if row.type == AGGREGATE)
    nodes = indicators + aggregates
    index = {code: i for i, code in enumerate(nodes)}
    denominator_codes = {row.code for row in parsed if row.type == DENOMINATOR}
    has_target = "Target" in header
    has_scale = "ScaleFactor" in header
    targets, denominator_of, scale_factors = [], [], []
    for code in indicators:
        row = by_code[code]
        targets.append(
            parse_number(row.cells.get("Target"), source, row.line, "Target")
            if has_target
            else math.nan
        )
        denominator = (row.cells.get("Denominator") or "").strip()
        if is_missing(denominator):
            denominator_of.append(None)
        elif denominator not in denominator_codes:
            raise ValueError(
                f"{where(source, row.line, 'Denominator')}："
                f"'{denominator}' 不是类型为 Denominator 的代码"
            )
        else:
            denominator_of.append(denominator)
        scale = (
            parse_number(row.cells.get("ScaleFactor"), source, row.line, "ScaleFactor")
            if has_scale
            else 1.0
        )
        scale_factors.append(1.0 if math.isnan(scale) else scale)
    names = {row.code: (row.cells.get("iName") or "").strip() or row.code for row in parsed}
    return Framework(
        indicators=indicators,
        aggregates=aggregates,
        levels=np.array([level[c] for c in nodes], dtype=np.intp),
        parents=np.array(
            [index[parent_of[c]] if parent_of[c] is not None else -1 for c in nodes],  # type: ignore[index]
            dtype=np.intp,
        ),
        weights=np.array([weight[c] for c in nodes], dtype=float),
        directions=np.array([direction[c] for c in indicators], dtype=float),
        targets=np.array(targets, dtype=float),
        denominator_of=tuple(denominator_of),
        scale_factors=np.array(scale_factors, dtype=float),
        groups=tuple(row.code for row in parsed if row.type == GROUP),
        denominators=tuple(row.code for row in parsed if row.type == DENOMINATOR),
        others=tuple(row.code for row in parsed if row.type == OTHER),
        names=names,
    )


def _level(row: _Row, source: str) -> int:
    value = parse_number(row.cells.get("Level"), source, row.line, "Level")
    if math.isnan(value) or value != int(value) or value < 1:
        raise ValueError(f"{where(source, row.line, 'Level')}：层级应为正整数")
    if row.type == INDICATOR and value != 1:
        raise ValueError(f"{where(source, row.line, 'Level')}：Indicator 的层级应为 1")
    if row.type == AGGREGATE and value < 2:
        raise ValueError(f"{where(source, row.line, 'Level')}：Aggregate 的层级应不小于 2")
    return int(value)


def _direction(row: _Row, source: str) -> float:
    value = parse_number(row.cells.get("Direction"), source, row.line, "Direction")
    if value not in (1.0, -1.0):
        raise ValueError(f"{where(source, row.line, 'Direction')}：方向应为 1 或 -1")
    return value


def _weight(row: _Row, source: str) -> float:
    value = parse_number(row.cells.get("Weight"), source, row.line, "Weight")
    if not math.isfinite(value):
        raise ValueError(f"{where(source, row.line, 'Weight')}：权重不能为空")
    if value < 0:
        raise ValueError(f"{where(source, row.line, 'Weight')}：权重不能为负")
    return value
