"""Composite index at national scale: the engine's build and 1,000 uncertainty runs, against pandas.

Goals (issue): *the default build of a national table (≈2,900 counties × 60
indicators) in ≤ 50 ms; 1,000 uncertainty runs in ≤ 2 s* (COINr takes about
1.3 s per run). On its own:

    .venv/bin/python bench/bench_index.py [--repeat 5] [--runs 1000] [--baseline-runs 5]
                                          [--out /tmp/index.json]

Data (seeded, not timed): 2,844 units in 31 provinces, 60 indicators under a
tree 60 → 12 → 5 → 1 with unequal weights, 9 indicators with Direction −1,
20 divided by one of three denominators, log-normal, normal and heavy-tailed
columns (so treatment winsorises some and log-transforms others), 3 % of the
cells missing at random.

Timed, median of ``--repeat`` after one untimed warm-up:

- ``build``: ``pipeline.build`` with the default spec (denominate, impute
  mean_group by province, screen 0.9, treat winmax 5, minmax 0–100,
  arithmetic), from the DataTable to the ranks;
- ``pandas build``, the baseline, measured in the same run: the same build
  written the way an analyst writes it in pandas (groupby-transform
  imputation, a loop over columns for the skew/kurtosis check and the
  winsorising, per-level groupby sums for the weighted means, ``rank``),
  from the DataFrames to the ranks;
- ``uncertainty``: ``uncertainty.uncertainty`` with ``--runs`` runs: weight
  noise ±25 % on every level, winmax 3 or 5, min-max 1–100 or z-score
  (10, 2), arithmetic or geometric mean (COINr's vignette design), from the
  call to the rank intervals; again with one thread (``workers=1``), which
  separates the vectorisation from the threads;
- ``pandas per run``: that pandas build re-run for each of the first
  ``--baseline-runs`` runs with the run's own choices and weights (as COINr
  regenerates the coin per run), extrapolated to ``--runs``;
- ``build() per run``: the engine's build called once per run, likewise
  extrapolated: the loop the vectorised runner replaces.

Checks, so that no figure comes from a wrong computation: the engine and
pandas builds agree (max |Δ index| and the same ranks); every run of the
pandas per-run loop agrees with the same run of ``uncertainty``; a few runs
re-built with ``pipeline.build`` are bit-for-bit those of ``uncertainty``.
Nothing here asserts speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kechuang.evaluation.engine import uncertainty as ua
from kechuang.evaluation.engine.framework import Framework, framework_from_rows
from kechuang.evaluation.engine.pipeline import build
from kechuang.evaluation.engine.spec import parse_spec
from kechuang.evaluation.engine.table import DataTable

SEED = 20261122
UNITS = 2844
PROVINCES = 31
INDICATORS = 60
PILLARS = 12  # five indicators each
SUB_INDICES = (3, 3, 2, 2, 2)  # pillars per sub-index
MISSING = 0.03
DENOMINATORS = ("GDP", "Population", "Area")
BUILD_GOAL = 0.050
RUNS_GOAL = 2.0

DEFAULT_SPEC = {
    "steps": [
        {"denominate": {}},
        {"impute": {"method": "mean_group", "group": "Province"}},
        {"screen": {"min_share": 0.9}},
        {"treat": {"winmax": 5}},
        {"normalise": {"method": "minmax", "lower": 0, "upper": 100}},
        {"aggregate": {"method": "arithmetic"}},
    ]
}
NOISE = 0.25
WINMAX = [3, 5]
NORMALISATIONS = [
    {"method": "minmax", "lower": 1, "upper": 100},
    {"method": "zscore", "mean": 10, "sd": 2},
]
AGGREGATIONS = ["arithmetic", "geometric"]


# ---------------------------------------------------------------- the data


def national_data(seed: int = SEED) -> tuple[Framework, DataTable]:
    rng = np.random.default_rng(seed)
    header = ["Level", "iCode", "iName", "Parent", "Direction", "Type", "Weight", "Denominator"]
    rows: list[list[str]] = []
    directions = np.ones(INDICATORS, dtype=int)
    directions[rng.choice(INDICATORS, 9, replace=False)] = -1
    weights = rng.choice([1.0, 1.0, 1.0, 2.0, 0.5], size=INDICATORS)
    denominated = rng.choice(INDICATORS, 20, replace=False)
    for i in range(INDICATORS):
        denominator = DENOMINATORS[i % 3] if i in denominated else ""
        rows.append(
            [
                "1",
                f"I{i:02d}",
                f"指标{i:02d}",
                f"P{i // 5:02d}",
                str(directions[i]),
                "Indicator",
                repr(float(weights[i])),
                denominator,
            ]
        )
    sub_of = np.repeat(np.arange(len(SUB_INDICES)), SUB_INDICES)
    for p in range(PILLARS):
        weight = "2" if p % 4 == 0 else "1"
        rows.append(["2", f"P{p:02d}", f"支柱{p}", f"S{sub_of[p]}", "1", "Aggregate", weight, ""])
    for s in range(len(SUB_INDICES)):
        rows.append(["3", f"S{s}", f"分指数{s}", "Index", "1", "Aggregate", "1", ""])
    rows.append(["4", "Index", "总指数", "", "1", "Aggregate", "1", ""])
    rows.append(["", "Province", "省份", "", "", "Group", "", ""])
    rows += [["", code, code, "", "", "Denominator", "", ""] for code in DENOMINATORS]
    framework = framework_from_rows(header, rows)

    province = rng.integers(0, PROVINCES, UNITS)
    level = rng.normal(0, 0.4, PROVINCES)[province]  # provinces differ
    x = np.empty((UNITS, INDICATORS))
    for j in range(INDICATORS):
        kind = j % 4
        if kind == 0:  # strongly skewed: the log fallback
            x[:, j] = rng.lognormal(2 + level, rng.uniform(1.0, 1.6))
        elif kind == 1:  # a few outliers: winsorising fixes it
            x[:, j] = rng.normal(50 + 5 * level, 10)
            x[rng.choice(UNITS, 3, replace=False), j] *= rng.uniform(4, 8)
        elif kind == 2:  # mildly skewed: passes
            x[:, j] = rng.gamma(4.0, 5.0, UNITS) * np.exp(level)
        else:  # shares in percent
            x[:, j] = 100 / (1 + np.exp(-rng.normal(level, 1.0, UNITS)))
    x[rng.random(x.shape) < MISSING] = np.nan
    denominators = rng.lognormal([6.0, 3.5, 8.0], [1.0, 0.8, 1.2], size=(UNITS, 3))
    table = DataTable(
        unit_codes=np.array([f"{100000 + 7 * i}" for i in range(UNITS)], dtype=object),
        indicators=framework.indicators,
        values=x,
        unit_names=np.array([f"县{i}" for i in range(UNITS)], dtype=object),
        groups={"Province": np.array([f"{p + 11}" for p in province], dtype=object)},
        denominators=DENOMINATORS,
        denominator_values=denominators,
    )
    return framework, table


# ---------------------------------------------------------------- the pandas baseline


def pandas_frames(framework: Framework, table: DataTable) -> dict[str, Any]:
    """The inputs as an analyst holds them: one DataFrame of the data, one of the metadata."""
    assert table.denominator_values is not None
    data = pd.DataFrame(table.values, columns=list(framework.indicators), index=table.unit_codes)
    data["Province"] = table.groups["Province"]
    for j, code in enumerate(DENOMINATORS):
        data[code] = table.denominator_values[:, j]
    meta = pd.DataFrame(
        {
            "Level": framework.levels,
            "Parent": [framework.nodes[p] if p >= 0 else None for p in framework.parents],
            "Weight": framework.weights,
        },
        index=list(framework.nodes),
    )
    meta["Direction"] = pd.Series(framework.directions, index=list(framework.indicators))
    meta["Denominator"] = pd.Series(framework.denominator_of, index=list(framework.indicators))
    return {"data": data, "meta": meta}


def skew_kurt(s: pd.Series) -> tuple[float, float]:
    return float(s.skew()), float(s.kurt())


def fails(s: pd.Series) -> bool:
    skew, kurt = skew_kurt(s)
    return abs(skew) >= 2 and kurt >= 3.5


def pandas_treat(column: pd.Series, winmax: int) -> pd.Series:
    """COINr's default: winsorise up to winmax points, else log_CT on the original column."""
    if not fails(column):
        return column
    w = column.copy()
    high = low = 0
    while fails(w) and high + low < winmax:
        if w.skew() >= 0:
            extreme = w == w.max()
            w[extreme] = w[~extreme].max()
            high = int(extreme.sum())
        else:
            extreme = w == w.min()
            w[extreme] = w[~extreme].min()
            low = int(extreme.sum())
    if not fails(w):
        return w
    return np.log(column - column.min() + 0.01 * (column.max() - column.min()))


