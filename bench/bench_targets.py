"""Target status for every county of a province, against a naive per-target baseline.

Acceptance criterion (issue 3): *target status for all counties of a
province computes in under 200 ms.* On its own:

    .venv/bin/python bench/bench_targets.py [--repeat 5] [--out /tmp/targets.json]

From ``bench/run.py``: call ``measure(repeat)`` in a process of its own
(Django reads DATABASE_URL once per process), or run this file as a child
process with ``--out`` as ``bench_divisions.py`` is run.

Setup (not timed): a migrated scratch SQLite file (``scratch.SqliteScratch``),
the 甘肃省 divisions loaded by ``regions.services.load_divisions``, eight
indicators, and for each administrative county ten years (2015–2024) of
finally approved synthetic values plus eight 2025 targets (≥, ≤, range,
growth over 2020, CAGR since 2020), written with ``bulk_create``. Every city
and the province get the same eight targets, measured on the live roll-up.

Timed, ``--repeat`` times each, with ``settings.DEBUG`` off as a production
server runs (DEBUG on adds Django's per-query bookkeeping):

- ``status``: ``targets.target_status`` for every county target of the
  province, from the queryset to the list of statuses;
- ``baseline``: the naive way in the same run: loop over the targets, one
  ORM query per target for its unit's history (plus the lazy foreign keys),
  and the scalar ``projection`` functions one target at a time;
- ``rollup_status``: ``target_status`` for the province's and cities' own
  targets (live roll-up of the counties' values);
- ``rollup``: ``rollup.rollup`` of the eight indicators for the province, one year.

Both ways must give the same light for every target, so a fast figure can
never come from a computation that skipped work. Nothing here asserts speed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_divisions import counting_queries, setup_django, summarise, timed
from scratch import SqliteScratch

PROVINCE = "62"
YEARS = range(2015, 2025)
TARGET_YEAR = 2025
BASE_YEAR = 2020
SEED = 20250101
GOAL_SECONDS = 0.2

# code, name, direction, comparator; one target per indicator and unit.
INDICATORS = (
    ("RD_EXP", "研发经费支出", "positive", "gte"),
    ("GOV_ST_EXP", "本级财政科技支出", "positive", "gte"),
    ("RD_FIRMS", "有研发活动的规上企业数", "positive", "gte"),
    ("NEW_PROD_REV", "新产品销售收入", "positive", "growth"),
    ("HT_REV", "高技术产业营业收入", "positive", "cagr"),
    ("CONTRACTS", "技术合同成交额", "positive", "range"),
    ("PATENTS", "高价值发明专利拥有量", "positive", "gte"),
    ("ENERGY", "单位产值能耗", "negative", "lte"),
)


def build(rng: Any) -> dict[str, Any]:
    """The province, its catalogue, ten years of approved values and the targets."""
    from kechuang.indicators.models import (
        DataSet,
        DataValue,
        Indicator,
        Submission,
        Target,
    )
    from kechuang.regions.choices import Level
    from kechuang.regions.divisions import read_divisions
    from kechuang.regions.models import OrgUnit
    from kechuang.regions.services import load_divisions

    load_divisions(read_divisions(provinces=[PROVINCE]))
    province = OrgUnit.objects.get(code=PROVINCE)
    counties = list(OrgUnit.objects.administrative_counties().filter(code__startswith=PROVINCE))
    cities = list(OrgUnit.objects.filter(level=Level.CITY, code__startswith=PROVINCE))
    indicators = Indicator.objects.bulk_create(
        Indicator(code=code, name=name, direction=direction, order=n)
        for n, (code, name, direction, _comparator) in enumerate(INDICATORS)
    )
    dataset = DataSet.objects.create(
        code="BENCH", name="基准测试年报", approval_levels=[2, 1], reporting_levels=[3]
    )
    submissions = Submission.objects.bulk_create(
        Submission(
            dataset=dataset,
            org_unit=county,
            year=year,
            status="approved",
            approved_levels=[2, 1],
            visible_level=Level.NATION,
        )
        for county in counties
        for year in YEARS
    )
    by_cell = {(s.org_unit_id, s.year): s for s in submissions}
    values, targets = [], []
    for county in counties:
        for indicator, (_code, _name, direction, comparator) in zip(
            indicators, INDICATORS, strict=True
        ):
            level = rng.lognormal(2.0, 1.0)
            growth = rng.normal(0.08, 0.04) * (-1 if direction == "negative" else 1)
            noise = rng.normal(0.0, 0.04, size=len(YEARS))
            series = [level * (1 + growth) ** i * (1 + noise[i]) for i in range(len(YEARS))]
            values.extend(
                DataValue(
                    indicator=indicator,
                    org_unit=county,
                    year=year,
                    value=float(v),
                    submission=by_cell[(county.pk, year)],
                )
                for year, v in zip(YEARS, series, strict=True)
            )
            targets.append(_target(county, indicator, comparator, series, growth, rng))
    DataValue.objects.bulk_create(values, batch_size=2000)
    Target.objects.bulk_create(targets)
    upper = []
    for unit in [province, *cities]:
        for indicator, (*_rest, comparator) in zip(indicators, INDICATORS, strict=True):
            if comparator in ("range", "growth", "cagr"):
                comparator = "gte"  # roll-up targets: plain levels, near the summed trend
            upper.append(
                Target(
                    org_unit=unit,
                    indicator=indicator,
                    year=TARGET_YEAR,
                    comparator=comparator,
                    value=float(rng.lognormal(4.0, 1.0)),
                )
            )
    Target.objects.bulk_create(upper)
    return {
        "province": province,
        "counties": len(counties),
        "cities": len(cities),
        "indicators": indicators,
        "values": len(values),
        "county_targets": len(targets),
        "upper_targets": len(upper),
    }


def _target(
    county: Any, indicator: Any, comparator: str, series: list[float], growth: float, rng: Any
) -> Any:
    """A 2025 target near the county's own trend, so that every light occurs."""
    from kechuang.indicators.models import Target

    trend = series[-1] * (1 + growth)
    factor = float(rng.uniform(0.85, 1.2))
    fields: dict[str, Any] = {"comparator": comparator, "value": trend * factor}
    if comparator == "lte":
        fields["value"] = trend / factor
    elif comparator == "range":
        fields.update(value=trend * factor * 0.95, value_high=trend * factor * 1.1)
    elif comparator == "growth":
        base = series[BASE_YEAR - YEARS.start]
        fields.update(value=(trend * factor / base - 1) * 100, base_year=BASE_YEAR)
    elif comparator == "cagr":
        base = series[BASE_YEAR - YEARS.start]
        rate = (trend * factor / base) ** (1 / (TARGET_YEAR - BASE_YEAR)) - 1
        fields.update(value=rate * 100, base_year=BASE_YEAR)
    return Target(org_unit=county, indicator=indicator, year=TARGET_YEAR, **fields)


