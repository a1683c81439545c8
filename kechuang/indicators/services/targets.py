"""Targets: setting them, and how each unit stands against its targets.

A target is set by the level above or by the unit itself. Its status reads
finally approved values only, the same numbers everyone above sees, so a
draft never moves a light. A county-level unit is measured on its own values,
a city or province on the live roll-up of its counties
(``services.rollup``). The arithmetic lives in ``indicators.projection``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kechuang.audit import services as audit
from kechuang.core.authorization import Action, require
from kechuang.core.errors import Forbidden, InvalidInput, NotFound
from kechuang.core.scoping import path_within
from kechuang.indicators import projection
from kechuang.indicators.choices import Comparator, SubmissionStatus, TargetLight
from kechuang.indicators.models import DataValue, Indicator, Target
from kechuang.indicators.services.rollup import rollup_table
from kechuang.regions.choices import Level
from kechuang.regions.models import OrgUnit

TARGET_FIELDS = (
    "org_unit",
    "indicator",
    "year",
    "comparator",
    "value",
    "value_high",
    "base_year",
    "note",
    "set_by_unit",
)
# The trend is fitted on at most this many years up to the as-of year: older
# history says little about a county's course under the current plan.
HISTORY_YEARS = 10
EARLIEST_YEAR, LATEST_YEAR = 1949, 2100


# ---------------------------------------------------------------- writes


@transaction.atomic
def set_target(
    *,
    actor: Any,
    org_unit: OrgUnit,
    indicator: Indicator,
    year: int,
    comparator: str,
    value: float,
    value_high: float | None = None,
    base_year: int | None = None,
    note: str = "",
) -> Target:
    """Create or replace the unit's target on an indicator for a year."""
    # The subtree rule already says "the level above, or the unit itself":
    # whoever is over the parent is over the unit, and a unit is in its own scope.
    require(actor, Action.SET_TARGETS, org_unit)
    fields = _clean(indicator, year, comparator, value, value_high, base_year, note)
    target = (
        # of=self: PostgreSQL cannot lock the nullable side of the set_by_unit outer join.
        Target.objects.select_for_update(of=("self",))
        .select_related("set_by_unit", "org_unit", "indicator")
        .filter(org_unit=org_unit, indicator=indicator, year=fields["year"])
        .first()
    )
    set_by = _actor_unit(actor)
    if target is None:
        target = Target(org_unit=org_unit, indicator=indicator, **fields, set_by_unit=set_by)
        target.save()
        audit.record(
            actor,
            "indicators.target.create",
            target,
            after=audit.snapshot(target, TARGET_FIELDS),
        )
        return target
    _require_not_from_above(actor, target)
    before = audit.snapshot(target, TARGET_FIELDS)
    for name, new in fields.items():
        setattr(target, name, new)
    if before != audit.snapshot(target, TARGET_FIELDS):
        target.set_by_unit = set_by
        target.save()
        audit.record(
            actor,
            "indicators.target.update",
            target,
            **audit.changes(before, audit.snapshot(target, TARGET_FIELDS)),
        )
    return target


@transaction.atomic
def delete_target(target: Target, *, actor: Any) -> None:
    """Remove a target; one handed down from a level above only that level can remove."""
    try:
        target = (
            Target.objects.select_for_update(of=("self",))
            .select_related("set_by_unit", "org_unit", "indicator")
            .get(pk=target.pk)
        )
    except Target.DoesNotExist:
        raise NotFound() from None
    require(actor, Action.SET_TARGETS, target.org_unit)
    _require_not_from_above(actor, target)
    audit.record(
        actor,
        "indicators.target.delete",
        target,
        before=audit.snapshot(target, TARGET_FIELDS),
    )
    target.delete()


def _actor_unit(actor: Any) -> OrgUnit | None:
    return getattr(actor, "org_unit", None) if getattr(actor, "pk", None) else None


def _require_not_from_above(actor: Any, target: Target) -> None:
    """A county may not lower a target its city handed down: only that level or above may."""
    if actor is None or actor.is_superuser or target.set_by_unit is None:
        return
    if not path_within(target.set_by_unit.path, actor.scope_path):
        raise Forbidden(
            _("该目标由%(unit)s下达，只有%(unit)s或其上级可以修改或删除。")
            % {"unit": target.set_by_unit.name}
        )