def pandas_build(
    frames: dict[str, Any],
    *,
    winmax: int = 5,
    normalisation: dict[str, Any] | None = None,
    aggregation: str = "arithmetic",
    weights: pd.Series | None = None,
) -> pd.Series:
    """The default build, one run of it, in plain pandas; the index per unit (NaN: failed)."""
    data, meta = frames["data"], frames["meta"]
    indicators = meta.index[meta["Level"] == 1]
    x = data[indicators].copy()
    for code, denominator in meta.loc[indicators, "Denominator"].dropna().items():
        x[code] = x[code] / data[denominator]
    x = x.fillna(x.groupby(data["Province"]).transform("mean"))
    x = x[x.notna().mean(axis=1) >= 0.9]
    for code in x.columns:
        x[code] = pandas_treat(x[code], winmax)
    x = x * meta.loc[indicators, "Direction"]
    normalisation = normalisation or {"method": "minmax", "lower": 0, "upper": 100}
    if normalisation["method"] == "minmax":
        lower, upper = normalisation["lower"], normalisation["upper"]
        x = (x - x.min()) / (x.max() - x.min()) * (upper - lower) + lower
    else:
        x = (x - x.mean()) / x.std() * normalisation["sd"] + normalisation["mean"]
    w = meta["Weight"] if weights is None else weights
    values = x
    for level in range(2, int(meta["Level"].max()) + 1):
        children = meta.index[meta["Level"] == level - 1]
        parent = meta.loc[children, "Parent"]
        block = values[children]
        if aggregation == "geometric":
            if (block <= 0).any().any():
                return pd.Series(np.nan, index=x.index)  # COINr: the regeneration fails
            block = np.log(block)
        num = (block * w[children]).T.groupby(parent).sum(min_count=1).T
        den = (block.notna() * w[children]).T.groupby(parent).sum().T
        values = num / den
        if aggregation == "geometric":
            values = np.exp(values)
    return values["Index"]


