"""Aggregate: weighted means level by level (COINr a_amean, a_gmean, a_hmean, a_genmean).

Each level is a masked, weighted sum over every parent's children: with M the
availability mask, w the weights and t(x) the method's term (x, ln x, 1/x or
x^p), num = Σ M·w·t(x) and den = Σ M·w per parent, so NaN children are
dropped and the weights renormalised over those present. `data_threshold`
gives NaN where the share of present children is below it.

Contributions use Euler's theorem: every weighted power mean is homogeneous of
degree 1, so the index I equals Σ x_i ∂I/∂x_i over the indicators. Within one
parent a child's share of the parent's value is w_i t(x_i) / Σ w_j t(x_j)
(w_i / Σ w_j for the geometric mean); an indicator's contribution is I times
the product of its shares up the tree. For the arithmetic mean this is the
effective weight (renormalised over the available indicators) × the score,
and for every method a unit's contributions add up to its index.

Internally arrays are (nodes × units), so that the per-parent sums add
contiguous rows; results are handed out as (units × nodes) views.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kechuang.evaluation.engine import weights as weight_methods
from kechuang.evaluation.engine.csvfile import read_weights
from kechuang.evaluation.engine.framework import Framework, Grouping, LevelPlan
from kechuang.evaluation.engine.params import StepParams
from kechuang.evaluation.engine.steps.base import Context, State

METHODS = ("arithmetic", "geometric", "harmonic", "generalised_mean")
WEIGHT_METHODS = tuple(weight_methods.METHODS)


@dataclass(frozen=True)
class LevelMethod:
    name: str = "arithmetic"
    p: float | None = None

    @property
    def power(self) -> float | None:
        """The exponent of the power mean (None: geometric)."""
        return {"arithmetic": 1.0, "harmonic": -1.0, "geometric": None}.get(self.name, self.p)

    def describe(self) -> str:
        return f"{self.name}(p={self.p:g})" if self.name == "generalised_mean" else self.name


@dataclass(frozen=True, eq=False)
class Aggregation:
    """Scores of every aggregate plus what is needed to explain them (all units × …)."""

    codes: tuple[str, ...]  # the aggregates, in META order
    values: np.ndarray  # (units, nodes): the normalised indicators, then the aggregates
    weights: np.ndarray  # (units, nodes): the weights used, before renormalisation
    shares: np.ndarray  # (units, nodes): each node's share of its parent's value
    contributions: np.ndarray  # (units, indicators): adds up to the top index per unit

    @property
    def scores(self) -> np.ndarray:
        """(units, aggregates)."""
        return self.values[:, self.values.shape[1] - len(self.codes) :]


class InvalidChildValue(ValueError):
    """A child value the mean cannot take (≤ 0 for geometric and harmonic)."""

    def __init__(self, child: int, unit: int, rule: str) -> None:
        super().__init__(rule)
        self.child, self.unit, self.rule = child, unit, rule


def aggregate_level(
    x: np.ndarray,
    parent_position: np.ndarray,
    weights: np.ndarray,
    method: LevelMethod | str = "arithmetic",
    data_threshold: float | None = None,
    n_parents: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Aggregate children x (units × children) into parents: (scores, shares), units first.

    `parent_position[i]` is the parent column of child i.
    """
    if isinstance(method, str):
        method = LevelMethod(method, 2.0 if method == "generalised_mean" else None)
    parent_position = np.asarray(parent_position)
    grouping = Grouping(parent_position, n_parents or int(parent_position.max()) + 1)
    scores, shares = _aggregate(
        np.ascontiguousarray(x.T), grouping, np.asarray(weights, float), method, data_threshold
    )
    return scores.T, shares.T