def county_targets(province: Any) -> Any:
    from kechuang.core.scoping import subtree_q
    from kechuang.indicators.models import Target
    from kechuang.regions.choices import Level

    return Target.objects.filter(
        subtree_q("org_unit__path", province.path), org_unit__level=Level.COUNTY
    )


def naive_status(province: Any) -> list[tuple[int, str]]:
    """The obvious code: per target, one query for the history, then the scalar functions."""
    from kechuang.indicators import projection
    from kechuang.indicators.models import DataValue

    result = []
    for target in county_targets(province):
        history = dict(
            DataValue.objects.filter(
                org_unit=target.org_unit,
                indicator=target.indicator,
                year__lte=target.year,
                submission__status="approved",
                value__isnull=False,
            )
            .order_by("year")
            .values_list("year", "value")
        )
        window = {y: v for y, v in history.items() if target.year - 10 < y <= target.year}
        last = max(window, default=None)
        value = window.get(last) if last is not None else None
        base = history.get(target.base_year) if target.base_year else None
        fraction = projection.completion(
            target.comparator,
            target.value,
            value,
            high=target.value_high,
            base=base,
            years=last - target.base_year if last and target.base_year else None,
            direction=target.indicator.direction,
        )
        if last == target.year:
            chance = 1.0 if projection.is_met(fraction) else 0.0
        else:
            forecast = projection.project(list(window), list(window.values()), target.year)
            chance = projection.probability_met(
                forecast,
                target.comparator,
                target.value,
                target.value_high,
                base=base,
                base_year=target.base_year,
            )
        result.append((target.pk, projection.light(fraction, chance)))
    return result


