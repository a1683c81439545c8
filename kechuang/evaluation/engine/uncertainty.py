"""Uncertainty analysis (Monte Carlo) of the ranks, as COINr's get_sensitivity(SA_type = "UA").

Each run draws its own weights and one alternative for each discrete choice:

* weights: w · (1 + U(−1, 1) · factor) for the nodes of each noisy level
  (COINr get_noisy_weights, written as it is: w + (2u − 1)·factor·w); a
  single factor applies to every level below the index. COINr draws Nrep
  weight sets beforehand and picks one per run; here every run draws its own,
  which is the limit Nrep = runs;
* the normalisation, the aggregation method and the winsorisation cap
  (treat's winmax): one of the given alternatives, chosen by mapping a uniform
  u through R's `cut(u, n)` over the sample's own range (COINr sample_2_para).
  No alternatives given = the spec's own step, unchanged.

Runs are evaluated without a loop over runs: the steps before aggregation run
once per distinct (winmax, normalisation) pair and their common prefix once,
and each combination of choices aggregates all of its runs' weight vectors at
once (`fast_aggregate.StackAggregator`), a chunk of runs per task on a small
thread pool (numpy releases the GIL in its array loops). A run whose
aggregation the engine would refuse (the geometric mean of a zero …) fails:
its scores and ranks are NaN, as COINr's failed regenerations are NA.

Ranks are within each Time value (panel data), 1 = highest, ties "min". Per
unit (or unit-year): the nominal rank (the spec's own build), the mean,
median and the 5 % / 95 % quantiles (R type 7) of the runs' ranks, NaN
skipped as R's na.rm = TRUE does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from kechuang.evaluation.engine import stats
from kechuang.evaluation.engine.fast_aggregate import StackAggregator, rank_runs
from kechuang.evaluation.engine.framework import Framework
from kechuang.evaluation.engine.params import StepParams
from kechuang.evaluation.engine.pipeline import BuildResult, build
from kechuang.evaluation.engine.spec import Spec
from kechuang.evaluation.engine.steps.aggregate import (
    AggregateStep,
    InvalidChildValue,
    LevelMethod,
)
from kechuang.evaluation.engine.steps.base import Context, State, Step
from kechuang.evaluation.engine.steps.normalise import NormaliseStep
from kechuang.evaluation.engine.steps.treat import TreatStep
from kechuang.evaluation.engine.table import DataTable

# The discrete choices, in the column order of a design's `choices`.
CHOICES = ("winmax", "normalisation", "aggregation")
# About this many cells (runs × units) per array in one task: the arrays of a
# chunk stay in the caches, and there are enough tasks to keep two cores busy.
CELLS_PER_TASK = 1 << 17


# ---------------------------------------------------------------- sampling helpers


def discrete_choice(u: np.ndarray, n: int) -> np.ndarray:
    """0-based alternative for each u, by R's `cut(u, n)` (COINr sample_2_para).

    `cut` splits the sample's own range into n equal intervals, closed on the
    right, the outer limits moved out by 1/1000 of the range; the breaks are
    R's `seq.int(min, max, length.out = n + 1)`, computed as R does.
    """
    u = np.asarray(u, dtype=float)
    if n == 1 or not len(u):
        return np.zeros(len(u), dtype=np.intp)
    low, high = float(u.min()), float(u.max())
    spread = high - low
    count = n + 1
    if spread == 0:
        spread = abs(low) if low != 0 else 1.0
        breaks = _seq(low - spread / 1000, high + spread / 1000, count)
    else:
        breaks = _seq(low, high, count)
        breaks[0], breaks[-1] = low - spread / 1000, high + spread / 1000
    # Right-closed intervals (a, b]: the first break ≥ u ends u's interval.
    return np.searchsorted(breaks, u, side="left").astype(np.intp) - 1


def _seq(start: float, stop: float, count: int) -> np.ndarray:
    """R's seq.int(start, stop, length.out = count): from both ends toward the middle."""
    out = np.empty(count)
    out[0], out[-1] = start, stop
    step = (stop - start) / (count - 1)
    for i in range(1, count - 1):
        out[i] = start + i * step if i < count // 2 else stop - (count - 1 - i) * step
    return out


def runif_matrix(rng: np.random.Generator, rows: int, columns: int) -> np.ndarray:
    """R's matrix(runif(rows · columns), nrow = rows): the stream fills column by column."""
    return rng.random(rows * columns).reshape(columns, rows).T


