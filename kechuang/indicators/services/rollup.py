"""City and province values, computed live from their counties' finally approved values.

Nothing is stored and there is no batch job: a county's approval shows in its
city's and province's figures on the next read (issue 3, "no batch rebuild
before numbers show").

Which values count: those of the **county-level** units (``Level.COUNTY``)
under the unit, of **every kind**, whose submission is finally approved
(``Submission.status == approved``). Every kind, because the NBS county-level
codes partition a city's territory without overlap: a statistical zone
(620171 兰州新区) has its own townships, not listed under the counties it was
carved from, and a city without districts (620201 嘉峪关市) has only its
city-proper row, so leaving kinds out would lose real activity or a whole
city. Townships are not read: county data is reported by the county. Retired
counties count for the years they have approved values for. Drafts,
submissions still under review and reopened ones never count.

How each indicator rolls up (``Indicator.rollup``):

- ``none``: no value above the county.
- ``ratio``: Σ numerator / Σ denominator × ``scale``, over the counties that
  have both numerator and denominator for the year, so a county missing one
  of the two cannot inflate or deflate the ratio. Never an average of ratios.
- a derived indicator (with a ``formula``, and not a ratio with numerator and
  denominator): its formula over its inputs' rolled-up values.
- ``sum``: Σ of the counties' values.
- ``average``: the plain mean of the counties that have a value (each county
  weighs the same; use a ratio where a weighted mean is meant).

Sums and averages run over the counties that have an approved value: the
approval matrix, not this module, says how complete that is. A unit that is
itself county-level gets its own approved values under the same rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Substr

from kechuang.core.scoping import subtree_q
from kechuang.indicators.choices import Rollup, SubmissionStatus
from kechuang.indicators.expressions import ExpressionError, parse
from kechuang.indicators.models import DataValue, Indicator
from kechuang.regions.choices import Level

# (unit id, indicator code, year) → value
RollupTable = dict[tuple[int, str, int], float | None]


def rollup(indicators: Iterable[Indicator | str], unit: Any, year: int) -> dict[str, float | None]:
    """Each indicator's value for ``unit`` in ``year`` (None where there is none)."""
    wanted = _resolve(indicators)
    table = rollup_table(wanted, [unit], [year])
    return {indicator.code: table[(unit.pk, indicator.code, year)] for indicator in wanted}


def rollup_table(
    indicators: Iterable[Indicator | str], units: Iterable[Any], years: Iterable[int]
) -> RollupTable:
    """Every (unit, indicator, year) value of the cross product, read in a few aggregate queries.

    One query groups the counties' sums and counts by (ancestor unit,
    indicator, year), one more pairs numerators with denominators when a
    ratio is asked for; units of several levels add one pair per level (the
    ancestor is picked by its path prefix, whose length the level fixes).
    Loading indicators that formulas and ratios refer to adds one small query
    per step of indirection.
    """
    wanted = _resolve(indicators)
    units, years = list(units), sorted(set(years))
    catalogue = _closure(wanted)
    table: RollupTable = {
        (unit.pk, indicator.code, year): None
        for unit in units
        for indicator in wanted
        for year in years
    }
    if not wanted or not years:
        return table
    by_length: dict[int, list[Any]] = defaultdict(list)
    for unit in units:
        # Below the county there are no county-level descendants: nothing to add up.
        if unit.level <= Level.COUNTY:
            by_length[len(unit.path)].append(unit)
    for length, group in by_length.items():
        sums, ratios = _aggregate(catalogue, group, length, years)
        for unit in group:
            for year in years:
                resolver = _Resolver(catalogue, sums, ratios, unit.path, year)
                for indicator in wanted:
                    table[(unit.pk, indicator.code, year)] = resolver.value(indicator.code)
    return table


def _resolve(indicators: Iterable[Indicator | str]) -> list[Indicator]:
    items = list(indicators)
    codes = [item for item in items if isinstance(item, str)]
    found = {i.code: i for i in Indicator.objects.filter(code__in=codes)} if codes else {}
    missing = sorted(set(codes) - set(found))
    if missing:
        raise ValueError(f"unknown indicator codes: {', '.join(missing)}")
    return [found[item] if isinstance(item, str) else item for item in items]


def _is_ratio(indicator: Indicator) -> bool:
    return (
        indicator.rollup == Rollup.RATIO
        and indicator.numerator_id is not None
        and indicator.denominator_id is not None
    )


def _closure(indicators: list[Indicator]) -> dict[str, Indicator]:
    """The indicators asked for, plus every one their ratios and formulas read."""
    by_code = {i.code: i for i in indicators}
    while True:
        known_ids = {i.pk for i in by_code.values()}
        want_ids: set[int] = set()
        want_codes: set[str] = set()
        for indicator in by_code.values():
            if indicator.rollup == Rollup.NONE:
                continue
            if _is_ratio(indicator):
                want_ids |= {indicator.numerator_id, indicator.denominator_id} - known_ids
            elif indicator.is_derived:
                want_codes |= _formula_codes(indicator) - set(by_code)
        if not want_ids and not want_codes:
            return by_code
        found = list(Indicator.objects.filter(Q(pk__in=want_ids) | Q(code__in=want_codes)))
        new = [i for i in found if i.code not in by_code]
        if not new:  # a formula naming a code that does not exist evaluates to None
            return by_code
        by_code.update((i.code, i) for i in new)


