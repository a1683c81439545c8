"""Variance-based sensitivity analysis (Sobol indices) of the ranks, as COINr's SA_type = "SA".

Design (COINr SA_sample): A and B are two N × d uniform matrices, filled
from one stream of 2dN draws column by column as R's matrix() is; AB_i is A
with column i taken from B; the runs are the rows of [A; B; AB_1; …; AB_d],
N(d + 2) in all. Each column is then mapped to its parameter over the whole
column: a discrete parameter through R's `cut(u, n)` over the sample's own
range, a continuous one as lower + u · (upper − lower) (COINr sample_2_para).

Output of a run: the mean over units of |rank_run − rank_nominal| (NaN
skipped), COINr's target. Estimators (COINr SA_estimate), with yA, yB and
yAB_i the outputs of the blocks:

* Var = var(c(yA, yB)), with n − 1;
* S_i = mean(yB · (yAB_i − yA)) / Var (first order, Saltelli 2010);
* ST_i = Σ (yA − yAB_i)² / (2N · Var) (total, Jansen).

Confidence intervals: bootstrap over the N rows of the design, the 5 % and
95 % quantiles (R type 7) of the resampled estimators; Var is not
resampled, as in COINr. COINr resamples each parameter's terms on its own;
resampling whole rows gives every index the same bootstrap distribution and
lets all of them share one index array.

The index parameters are the choices of `uncertainty` (winmax, normalisation,
weights, aggregation, in COINr's vignette order), each included when it can
vary. Weights are a discrete parameter over `weight_sets` noisy weight sets
drawn beforehand, exactly as COINr's vignette sets it up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kechuang.evaluation.engine import stats
from kechuang.evaluation.engine.framework import Framework
from kechuang.evaluation.engine.pipeline import build
from kechuang.evaluation.engine.spec import Spec
from kechuang.evaluation.engine.table import DataTable
from kechuang.evaluation.engine.uncertainty import (
    ALL_FAILED,
    CHOICES,
    Runner,
    UncertaintyResult,
    alternatives,
    discrete_choice,
    noise_levels,
    noisy_weights,
    quantile7,
    runif_matrix,
    summarise_runs,
)

# Bootstrap draws are taken this many at a time (each is an N × d gather).
BOOTSTRAP_CHUNK = 200


@dataclass(frozen=True)
class Discrete:
    """A parameter taking one of `count` alternatives with equal probability."""

    count: int


@dataclass(frozen=True)
class Continuous:
    """A parameter uniform on [lower, upper]."""

    lower: float
    upper: float


Parameter = Discrete | Continuous


def sa_sample(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """COINr's SA_sample: the N(d + 2) × d matrix [A; B; AB_1; …; AB_d] of uniforms."""
    if n < 1 or d < 1:
        raise ValueError("样本量 N 与参数个数 d 都应为正整数")
    base = runif_matrix(rng, n, 2 * d)
    a, b = base[:, :d], base[:, d:]
    blocks = [a, b]
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append(ab)
    return np.vstack(blocks)


def map_sample(design: np.ndarray, parameters: Sequence[Parameter]) -> np.ndarray:
    """Each column mapped to its parameter: alternative indices (as floats) or values."""
    if design.shape[1] != len(parameters):
        raise ValueError(f"设计矩阵有 {design.shape[1]} 列，参数有 {len(parameters)} 个")
    out = np.empty(design.shape)
    for i, parameter in enumerate(parameters):
        if isinstance(parameter, Discrete):
            out[:, i] = discrete_choice(design[:, i], parameter.count)
        else:
            if not parameter.upper > parameter.lower:
                raise ValueError("连续参数的上限应大于下限")
            out[:, i] = design[:, i] * (parameter.upper - parameter.lower) + parameter.lower
    return out


@dataclass(frozen=True, eq=False)
class SobolIndices:
    """First-order and total indices per parameter, with bootstrap bounds (NaN without)."""

    variance: float
    first: np.ndarray
    total: np.ndarray
    first_low: np.ndarray
    first_high: np.ndarray
    total_low: np.ndarray
    total_high: np.ndarray


def sobol_estimates(
    y: np.ndarray,
    n: int,
    d: int,
    *,
    bootstrap: int | None = None,
    rng: np.random.Generator | None = None,
    probabilities: tuple[float, float] = (0.05, 0.95),
) -> SobolIndices:
    """COINr's SA_estimate on the outputs of an `sa_sample` design (see the module docstring)."""
    y = np.asarray(y, dtype=float)
    if len(y) != n * (d + 2):
        raise ValueError(f"输出的个数应为 N(d + 2) = {n * (d + 2)}，实际为 {len(y)}")
    ya, yb = y[:n], y[n : 2 * n]
    # R's matrix(yy[(2N+1):], nrow = N) is column-major: column i is block AB_i.
    yab = y[2 * n :].reshape(d, n).T
    variance = float(np.var(np.concatenate([ya, yb]), ddof=1))
    first_terms = yb[:, None] * (yab - ya[:, None])
    total_terms = ya[:, None] - yab
    with np.errstate(invalid="ignore", divide="ignore"):
        first = first_terms.mean(axis=0) / variance
        total = (total_terms**2).sum(axis=0) / (2 * n * variance)
    nan = np.full(d, np.nan)
    if not bootstrap:
        return SobolIndices(variance, first, total, nan, nan.copy(), nan.copy(), nan.copy())
    if rng is None:
        raise ValueError("自助法（bootstrap）需要随机数生成器 rng")
    first_boot = np.empty((bootstrap, d))
    total_boot = np.empty((bootstrap, d))
    squares = total_terms**2
    with np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, bootstrap, BOOTSTRAP_CHUNK):
            stop = min(start + BOOTSTRAP_CHUNK, bootstrap)
            rows = rng.integers(0, n, size=(stop - start, n))
            first_boot[start:stop] = first_terms[rows].mean(axis=1) / variance
            total_boot[start:stop] = squares[rows].sum(axis=1) / (2 * n * variance)
    low, high = probabilities
    bounds = []
    for boot in (first_boot, total_boot):
        ordered, count = np.sort(boot, axis=0), stats.count(boot)
        bounds += [quantile7(ordered, count, low), quantile7(ordered, count, high)]
    return SobolIndices(variance, first, total, *bounds)


