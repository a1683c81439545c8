"""What-if and the improvement path: which indicators, raised by how much, lift a unit's index.

`what_if` re-runs the whole build with some of one unit's raw values
replaced, so every step that depends on the other units (imputation means,
treatment, min-max bounds …) is recomputed exactly as it would be.

`improvement_path` walks greedily toward a target score or rank. Effort is
measured in relative change: moving indicator j by Δx costs |Δx| / s_j, where
s_j is the spread (max − min) of that indicator's raw values among the units
ranked with this one (the same Time in a panel). An effort of 1 is one move
across the whole field, whatever the indicator's unit (万元, %, 件). Each move
tries every open indicator moved by `step` · s_j in its good direction
(up for Direction +1, down for −1), rebuilds, and takes the one with the
largest score gain per unit of effort; ties go to the indicator listed first
in META. When no such move raises the score, the move size is doubled (up to
the whole spread) before giving up. Consecutive moves of one indicator are
reported as one step, so the path reads as "raise A from a to b, then B …".

An indicator is capped — never proposed — where moving it further cannot
count: at or past its saturation point under goalposts with clipping (the
标准值: the upper goalpost, or the standard value of a negative indicator
under inverse_ratio, or the lower goalpost under reflect) and under
distance_to_target with cap (the target); otherwise at the best value any
unit ranked with it has reached (no move beyond the field's best is
proposed). Moves stop at the cap. The saturation point is read on the scale
normalise sees: a denominated indicator's goalpost is converted back through
the unit's own denominator (a treatment step in between is not undone).
Missing values and indicators with no spread or zero effective weight are
left alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from kechuang.evaluation.engine import stats
from kechuang.evaluation.engine.framework import Framework
from kechuang.evaluation.engine.pipeline import BuildResult, build
from kechuang.evaluation.engine.spec import Spec
from kechuang.evaluation.engine.steps.aggregate import AggregateStep
from kechuang.evaluation.engine.steps.base import Context
from kechuang.evaluation.engine.steps.denominate import DenominateStep, denominator_columns
from kechuang.evaluation.engine.steps.normalise import NormaliseStep
from kechuang.evaluation.engine.table import DataTable
from kechuang.evaluation.engine.weights import effective_weights


class PathStep(NamedTuple):
    indicator: str
    from_value: float
    to_value: float
    score: float  # the unit's index after this step
    rank: float  # and its rank


@dataclass(frozen=True, eq=False)
class ImprovementPath:
    unit_row: int
    start_score: float
    start_rank: float
    steps: tuple[PathStep, ...]
    reached: bool
    effort: float  # Σ |Δx| / spread over the steps
    reason: str  # why the target was not reached ("" when it was)
    capped: tuple[str, ...]  # indicators already at their cap at the start

    @property
    def changes(self) -> dict[str, tuple[float, float]]:
        """indicator → (value before the path, value after), in order of first change."""
        out: dict[str, tuple[float, float]] = {}
        for step in self.steps:
            start = out[step.indicator][0] if step.indicator in out else step.from_value
            out[step.indicator] = (start, step.to_value)
        return out


def _check_row(table: DataTable, unit_row: int) -> int:
    if isinstance(unit_row, bool) or not isinstance(unit_row, int | np.integer):
        raise ValueError(f"单位行号应为整数，实际为 {unit_row!r}")
    if not 0 <= unit_row < table.n_rows:
        raise ValueError(f"单位行号 {unit_row} 超出范围（共 {table.n_rows} 行）")
    return int(unit_row)


def _with_values(table: DataTable, unit_row: int, changes: Mapping[str, float]) -> DataTable:
    values = table.values.copy()
    for code, value in changes.items():
        if code not in table.indicators:
            raise ValueError(f"指标 '{code}' 不在指标体系中")
        if not math.isfinite(value):
            raise ValueError(f"指标 '{code}' 的假设值无效：{value!r}")
        values[unit_row, table.indicators.index(code)] = value
    return replace(table, values=values)


def _position(result: BuildResult, unit_row: int) -> tuple[float, float]:
    where = np.flatnonzero(result.rows == unit_row)
    if not len(where):
        return math.nan, math.nan
    assert result.ranks is not None
    return float(result.index[where[0]]), float(result.ranks[where[0]])


def what_if(
    table: DataTable,
    framework: Framework,
    spec: Spec,
    unit_row: int,
    changes: Mapping[str, float],
) -> tuple[float, float]:
    """(score, rank) of the unit at table row `unit_row` had its raw values been `changes`.

    NaN, NaN when the changed unit is screened out or gets no score.
    """
    unit_row = _check_row(table, unit_row)
    result = build(_with_values(table, unit_row, changes), framework, spec)
    return _position(result, unit_row)


def improvement_path(
    table: DataTable,
    framework: Framework,
    spec: Spec,
    unit_row: int,
    *,
    target_score: float | None = None,
    target_rank: int | None = None,
    max_steps: int = 200,
    step: float = 0.05,
    indicators: Sequence[str] | None = None,
) -> ImprovementPath:
    """A least-effort path (greedy) to `target_score` and/or `target_rank` (module docstring).

    With both targets, both must be met. `indicators` limits the indicators
    that may change. `max_steps` bounds the greedy moves, each of which costs
    one build per open indicator; consecutive moves of the same indicator are
    reported as one step.
    """
    unit_row = _check_row(table, unit_row)
    if target_score is None and target_rank is None:
        raise ValueError("请给出目标得分（target_score）或目标排名（target_rank）")
    if not 0 < step <= 1:
        raise ValueError(f"步长 step 应在 (0, 1] 之间（指标极差的比例），实际为 {step!r}")
    if max_steps < 0:
        raise ValueError(f"最大步数应为非负整数，实际为 {max_steps!r}")
    if indicators is not None:
        unknown = [code for code in indicators if code not in framework.indicators]
        if unknown:
            raise ValueError(f"指标 '{unknown[0]}' 不在指标体系中")
    base = build(table, framework, spec)
    score, rank = _position(base, unit_row)
    if math.isnan(score):
        raise ValueError(
            f"单位 '{table.unit_codes[unit_row]}' 在筛选中被剔除或没有得分，无法计算提升路径"
        )

    def reached(score: float, rank: float) -> bool:
        return (target_score is None or score >= target_score) and (
            target_rank is None or rank <= target_rank
        )

    limits = _limits(table, framework, spec, base, unit_row)
    spread, ceiling, directions = limits.spread, limits.ceiling, framework.directions
    current = table.values[unit_row].copy()
    allowed = np.ones(len(framework.indicators), dtype=bool)
    if indicators is not None:
        allowed = np.isin(np.array(framework.indicators, dtype=object), list(indicators))
    weight = effective_weights(framework, _aggregate_weights(framework, spec))
    usable = (
        allowed & np.isfinite(current) & (spread > 0) & (weight[: len(framework.indicators)] != 0)
    )
    room = directions * (ceiling - current)
    capped = tuple(
        code for j, code in enumerate(framework.indicators) if usable[j] and not room[j] > 0
    )
    changes: dict[str, float] = {}
    steps: list[PathStep] = []
    effort = 0.0
    moves = 0
    reason = ""
    start_score, start_rank = score, rank
    while not reached(score, rank):
        if moves >= max_steps:
            reason = f"已走满最大步数 {max_steps}，仍未达到目标"
            break
        best = _best_move(
            table, framework, spec, unit_row, changes, current, usable, limits, score, step
        )
        if best is None:
            reason = "没有哪个指标的提高还能提高得分（其余指标已到上限或不影响得分）"
            break
        j, to, new_score, new_rank = best
        code = framework.indicators[j]
        start = float(current[j])
        if steps and steps[-1].indicator == code:
            # Consecutive moves of one indicator read as one step.
            start = steps.pop().from_value
        steps.append(PathStep(code, start, float(to), new_score, new_rank))
        moves += 1
        effort += abs(to - current[j]) / spread[j]
        current[j] = to
        changes[code] = float(to)
        score, rank = new_score, new_rank
    return ImprovementPath(
        unit_row=unit_row,
        start_score=start_score,
        start_rank=start_rank,
        steps=tuple(steps),
        reached=reached(score, rank),
        effort=effort,
        reason="" if reached(score, rank) else reason,
        capped=capped,
    )


def _best_move(
    table: DataTable,
    framework: Framework,
    spec: Spec,
    unit_row: int,
    changes: Mapping[str, float],
    current: np.ndarray,
    usable: np.ndarray,
    limits: _Limits,
    score: float,
    step: float,
) -> tuple[int, float, float, float] | None:
    """(indicator, new value, score, rank) of the best move by gain per effort, or None."""
    directions = framework.directions
    tolerance = 1e-12 * max(1.0, abs(score))
    size = step
    while True:
        best: tuple[float, int, float, float, float] | None = None
        for j in np.flatnonzero(usable).tolist():
            room = directions[j] * (limits.ceiling[j] - current[j])
            if not room > 0:
                continue
            move = size * limits.spread[j]
            # Land on the cap itself: repeated steps drift, and x + (cap − x) need not
            # round to the cap, which would leave a sliver of room that gains nothing.
            near = move >= room * (1 - 1e-9)
            to = limits.ceiling[j] if near else current[j] + directions[j] * move
            if to == current[j]:
                continue
            code = framework.indicators[j]
            new_score, new_rank = what_if(table, framework, spec, unit_row, {**changes, code: to})
            gain = new_score - score
            if not gain > tolerance:
                continue
            per_effort = gain / (abs(to - current[j]) / limits.spread[j])
            if best is None or per_effort > best[0]:
                best = (per_effort, j, to, new_score, new_rank)
        if best is not None:
            return best[1], best[2], best[3], best[4]
        if size >= 1:
            return None
        size = min(1.0, size * 2)


@dataclass(frozen=True, eq=False)
class _Limits:
    spread: np.ndarray  # over indicators: max − min of the raw values among the peers
    ceiling: np.ndarray  # over indicators: the cap, in raw units


def _aggregate_weights(framework: Framework, spec: Spec) -> np.ndarray:
    step = spec.find(AggregateStep.name)
    if isinstance(step, AggregateStep):
        return step.base_weights(framework)
    return framework.weights


def _limits(
    table: DataTable, framework: Framework, spec: Spec, base: BuildResult, unit_row: int
) -> _Limits:
    blocks = Context(table, framework).blocks(base.rows)
    peers = next(base.rows[block] for _, block in blocks if unit_row in base.rows[block])
    raw = table.values[peers]
    low, high = stats.nanmin(raw), stats.nanmax(raw)
    spread = np.where(np.isfinite(high - low), high - low, 0.0)
    directions = framework.directions
    ceiling = np.where(directions > 0, high, low)
    saturation = _saturation(framework, spec)
    if saturation is not None and spec.find(DenominateStep.name) is not None:
        assert table.denominator_values is not None
        columns = denominator_columns(framework, table.denominators)
        for j in np.flatnonzero(columns >= 0).tolist():
            divisor = table.denominator_values[unit_row, columns[j]] / framework.scale_factors[j]
            saturation[j] *= divisor
    if saturation is not None:
        ceiling = np.where(np.isnan(saturation), ceiling, saturation)
    return _Limits(spread=spread, ceiling=ceiling)


def _saturation(framework: Framework, spec: Spec) -> np.ndarray | None:
    """Per indicator, the value past which its normalised score cannot rise (NaN: none)."""
    step = spec.find(NormaliseStep.name)
    if not isinstance(step, NormaliseStep):
        return None
    params = step.params
    n = len(framework.indicators)
    if step.method == "goalposts" and params.get("clip", True):

        def goalpost(key: str) -> np.ndarray:
            value = params[key]
            return framework.targets.copy() if value == "target" else np.full(n, float(value))

        lower, upper = goalpost("lower"), goalpost("upper")
        negative = upper if params.get("negative") == "inverse_ratio" else lower
        return np.where(framework.directions > 0, upper, negative)
    if step.method == "distance_to_target" and params.get("cap"):
        return framework.targets.copy()
    return None