def _aggregate(
    x: np.ndarray,
    grouping: Grouping,
    weights: np.ndarray,
    method: LevelMethod,
    data_threshold: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The level on (children × units) arrays; returns (parents × units), (children × units)."""
    missing = np.isnan(x)
    power = method.power
    if power is None:
        _check(~missing & (x <= 0), "几何平均要求所有值为正数")
    elif power < 0:
        _check(~missing & (x <= 0), "调和平均或 p < 0 的广义平均要求所有值为正数")
    column = weights[:, None]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if power is None:
            weighted = np.log(x)
        elif power == 1:
            weighted = x.copy()
        else:
            weighted = x**power
        np.copyto(weighted, 0.0, where=missing)
        weighted *= column
        present_weight = np.where(missing, 0.0, column)
        num = grouping.sum(weighted)
        den = grouping.sum(present_weight)
        if power is None:
            scores = np.exp(num / den)
            shares = present_weight
            grouping.divide_children(shares, den)
        else:
            scores = num / den if power == 1 else (num / den) ** (1 / power)
            shares = weighted
            grouping.divide_children(shares, num)
            # A parent whose terms sum to 0 (all children 0): fall back to weight shares.
            degenerate = ~np.isfinite(shares) & ~missing
            if degenerate.any():
                grouping.divide_children(present_weight, den)
                np.copyto(shares, present_weight, where=degenerate)
        np.copyto(shares, 0.0, where=missing)
    counts = grouping.sum(~missing, dtype=np.intp)
    scores[counts == 0] = np.nan
    if data_threshold is not None:
        scores[counts / grouping.sizes[:, None] < data_threshold] = np.nan
    return scores, shares


def _check(bad: np.ndarray, rule: str) -> None:
    if bad.any():
        child, unit = np.argwhere(bad)[0]
        raise InvalidChildValue(int(child), int(unit), rule)


def _nodes(indices: np.ndarray) -> np.ndarray | slice:
    """A slice (a view, no copy) when the node indices are consecutive."""
    if len(indices) and np.all(np.diff(indices) == 1):
        return slice(int(indices[0]), int(indices[-1]) + 1)
    return indices


def _contributions(framework: Framework, values: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """(nodes × units) → each indicator's part of the top index, NaN where it is missing."""
    top = framework.top
    assert top is not None
    part = np.empty_like(values)
    part[top] = values[top]
    # NaN and ±inf scores (e.g. fraction_of_max with max 0) propagate as they should.
    with np.errstate(invalid="ignore", over="ignore"):
        for plan in reversed(framework.plans):
            children = _nodes(plan.children)
            parents = part[_nodes(plan.parents)]
            if isinstance(children, slice):
                part[children] = shares[children]
                plan.grouping.multiply_children(part[children], parents)
            else:
                part[children] = shares[children] * parents[plan.parent_position]
    n = len(framework.indicators)
    out = part[:n]
    np.copyto(out, np.nan, where=np.isnan(values[:n]))
    return out


def contributions(framework: Framework, values: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Units × indicators, from (units × nodes) values and shares (see the module docstring)."""
    return _contributions(
        framework, np.ascontiguousarray(values.T), np.ascontiguousarray(shares.T)
    ).T


@dataclass(frozen=True)
class AggregateStep:
    name: ClassVar[str] = "aggregate"
    dataset: ClassVar[str] = "Aggregated"
    number: int
    method: LevelMethod = field(default_factory=LevelMethod)
    by_level: Mapping[int, LevelMethod] = field(default_factory=dict)
    data_threshold: float | None = None
    # (iCode, Weight, line) from a weights file; codes not listed keep their META weight
    weight_overrides: tuple[tuple[str, float, int], ...] = ()
    weights_source: str = ""
    weights_method: str | None = None  # entropy, critic, pca, equal: computed from the data
    weights_levels: tuple[int, ...] | None = None  # levels using weights_method (None: all)
    weights_pooled: bool = False

    @classmethod
    def parse(cls, params: StepParams, *, base_dir: Path | None) -> AggregateStep:
        params.only(("method", "p", "by_level", "data_threshold", "weights"))
        method = _level_method(params, params.raw, "")
        by_level: dict[int, LevelMethod] = {}
        if params.has("by_level"):
            levels = params.raw["by_level"]
            if not isinstance(levels, Mapping) or not levels:
                raise params.error(
                    "by_level 应为 {层级: 方法} 的键值对，如 {2: arithmetic, 3: geometric}"
                )
            for key, value in levels.items():
                try:
                    level = int(key)
                except (TypeError, ValueError):
                    raise params.error(f"by_level 的键应为层级数字，实际为 {key!r}") from None
                if level < 2:
                    raise params.error(f"by_level 的层级应不小于 2，实际为 {level}")
                where = f"by_level 中层级 {level}："
                spec = {"method": value} if isinstance(value, str) else value
                if not isinstance(spec, Mapping):
                    raise params.error(f"{where}方法应为名称或键值对，实际为 {value!r}")
                unknown = [k for k in spec if k not in ("method", "p")]
                if unknown:
                    raise params.error(f"{where}未知的参数 '{unknown[0]}'（可用：method、p）")
                by_level[level] = _level_method(params, spec, where)
        threshold = None
        if params.has("data_threshold"):
            threshold = params.real("data_threshold", minimum=0, maximum=1)
        step = cls(params.number, method, by_level, threshold)
        if params.has("weights"):
            step = _parse_weights(step, params, base_dir)
        return step

    def method_for(self, level: int) -> LevelMethod:
        return self.by_level.get(level, self.method)

    def error(self, message: str) -> ValueError:
        return ValueError(f"第 {self.number} 步 aggregate：{message}")

    def base_weights(self, framework: Framework) -> np.ndarray:
        """META weights with the weights file's overrides."""
        w = framework.weights.copy()
        for code, weight, line in self.weight_overrides:
            if code not in framework.node_index:
                raise ValueError(
                    f"{self.weights_source} 第 {line} 行 iCode 列：'{code}' 不在指标体系中"
                )
            w[framework.node_index[code]] = weight
        return w

    def _check_levels(self, framework: Framework) -> None:
        levels = set(range(2, framework.max_level + 1))
        for what, chosen in (
            ("by_level", self.by_level),
            ("weights 的 levels", self.weights_levels),
        ):
            extra = sorted(set(chosen or ()) - levels)
            if extra:
                raise self.error(
                    f"{what} 中的层级 {extra[0]} 不存在（汇总层级为 2–{framework.max_level}）"
                )

    def apply(self, state: State, context: Context) -> State:
        framework = context.framework
        if not framework.aggregates:
            raise self.error("META 中没有汇总指标（Aggregate），无法汇总")
        self._check_levels(framework)
        base = self.base_weights(framework)
        n_units, n_ind = len(state.rows), len(framework.indicators)
        values = np.empty((len(framework.nodes), n_units))
        values[:n_ind] = state.values.T
        values[n_ind:] = np.nan
        shares = np.full_like(values, np.nan)
        if self.weights_method is None:
            used = np.broadcast_to(base[:, None], values.shape)
            blocks: list[np.ndarray | slice] = [slice(None)]
        else:
            used = np.repeat(base[:, None], n_units, axis=1)
            if self.weights_pooled:
                blocks = [slice(None)]
            else:
                blocks = [block for _, block in context.blocks(state.rows)]
        if n_units:
            for units in blocks:
                for plan in framework.plans:
                    self._level(plan, units, values, shares, used, context, state)
        aggregation = Aggregation(
            codes=framework.aggregates,
            values=values.T,
            weights=used.T,
            shares=shares.T,
            contributions=_contributions(framework, values, shares).T,
        )
        return replace(state, aggregation=aggregation)

    def _level(
        self,
        plan: LevelPlan,
        units: np.ndarray | slice,
        values: np.ndarray,
        shares: np.ndarray,
        used: np.ndarray,
        context: Context,
        state: State,
    ) -> None:
        """Aggregate one level for some units (a year, or all), writing into the arrays."""
        whole = isinstance(units, slice)
        children = _nodes(plan.children) if whole else np.ix_(plan.children, units)
        parents = _nodes(plan.parents) if whole else np.ix_(plan.parents, units)
        x = values[children]
        first = 0 if whole else int(units[0])  # type: ignore[index]
        w = used[plan.children, first]
        if self.weights_method is not None and (
            self.weights_levels is None or plan.level in self.weights_levels
        ):
            try:
                w = weight_methods.METHODS[self.weights_method](x.T, plan.parent_position)
            except ValueError as error:
                raise self.error(
                    f"第 {plan.level} 层的 {self.weights_method} 权重：{error}"
                ) from None
            used[np.ix_(plan.children, np.arange(used.shape[1])[units])] = w[:, None]
        method = self.method_for(plan.level)
        try:
            scores, level_shares = _aggregate(x, plan.grouping, w, method, self.data_threshold)
        except InvalidChildValue as error:
            child = context.framework.nodes[plan.children[error.child]]
            position = error.unit if whole else int(units[error.unit])  # type: ignore[index]
            unit = context.table.unit_codes[state.rows[position]]
            raise self.error(
                f"第 {plan.level} 层使用 {method.describe()}：{error.rule}，但单位 '{unit}' 的 "
                f"'{child}' 为 {x[error.child, error.unit]:g}；请先归一化到正数区间"
                f"（如 minmax {{lower: 1, upper: 100}}）或改用 arithmetic"
            ) from None
        values[parents] = scores
        shares[children] = level_shares


def _level_method(params: StepParams, spec: Mapping[str, Any], where: str) -> LevelMethod:
    name = spec.get("method", "arithmetic")
    if name not in METHODS:
        raise params.error(f"{where}未知的方法 '{name}'（可用：{'、'.join(METHODS)}）")
    p = spec.get("p")
    if name != "generalised_mean":
        if p is not None:
            raise params.error(f"{where}方法 {name} 不使用参数 'p'")
        return LevelMethod(name)
    if p is None:
        p = 2.0
    if isinstance(p, bool) or not isinstance(p, int | float) or not np.isfinite(p):
        raise params.error(f"{where}参数 'p' 应为数字，实际为 {p!r}")
    if p == 0:
        raise params.error(f"{where}参数 'p' 不能为 0（p → 0 即几何平均，请用 geometric）")
    return LevelMethod(name, float(p))


def _parse_weights(step: AggregateStep, params: StepParams, base_dir: Path | None) -> AggregateStep:
    value = params.raw["weights"]
    if isinstance(value, str):
        value = {"file": value}
    if not isinstance(value, Mapping):
        raise params.error("weights 应为文件路径或 {method: entropy} 这样的键值对")
    allowed = ("file", "method", "levels", "pooled")
    unknown = [k for k in value if k not in allowed]
    if unknown:
        raise params.error(f"weights：未知的参数 '{unknown[0]}'（可用：{'、'.join(allowed)}）")
    if "file" in value and "method" in value:
        raise params.error("weights 不能同时指定 file 和 method")
    if "file" in value:
        if any(k in value for k in ("levels", "pooled")):
            raise params.error("weights 的 levels、pooled 只用于按数据计算的权重（method）")
        path = Path(str(value["file"]))
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return replace(step, weight_overrides=read_weights(path), weights_source=path.name)
    method = value.get("method")
    if method not in WEIGHT_METHODS:
        raise params.error(f"weights：未知的方法 '{method}'（可用：{'、'.join(WEIGHT_METHODS)}）")
    levels = value.get("levels")
    if levels is not None:
        if not isinstance(levels, list) or not all(
            isinstance(lv, int) and not isinstance(lv, bool) and lv >= 2 for lv in levels
        ):
            raise params.error(f"weights 的 levels 应为不小于 2 的层级列表，实际为 {levels!r}")
        levels = tuple(levels)
    pooled = value.get("pooled", False)
    if not isinstance(pooled, bool):
        raise params.error(f"weights 的 pooled 应为 true 或 false，实际为 {pooled!r}")
    return replace(step, weights_method=method, weights_levels=levels, weights_pooled=pooled)