def _clean(
    indicator: Indicator,
    year: Any,
    comparator: str,
    value: Any,
    value_high: Any,
    base_year: Any,
    note: str,
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    year = _year(year, "year", errors)
    value = _number(value, "value", errors, required=True)
    value_high = _number(value_high, "value_high", errors, required=False)
    base_year = _year(base_year, "base_year", errors) if base_year not in (None, "") else None
    if comparator not in Comparator.values:
        errors.setdefault("comparator", []).append(_("比较方式无效"))
    if not indicator.is_active:
        errors.setdefault("indicator", []).append(_("该指标已停用，不能下达目标"))
    if comparator == Comparator.RANGE:
        if value_high is None:
            errors.setdefault("value_high", []).append(_("区间目标需要填写上限"))
        elif value is not None and value_high < value:
            errors.setdefault("value_high", []).append(_("区间上限不能小于下限"))
    elif value_high is not None:
        errors.setdefault("value_high", []).append(_("只有区间目标才有上限"))
    if comparator in (Comparator.GROWTH, Comparator.CAGR):
        if base_year is None:
            errors.setdefault("base_year", []).append(_("增长目标需要填写基期年度"))
        elif year is not None and base_year >= year:
            errors.setdefault("base_year", []).append(_("基期年度应早于目标年度"))
        if value is not None and value <= -100:
            errors.setdefault("value", []).append(_("增长率不能低于 -100%"))
    elif base_year is not None:
        errors.setdefault("base_year", []).append(_("只有增长目标才有基期年度"))
    note = (note or "").strip()
    if len(note) > Target._meta.get_field("note").max_length:
        errors.setdefault("note", []).append(_("说明过长"))
    if errors:
        raise InvalidInput(_("目标填写有误，请检查后重试。"), fields=errors)
    return {
        "year": year,
        "comparator": Comparator(comparator).value,
        "value": value,
        "value_high": value_high,
        "base_year": base_year,
        "note": note,
    }


def _number(raw: Any, name: str, errors: dict[str, list[str]], *, required: bool) -> float | None:
    if raw is None or raw == "":
        if required:
            errors.setdefault(name, []).append(_("必填"))
        return None
    try:
        number = float(raw)
    except (TypeError, ValueError):
        errors.setdefault(name, []).append(_("应为数字"))
        return None
    if not math.isfinite(number):
        errors.setdefault(name, []).append(_("应为有效数字"))
        return None
    return number


def _year(raw: Any, name: str, errors: dict[str, list[str]]) -> int | None:
    try:
        year = int(raw)
    except (TypeError, ValueError):
        errors.setdefault(name, []).append(_("应为年份"))
        return None
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        errors.setdefault(name, []).append(
            _("年份应在 %(a)d–%(b)d 之间") % {"a": EARLIEST_YEAR, "b": LATEST_YEAR}
        )
        return None
    return year


# ---------------------------------------------------------------- status


@dataclass(frozen=True)
class TargetStatus:
    """Where one target stands: latest value, completion, projection, chance, light.

    ``value`` is the latest approved value up to the as-of year (never after
    the target year) and ``value_year`` its year. ``is_final`` means the
    target year's own value is in, so ``probability`` is 1 (met) or 0
    (missed) and there is no ``projection``.
    """

    target: Target
    value: float | None
    value_year: int | None
    base_value: float | None
    completion: float | None
    projection: projection.Projection | None
    probability: float | None
    light: str
    is_final: bool

    @property
    def is_met(self) -> bool:
        return projection.is_met(self.completion)


def target_status(
    targets: Iterable[Target] | QuerySet[Target], *, as_of_year: int | None = None
) -> list[TargetStatus]:
    """The status of each target, as it stood with the data up to ``as_of_year``.

    Reads all the values at once: one query for county-level units' own
    values, and the roll-up's few aggregate queries for cities, provinces
    and derived indicators. Projections and probabilities are computed for
    all targets together (``projection.project_many``).
    """
    targets = _load(targets)
    if not targets:
        return []
    last_year = {
        t.pk: min(as_of_year, t.year) if as_of_year is not None else t.year for t in targets
    }
    series = _series(targets, last_year)
    measured = [_measure(t, series, last_year[t.pk]) for t in targets]
    forecasts, chances = _forecast([m for m in measured if not m.is_final])
    results = []
    for m in measured:
        if m.is_final:
            probability: float | None = 1.0 if projection.is_met(m.completion) else 0.0
        else:
            probability = chances.get(m.target.pk)
        results.append(
            TargetStatus(
                target=m.target,
                value=m.value,
                value_year=m.value_year,
                base_value=m.base_value,
                completion=m.completion,
                projection=forecasts.get(m.target.pk),
                probability=probability,
                light=TargetLight(projection.light(m.completion, probability)),
                is_final=m.is_final,
            )
        )
    return results


@dataclass(frozen=True)
class _Measured:
    """A target with the history it is judged on and its completion so far."""

    target: Target
    window: dict[int, float]  # year → value, the years the trend is fitted on
    value: float | None
    value_year: int | None
    base_value: float | None
    completion: float | None

    @property
    def is_final(self) -> bool:
        return self.value_year == self.target.year


def _measure(
    target: Target, series: dict[tuple[int, str], dict[int, float]], last: int
) -> _Measured:
    history = series.get((target.org_unit_id, target.indicator.code), {})
    window = {y: v for y, v in history.items() if last - HISTORY_YEARS < y <= last}
    value_year = max(window, default=None)
    value = window[value_year] if value_year is not None else None
    base_year = target.base_year
    base_value = history.get(base_year) if base_year is not None else None
    fraction = projection.completion(
        target.comparator,
        target.value,
        value,
        high=target.value_high,
        base=base_value,
        years=value_year - base_year if value_year is not None and base_year is not None else None,
        direction=target.indicator.direction,
    )
    return _Measured(target, window, value, value_year, base_value, fraction)


def _load(targets: Iterable[Target] | QuerySet[Target]) -> list[Target]:
    """The targets with their indicator and unit attached, in two small extra queries.

    Fetching the few distinct indicators and units apart is much cheaper than
    a join that builds an indicator and a unit object for every target.
    """
    targets = list(targets)
    indicator_field = Target._meta.get_field("indicator")
    unit_field = Target._meta.get_field("org_unit")
    indicator_ids = {t.indicator_id for t in targets if not indicator_field.is_cached(t)}
    unit_ids = {t.org_unit_id for t in targets if not unit_field.is_cached(t)}
    indicators = Indicator.objects.in_bulk(indicator_ids) if indicator_ids else {}
    units = OrgUnit.objects.in_bulk(unit_ids) if unit_ids else {}
    for target in targets:
        if target.indicator_id in indicators:
            target.indicator = indicators[target.indicator_id]
        if target.org_unit_id in units:
            target.org_unit = units[target.org_unit_id]
    return targets


def _uses_rollup(target: Target) -> bool:
    return target.org_unit.level < Level.COUNTY or target.indicator.is_derived


def _series(
    targets: list[Target], last_year: dict[int, int]
) -> dict[tuple[int, str], dict[int, float]]:
    """(unit id, indicator code) → {year: value} over every year any target needs."""
    years: set[int] = set()
    for target in targets:
        last = last_year[target.pk]
        years.update(range(last - HISTORY_YEARS + 1, last + 1))
        if target.base_year is not None:
            years.add(target.base_year)
    series: dict[tuple[int, str], dict[int, float]] = defaultdict(dict)

    own = [t for t in targets if not _uses_rollup(t)]
    if own:
        codes = {t.indicator_id: t.indicator.code for t in own}
        rows = DataValue.objects.filter(
            org_unit_id__in={t.org_unit_id for t in own},
            indicator_id__in=set(codes),
            year__gte=min(years),
            year__lte=max(years),
            submission__status=SubmissionStatus.APPROVED,
            value__isnull=False,
        ).values_list("org_unit_id", "indicator_id", "year", "value")
        for unit_id, indicator_id, year, value in rows:
            series[(unit_id, codes[indicator_id])][year] = value

    rolled = [t for t in targets if _uses_rollup(t)]
    if rolled:
        units = {t.org_unit_id: t.org_unit for t in rolled}
        indicators = {t.indicator_id: t.indicator for t in rolled}
        table = rollup_table(indicators.values(), units.values(), years)
        for (unit_id, code, year), value in table.items():
            if value is not None:
                series[(unit_id, code)][year] = value
    return series


def _forecast(
    pending: list[_Measured],
) -> tuple[dict[int, projection.Projection], dict[int, float]]:
    """Projections and probabilities of meeting for targets whose year is not in yet.

    One trend fit and one probability evaluation for all of them at once.
    """
    if not pending:
        return {}, {}
    first = min(min(m.window, default=m.target.year) for m in pending)
    last = max(max(m.window, default=m.target.year) for m in pending)
    years = np.arange(first, last + 1)
    matrix = np.full((len(pending), len(years)), np.nan)
    for row, measured in enumerate(pending):
        for year, value in measured.window.items():
            matrix[row, year - first] = value
    batch = projection.project_many(years, matrix, [m.target.year for m in pending])

    bounds = np.full((len(pending), 2), np.nan)
    for row, measured in enumerate(pending):
        target = measured.target
        interval = projection.threshold(
            target.comparator,
            target.value,
            target.value_high,
            base=measured.base_value,
            base_year=target.base_year,
            target_year=target.year,
        )
        if interval is not None:
            bounds[row] = interval
    chances = projection.probabilities_between(
        batch.location,
        batch.scale,
        batch.df,
        batch.model == projection.LOG_LINEAR,
        bounds[:, 0],
        bounds[:, 1],
    )
    forecasts, probabilities = {}, {}
    for row, measured in enumerate(pending):
        if batch.model[row] == projection.NONE:
            continue
        forecasts[measured.target.pk] = batch[row]
        if np.isfinite(chances[row]) and not np.isnan(bounds[row, 0]):
            probabilities[measured.target.pk] = float(chances[row])
    return forecasts, probabilities


# ---------------------------------------------------------------- ranking


@dataclass(frozen=True)
class UnitCompletion:
    """One unit's place in a ranking by how far it has come on its targets for a year.

    ``completion`` is the mean over its assessable targets of completion
    capped at 1: over-delivering on one target does not make up for falling
    short on another. None (ranked last, no rank) when no target could be
    assessed.
    """

    org_unit: OrgUnit
    rank: int | None
    completion: float | None
    targets: int
    assessed: int
    met: int


def rank_by_completion(units: Iterable[OrgUnit], year: int) -> list[UnitCompletion]:
    """Units ordered by mean target completion for ``year``, best first (ties share a rank)."""
    units = list(units)
    statuses = target_status(Target.objects.filter(org_unit__in=[u.pk for u in units], year=year))
    by_unit: dict[int, list[TargetStatus]] = defaultdict(list)
    for status in statuses:
        by_unit[status.target.org_unit_id].append(status)
    rows = []
    for unit in units:
        own = by_unit.get(unit.pk, [])
        fractions = [min(s.completion, 1.0) for s in own if s.completion is not None]
        mean = sum(fractions) / len(fractions) if fractions else None
        rows.append((unit, mean, len(own), len(fractions), sum(s.is_met for s in own)))
    rows.sort(key=lambda r: (r[1] is None, -(r[1] or 0.0), r[0].code))
    ranked: list[UnitCompletion] = []
    for position, (unit, mean, count, assessed, met) in enumerate(rows, start=1):
        rank = None
        if mean is not None:
            same = ranked and ranked[-1].completion is not None and _tied(ranked[-1], mean)
            rank = ranked[-1].rank if same else position
        ranked.append(UnitCompletion(unit, rank, mean, count, assessed, met))
    return ranked


def _tied(previous: UnitCompletion, mean: float) -> bool:
    return math.isclose(previous.completion or 0.0, mean, rel_tol=1e-9, abs_tol=1e-12)