def noise_levels(
    framework: Framework, weight_noise: float | Mapping[int, float]
) -> dict[int, float]:
    """COINr's noise_specs as {Level: NoiseFactor}; a number means every level below the top."""
    if isinstance(weight_noise, Mapping):
        levels = {int(level): float(factor) for level, factor in weight_noise.items()}
    else:
        levels = {level: float(weight_noise) for level in range(1, framework.max_level)}
    for level, factor in levels.items():
        if not 1 <= level <= framework.max_level:
            raise ValueError(f"权重扰动的层级 {level} 不存在（层级为 1–{framework.max_level}）")
        if not np.isfinite(factor) or factor < 0:
            raise ValueError(f"第 {level} 层的权重扰动幅度应为非负数，实际为 {factor!r}")
    return {level: factor for level, factor in sorted(levels.items()) if factor > 0}


def noisy_weights(
    weights: np.ndarray,
    framework: Framework,
    noise: Mapping[int, float],
    count: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """`count` weight vectors (count × nodes): COINr get_noisy_weights, one level at a time."""
    out = np.tile(np.asarray(weights, dtype=float), (count, 1))
    for level, factor in noise.items():
        nodes = np.flatnonzero(framework.levels == level)
        nominal = out[:, nodes]
        out[:, nodes] = nominal + (rng.random((count, len(nodes))) * 2 - 1) * factor * nominal
    return out


# ---------------------------------------------------------------- statistics


def quantile7(ordered: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """R's quantile(type = 7) per column of `ordered` (sorted along axis 0, NaN last).

    `n` is the number of non-NaN values per column; NaN where it is 0.
    Interpolates as R does: (1 − h)·x[lo] + h·x[hi].
    """
    columns = np.arange(ordered.shape[1])
    index = np.maximum(n - 1, 0) * p
    lo = np.floor(index).astype(np.intp)
    hi = np.minimum(np.ceil(index).astype(np.intp), np.maximum(n - 1, 0))
    low, high = ordered[lo, columns], ordered[hi, columns]
    h = index - lo
    blend = (index > lo) & (high != low)
    out = np.where(blend, (1 - h) * low + h * high, low)
    return np.where(n > 0, out, np.nan)


def rank_statistics(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(mean, median, q05, q95) over runs (axis 0) per unit, NaN skipped."""
    if ranks.shape[0] == 0:
        empty = np.full(ranks.shape[1], np.nan)
        return empty, empty.copy(), empty.copy(), empty.copy()
    ordered = np.sort(ranks, axis=0)  # NaN last
    n = stats.count(ranks)
    columns = np.arange(ranks.shape[1])
    # R's median(): the middle value, or the mean of the two middle ones.
    middle = (ordered[np.maximum((n - 1) // 2, 0), columns] + ordered[n // 2, columns]) / 2
    return (
        stats.mean(ranks),
        np.where(n > 0, middle, np.nan),
        quantile7(ordered, n, 0.05),
        quantile7(ordered, n, 0.95),
    )


# ---------------------------------------------------------------- the alternatives


@dataclass(frozen=True, eq=False)
class Alternatives:
    """The spec's steps and the alternatives of each discrete choice (index 0 first)."""

    spec: Spec
    framework: Framework
    treat: tuple[TreatStep | None, ...]  # None: the spec has no treat step
    normalise: tuple[NormaliseStep | None, ...]
    aggregate: tuple[tuple[LevelMethod, ...], ...]  # one method per aggregation level
    labels: Mapping[str, tuple[str, ...]]  # per choice, for reports
    aggregate_step: AggregateStep
    base_weights: np.ndarray  # META weights with the spec's weights file applied

    def count(self, choice: str) -> int:
        return len(self.labels[choice])

    def steps_for(self, winmax: int, normalisation: int) -> list[Step]:
        """The spec's steps before aggregate, with the chosen treat and normalise."""
        steps: list[Step] = []
        for step in self.spec.steps[:-1]:
            if step.name == TreatStep.name:
                chosen = self.treat[winmax]
                assert chosen is not None
                step = chosen
            elif step.name == NormaliseStep.name:
                chosen_n = self.normalise[normalisation]
                assert chosen_n is not None
                step = chosen_n
            steps.append(step)
        return steps

    def spec_for(self, choices: Sequence[int], weights: np.ndarray) -> Spec:
        """The spec one run amounts to: for checking a run with `pipeline.build`."""
        winmax, normalisation, aggregation = (int(c) for c in choices)
        methods = self.aggregate[aggregation]
        plans = self.framework.plans
        step = replace(
            self.aggregate_step,
            method=methods[0],
            by_level={plan.level: m for plan, m in zip(plans, methods, strict=True)},
            weight_overrides=tuple(
                (code, float(w), 0) for code, w in zip(self.framework.nodes, weights, strict=True)
            ),
        )
        return Spec((*self.steps_for(winmax, normalisation), step))


def alternatives(
    framework: Framework,
    spec: Spec,
    *,
    normalisations: Sequence[str | Mapping[str, Any]] = (),
    aggregations: Sequence[str | Mapping[str, Any]] = (),
    winmax: Sequence[int | None] = (),
) -> Alternatives:
    """Check the alternatives against the spec and parse them into steps (ValueError in Chinese).

    A normalisation is a method name or a normalise-step mapping
    ({method: minmax, lower: 1}); it is pooled when the spec's step is, unless
    it says otherwise. An aggregation is a method name or {method, p}; it
    replaces the method at every level (the spec's by_level included).
    """
    if not spec.steps or spec.steps[-1].name != AggregateStep.name:
        raise ValueError("SPEC 中没有 aggregate 步骤，无法计算排名")
    aggregate_step = spec.steps[-1]
    assert isinstance(aggregate_step, AggregateStep)
    if aggregate_step.weights_method is not None:
        raise ValueError(
            f"不确定性与敏感性分析不支持按数据计算的权重（{aggregate_step.weights_method}），"
            "请使用 META 或权重文件中的权重"
        )
    plans = framework.plans
    if not plans:
        raise ValueError("META 中没有汇总指标（Aggregate），无法汇总")

    treat_step = spec.find(TreatStep.name)
    if winmax:
        if treat_step is None:
            raise ValueError("SPEC 中没有 treat 步骤，不能改变 winmax")
        assert isinstance(treat_step, TreatStep)
        for value in winmax:
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0
            ):
                raise ValueError(f"winmax 的备选值应为非负整数，实际为 {value!r}")
        treats: tuple[TreatStep | None, ...] = tuple(
            replace(treat_step, winmax=None if v is None else int(v)) for v in winmax
        )
        treat_labels = tuple("无上限" if v is None else str(int(v)) for v in winmax)
    else:
        treats = (treat_step,)  # type: ignore[assignment]
        treat_labels = ("spec",)

    normalise_step = spec.find(NormaliseStep.name)
    if normalisations:
        if normalise_step is None:
            raise ValueError("SPEC 中没有 normalise 步骤，不能改变归一化方法")
        assert isinstance(normalise_step, NormaliseStep)
        parsed, normalise_labels = [], []
        for i, raw in enumerate(normalisations, start=1):
            entry = {"method": raw} if isinstance(raw, str) else dict(raw)
            entry.setdefault("pooled", normalise_step.pooled)
            try:
                step = NormaliseStep.parse(
                    StepParams(normalise_step.number, NormaliseStep.name, entry), base_dir=None
                )
            except ValueError as error:
                raise ValueError(f"归一化备选方案 {i}：{error}") from None
            parsed.append(step)
            normalise_labels.append(_describe(step.method, step.params))
        normalises: tuple[NormaliseStep | None, ...] = tuple(parsed)
    else:
        normalises = (normalise_step,)  # type: ignore[assignment]
        normalise_labels = ["spec"]

    if aggregations:
        methods, aggregate_labels = [], []
        for i, raw in enumerate(aggregations, start=1):
            entry = {"method": raw} if isinstance(raw, str) else dict(raw)
            unknown = [key for key in entry if key not in ("method", "p")]
            if unknown:
                raise ValueError(f"汇总备选方案 {i}：未知的参数 '{unknown[0]}'（可用：method、p）")
            try:
                method = AggregateStep.parse(
                    StepParams(aggregate_step.number, AggregateStep.name, entry), base_dir=None
                ).method
            except ValueError as error:
                raise ValueError(f"汇总备选方案 {i}：{error}") from None
            methods.append(tuple(method for _ in plans))
            aggregate_labels.append(method.describe())
        aggregates = tuple(methods)
    else:
        aggregates = (tuple(aggregate_step.method_for(plan.level) for plan in plans),)
        aggregate_labels = ["spec"]

    return Alternatives(
        spec=spec,
        framework=framework,
        treat=treats,
        normalise=normalises,
        aggregate=aggregates,
        labels={
            "winmax": treat_labels,
            "normalisation": tuple(normalise_labels),
            "aggregation": tuple(aggregate_labels),
        },
        aggregate_step=aggregate_step,
        base_weights=aggregate_step.base_weights(framework),
    )


def _describe(method: str, params: Mapping[str, Any]) -> str:
    shown = [
        f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in params.items()
    ]
    return f"{method}({', '.join(shown)})" if shown else method


# ---------------------------------------------------------------- evaluating runs


@dataclass(frozen=True, eq=False)
class Evaluation:
    """The runs' top scores and ranks over the nominal build's rows (runs × rows)."""

    scores: np.ndarray
    ranks: np.ndarray
    failed: np.ndarray  # bool over runs


class Runner:
    """Evaluates runs given as (choices, weights), sharing every step it can between them."""

    def __init__(self, table: DataTable, alternatives: Alternatives) -> None:
        self.table = table
        self.alternatives = alternatives
        self.context = Context(table, alternatives.framework)
        self._states: dict[tuple[object, ...], State] = {}
        self._aggregators: dict[tuple[int, int, int], StackAggregator | None] = {}

    def state(self, winmax: int, normalisation: int) -> State:
        """The data set aggregate receives, each shared prefix of steps computed once."""
        state = State(rows=np.arange(self.table.n_rows), values=self.table.values)
        key: tuple[object, ...] = ()
        for step in self.alternatives.steps_for(winmax, normalisation):
            key += (step.name, winmax if step.name == TreatStep.name else None)
            key += (normalisation if step.name == NormaliseStep.name else None,)
            cached = self._states.get(key)
            if cached is None:
                try:
                    cached = step.apply(state, self.context)
                except ValueError as error:
                    raise ValueError(f"{self._label(winmax, normalisation)}：{error}") from None
                if not len(cached.rows):
                    raise ValueError(
                        f"{self._label(winmax, normalisation)}：第 {step.number} 步 {step.name}："
                        "没有单位留下，无法继续计算"
                    )
                self._states[key] = cached
            state = cached
        return state

    def _label(self, winmax: int, normalisation: int) -> str:
        labels = self.alternatives.labels
        return (
            f"不确定性分析（winmax {labels['winmax'][winmax]}，"
            f"归一化 {labels['normalisation'][normalisation]}）"
        )

    def aggregator(self, choices: tuple[int, int, int]) -> StackAggregator | None:
        """None when the aggregation cannot take this data set (every such run fails)."""
        if choices not in self._aggregators:
            winmax, normalisation, aggregation = choices
            state = self.state(winmax, normalisation)
            try:
                self._aggregators[choices] = StackAggregator(
                    self.alternatives.framework,
                    state.values,
                    self.alternatives.aggregate[aggregation],
                    self.alternatives.aggregate_step.data_threshold,
                )
            except InvalidChildValue:
                self._aggregators[choices] = None
        return self._aggregators[choices]

    def evaluate(
        self,
        choices: np.ndarray,
        weights: np.ndarray,
        rows: np.ndarray,
        *,
        workers: int | None = None,
    ) -> Evaluation:
        """Scores and ranks of every run over `rows` (table positions, the nominal build's)."""
        runs = len(choices)
        scores = np.full((runs, len(rows)), np.nan)
        ranks = np.full((runs, len(rows)), np.nan)
        failed = np.zeros(runs, dtype=bool)
        if not runs:
            return Evaluation(scores, ranks, failed)
        combinations, inverse = np.unique(choices, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        tasks = []
        for k, combination in enumerate(combinations.tolist()):
            members = np.flatnonzero(inverse == k)
            aggregator = self.aggregator(tuple(combination))  # type: ignore[arg-type]
            if aggregator is None:
                failed[members] = True
                continue
            state = self.state(combination[0], combination[1])
            own, target = _row_mapping(state.rows, rows)
            blocks: list[np.ndarray | slice] = [
                block for _, block in self.context.blocks(state.rows)
            ]
            if len(blocks) == 1:
                blocks = [slice(None)]
            size = max(1, CELLS_PER_TASK // max(len(state.rows), 1))
            for start in range(0, len(members), size):
                tasks.append((aggregator, members[start : start + size], blocks, own, target))

        def run(task: tuple[StackAggregator, np.ndarray, list[Any], Any, Any]) -> None:
            aggregator, members, blocks, own, target = task
            top, bad = aggregator.top(weights[members])
            ranked = rank_runs(top, blocks)
            if own is None:
                scores[members], ranks[members] = top, ranked
            else:
                scores[np.ix_(members, target)] = top[:, own]
                ranks[np.ix_(members, target)] = ranked[:, own]
            failed[members[bad]] = True

        count = workers or default_workers()
        if count == 1 or len(tasks) == 1:
            for task in tasks:
                run(task)
        else:
            with ThreadPoolExecutor(max_workers=count) as pool:
                list(pool.map(run, tasks))
        return Evaluation(scores, ranks, failed)


def default_workers() -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cpus or 1, 4))


def _row_mapping(own_rows: np.ndarray, rows: np.ndarray) -> tuple[Any, Any]:
    """(None, None) when a branch kept the nominal rows; else (its positions, theirs) in common."""
    if len(own_rows) == len(rows) and np.array_equal(own_rows, rows):
        return None, None
    position = {int(row): i for i, row in enumerate(own_rows.tolist())}
    target = [j for j, row in enumerate(rows.tolist()) if int(row) in position]
    own = [position[int(rows[j])] for j in target]
    return np.array(own, dtype=np.intp), np.array(target, dtype=np.intp)


# ---------------------------------------------------------------- the analysis


@dataclass(frozen=True, eq=False)
class UncertaintyResult:
    """Per unit (unit-year in a panel): the nominal rank and the distribution of the runs' ranks."""

    rows: np.ndarray  # table positions of the units ranked (the nominal build's rows)
    unit_codes: np.ndarray
    unit_names: np.ndarray
    times: np.ndarray | None  # over rows; None for a cross-section
    nominal_scores: np.ndarray
    nominal: np.ndarray  # nominal ranks
    mean: np.ndarray
    median: np.ndarray
    q05: np.ndarray
    q95: np.ndarray
    scores: np.ndarray  # (runs × rows)
    ranks: np.ndarray  # (runs × rows), NaN where a run failed
    choices: np.ndarray  # (runs × 3): winmax, normalisation, aggregation alternative
    weights: np.ndarray  # (runs × nodes)
    failed: np.ndarray  # bool over runs
    alternatives: Alternatives

    @property
    def runs(self) -> int:
        return len(self.choices)


def uncertainty(
    table: DataTable,
    framework: Framework,
    spec: Spec,
    *,
    runs: int,
    rng: np.random.Generator,
    weight_noise: float | Mapping[int, float] = 0.25,
    normalisations: Sequence[str | Mapping[str, Any]] = (),
    aggregations: Sequence[str | Mapping[str, Any]] = (),
    winmax: Sequence[int | None] = (),
    workers: int | None = None,
) -> UncertaintyResult:
    """Run the index `runs` times with uncertain weights and methods; rank intervals per unit.

    `weight_noise` is a factor for every level below the index, or
    {level: factor} (COINr's noise_specs). Randomness comes from `rng` only,
    so the same seed gives the same result.
    """
    if isinstance(runs, bool) or not isinstance(runs, int | np.integer) or runs < 1:
        raise ValueError(f"运行次数应为正整数，实际为 {runs!r}")
    nominal = build(table, framework, spec)
    design = alternatives(
        framework, spec, normalisations=normalisations, aggregations=aggregations, winmax=winmax
    )
    noise = noise_levels(framework, weight_noise)
    varied = [i for i, choice in enumerate(CHOICES) if design.count(choice) > 1]
    u = runif_matrix(rng, runs, len(varied))
    choices = np.zeros((runs, len(CHOICES)), dtype=np.intp)
    for column, i in enumerate(varied):
        choices[:, i] = discrete_choice(u[:, column], design.count(CHOICES[i]))
    weights = noisy_weights(design.base_weights, framework, noise, runs, rng)
    evaluation = Runner(table, design).evaluate(choices, weights, nominal.rows, workers=workers)
    if evaluation.failed.all():
        raise ValueError(ALL_FAILED)
    return summarise_runs(nominal, design, choices, weights, evaluation, evaluation.ranks)


ALL_FAILED = (
    "所有运行都失败了：所选汇总方法不能用于这些数据（几何平均、调和平均要求所有值为正数，"
    "请把归一化下限设为正数，如 minmax {lower: 1, upper: 100}）"
)


def summarise_runs(
    nominal: BuildResult,
    design: Alternatives,
    choices: np.ndarray,
    weights: np.ndarray,
    evaluation: Evaluation,
    ranks_for_stats: np.ndarray,
) -> UncertaintyResult:
    table = nominal.table
    assert nominal.ranks is not None
    mean, median, q05, q95 = rank_statistics(ranks_for_stats)
    return UncertaintyResult(
        rows=nominal.rows,
        unit_codes=table.unit_codes[nominal.rows],
        unit_names=table.unit_names[nominal.rows],  # type: ignore[index]
        times=table.times[nominal.rows] if table.is_panel else None,  # type: ignore[index]
        nominal_scores=nominal.index,
        nominal=nominal.ranks,
        mean=mean,
        median=median,
        q05=q05,
        q95=q95,
        scores=evaluation.scores,
        ranks=evaluation.ranks,
        choices=choices,
        weights=weights,
        failed=evaluation.failed,
        alternatives=design,
    )
