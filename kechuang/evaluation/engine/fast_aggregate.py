"""Aggregate one normalised data set under a whole stack of weight vectors at once.

Uncertainty and sensitivity runs share the data set (one per combination of
discrete choices) and differ only in their weights. `StackAggregator` does the
data-only work once (the method's term t(x) of every indicator, the
availability masks, the validity checks) and then aggregates (runs × nodes)
weights in a few array passes per chunk of runs, with no loop over runs.

The arithmetic is the engine's own, operation for operation (`steps/aggregate.py`):
num = Σ t(x_c)·w_c and den = Σ w_c over the present children, added in the
same order, then the same division and back-transform. A run whose weights
are META's therefore gives bit-for-bit the scores of `pipeline.build`, so
ranks — ties included — agree with the nominal build. A matrix product would
be faster but rounds differently and can split ties.

Shapes: values are (units × indicators) as in a data set; weights are
(runs × nodes); results are (runs × units).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kechuang.evaluation.engine.framework import Framework, LevelPlan
from kechuang.evaluation.engine.steps.aggregate import InvalidChildValue, LevelMethod

# Beyond this many distinct availability patterns within one parent, the
# denominators are summed per unit instead of per pattern.
MAX_PATTERNS = 64


def _term(x: np.ndarray, power: float | None) -> np.ndarray:
    """The quantity a weighted power mean sums: ln x (geometric), x, or x**p (a new array)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if power is None:
            return np.log(x)
        if power == 1:
            return x.copy()
        return x**power


def _finish(num: np.ndarray, den: np.ndarray, power: float | None) -> np.ndarray:
    """num / den back-transformed, in place in num when possible."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if power is None:
            return np.exp(num / den)
        if power == 1:
            np.divide(num, den, out=num)
            return num
        return (num / den) ** (1 / power)


def _requires_positive(power: float | None) -> str | None:
    if power is None:
        return "几何平均要求所有值为正数"
    if power < 0:
        return "调和平均或 p < 0 的广义平均要求所有值为正数"
    return None


@dataclass(frozen=True, eq=False)
class _Parent:
    """One parent of the first level: its children in the engine's summation order."""

    children: np.ndarray  # indicator columns
    # Availability patterns: `present[k, i]` whether child i is present in pattern k,
    # `pattern[u]` the pattern of unit u; None when every child is present for every unit.
    present: np.ndarray | None
    pattern: np.ndarray | None
    dead: np.ndarray | None  # units whose score is NaN (no child, or below data_threshold)


