"""Importing indicator values from files, with validation, on SQLite; against a naive baseline.

    .venv/bin/python bench/bench_import.py [--repeat N] [--skip-national] [--no-breakdown]
                                             [--profile] [--out FILE]

A scratch SQLite template (``scratch.py``) is migrated once and given the
county-level divisions of the whole country plus a synthetic catalogue of 60
indicators (integer counts with a lower bound of 0, amounts, percentages with
a range) in one data set reported by counties. Every timed run starts from a
fresh copy of it. Files are written beforehand (not timed) by the exporter
itself, in the values layout of .xlsx: one value per row, any number of units
(the template layout holds one unit; CSV and DHIS2 JSON hold any number too):

- **province**: the 86 administrative counties of 甘肃省 × 60 = 5,160 values;
- **national**: every administrative county × 60 (≈ 170,000 values), as
  .xlsx and as CSV.

Timed, each ``--repeat`` times (default 1: a national import takes a minute
or more), with ``settings.DEBUG`` off as a server runs:

- ``import_file(path, actor=None)`` end to end: the safety checks of the
  package, reading with python-calamine (or the csv module), validation of
  every row, the lookups, and the writes through ``open_submission`` and
  ``set_values`` (values, audit entries; a first fill writes no revision rows,
  the cell is its own first entry — ADR 0005) in one
  transaction;
- the same import again on the same database (nothing changes: reading,
  validating and comparing only);
- the naive baseline (.xlsx only): openpyxl (read-only) reads the same
  file, then one ``DataValue(...).save()`` per value (submissions fetched or
  created per unit), all in one transaction (fairer to it than autocommit);
- the floor (.xlsx only): the same submissions and values written
  with the driver alone, ``executemany`` of tuples into the real tables, no
  reading or checks: what the database itself needs.

Each import is checked (uploaded values in the database, no revisions) so a figure
can never come from an import that did not do its job. One more import per
file runs with wrappers that time each step (``--no-breakdown`` skips it);
``--profile`` adds a cProfile of the largest file. Nothing here asserts speed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench_divisions import setup_django, summarise, use_database
from scratch import SqliteScratch

INDICATORS = 60
YEAR = 2023


def build_template(scratch: SqliteScratch) -> dict[str, Any]:
    """Migrate, load county-level divisions and the synthetic catalogue into the template."""
    from django.core.management import call_command

    from kechuang.indicators.models import DataSet, DataSetMember, Indicator
    from kechuang.regions.choices import Level
    from kechuang.regions.divisions import read_divisions
    from kechuang.regions.services import load_divisions

    call_command("migrate", interactive=False, verbosity=0)
    load_divisions(read_divisions(max_level=Level.COUNTY))
    dataset = DataSet.objects.create(
        code="BENCH", name="基准测试年报", approval_levels=[2, 1], reporting_levels=[3]
    )
    for number in range(INDICATORS):
        kind = ("integer", "number", "number", "percent")[number % 4]
        indicator = Indicator.objects.create(
            code=f"B{number:03d}",
            name=f"基准指标{number:03d}",
            unit=("家", "万元", "亿元", "%")[number % 4],
            value_type=kind,
            decimals=0 if kind == "integer" else 2,
            min_value=-100 if kind == "percent" else 0,
            max_value=1000 if kind == "percent" else None,
            order=number,
        )
        DataSetMember.objects.create(
            dataset=dataset, indicator=indicator, section=f"栏目{number // 10}", order=number
        )
    return {"indicators": INDICATORS}


def export_rows(province: str | None) -> list[Any]:
    """Synthetic values for every administrative county (of one province, or all)."""
    from kechuang.indicators.exchange import ExportRow
    from kechuang.indicators.models import Indicator
    from kechuang.regions.models import OrgUnit

    counties = OrgUnit.objects.current().administrative_counties().order_by("path")
    if province:
        counties = counties.filter(code__startswith=province)
    indicators = list(Indicator.objects.order_by("order"))
    rows = []
    for unit_number, (code, name) in enumerate(counties.values_list("code", "name")):
        for number, indicator in enumerate(indicators):
            if indicator.value_type == "integer":
                value: float = float((unit_number * 7 + number) % 500)
            elif indicator.value_type == "percent":
                value = round(((unit_number + number) % 400) / 10 - 5, 1)
            else:
                value = round((unit_number + 1) * (number + 1) * 1.37, 2)
            rows.append(
                ExportRow(
                    code,
                    name,
                    indicator.code,
                    indicator.name,
                    indicator.unit,
                    YEAR,
                    value,
                    "",
                    "BENCH",
                )
            )
    return rows


def write_files(directory: Path, national: bool) -> dict[str, tuple[Path, int]]:
    from kechuang.indicators.exchange import write_table, write_values

    files = {}
    # The wide table (units × indicators, one year) is the sheet the issue describes;
    # the long values layout (one value per row) is kept for comparison.
    plans = [("province_table", "62", "xlsx"), ("province", "62", "xlsx")]
    if national:
        plans += [
            ("national_table", None, "xlsx"),
            ("national", None, "xlsx"),
            ("national_csv", None, "csv"),
        ]
    for label, province, fmt in plans:
        rows = export_rows(province)
        path = directory / f"{label}.{fmt}"
        if label.endswith("_table"):
            data = write_table(fmt, rows, year=YEAR, dataset="BENCH", org_unit=province or "CN")
        else:
            data = write_values(fmt, rows, dataset="BENCH", org_unit=province or "CN", year=YEAR)
        path.write_bytes(data)
        files[label] = (path, len(rows))
        print(
            f"  wrote {path.name}: {len(rows):,} values, {path.stat().st_size / 1e6:.1f} MB",
            file=sys.stderr,
            flush=True,
        )
    return files


def naive_baseline(path: Path) -> int:
    """openpyxl reads the file; one ORM save per value, in one transaction."""
    import openpyxl
    from django.db import transaction

    from kechuang.indicators.models import DataSet, DataValue, Indicator, Submission
    from kechuang.regions.models import OrgUnit

    dataset = DataSet.objects.get(code="BENCH")
    indicators = {i.code: i for i in Indicator.objects.all()}
    units: dict[str, Any] = {}
    submissions: dict[int, Any] = {}
    written = 0
    workbook = openpyxl.load_workbook(path, read_only=True)
    with transaction.atomic():
        for org, indicator_code, year, value in _cells(workbook):
            unit = units.get(org)
            if unit is None:
                unit = units[org] = OrgUnit.objects.get(code=org, valid_to__isnull=True)
            submission = submissions.get(unit.pk)
            if submission is None:
                submission, _ = Submission.objects.get_or_create(
                    dataset=dataset,
                    org_unit=unit,
                    year=year,
                    defaults={"visible_level": unit.level},
                )
                submissions[unit.pk] = submission
            DataValue(
                indicator=indicators[indicator_code],
                org_unit=unit,
                year=int(year),
                value=float(value),
                submission=submission,
                channel="upload",
            ).save()
            written += 1
    workbook.close()
    return written


def _cells(workbook: Any) -> Iterator[tuple[Any, Any, Any, Any]]:
    """(unit code, indicator code, year, value) of a values sheet or a wide table."""
    if "数据" in workbook.sheetnames:
        for row in workbook["数据"].iter_rows(min_row=2, values_only=True):
            yield row[0], row[2], row[5], row[6]
        return
    meta = dict(workbook["_meta"].iter_rows(values_only=True))
    rows = workbook["数据表"].iter_rows(values_only=True)
    codes = next(rows)[2:]
    next(rows)  # names and units
    for row in rows:
        for code, value in zip(codes, row[2:], strict=False):
            if value is not None:
                yield row[0], code, int(meta["year"]), value


def driver_floor(path: Path) -> int:
    """The same rows written with the driver alone: executemany of tuples into the real tables.

    Submissions (one per unit) and values, in one
    transaction, through Django's connection but without models, the ORM's
    insert compiler, reading or checks: the floor the services sit on.
    """
    import datetime

    from django.db import connection, transaction

    from kechuang.indicators.exchange import read_file
    from kechuang.indicators.models import (
        DataSet,
        DataValue,
        Indicator,
        Submission,
    )
    from kechuang.regions.models import OrgUnit

    parsed = read_file(path)  # not timed: only the rows are needed
    dataset = DataSet.objects.get(code="BENCH").pk
    indicators = dict(Indicator.objects.values_list("code", "pk"))
    units = dict(OrgUnit.objects.current().values_list("code", "pk"))
    now = datetime.datetime.now(datetime.UTC).isoformat()
    rows = [
        (indicators[raw.indicator_code], units[raw.org_code], int(raw.year), float(raw.value))
        for raw in parsed.values
    ]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        unit_ids = sorted({row[1] for row in rows})
        cursor.executemany(
            f"INSERT INTO {Submission._meta.db_table} (dataset_id, org_unit_id, year, status, "
            "approved_levels, visible_level, return_reason, approved_digest, scan, is_demo, "
            "created_at, updated_at) VALUES (%s, %s, %s, 'draft', '[]', 3, '', '', '', 0, %s, %s)",
            [(dataset, unit, YEAR, now, now) for unit in unit_ids],
        )
        cursor.execute(f"SELECT org_unit_id, id FROM {Submission._meta.db_table}")
        submissions = dict(cursor.fetchall())
        cursor.executemany(
            f"INSERT INTO {DataValue._meta.db_table} (indicator_id, org_unit_id, year, value, "
            "comment, submission_id, updated_at, channel, is_demo) "
            "VALUES (%s, %s, %s, %s, '', %s, %s, 'upload', 0)",
            [(i, u, y, v, submissions[u], now) for i, u, y, v in rows],
        )
    seconds = time.perf_counter() - started
    if DataValue.objects.count() != len(rows):
        raise RuntimeError("the floor did not write every value")
    return seconds


@contextmanager
def breakdown() -> Iterator[dict[str, float]]:
    """Wall time spent in each step of import_file (wrappers cost microseconds per call)."""
    from django.db.backends.utils import CursorWrapper

    from kechuang.audit import services as audit
    from kechuang.indicators import exchange
    from kechuang.indicators.services import exchange as service
    from kechuang.indicators.services import values

    spent: dict[str, float] = {}
    patched: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started

        patched.append((owner, name, original))
        setattr(owner, name, timed_call)

    wrap(exchange, "read_file", "read the file (package checks, calamine/csv/json)")
    wrap(service, "_lookups", "look up codes and stored values")
    wrap(exchange, "validate", "validate every row (pure)")
    wrap(exchange, "plan", "plan the changes (pure)")
    wrap(service, "open_submissions", "values.open_submissions")
    wrap(service, "set_values_many", "values.set_values_many")
    wrap(values, "_write", "  set_values_many: INSERT/UPDATE values (and revisions of changes)")
    wrap(values, "_cells_for", "  set_values_many: read stored cells")
    wrap(audit, "record", "  audit.record (open_submission, set_values, import)")
    from django.db.models import QuerySet

    original_bulk_create = QuerySet.bulk_create

    def bulk_create(self: Any, objs: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_bulk_create(self, objs, *args, **kwargs)
        finally:
            label = f"  bulk_create {self.model.__name__}"
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - started

    QuerySet.bulk_create = bulk_create  # type: ignore[method-assign]
    original_execute = CursorWrapper.execute

    def execute(self: Any, sql: Any, params: Any = None) -> Any:
        started = time.perf_counter()
        try:
            return original_execute(self, sql, params)
        finally:
            spent["SQL statements (count)"] = spent.get("SQL statements (count)", 0) + 1
            spent["  time inside the driver (all statements)"] = (
                spent.get("  time inside the driver (all statements)", 0.0)
                + time.perf_counter()
                - started
            )

    CursorWrapper.execute = execute  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        QuerySet.bulk_create = original_bulk_create  # type: ignore[method-assign]
        CursorWrapper.execute = original_execute  # type: ignore[method-assign]
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


def check_import(report: Any, expected: int, *, fresh: bool) -> None:
    from kechuang.indicators.models import DataValue, DataValueRevision

    problems = []
    if report.values != expected:
        problems.append(f"read {report.values} values, expected {expected}")
    if report.changed != (expected if fresh else 0):
        problems.append(f"changed {report.changed}")
    # A first fill writes the cells only: each is its own first entry (ADR 0005).
    uploaded = DataValue.objects.filter(channel="upload").count()
    if uploaded != expected or DataValueRevision.objects.exists():
        problems.append(
            f"{uploaded} uploaded values, {DataValueRevision.objects.count()} revisions"
        )
    if problems:
        raise RuntimeError("import_file did not do its job: " + "; ".join(problems))


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def measure(
    repeat: int,
    national: bool,
    profile: bool,
    breakdown_runs: bool,
    only: set[str] | None = None,
) -> dict[str, Any]:
    scratch = SqliteScratch()
    try:
        setup_django(scratch.url(scratch.template))
        from django.conf import settings
        from django.db import connection

        from kechuang.indicators.services.exchange import import_file

        seconds, _ = timed(lambda: build_template(scratch))
        print(f"  template database built in {seconds:.1f} s", file=sys.stderr, flush=True)
        files = write_files(scratch.directory, national)
        if only:
            files = {label: entry for label, entry in files.items() if label in only}
        connection.close()
        settings.DEBUG = False

        def fresh(call: Callable[[], Any]) -> None:
            name = scratch.clone()
            try:
                use_database(name)
                connection.ensure_connection()
                call()
            finally:
                connection.close()
                scratch.drop(name)

        results: dict[str, Any] = {"engine": "sqlite", "repeat": repeat, "files": {}}
        for label, (path, count) in files.items():
            samples: dict[str, list[float]] = {
                "import": [],
                "reimport": [],
                "baseline": [],
                "floor": [],
            }
            is_xlsx = path.suffix == ".xlsx"

            def runs(path: Path = path, count: int = count, samples: Any = samples) -> None:
                seconds, report = timed(lambda: import_file(path, actor=None))
                check_import(report, count, fresh=True)
                samples["import"].append(seconds)
                seconds, report = timed(lambda: import_file(path, actor=None))
                check_import(report, count, fresh=False)
                samples["reimport"].append(seconds)

            def baseline(path: Path = path, count: int = count, samples: Any = samples) -> None:
                seconds, written = timed(lambda: naive_baseline(path))
                if written != count:
                    raise RuntimeError(f"the baseline wrote {written} values, not {count}")
                samples["baseline"].append(seconds)

            def floor(path: Path = path, samples: Any = samples) -> None:
                samples["floor"].append(driver_floor(path))

            for _run in range(repeat):
                fresh(runs)
                if is_xlsx:
                    fresh(baseline)
                    fresh(floor)
            entry: dict[str, Any] = {
                "values": count,
                "bytes": path.stat().st_size,
                "format": path.suffix[1:],
            }
            for key, values in samples.items():
                if values:
                    entry[key] = summarise(values)
                    entry[f"{key}_values_per_second"] = count / statistics.median(values)
            if samples["baseline"]:
                entry["ratio_to_baseline"] = statistics.median(
                    samples["baseline"]
                ) / statistics.median(samples["import"])
            if breakdown_runs:

                def explain(path: Path = path, entry: dict[str, Any] = entry) -> None:
                    with breakdown() as spent:
                        seconds, _ = timed(lambda: import_file(path, actor=None))
                    entry["breakdown"] = {"total": seconds, **spent}

                fresh(explain)
            results["files"][label] = entry
            print(_line(label, entry), file=sys.stderr, flush=True)
        if profile:
            label = "national" if "national" in files else "province"
            path = files[label][0]
            profiler = cProfile.Profile()
            fresh(lambda: profiler.runcall(import_file, path, actor=None))
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text).strip_dirs()
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)
            results["profile"] = text.getvalue()
        return results
    finally:
        scratch.close()


def _line(label: str, entry: dict[str, Any]) -> str:
    parts = [f"  {label}: {entry['values']:,} values"]
    for key in ("import", "reimport", "baseline", "floor"):
        if key in entry:
            parts.append(
                f"{key} {entry[key]['median']:.2f} s ({entry[f'{key}_values_per_second']:,.0f}/s)"
            )
    if "ratio_to_baseline" in entry:
        parts.append(f"{entry['ratio_to_baseline']:.1f}× the baseline")
    return ", ".join(parts)


STEP_ORDER = (
    "total",
    "read",
    "look",
    "validate",
    "plan",
    "values.open",
    "values.set",
    "  set_values: _dataset",
    "  set_values: bulk_create DataValue",
    "  set_values: bulk_create DataValueRevision",
    "  audit",
    "SQL",
    "  time inside",
)


def _step_order(step: str) -> int:
    return next((n for n, prefix in enumerate(STEP_ORDER) if step.startswith(prefix)), 99)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure (default 1)")
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument(
        "--only", default="", help="comma-separated file labels, e.g. national_table,province_table"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one more import")
    parser.add_argument(
        "--no-breakdown", action="store_true", help="skip the extra run timing each step"
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON result here")
    args = parser.parse_args(argv)
    results = measure(
        max(1, args.repeat),
        not args.skip_national,
        args.profile,
        not args.no_breakdown,
        set(args.only.split(",")) if args.only else None,
    )
    print()
    print("Import of indicator values (SQLite, DEBUG off; medians)")
    for label, entry in results["files"].items():
        print(_line(label, entry))
    for label, entry in results["files"].items():
        if "breakdown" in entry:
            print(f"\nWhere {label} spends its time (one more run, wrapped):")
            steps = sorted(entry["breakdown"].items(), key=lambda item: _step_order(item[0]))
            for step, value in steps:
                shown = f"{value:,.0f}" if "count" in step else f"{value:7.2f} s"
                print(f"  {step:<55} {shown}")
    if "profile" in results:
        print(results["profile"])
    if args.out:
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
