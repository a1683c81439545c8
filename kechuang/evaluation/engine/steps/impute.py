"""Impute: fill NaN with the column mean or median, optionally within groups.

COINr's i_mean, i_median, i_mean_grp and i_median_grp, applied per year in a panel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from kechuang.evaluation.engine import stats
from kechuang.evaluation.engine.params import StepParams
from kechuang.evaluation.engine.steps.base import Context, State, per_block

METHODS = ("mean", "median", "mean_group", "median_group")


def impute(values: np.ndarray, method: str, groups: np.ndarray | None = None) -> np.ndarray:
    """Fill NaN cells; observed values never change.

    With a group method, each unit takes its group's statistic; units whose
    group label is missing (None) are left as they are (COINr skips them), and
    a group with no observed value for an indicator leaves NaN.
    """
    rows, columns = stats.cells(np.isnan(values))
    if not len(rows):
        return values
    if method.endswith("_group"):
        assert groups is not None
        codes, labels = stats.group_codes(groups)
    else:
        codes, labels = np.zeros(len(values), dtype=np.intp), [None]
    labelled = codes[rows] >= 0
    rows, columns = rows[labelled], columns[labelled]
    # Every missing cell may sit in a unit without a group label: nothing to fill.
    if not len(rows):
        return values
    if method.startswith("mean"):
        centres = _group_means(values, codes, len(labels))
    else:
        centres = np.array([stats.median(values[codes == g]) for g in range(len(labels))])
    out = values.copy()
    out[rows, columns] = centres[codes[rows], columns]
    return out


def _group_means(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """R's mean() within each group (with its correction pass), as (groups × columns)."""
    order = np.argsort(codes, kind="stable")
    order = order[codes[order] >= 0]
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, np.arange(n_groups))
    ordered = values[order]
    valid = ~np.isnan(ordered)
    np.copyto(ordered, 0.0, where=~valid)
    with np.errstate(invalid="ignore", divide="ignore"):
        n = np.add.reduceat(valid, starts, axis=0, dtype=float)
        means = np.add.reduceat(ordered, starts, axis=0) / n
        ordered -= means[sorted_codes]
        ordered *= valid
        return means + np.add.reduceat(ordered, starts, axis=0) / n


@dataclass(frozen=True)
class ImputeStep:
    name: ClassVar[str] = "impute"
    dataset: ClassVar[str] = "Imputed"
    number: int
    method: str = "mean"
    group: str | None = None

    @classmethod
    def parse(cls, params: StepParams, *, base_dir: Path | None) -> ImputeStep:
        params.only(("method", "group"))
        method = params.choice("method", "mean", METHODS)
        group = None
        if method.endswith("_group"):
            group = params.text("group")
        elif params.has("group"):
            raise params.error(f"方法 {method} 不使用参数 'group'（分组插补请用 {method}_group）")
        return cls(params.number, method, group)

    def apply(self, state: State, context: Context) -> State:
        labels = None
        if self.group is not None:
            if self.group not in context.table.groups:
                available = "、".join(context.table.groups) or "无"
                raise ValueError(
                    f"第 {self.number} 步 impute：分组列 '{self.group}' 不存在"
                    f"（META 中类型为 Group 的列：{available}）"
                )
            labels = context.table.groups[self.group][state.rows]

        def impute_block(
            _: float | None, where: np.ndarray | slice, block: np.ndarray
        ) -> np.ndarray:
            return impute(block, self.method, None if labels is None else labels[where])

        return replace(state, values=per_block(state.values, state.rows, context, impute_block))
