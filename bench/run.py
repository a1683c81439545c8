"""`make bench`: time loading the national division codes on SQLite and PostgreSQL.

    .venv/bin/python bench/run.py [--repeat N] [--backend sqlite|postgresql] [--profile]

Each backend is measured in its own process (bench_divisions.py), because
Django reads DATABASE_URL once. PostgreSQL is used when a server answers at
KECHUANG_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/test; only
the address and user are taken from it: the benchmark creates and drops its
own kechuang_bench_<pid>_* databases) and skipped with a note otherwise.

Prints a table of medians and of ratios against the bare-driver baseline
measured in the same run, and writes bench/results/latest.json. The figures
that are kept go into bench/README.md by hand. Nothing here asserts speed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from scratch import pg_server_url, pg_unreachable_reason

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "latest.json"
CRITERION_SECONDS = 60.0
WORKER_TIMEOUT_SECONDS = 900

ROWS = (
    # (key, label, per backend)
    ("parse", "read_divisions() alone (parse CSV)"),
    ("baseline", "baseline: driver executemany, 1 scratch table"),
    ("copy", "driver COPY, 1 scratch table"),
    ("real_tables", "driver executemany, real tables + indexes"),
    ("load", "load_divisions(), fresh database"),
    ("reload", "load_divisions() again (nothing changes)"),
    ("load_no_debug", "load_divisions(), fresh database, DEBUG off"),
)


def machine_facts() -> dict[str, Any]:
    facts: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": metadata.version("Django"),
        "psycopg": metadata.version("psycopg"),
        "sqlite": sqlite3.sqlite_version,
        "git": _git_revision(),
        # Other processes share the cores; a high load average explains noisy figures.
        "load_average_at_start": _load_average(),
    }
    return facts


def _load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def _git_revision() -> str:
    try:
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}+changes" if dirty else head


def run_backend(backend: str, repeat: int, profile: bool) -> dict[str, Any]:
    """Measure one backend in a child process and return its JSON result."""
    with tempfile.TemporaryDirectory(prefix="kechuang-bench-") as directory:
        out = Path(directory) / "result.json"
        command = [
            sys.executable,
            str(BENCH_DIR / "bench_divisions.py"),
            "--backend",
            backend,
            "--repeat",
            str(repeat),
            "--out",
            str(out),
        ]
        if profile:
            command.append("--profile")
        completed = subprocess.run(command, cwd=ROOT, timeout=WORKER_TIMEOUT_SECONDS, check=False)
        if completed.returncode != 0 or not out.exists():
            return {"failed": f"bench_divisions.py exited with status {completed.returncode}"}
        return json.loads(out.read_text(encoding="utf-8"))


def format_report(facts: dict[str, Any], results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "Machine: {cpu}, {cores} cores ({cores_usable} usable), {memory_gib} GiB; {os}".format(
            **facts
        ),
        "Python {python}, Django {django}, psycopg {psycopg}, SQLite {sqlite}; "
        "revision {git}".format(**facts),
        "Load average (1, 5, 15 min) at start {load_average_at_start}, "
        "at end {load_average_at_end}".format(**facts),
    ]
    for result in results.values():
        if "divisions" in result:
            counts = result["divisions"]
            lines.append(
                f"Divisions: {counts['total']:,} rows ({counts['provinces']} provinces, "
                f"{counts['cities']} cities, {counts['counties']:,} counties, "
                f"{counts['townships']:,} townships); each figure is the median of "
                f"{result['repeat']} runs"
            )
            break
    lines.append("")
    header = (
        f"{'backend':<11} {'measurement':<48} {'median':>9} {'min':>9} {'max':>9} "
        f"{'× baseline':>10} {'queries':>8}"
    )
    lines += [header, "-" * len(header)]
    for backend, result in results.items():
        if "skipped" in result or "failed" in result:
            reason = result.get("skipped") or result.get("failed")
            lines.append(f"{backend:<11} not measured: {reason}")
            continue
        base = result["baseline"]["median"]
        for key, label in ROWS:
            if key not in result:
                continue
            figure = result[key]
            ratio = f"{figure['median'] / base:.1f}" if key != "parse" else ""
            queries = str(result["queries"].get(key, ""))
            lines.append(
                f"{backend:<11} {label:<48} {_s(figure['median'])} {_s(figure['min'])} "
                f"{_s(figure['max'])} {ratio:>10} {queries:>8}"
            )
        lines.append(
            f"{'':<11} (server {result['engine']} {result['server_version']}; "
            f"migrate {result['migrate_seconds']:.2f} s, not counted)"
        )
    lines.append("")
    for backend, result in results.items():
        if "load" in result:
            total = result["parse"]["median"] + result["load"]["median"]
            verdict = "under" if total < CRITERION_SECONDS else "OVER"
            lines.append(
                f"Criterion on {backend}: parse + load = {total:.1f} s, "
                f"{verdict} {CRITERION_SECONDS:.0f} s"
            )
    return "\n".join(lines)


def _s(seconds: float) -> str:
    return f"{seconds:>7.3f} s" if seconds < 10 else f"{seconds:>7.2f} s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Benchmark loading the national divisions.")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median is kept)")
    parser.add_argument(
        "--backend",
        action="append",
        choices=("sqlite", "postgresql"),
        help="measure only this backend (repeatable; default: both)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of one extra load"
    )
    args = parser.parse_args(argv)
    backends = args.backend or ["sqlite", "postgresql"]
    repeat = max(3, args.repeat)

    started = datetime.datetime.now(datetime.UTC)
    facts = machine_facts()
    results: dict[str, dict[str, Any]] = {}
    for backend in backends:
        if backend == "postgresql":
            reason = pg_unreachable_reason(pg_server_url())
            if reason is not None:
                print(f"PostgreSQL skipped: no server at {pg_server_url()} ({reason})")
                results[backend] = {"skipped": f"no server reachable ({reason})"}
                continue
        print(f"Measuring {backend} ({repeat} runs) …", file=sys.stderr, flush=True)
        results[backend] = run_backend(backend, repeat, args.profile)

    facts["load_average_at_end"] = _load_average()
    print()
    print(format_report(facts, results))
    for backend, result in results.items():
        if "profile" in result:
            print(f"\nProfile of one extra load on {backend}:\n{result.pop('profile')}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "divisions",
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/run.py", *(argv or sys.argv[1:])]),
        "criterion_seconds": CRITERION_SECONDS,
        "machine": facts,
        "backends": results,
    }
    RESULTS.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nWritten: {RESULTS.relative_to(ROOT)}")
    if any("failed" in result for result in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
