"""The county profile's what-if for a province, against recomputing the run from the database.

Acceptance criterion (issue 4): *the county profile page shows a what-if
result within 100 ms for a province.*

    .venv/bin/python bench/bench_whatif.py [--repeat 20]

Setup (not timed): a migrated scratch SQLite file with the 甘肃省 demo
(`demo.services.load_demo("province")`: 86 counties, ten years of approved
values, the shipped methodologies and their 2024 runs).

Timed, with ``settings.DEBUG`` off, for 泾川县 in each shipped methodology's run:

- ``what_if``: ``results.what_if`` with two changed indicators (the stored
  inputs are rebuilt by the engine: five years × 86 counties);
- ``page``: the whole POST of the profile page through Django's test client
  (login session, form, what-if, template);
- ``baseline``: what a straightforward implementation does — read the
  approved values again from the database (``runs.read_inputs``) and build.

The what-if and the baseline must give the same unchanged score when
nothing is changed, so a fast figure never comes from a skipped build.
Nothing here asserts speed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from bench_divisions import setup_django
from scratch import SqliteScratch

UNIT = "620821"
YEAR = 2024


def measure(repeat: int) -> list[dict[str, Any]]:
    scratch = SqliteScratch()
    try:
        setup_django(scratch.url(scratch.template))
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        from kechuang.demo.services import load_demo

        started = time.perf_counter()
        load_demo("province")
        print(f"  demo loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        settings.DEBUG = False
        settings.ALLOWED_HOSTS = ["*"]
        return [_methodology(run, repeat) for run in _runs()]
    finally:
        scratch.close()


def _runs() -> list[Any]:
    from kechuang.evaluation.models import IndexRun

    return list(IndexRun.objects.filter(year=YEAR).select_related("methodology", "within"))


def _methodology(run: Any, repeat: int) -> dict[str, Any]:
    from django.test import Client
    from django.urls import reverse

    from kechuang.accounts.models import User
    from kechuang.evaluation.services import results, runs
    from kechuang.regions.models import OrgUnit

    unit = OrgUnit.objects.get(code=UNIT)
    profile = results.profile(run, unit)
    known = [(node.code, raw) for node, raw, _s, _c in profile.indicators if raw]
    changes = {code: raw * 1.5 for code, raw in known[:2]}
    same = results.what_if(run, unit, {})
    units = runs.units_in(run.within, run.level)
    years = sorted(set(run.inputs["years"]))
    rebuilt = runs.run_engine(run.methodology, runs.read_inputs(run.methodology, units, years))
    codes = runs.Inputs.from_json(run.inputs)
    position = next(
        i
        for i, row in enumerate(rebuilt.rows)
        if codes.unit_codes[row] == UNIT and codes.years[row] == YEAR
    )
    if abs(float(rebuilt.index[position]) - same.score) > 1e-9 or same.score != same.score_before:
        raise RuntimeError("what-if and the rebuilt run disagree on the unchanged score")
    client = Client()
    client.force_login(User.objects.get(username="jingchuan_leader"))
    url = reverse("evaluation:profile", args=[run.pk, UNIT])
    samples: dict[str, list[float]] = {"what_if": [], "page": [], "baseline": []}
    for _ in range(repeat):
        samples["what_if"].append(_time(lambda: results.what_if(run, unit, changes)))
        samples["page"].append(
            _time(lambda: client.post(url, {k: str(v) for k, v in changes.items()}))
        )
    for _ in range(max(3, repeat // 4)):
        samples["baseline"].append(
            _time(
                lambda: runs.run_engine(
                    run.methodology, runs.read_inputs(run.methodology, units, years)
                )
            )
        )
    medians = {key: statistics.median(values) for key, values in samples.items()}
    return {
        "methodology": run.methodology.code,
        "rows": len(codes.unit_codes),
        **{f"{key}_ms": value * 1000 for key, value in medians.items()},
        "ratio": medians["baseline"] / medians["what_if"],
    }


def _time(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print("What-if on the county profile, 甘肃省 (SQLite, DEBUG off; medians)")
    for row in measure(args.repeat):
        print(
            f"  {row['methodology']}: {row['rows']} unit-years, "
            f"what-if {row['what_if_ms']:.1f} ms, page {row['page_ms']:.1f} ms, "
            f"baseline (re-read + build) {row['baseline_ms']:.1f} ms, "
            f"{row['ratio']:.1f}× faster than the baseline (goal: page ≤ 100 ms)"
        )


if __name__ == "__main__":
    main()