class StackAggregator:
    """A data set ready to be aggregated under many weight vectors.

    `methods` has one LevelMethod per aggregation level (framework.plans order).
    Raises InvalidChildValue (as the engine does) when the first level's
    method cannot take the data, e.g. the geometric mean of a zero.
    """

    def __init__(
        self,
        framework: Framework,
        values: np.ndarray,
        methods: Sequence[LevelMethod],
        data_threshold: float | None = None,
    ) -> None:
        if framework.top is None:
            raise ValueError("META 中没有汇总指标（Aggregate），无法汇总")
        if len(methods) != len(framework.plans):
            raise ValueError(f"应为每个汇总层级给出一个方法（共 {len(framework.plans)} 层）")
        self.framework = framework
        self.methods = tuple(methods)
        self.data_threshold = data_threshold
        self.n_units = values.shape[0]
        first = framework.plans[0]
        x = np.ascontiguousarray(np.asarray(values, dtype=float).T)
        missing = np.isnan(x)
        power = self.methods[0].power
        rule = _requires_positive(power)
        if rule is not None:
            bad = ~missing & (x <= 0)
            if bad.any():
                child, unit = np.argwhere(bad)[0]
                raise InvalidChildValue(int(child), int(unit), rule)
        terms = _term(x, power)
        np.copyto(terms, 0.0, where=missing)
        self.terms = terms
        self.parents = [self._parent(first, j, missing) for j in range(len(first.parents))]

    def _parent(self, plan: LevelPlan, j: int, missing: np.ndarray) -> _Parent:
        grouping = plan.grouping
        children = plan.children[grouping.order[grouping.ranges[j]]]
        absent = missing[children]  # (children × units)
        counts = len(children) - absent.sum(axis=0)
        dead = counts == 0
        if self.data_threshold is not None:
            dead |= counts / len(children) < self.data_threshold
        if not absent.any():
            return _Parent(children, None, None, dead if dead.any() else None)
        patterns, inverse = np.unique(~absent.T, axis=0, return_inverse=True)
        if len(patterns) > MAX_PATTERNS:
            # One "pattern" per unit: the denominators become a per-unit sum.
            patterns, inverse = ~absent.T, np.arange(self.n_units)
        return _Parent(children, patterns, inverse.reshape(-1), dead if dead.any() else None)

    def top(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(top scores (runs × units), failed runs (runs,)) for a stack of weight vectors.

        A run fails where an upper level's method cannot take a child's value
        (the engine would raise); its scores are NaN.
        """
        w = np.asarray(weights, dtype=float)
        runs = w.shape[0]
        failed = np.zeros(runs, dtype=bool)
        values: dict[int, np.ndarray] = {}
        first = self.framework.plans[0]
        power = self.methods[0].power
        for parent, node in zip(self.parents, first.parents.tolist(), strict=True):
            values[node] = self._first_level(parent, w, power)
        for plan, method in zip(self.framework.plans[1:], self.methods[1:], strict=True):
            for j, node in enumerate(plan.parents.tolist()):
                grouping = plan.grouping
                children = plan.children[grouping.order[grouping.ranges[j]]].tolist()
                values[node] = self._upper_level(children, values, w, method.power, failed)
            for child in plan.children.tolist():
                del values[child]
        assert self.framework.top is not None
        out = values[self.framework.top]
        out[failed] = np.nan
        return out, failed

    def _first_level(self, parent: _Parent, w: np.ndarray, power: float | None) -> np.ndarray:
        children = parent.children.tolist()
        num = self.terms[children[0]] * w[:, children[0], None]
        for c in children[1:]:
            num += self.terms[c] * w[:, c, None]
        if parent.present is None:
            den = w[:, children[0]].copy()
            for c in children[1:]:
                den += w[:, c]
            score = _finish(num, den[:, None], power)
        else:
            assert parent.pattern is not None
            # Per pattern: Σ over present children of w, in the same order (adding 0 is exact).
            present = parent.present.astype(float)
            den = w[:, children[0], None] * present[None, :, 0]
            for i, c in enumerate(children[1:], start=1):
                den += w[:, c, None] * present[None, :, i]
            score = _finish(num, den[:, parent.pattern], power)
        if parent.dead is not None:
            score[:, parent.dead] = np.nan
        return score

    def _upper_level(
        self,
        children: list[int],
        values: dict[int, np.ndarray],
        w: np.ndarray,
        power: float | None,
        failed: np.ndarray,
    ) -> np.ndarray:
        rule = _requires_positive(power)
        gaps = [np.isnan(values[c]) for c in children]
        gappy = [bool(g.any()) for g in gaps]
        if rule is not None:
            with np.errstate(invalid="ignore"):
                for c, gap in zip(children, gaps, strict=True):
                    failed |= np.any((values[c] <= 0) & ~gap, axis=1)
        num: np.ndarray | None = None
        for c, gap, holes in zip(children, gaps, gappy, strict=True):
            if power == 1:
                # x·w straight into a new array (the engine's copy, zeroing and product).
                term = (np.where(gap, 0.0, values[c]) if holes else values[c]) * w[:, c, None]
            else:
                term = _term(values[c], power)
                if holes:
                    np.copyto(term, 0.0, where=gap)
                term *= w[:, c, None]
            if num is None:
                num = term
            else:
                num += term
        assert num is not None
        if not any(gappy):
            den = w[:, children[0]].copy()
            for c in children[1:]:
                den += w[:, c]
            return _finish(num, den[:, None], power)
        # Some children are missing for some runs and units: per-cell denominators.
        den_cells = np.zeros_like(num)
        count = np.zeros(num.shape, dtype=np.intp)
        for c, gap in zip(children, gaps, strict=True):
            den_cells += np.where(gap, 0.0, w[:, c, None])
            count += ~gap
        score = _finish(num, den_cells, power)
        score[count == 0] = np.nan
        if self.data_threshold is not None:
            score[count / len(children) < self.data_threshold] = np.nan
        return score


def rank_runs(scores: np.ndarray, blocks: Sequence[np.ndarray | slice]) -> np.ndarray:
    """Ranks of each run's scores (runs × units), 1 = highest, within each block of units.

    Ties share the lowest rank and NaN gets none: `pipeline.rank_descending`
    (R's rank(-x, ties = "min", na.last = "keep")) for every row at once.
    """
    out = np.full(scores.shape, np.nan)
    for block in blocks:
        part = -scores[:, block]
        if part.shape[1] == 0:
            continue
        order = np.argsort(part, axis=1)  # NaN last
        ordered = np.take_along_axis(part, order, axis=1)
        n = ordered.shape[1]
        position = np.broadcast_to(np.arange(n), ordered.shape)
        starts = np.empty(ordered.shape, dtype=bool)
        starts[:, 0] = True
        np.not_equal(ordered[:, 1:], ordered[:, :-1], out=starts[:, 1:])
        # The rank of a run of equal values is the position of its first member.
        first = np.where(starts, position, 0)
        np.maximum.accumulate(first, axis=1, out=first)
        ranked = first + 1.0
        ranked[np.isnan(ordered)] = np.nan
        block_ranks = np.empty_like(ranked)
        np.put_along_axis(block_ranks, order, ranked, axis=1)
        out[:, block] = block_ranks
    return out
