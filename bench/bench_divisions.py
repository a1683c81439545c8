"""Loading the national division codes, on one database backend (one process per backend).

Run by ``bench/run.py``; on its own:

    .venv/bin/python bench/bench_divisions.py --backend sqlite --out /tmp/result.json

Django is set up here with ``kechuang.settings`` and ``KECHUANG_DEBUG=1`` (as
``make run`` and the ``kechuang`` command run), ``DATABASE_URL`` pointing at a
scratch template database that ``migrate`` builds once. Every timed run then
gets a fresh copy of that template, so each "fresh database" figure really
starts from empty, migrated tables. Measured, each ``--repeat`` times:

- ``read_divisions()`` alone (parsing the shipped CSV files);
- the driver baselines of ``baselines.py``;
- ``load_divisions(read_divisions())`` on the fresh copy, then the same call
  again on the same database (an idempotent reload: nothing changes);
- the fresh load once more with ``settings.DEBUG`` off, as a production
  server runs it: with DEBUG on, Django renders every statement for
  ``connection.queries`` (on SQLite with an extra ``SELECT QUOTE(?)…`` per
  batch), which is part of what ``make run`` and the ``kechuang`` command pay.

Each load is checked (44,703 created, then 44,703 unchanged) so a figure can
never come from a load that did not do its job. Nothing here asserts speed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import baselines
from scratch import PostgresScratch, SqliteScratch, pg_server_url


def summarise(samples: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": samples,
    }


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def setup_django(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "kechuang.settings"
    os.environ["KECHUANG_DEBUG"] = "1"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("KECHUANG_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def use_database(name: str) -> None:
    """Point Django's default connection at another scratch database."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    """Count the statements Django sends (one per bulk batch); costs a function call each."""
    from django.db import connection

    count = [0]

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield count


def check_load(report: Any, divisions: list[Any], *, fresh: bool) -> None:
    from kechuang.regions.models import OrgUnit, OrgUnitCode

    expected_created, expected_unchanged = (len(divisions), 0) if fresh else (0, len(divisions))
    problems = []
    if (report.created, report.unchanged) != (expected_created, expected_unchanged):
        problems.append(f"created {report.created}, unchanged {report.unchanged}")
    if report.renamed or report.retired or report.reinstated:
        problems.append("renamed, retired or reinstated units")
    units, codes = OrgUnit.objects.count(), OrgUnitCode.objects.count()
    if (units, codes) != (len(divisions) + 1, len(divisions)):
        problems.append(f"{units} units and {codes} code rows in the database")
    if problems:
        raise RuntimeError("load_divisions did not do its job: " + "; ".join(problems))


def measure(backend: str, repeat: int, profile: bool) -> dict[str, Any]:
    scratch: SqliteScratch | PostgresScratch = (
        SqliteScratch() if backend == "sqlite" else PostgresScratch(pg_server_url())
    )
    try:
        return _measure(scratch, repeat, profile)
    finally:
        try:
            from django.db import connection

            connection.close()
        except Exception as error:  # cleanup must go on to drop the databases
            print(f"  (closing the connection failed: {error})", file=sys.stderr)
        scratch.close()


def _measure(scratch: Any, repeat: int, profile: bool) -> dict[str, Any]:
    setup_django(scratch.url(scratch.template))
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from kechuang.regions.divisions import SHIPPED_EDITION, read_divisions
    from kechuang.regions.services import load_divisions

    migrate_seconds, _ = timed(lambda: call_command("migrate", interactive=False, verbosity=0))
    connection.close()  # a PostgreSQL template must have no sessions to be copied

    parse, divisions = [], []
    for _ in range(repeat):
        seconds, divisions = timed(read_divisions)
        parse.append(seconds)
    rows = baselines.tree_rows(divisions)

    samples: dict[str, list[float]] = {
        "baseline": [],
        "copy": [],
        "real_tables": [],
        "load": [],
        "reload": [],
        "load_no_debug": [],
    }
    queries: dict[str, int] = {}
    engine = scratch.engine

    def fresh(call: Callable[[str], float]) -> float:
        name = scratch.clone()
        try:
            return call(name)
        finally:
            scratch.drop(name)

    for run in range(1, repeat + 1):
        if engine == "sqlite":
            samples["baseline"].append(fresh(lambda n: baselines.sqlite_scratch(n, rows)))
            samples["real_tables"].append(
                fresh(lambda n: baselines.sqlite_real_tables(n, rows, SHIPPED_EDITION))
            )
        else:
            samples["baseline"].append(
                fresh(
                    lambda n: baselines.pg_scratch(scratch.conninfo(n), rows, method="executemany")
                )
            )
            samples["copy"].append(
                fresh(lambda n: baselines.pg_scratch(scratch.conninfo(n), rows, method="copy"))
            )
            samples["real_tables"].append(
                fresh(
                    lambda n: baselines.pg_real_tables(scratch.conninfo(n), rows, SHIPPED_EDITION)
                )
            )

        for debug, labels in ((True, ("load", "reload")), (False, ("load_no_debug",))):
            name = scratch.clone()
            try:
                use_database(name)
                settings.DEBUG = debug
                connection.ensure_connection()  # connecting is not part of the load
                for label in labels:
                    with counting_queries() as count:
                        seconds, report = timed(lambda: load_divisions(divisions))
                    check_load(report, divisions, fresh=label != "reload")
                    samples[label].append(seconds)
                    queries[label] = count[0]
            finally:
                settings.DEBUG = True
                connection.close()
                scratch.drop(name)
        print(
            f"  {engine} run {run}/{repeat}: load {samples['load'][-1]:.2f} s, "
            f"reload {samples['reload'][-1]:.2f} s, "
            f"load with DEBUG off {samples['load_no_debug'][-1]:.2f} s, "
            f"baseline {samples['baseline'][-1]:.3f} s",
            file=sys.stderr,
            flush=True,
        )

    result: dict[str, Any] = {
        "engine": engine,
        "server_version": scratch.server_version(),
        "repeat": repeat,
        "divisions": _counts(divisions),
        "rows_written": {
            "regions_orgunit": len(rows),
            "regions_orgunitcode": len(rows) - 1,
            "audit_logentry": 1,
        },
        "migrate_seconds": migrate_seconds,
        "parse": summarise(parse),
        "queries": queries,
    }
    for label, values in samples.items():
        if values:
            result[label] = summarise(values)
    if profile:
        result["profile"] = _profile(scratch, divisions)
    return result


def _counts(divisions: list[Any]) -> dict[str, int]:
    names = {1: "provinces", 2: "cities", 3: "counties", 4: "townships"}
    counts = dict.fromkeys(names.values(), 0)
    for division in divisions:
        counts[names[int(division.level)]] += 1
    counts["total"] = len(divisions)
    return counts


def _profile(scratch: Any, divisions: list[Any]) -> str:
    """cProfile of one more fresh load (not part of the timings: profiling slows it down)."""
    from django.db import connection

    from kechuang.regions.services import load_divisions

    name = scratch.clone()
    try:
        use_database(name)
        connection.ensure_connection()
        profiler = cProfile.Profile()
        profiler.runcall(load_divisions, divisions)
    finally:
        connection.close()
        scratch.drop(name)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(15)
    return text.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON result")
    args = parser.parse_args(argv)
    result = measure(args.backend, max(1, args.repeat), args.profile)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
