"""Normalise: bring indicators to a common scale (COINr's n_* functions and the 标准值 method).

Like COINr, every method except goalposts, scaled, distance_to_target and
base_year first multiplies each column by its Direction, so "higher is
better" everywhere. Those four take the direction into account themselves:

* goalposts, positive: clip((x − L)/(U − L), 0, 1) × scale;
  negative, ``negative: inverse_ratio`` (default; the Chinese 标准值法 for 逆指标):
  clip(U / x, 0, 1) × scale; ``negative: reflect`` (COINr with iMeta goalposts):
  clip((U − x)/(U − L), 0, 1) × scale.
* scaled: as goalposts with ``reflect`` and no clipping (COINr n_scaled).
* distance_to_target: (x·d − min)/(T·d − min), optionally capped at 1
  (COINr n_dist2targ with iMeta targets).
* base_year: x / x_base × scale for positive indicators, x_base / x × scale for
  negative ones, per unit (the 2018 = 100 development index).

Columns are normalised per Time value unless ``pooled: true``, which takes
min/max (or mean/sd, ranks …) over all years together (COINr's global = TRUE).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kechuang.evaluation.engine import stats
from kechuang.evaluation.engine.params import StepParams
from kechuang.evaluation.engine.steps.base import Context, State, per_block

# method → its parameters (pooled is accepted by every method)
METHODS: Mapping[str, tuple[str, ...]] = {
    "minmax": ("lower", "upper"),
    "zscore": ("mean", "sd"),
    "rank": (),
    "percentile_rank": ("scale",),  # scale is ours: COINr's n_prank gives [0, 1]
    "borda": (),
    "fraction_of_max": (),
    "distance_to_max": (),
    "distance_to_target": ("cap",),
    "distance_to_reference": ("reference", "cap"),
    "goalposts": ("lower", "upper", "scale", "negative", "clip"),
    "scaled": ("lower", "upper", "scale"),
    "base_year": ("base", "scale"),
}
NEGATIVE_RULES = ("inverse_ratio", "reflect")


def minmax(x: np.ndarray, lower: float = 0.0, upper: float = 100.0) -> np.ndarray:
    low, high = stats.nanmin(x), stats.nanmax(x)
    # In place, in COINr's order of operations: (x − min) / (max − min) × (u − l) + l.
    y = x - low
    with np.errstate(invalid="ignore", divide="ignore"):
        y /= high - low
    y *= upper - lower
    y += lower
    return y


def zscore(x: np.ndarray, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return (x - stats.mean(x)) / stats.sd(x) * sd + mean


def rank(x: np.ndarray) -> np.ndarray:
    return stats.rank_min_columns(x)


def percentile_rank(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return (stats.rank_min_columns(x) - 1) / (stats.count(x) - 1)


def borda(x: np.ndarray) -> np.ndarray:
    return stats.rank_min_columns(x) - 1


def fraction_of_max(x: np.ndarray) -> np.ndarray:
    # A maximum near zero gives ±inf, as in COINr's n_fracmax: no warning, no error.
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return x / stats.nanmax(x)


def distance_to_max(x: np.ndarray) -> np.ndarray:
    low, high = stats.nanmin(x), stats.nanmax(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1 - (high - x) / (high - low)


def distance_to_target(x: np.ndarray, targets: np.ndarray, cap: bool = False) -> np.ndarray:
    """x and targets already multiplied by Direction."""
    low = stats.nanmin(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (x - low) / (targets - low)
    return np.where(y > 1, 1.0, y) if cap else y


def distance_to_reference(x: np.ndarray, reference_row: int, cap: bool = False) -> np.ndarray:
    low = stats.nanmin(x)
    reference = x[reference_row]
    with np.errstate(invalid="ignore", divide="ignore"):
        y = 1 - (reference - x) / (reference - low)
    return np.where(y > 1, 1.0, y) if cap else y


def goalposts(
    x: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    directions: np.ndarray,
    *,
    scale: float = 100.0,
    negative: str = "inverse_ratio",
    clip: bool = True,
) -> np.ndarray:
    """Fixed goalposts per column, x in original units (not multiplied by Direction)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        rising = (x - lower) / (upper - lower)
        # inverse_ratio: x = 0 beats any standard (U/0 = inf, clipped to 1).
        falling = upper / x if negative == "inverse_ratio" else (upper - x) / (upper - lower)
    y = np.where(directions > 0, rising, falling)
    if clip:
        y = np.clip(y, 0.0, 1.0)
    return y * scale


def scaled(
    x: np.ndarray, lower: float, upper: float, directions: np.ndarray, scale: float = 100.0
) -> np.ndarray:
    return goalposts(
        x,
        np.full(x.shape[1], lower),
        np.full(x.shape[1], upper),
        directions,
        scale=scale,
        negative="reflect",
        clip=False,
    )