def measure(repeat: int = 5) -> dict[str, Any]:
    """Build the scratch province, time status and baseline ``repeat`` times, return figures."""
    import numpy as np

    scratch = SqliteScratch()
    try:
        setup_django(scratch.url(scratch.template))
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        from kechuang.indicators.services import rollup, targets

        call_command("migrate", interactive=False, verbosity=0)
        setup_seconds, world = timed(lambda: build(np.random.default_rng(SEED)))
        province = world["province"]
        settings.DEBUG = False

        def status() -> list[Any]:
            return targets.target_status(county_targets(province))

        def upper_status() -> list[Any]:
            from kechuang.indicators.models import Target

            return targets.target_status(Target.objects.filter(org_unit__level__lt=3))

        def province_rollup() -> dict[str, Any]:
            return rollup.rollup(world["indicators"], province, YEARS[-1])

        checks = _agree(status(), naive_status(province))
        samples: dict[str, list[float]] = {}
        queries: dict[str, int] = {}
        calls: dict[str, Callable[[], Any]] = {
            "status": status,
            "baseline": lambda: naive_status(province),
            "rollup_status": upper_status,
            "rollup": province_rollup,
        }
        for label, call in calls.items():
            with counting_queries() as count:
                call()  # warm-up: the first call pays for the statement cache
            queries[label] = count[0]
            samples[label] = [timed(call)[0] for _ in range(repeat)]
        lights = _lights(status())
        connection.close()
    finally:
        scratch.close()
    result: dict[str, Any] = {
        "engine": "sqlite",
        "repeat": repeat,
        "setup_seconds": setup_seconds,
        "counties": world["counties"],
        "cities": world["cities"],
        "values": world["values"],
        "county_targets": world["county_targets"],
        "upper_targets": world["upper_targets"],
        "lights": lights,
        "agreement": checks,
        "queries": queries,
        "goal_seconds": GOAL_SECONDS,
    }
    for label, values in samples.items():
        result[label] = summarise(values)
    result["ratio"] = result["baseline"]["median"] / result["status"]["median"]
    return result


def _agree(fast: list[Any], slow: list[tuple[int, str]]) -> int:
    """Raise unless both computations give every target the same light; return the count."""
    fast_lights = {s.target.pk: str(s.light) for s in fast}
    slow_lights = dict(slow)
    if fast_lights != slow_lights:
        differ = sorted(pk for pk in slow_lights if fast_lights.get(pk) != slow_lights[pk])
        raise RuntimeError(f"target_status and the baseline disagree on targets {differ[:10]}")
    return len(fast_lights)


def _lights(statuses: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for s in statuses:
        counts[str(s.light)] = counts.get(str(s.light), 0) + 1
    return dict(sorted(counts.items()))


def report(result: dict[str, Any]) -> str:
    ms = 1000.0
    lines = [
        f"Target status, 甘肃省: {result['counties']} counties, "
        f"{result['county_targets']} targets, {result['values']} approved values "
        f"(SQLite, DEBUG off, median of {result['repeat']})",
        f"  target_status()            {result['status']['median'] * ms:8.1f} ms"
        f"   ({result['queries']['status']} queries; goal < {GOAL_SECONDS * ms:.0f} ms)",
        f"  baseline, per-target ORM   {result['baseline']['median'] * ms:8.1f} ms"
        f"   ({result['queries']['baseline']} queries)",
        f"  ratio baseline / status    {result['ratio']:8.1f} ×",
        f"  province + city targets    {result['rollup_status']['median'] * ms:8.1f} ms"
        f"   ({result['upper_targets']} targets on the live roll-up, "
        f"{result['queries']['rollup_status']} queries)",
        f"  rollup(), province, 1 year {result['rollup']['median'] * ms:8.1f} ms"
        f"   ({result['queries']['rollup']} queries)",
        f"  lights: {result['lights']}; both ways agree on {result['agreement']} targets",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, help="also write the JSON result here")
    args = parser.parse_args(argv)
    result = measure(max(1, args.repeat))
    print(report(result))
    if args.out:
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    if result["status"]["median"] > GOAL_SECONDS:
        # Reported, never enforced: a loaded machine can be slow for reasons of its own.
        print(f"  above the {GOAL_SECONDS * 1000:.0f} ms goal", file=sys.stderr)


if __name__ == "__main__":
    main()