def _formula_codes(indicator: Indicator) -> set[str]:
    try:
        return set(parse(indicator.formula).codes)
    except ExpressionError:
        return set()


Sums = dict[tuple[str, int, int], tuple[float, int]]  # (prefix, indicator id, year) → Σ, count
Ratios = dict[tuple[str, int, int], tuple[float | None, float | None]]  # (prefix, ratio id, year)


def _aggregate(
    catalogue: dict[str, Indicator], units: list[Any], length: int, years: list[int]
) -> tuple[Sums, Ratios]:
    scope = Q()
    for unit in units:
        scope |= subtree_q("org_unit__path", unit.path)
    counted = DataValue.objects.filter(
        scope,
        org_unit__level=Level.COUNTY,
        year__in=years,
        submission__status=SubmissionStatus.APPROVED,
        value__isnull=False,
    ).annotate(prefix=Substr("org_unit__path", 1, length))

    plain_ids = [
        i.pk
        for i in catalogue.values()
        if i.rollup in (Rollup.SUM, Rollup.AVERAGE) and not i.is_derived
    ]
    sums: Sums = {}
    if plain_ids:
        rows = (
            counted.filter(indicator_id__in=plain_ids)
            .values_list("prefix", "indicator_id", "year")
            .annotate(total=Sum("value"), count=Count("id"))
            .order_by()
        )
        sums = {(prefix, ind, year): (total, count) for prefix, ind, year, total, count in rows}

    ratio_indicators = [i for i in catalogue.values() if _is_ratio(i)]
    ratios: Ratios = {}
    if ratio_indicators:
        annotations: dict[str, Any] = {}
        for n, indicator in enumerate(ratio_indicators):
            has_numerator = _has_approved_value(indicator.numerator_id)
            has_denominator = _has_approved_value(indicator.denominator_id)
            annotations[f"num{n}"] = Sum(
                "value", filter=Q(indicator_id=indicator.numerator_id) & Q(has_denominator)
            )
            annotations[f"den{n}"] = Sum(
                "value", filter=Q(indicator_id=indicator.denominator_id) & Q(has_numerator)
            )
        inputs = {i.numerator_id for i in ratio_indicators} | {
            i.denominator_id for i in ratio_indicators
        }
        rows = (
            counted.filter(indicator_id__in=inputs)
            .values_list("prefix", "year")
            .annotate(**annotations)
            .order_by()
        )
        for prefix, year, *pairs in rows:
            for n, indicator in enumerate(ratio_indicators):
                ratios[(prefix, indicator.pk, year)] = (pairs[2 * n], pairs[2 * n + 1])
    return sums, ratios


def _has_approved_value(indicator_id: int) -> Exists:
    """Whether the same county has an approved value of ``indicator_id`` for the same year."""
    return Exists(
        DataValue.objects.filter(
            org_unit_id=OuterRef("org_unit_id"),
            year=OuterRef("year"),
            indicator_id=indicator_id,
            submission__status=SubmissionStatus.APPROVED,
            value__isnull=False,
        )
    )


class _Resolver:
    """One unit-year's rolled-up values, derived ones worked out on demand."""

    def __init__(
        self, catalogue: dict[str, Indicator], sums: Sums, ratios: Ratios, prefix: str, year: int
    ) -> None:
        self.catalogue, self.sums, self.ratios = catalogue, sums, ratios
        self.prefix, self.year = prefix, year
        self.memo: dict[str, float | None] = {}
        self.busy: set[str] = set()

    def value(self, code: str) -> float | None:
        if code in self.memo:
            return self.memo[code]
        indicator = self.catalogue.get(code)
        if indicator is None or code in self.busy:  # unknown code, or a formula cycle
            return None
        self.busy.add(code)
        try:
            result = self._compute(indicator)
        finally:
            self.busy.discard(code)
        self.memo[code] = result
        return result

    def _compute(self, indicator: Indicator) -> float | None:
        if indicator.rollup == Rollup.NONE:
            return None
        if _is_ratio(indicator):
            numerator, denominator = self.ratios.get(
                (self.prefix, indicator.pk, self.year), (None, None)
            )
            if numerator is None or not denominator:
                return None
            return numerator / denominator * indicator.scale
        if indicator.is_derived:
            try:
                expression = parse(indicator.formula)
            except ExpressionError:
                return None
            return expression.evaluate({code: self.value(code) for code in expression.codes})
        total, count = self.sums.get((self.prefix, indicator.pk, self.year), (None, 0))
        if total is None or count == 0:
            return None
        return total / count if indicator.rollup == Rollup.AVERAGE else total