# ---------------------------------------------------------------- timing


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def median_time(function: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    function()  # warm-up: imports, page faults, caches
    times, result = [], None
    for _ in range(repeat):
        seconds, result = timed(function)
        times.append(seconds)
    return statistics.median(times), times, result


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if "model name" in line)
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": cores,
        "python": platform.python_version(),
        "numpy": metadata.version("numpy"),
        "pandas": metadata.version("pandas"),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def measure(repeat: int, runs: int, baseline_runs: int) -> dict[str, Any]:
    framework, table = national_data()
    spec = parse_spec(DEFAULT_SPEC)
    frames = pandas_frames(framework, table)
    figures: dict[str, Any] = {"machine": machine(), "repeat": repeat, "runs": runs}

    build_s, build_all, result = median_time(lambda: build(table, framework, spec), repeat)

    def pandas_ranked() -> tuple[pd.Series, pd.Series]:
        index = pandas_build(frames)
        return index, index.rank(ascending=False, method="min")

    pandas_s, pandas_all, (index, pandas_ranks) = median_time(pandas_ranked, repeat)
    kept = table.unit_codes[result.rows]
    engine_index = pd.Series(result.index, index=kept)
    assert index.index.equals(pd.Index(kept)), "pandas and the engine kept different units"
    build_diff = float(np.max(np.abs(engine_index - index)))
    same_ranks = bool(np.array_equal(pandas_ranks.to_numpy(), result.ranks))
    assert build_diff < 1e-9, f"the pandas build differs from the engine: {build_diff}"
    treat_log = result.treat_log
    assert treat_log is not None
    stages = [record.stage for record in treat_log.records]

    def analysis(workers: int | None = None) -> ua.UncertaintyResult:
        return ua.uncertainty(
            table,
            framework,
            spec,
            runs=runs,
            rng=np.random.default_rng(SEED),
            weight_noise=NOISE,
            normalisations=NORMALISATIONS,
            aggregations=AGGREGATIONS,
            winmax=WINMAX,
            workers=workers,
        )

    runs_s, runs_all, analysed = median_time(analysis, repeat)
    single_s, single_all, single = median_time(lambda: analysis(1), repeat)
    assert np.array_equal(single.ranks, analysed.ranks, equal_nan=True)

    # The same first runs, one pandas build each.
    nodes = list(framework.nodes)

    def pandas_runs() -> list[pd.Series]:
        out = []
        for run in range(baseline_runs):
            winmax, normalisation, aggregation = analysed.choices[run].tolist()
            out.append(
                pandas_build(
                    frames,
                    winmax=WINMAX[winmax],
                    normalisation=NORMALISATIONS[normalisation],
                    aggregation=AGGREGATIONS[aggregation],
                    weights=pd.Series(analysed.weights[run], index=nodes),
                )
            )
        return out

    loop_s, loop_all, loop_scores = median_time(pandas_runs, max(1, repeat // 2))
    run_diff = 0.0
    for run, scores in enumerate(loop_scores):
        ours = analysed.scores[run]
        assert np.array_equal(np.isnan(ours), np.isnan(scores.to_numpy())), run
        if not np.isnan(ours).all():
            run_diff = max(run_diff, float(np.nanmax(np.abs(ours - scores.to_numpy()))))
    assert run_diff < 1e-9, f"a pandas run differs from uncertainty(): {run_diff}"

    design = analysed.alternatives
    engine_runs = min(runs, 2 * baseline_runs)

    def engine_loop() -> list[np.ndarray]:
        out = []
        for run in range(engine_runs):
            run_spec = design.spec_for(analysed.choices[run], analysed.weights[run])
            try:
                out.append(build(table, framework, run_spec).index)
            except ValueError:
                out.append(np.full(len(analysed.rows), np.nan))
        return out

    engine_s, engine_all, engine_scores = median_time(engine_loop, max(1, repeat // 2))
    for run, scores in enumerate(engine_scores):
        assert np.array_equal(scores, analysed.scores[run], equal_nan=True), run

    figures.update(
        units=int(table.n_rows),
        units_kept=len(result.rows),
        treated={"winsorised": stages.count(1), "log": stages.count(2)},
        build=build_s,
        build_all=build_all,
        pandas_build=pandas_s,
        pandas_build_all=pandas_all,
        build_max_abs_diff=build_diff,
        build_same_ranks=same_ranks,
        uncertainty=runs_s,
        uncertainty_all=runs_all,
        uncertainty_one_thread=single_s,
        uncertainty_one_thread_all=single_all,
        failed_runs=int(analysed.failed.sum()),
        pandas_runs=baseline_runs,
        pandas_loop=loop_s,
        pandas_loop_all=loop_all,
        pandas_loop_per_1000=loop_s / baseline_runs * runs,  # extrapolated
        runs_max_abs_diff=run_diff,
        engine_runs=engine_runs,
        engine_loop=engine_s,
        engine_loop_all=engine_all,
        engine_loop_per_1000=engine_s / engine_runs * runs,
        workers=ua.default_workers(),
    )
    return figures


def report(f: dict[str, Any]) -> None:
    m = f["machine"]
    print(f"Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, numpy {m['numpy']},")
    print(f"pandas {m['pandas']}; load average {m['load_average']}")
    print(
        f"Data: {f['units']:,} units × {INDICATORS} indicators (60 → 12 → 5 → 1), "
        f"{MISSING:.0%} missing; {f['units_kept']:,} kept by screening; treatment: "
        f"{f['treated']['winsorised']} winsorised, {f['treated']['log']} log-transformed"
    )
    print(f"Median of {f['repeat']} (loops: of {max(1, f['repeat'] // 2)}), after a warm-up.\n")
    rows = [
        ("pandas build (baseline)", f["pandas_build"], f["pandas_build_all"], 1.0),
        ("engine build()", f["build"], f["build_all"], f["pandas_build"] / f["build"]),
    ]
    print(f"{'default build':<44} {'median':>10} {'min – max':>17} {'× faster':>9}")
    for label, seconds, every, ratio in rows:
        spread = f"{min(every) * 1000:.1f} – {max(every) * 1000:.1f} ms"
        print(f"{label:<44} {seconds * 1000:>7.1f} ms {spread:>17} {ratio:>8.1f}×")
    runs = f["runs"]
    print(
        f"  agree: max |Δ index| = {f['build_max_abs_diff']:.1e}, "
        f"same ranks: {f['build_same_ranks']}"
    )
    print(f"\n{f'{runs:,} uncertainty runs':<44} {'median':>10} {'min – max':>17} {'× faster':>9}")
    per_pandas = runs / f["pandas_runs"]
    per_engine = runs / f["engine_runs"]
    loops = [
        (
            f"pandas, a build per run ({f['pandas_runs']} runs, ×{per_pandas:g})",
            f["pandas_loop_per_1000"],
            [t * per_pandas for t in f["pandas_loop_all"]],
        ),
        (
            f"engine build() per run ({f['engine_runs']} runs, ×{per_engine:g})",
            f["engine_loop_per_1000"],
            [t * per_engine for t in f["engine_loop_all"]],
        ),
        (
            "uncertainty(), vectorised, 1 thread",
            f["uncertainty_one_thread"],
            f["uncertainty_one_thread_all"],
        ),
        (
            f"uncertainty(), vectorised, {f['workers']} threads",
            f["uncertainty"],
            f["uncertainty_all"],
        ),
    ]
    for label, seconds, every in loops:
        spread = f"{min(every):.2f} – {max(every):.2f} s"
        print(f"{label:<44} {seconds:>8.2f} s {spread:>17} {loops[0][1] / seconds:>8.1f}×")
    print(
        f"  {f['failed_runs']} runs failed (z-score with the geometric mean meets "
        f"non-positive values; COINr's NA). Pandas runs agree: max |Δ| = "
        f"{f['runs_max_abs_diff']:.1e}; build() runs: bit-identical."
    )
    build_ok = "met" if f["build"] <= BUILD_GOAL else "NOT met"
    runs_ok = "met" if f["uncertainty"] <= RUNS_GOAL else "NOT met"
    print(
        f"\nGoals: build ≤ {BUILD_GOAL * 1000:.0f} ms: {build_ok} ({f['build'] * 1000:.1f} ms); "
        f"{runs:,} runs ≤ {RUNS_GOAL:.0f} s: {runs_ok} ({f['uncertainty']:.2f} s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument("--runs", type=int, default=1000, help="uncertainty runs")
    parser.add_argument(
        "--baseline-runs", type=int, default=5, help="runs of the per-run pandas loop"
    )
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    print("Composite index: national-scale build and uncertainty runs (bench/bench_index.py)\n")
    figures = measure(args.repeat, args.runs, args.baseline_runs)
    report(figures)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
