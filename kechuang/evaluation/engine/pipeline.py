"""build(): run a spec's steps on a table and keep every intermediate data set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kechuang.evaluation.engine import stats
from kechuang.evaluation.engine.framework import Framework
from kechuang.evaluation.engine.spec import Spec
from kechuang.evaluation.engine.steps.aggregate import Aggregation
from kechuang.evaluation.engine.steps.base import Context, State
from kechuang.evaluation.engine.steps.treat import TreatLog
from kechuang.evaluation.engine.table import DataTable


@dataclass(frozen=True, eq=False)
class Dataset:
    """One named data set (Raw, Treated …): table rows × codes."""

    name: str
    rows: np.ndarray  # positions in the table
    codes: tuple[str, ...]
    values: np.ndarray

    def column(self, code: str) -> np.ndarray:
        return self.values[:, self.codes.index(code)]


@dataclass(frozen=True, eq=False)
class BuildResult:
    """Everything a build produced; arrays over `rows` (the units left after screening)."""

    table: DataTable
    framework: Framework
    spec: Spec
    datasets: dict[str, Dataset]  # in the order built, "Raw" first
    rows: np.ndarray  # table positions of the final rows (after screening)
    treat_log: TreatLog | None = None
    aggregation: Aggregation | None = None
    ranks: np.ndarray | None = None  # rank on the top aggregate, within each Time; NaN = none

    def scores(self, code: str) -> np.ndarray:
        """One aggregate's scores over the final rows."""
        if self.aggregation is None:
            raise ValueError("没有运行 aggregate 步骤")
        return self.aggregation.scores[:, self.aggregation.codes.index(code)]

    @property
    def index(self) -> np.ndarray:
        assert self.framework.top is not None
        return self.scores(self.framework.nodes[self.framework.top])

    @property
    def contributions(self) -> np.ndarray:
        if self.aggregation is None:
            raise ValueError("没有运行 aggregate 步骤")
        return self.aggregation.contributions


def rank_descending(scores: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    """Rank 1 = highest within each block, ties share the lowest rank, NaN gets none."""
    ranks = np.full(len(scores), np.nan)
    for block in blocks:
        ranks[block] = stats.rank_min(-scores[block])
    return ranks


def build(table: DataTable, framework: Framework, spec: Spec) -> BuildResult:
    """Run every step of `spec` in order; panel data run per Time value (see the steps)."""
    if tuple(table.indicators) != framework.indicators:
        raise ValueError("数据表的指标列与指标体系（META）中的指标不一致")
    context = Context(table, framework)
    state = State(rows=np.arange(table.n_rows), values=table.values)
    datasets = {"Raw": Dataset("Raw", state.rows, framework.indicators, state.values)}
    if not table.n_rows:
        raise ValueError("数据表没有任何单位")
    for step in spec.steps:
        state = step.apply(state, context)
        if not len(state.rows):
            raise ValueError(f"第 {step.number} 步 {step.name}：没有单位留下，无法继续计算")
        if step.dataset == "Aggregated" and state.aggregation is not None:
            datasets[step.dataset] = Dataset(
                step.dataset, state.rows, framework.nodes, state.aggregation.values
            )
        else:
            datasets[step.dataset] = Dataset(
                step.dataset, state.rows, framework.indicators, state.values
            )
    ranks = None
    if state.aggregation is not None:
        assert framework.top is not None
        top_column = framework.top - len(framework.indicators)
        top = state.aggregation.scores[:, top_column]
        blocks = [block for _, block in context.blocks(state.rows)]
        ranks = rank_descending(top, blocks)
    return BuildResult(
        table=table,
        framework=framework,
        spec=spec,
        datasets=datasets,
        rows=state.rows,
        treat_log=state.treat_log,
        aggregation=state.aggregation,
        ranks=ranks,
    )