def sobol(
    model: Callable[[np.ndarray], np.ndarray],
    parameters: Sequence[Parameter],
    n: int,
    rng: np.random.Generator,
    *,
    bootstrap: int | None = None,
) -> SobolIndices:
    """Sobol indices of any vectorised model: `model(values)` maps (runs × d) to (runs,)."""
    design = sa_sample(n, len(parameters), rng)
    y = model(map_sample(design, parameters))
    return sobol_estimates(y, n, len(parameters), bootstrap=bootstrap, rng=rng)


@dataclass(frozen=True, eq=False)
class SensitivityResult:
    parameters: tuple[str, ...]  # in the design's column order
    indices: SobolIndices
    design: np.ndarray  # the uniform sample, N(d + 2) × d
    outputs: np.ndarray  # per run: mean |rank − nominal rank|
    samples: int
    # The runs' ranks and, over the first 2N (random) runs, the rank intervals (COINr RankStats).
    uncertainty: UncertaintyResult


def sensitivity(
    table: DataTable,
    framework: Framework,
    spec: Spec,
    *,
    samples: int,
    rng: np.random.Generator,
    weight_noise: float | Mapping[int, float] = 0.25,
    weight_sets: int = 100,
    normalisations: Sequence[str | Mapping[str, Any]] = (),
    aggregations: Sequence[str | Mapping[str, Any]] = (),
    winmax: Sequence[int | None] = (),
    bootstrap: int | None = 1000,
    workers: int | None = None,
) -> SensitivityResult:
    """Sobol indices of the mean rank shift for each uncertain choice: N(d + 2) runs."""
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 3:
        raise ValueError(f"样本量 N 应为不小于 3 的整数，实际为 {samples!r}")
    if weight_sets < 1:
        raise ValueError(f"权重集的个数应为正整数，实际为 {weight_sets!r}")
    nominal = build(table, framework, spec)
    design = alternatives(
        framework, spec, normalisations=normalisations, aggregations=aggregations, winmax=winmax
    )
    noise = noise_levels(framework, weight_noise)
    names: list[str] = []
    counts: list[int] = []
    weight_choices = None
    for name in ("winmax", "normalisation", "weights", "aggregation"):
        if name == "weights":
            if noise:
                weight_choices = noisy_weights(
                    design.base_weights, framework, noise, weight_sets, rng
                )
                names.append(name)
                counts.append(weight_sets)
        elif design.count(name) > 1:
            names.append(name)
            counts.append(design.count(name))
    if len(names) < 2:
        raise ValueError(
            "敏感性分析至少需要两个可变的因素（winmax、归一化、权重扰动、汇总方法中的两个），"
            "只有一个时请用不确定性分析"
        )
    sample = sa_sample(samples, len(names), rng)
    mapped = map_sample(sample, [Discrete(count) for count in counts]).astype(np.intp)
    runs = len(sample)
    choices = np.zeros((runs, len(CHOICES)), dtype=np.intp)
    weights = np.broadcast_to(design.base_weights, (runs, len(design.base_weights)))
    for column, name in enumerate(names):
        if name == "weights":
            assert weight_choices is not None
            weights = weight_choices[mapped[:, column]]
        else:
            choices[:, CHOICES.index(name)] = mapped[:, column]
    evaluation = Runner(table, design).evaluate(
        choices, np.ascontiguousarray(weights), nominal.rows, workers=workers
    )
    if evaluation.failed.all():
        raise ValueError(ALL_FAILED)
    assert nominal.ranks is not None
    with np.errstate(invalid="ignore"):
        shifts = np.abs(evaluation.ranks - nominal.ranks[None, :])
    counted = stats.count(shifts.T)
    with np.errstate(invalid="ignore", divide="ignore"):
        outputs = np.where(counted > 0, np.nansum(shifts, axis=1) / counted, np.nan)
    indices = sobol_estimates(outputs, samples, len(names), bootstrap=bootstrap, rng=rng)
    summary = summarise_runs(
        nominal,
        design,
        choices,
        np.ascontiguousarray(weights),
        evaluation,
        evaluation.ranks[: 2 * samples],
    )
    return SensitivityResult(
        parameters=tuple(names),
        indices=indices,
        design=sample,
        outputs=outputs,
        samples=samples,
        uncertainty=summary,
    )