def base_year(
    x: np.ndarray,
    units: np.ndarray,
    times: np.ndarray,
    base: float,
    directions: np.ndarray,
    scale: float = 100.0,
) -> np.ndarray:
    """x relative to the same unit's value in the base year (NaN where that is missing)."""
    at_base = np.flatnonzero(times == base)
    lookup = {units[i]: i for i in at_base}
    base_rows = np.array([lookup.get(unit, -1) for unit in units], dtype=np.intp)
    base_values = np.where(base_rows[:, None] >= 0, x[np.maximum(base_rows, 0)], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(directions > 0, x / base_values, base_values / x) * scale


@dataclass(frozen=True)
class NormaliseStep:
    name: ClassVar[str] = "normalise"
    dataset: ClassVar[str] = "Normalised"
    number: int
    method: str = "minmax"
    params: Mapping[str, Any] = field(default_factory=dict)
    pooled: bool = False

    @classmethod
    def parse(cls, params: StepParams, *, base_dir: Path | None) -> NormaliseStep:
        method = params.choice("method", "minmax", tuple(METHODS))
        params.only(("method", "pooled", *METHODS[method]), context=f"方法 {method} ")
        values: dict[str, Any] = {}
        if method in ("minmax", "scaled"):
            values["lower"] = params.real("lower", 0.0)
            values["upper"] = params.real("upper", 100.0)
            if values["upper"] == values["lower"]:
                raise params.error("参数 'lower' 与 'upper' 不能相等")
        if method == "scaled":
            values["scale"] = params.real("scale", 100.0)
        if method == "zscore":
            values["mean"] = params.real("mean", 0.0)
            values["sd"] = params.real("sd", 1.0, positive=True)
        if method in ("distance_to_target", "distance_to_reference"):
            values["cap"] = params.boolean("cap", False)
        if method == "distance_to_reference":
            values["reference"] = params.text("reference")
        if method == "goalposts":
            values["lower"] = params.number_or_target("lower", 0.0)
            values["upper"] = params.number_or_target("upper", None)
            values["scale"] = params.real("scale", 100.0, positive=True)
            values["negative"] = params.choice("negative", "inverse_ratio", NEGATIVE_RULES)
            values["clip"] = params.boolean("clip", True)
        if method == "percentile_rank":
            values["scale"] = params.real("scale", 1.0, positive=True)
        if method == "base_year":
            values["base"] = params.real("base")
            values["scale"] = params.real("scale", 100.0, positive=True)
        pooled = params.boolean("pooled", False)
        if pooled and method in ("base_year", "distance_to_reference"):
            raise params.error(f"方法 {method} 不能与 pooled 同用")
        return cls(params.number, method, values, pooled)

    def error(self, message: str) -> ValueError:
        return ValueError(f"第 {self.number} 步 normalise：{message}")

    def apply(self, state: State, context: Context) -> State:
        framework, table = context.framework, context.table
        directions = framework.directions
        x = state.values
        if self.method == "base_year":
            if not table.is_panel:
                raise self.error("base_year 需要面板数据（Time 列有多个年份）")
            assert table.times is not None
            times = table.times[state.rows]
            if not np.any(times == self.params["base"]):
                raise self.error(f"数据中没有基年 {self.params['base']:g}")
            values = base_year(
                x,
                table.unit_codes[state.rows],
                times,
                self.params["base"],
                directions,
                self.params["scale"],
            )
            return replace(state, values=values)
        if self.pooled:
            return replace(state, values=self._normalise(x, state.rows, context))

        def normalise_block(
            _: float | None, where: np.ndarray | slice, block: np.ndarray
        ) -> np.ndarray:
            return self._normalise(block, state.rows[where], context)

        return replace(state, values=per_block(x, state.rows, context, normalise_block))

    def _targets(self, context: Context) -> np.ndarray:
        framework = context.framework
        missing = [
            c for c, t in zip(framework.indicators, framework.targets, strict=True) if np.isnan(t)
        ]
        if missing:
            raise self.error(f"以下指标在 META 中没有 Target：{'、'.join(missing)}")
        return framework.targets

    def _goalpost(self, key: str, context: Context) -> np.ndarray:
        value = self.params[key]
        if value == "target":
            return self._targets(context)
        return np.full(len(context.framework.indicators), value)

    def _normalise(self, x: np.ndarray, rows: np.ndarray, context: Context) -> np.ndarray:
        directions = context.framework.directions
        p = self.params
        method = self.method
        if method == "goalposts":
            lower, upper = self._goalpost("lower", context), self._goalpost("upper", context)
            same = np.flatnonzero(
                (lower == upper) & ~((directions < 0) & (p["negative"] == "inverse_ratio"))
            )
            if len(same):
                code = context.framework.indicators[same[0]]
                raise self.error(f"指标 '{code}' 的上下目标值相等（{upper[same[0]]:g}）")
            return goalposts(
                x,
                lower,
                upper,
                directions,
                scale=p["scale"],
                negative=p["negative"],
                clip=p["clip"],
            )
        if method == "scaled":
            return scaled(x, p["lower"], p["upper"], directions, p["scale"])
        directed = x * directions[None, :]
        if method == "minmax":
            return minmax(directed, p["lower"], p["upper"])
        if method == "zscore":
            return zscore(directed, p["mean"], p["sd"])
        if method == "rank":
            return rank(directed)
        if method == "percentile_rank":
            return percentile_rank(directed) * p["scale"]
        if method == "borda":
            return borda(directed)
        if method == "fraction_of_max":
            return fraction_of_max(directed)
        if method == "distance_to_max":
            return distance_to_max(directed)
        if method == "distance_to_target":
            return distance_to_target(directed, self._targets(context) * directions, p["cap"])
        if method == "distance_to_reference":
            codes = context.table.unit_codes[rows]
            where = np.flatnonzero(codes == p["reference"])
            if not len(where):
                raise self.error(f"参照单位 '{p['reference']}' 不在（该年度的）数据中")
            return distance_to_reference(directed, int(where[0]), p["cap"])
        raise self.error(f"未知的方法 '{method}'")
