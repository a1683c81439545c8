"""A plan's targets read against reported data where they name a catalogue indicator."""

from __future__ import annotations

from dataclasses import dataclass

from kechuang.indicators.services.rollup import rollup_table
from kechuang.plans.choices import Comparator
from kechuang.plans.models import Plan, PlanTarget


@dataclass
class TargetReading:
    target: PlanTarget
    year: int | None  # the year whose approved value is shown
    value: float | None
    met: bool | None  # None: no data, or a growth target (needs the base year)


def readings(plan: Plan, latest_year: int) -> list[TargetReading]:
    """Each target with the plan unit's approved value for its year (or the latest year)."""
    targets = list(plan.targets.select_related("indicator", "task"))
    linked = [t for t in targets if t.indicator_id]
    years = sorted({min(t.year or latest_year, latest_year) for t in linked}) or [latest_year]
    table = rollup_table([t.indicator for t in linked], [plan.org_unit], years) if linked else {}
    out = []
    for target in targets:
        if not target.indicator_id:
            out.append(TargetReading(target, None, None, None))
            continue
        year = min(target.year or latest_year, latest_year)
        value = table.get((plan.org_unit.pk, target.indicator.code, year))
        out.append(TargetReading(target, year, value, _met(target, value)))
    return out


def _met(target: PlanTarget, value: float | None) -> bool | None:
    if value is None or target.comparator == Comparator.GROWTH:
        return None
    if target.comparator == Comparator.AT_MOST:
        return value <= target.value
    if target.comparator == Comparator.EQUAL:
        return abs(value - target.value) <= 1e-9 * max(1.0, abs(target.value))
    return value >= target.value
