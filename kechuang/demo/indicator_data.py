"""Synthetic indicator data for the demo (示例数据): catalogue, values 2016–2025, targets, states.

Values are drawn around the figures seed 002 gives for 泾川县 in 2023, scaled
by a per-county size, grown by a per-county trend, and then clipped so that
the catalogue's "A ≤ B" rules hold. A fixed random seed makes every demo
load identical. Everything is flagged ``is_demo``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from kechuang.audit import services as audit
from kechuang.indicators.expressions import parse
from kechuang.indicators.models import (
    DataSet,
    DataValue,
    Indicator,
    Submission,
    Target,
    ValidationRule,
)
from kechuang.indicators.services import catalogue
from kechuang.indicators.services.workflow import digest_of
from kechuang.regions.choices import Level, UnitKind
from kechuang.regions.models import OrgUnit

FIRST_YEAR, LAST_YEAR = 2016, 2025
TARGET_YEARS = (2023, 2024, 2025)
SEED = 20231
# A typical county in 2023 (seed 002's 泾川县 where it says, plausible elsewhere).
BASE_2023 = {
    "GDP": 90.0,
    "POPULATION": 28.0,
    "EMPLOYED": 15.0,
    "GOV_EXP": 25.0,
    "IND_ENTERPRISES": 30,
    "IND_REVENUE": 40.0,
    "IND_VALUE_ADDED": 12.0,
    "IND_EMPLOYEES": 4000,
    "HT_VALUE_ADDED": 1.0,
    "KIS_VALUE_ADDED": 8.0,
    "ENERGY_USE": 60.0,
    "RD_EXP": 0.16,
    "ENT_RD_EXP": 0.10,
    "GOV_ST_EXP": 0.18,
    "RD_NEW_EQUIPMENT": 200.0,
    "RD_PERSONNEL": 300,
    "RD_SCIENTISTS": 150,
    "ENT_RD_SCIENTISTS": 80,
    "PROF_TECH_STAFF": 5000,
    "COMMISSIONERS": 150,
    "COMMISSIONER_TEAMS": 4,
    "ENT_RD_ACTIVE": 2,
    "HNTE": 3,
    "NEW_HNTE": 1,
    "PROV_STI_ENT": 5,
    "NEW_PROV_STI_ENT": 1,
    "NEW_CITY_STI_ENT": 2,
    "TECH_SME": 16,
    "PLATFORMS": 12,
    "NEW_PROV_PLATFORMS": 1,
    "NEW_TIC": 1,
    "NEW_POP_SCI_BASES": 1,
    "NEW_MAKERSPACES": 1,
    "SCI_PARKS": 1,
    "REG_ACHIEVEMENTS": 8,
    "PATENT_APPLICATIONS": 60,
    "INVENTION_PATENTS": 20,
    "HV_INVENTION_PATENTS": 1,
    "TECH_CONTRACT_VALUE": 1.17,
    "TECH_ABSORBED": 0.8,
    "NEW_PRODUCT_SALES": 0.64,
    "HIGH_TECH_REVENUE": 0.5,
    # Intensities and shares do not scale with the county's size.
    "ENT_TECH_IMPORT_SHARE": 0.3,
    "COLLEGE_PER_10K": 900.0,
    "PAPERS_PER_10K_RD": 300.0,
    "NATIONAL_AWARD_COEF": 0.05,
    "ROYALTIES_PER_10K_RD": 0.1,
    "HT_EXPORT_SHARE": 2.0,
    "RS_FIXED_ASSET_SHARE": 0.5,
    "RS_WAGE_RATIO": 110.0,
    "CSPI": 22.0,
    "TECH_CONTRIB_RATE": 50.0,
}
SIZE_FREE = {
    "ENT_TECH_IMPORT_SHARE",
    "COLLEGE_PER_10K",
    "PAPERS_PER_10K_RD",
    "NATIONAL_AWARD_COEF",
    "ROYALTIES_PER_10K_RD",
    "HT_EXPORT_SHARE",
    "RS_FIXED_ASSET_SHARE",
    "RS_WAGE_RATIO",
    "CSPI",
    "TECH_CONTRIB_RATE",
}
# Seed 002's expected indicators for 2023, in the catalogue's codes.
TARGETS_2023 = {
    "CSPI": 22.46,
    "RD_EXP": 0.16,
    "GOV_ST_EXP": 0.18,
    "ENT_RD_ACTIVE": 2,
    "NEW_PRODUCT_SALES": 0.64,
    "HIGH_TECH_REVENUE": 0.5,
    "REG_ACHIEVEMENTS": 8,
    "HV_INVENTION_PATENTS": 1,
    "TECH_CONTRACT_VALUE": 1.17,
    "NEW_HNTE": 1,
    "TECH_SME": 16,
    "COMMISSIONERS": 150,
}
OWN_COUNTY, SIBLING = "620821", "620823"


@dataclass(frozen=True)
class DemoIndicatorReport:
    counties: int
    values: int
    submissions: int
    targets: int


def demo_counties(province: str | None) -> list[OrgUnit]:
    counties = OrgUnit.objects.current().filter(level=Level.COUNTY, kind=UnitKind.ADMINISTRATIVE)
    if province:
        counties = counties.filter(code__startswith=province)
    return list(counties.order_by("code"))


@transaction.atomic
def load_indicator_demo(
    province: str | None = "62",
    progress: Callable[[str], Any] | None = None,
    *,
    refresh: bool = False,
) -> DemoIndicatorReport:
    """Catalogue plus synthetic data for the demo counties.

    Counties that already have demo data keep it unless ``refresh``, which
    regenerates it (undoing whatever was done with it in the demo since).
    """
    catalogue.load_catalogue(actor=None)
    counties = demo_counties(province)
    if not refresh:
        done = set(Submission.objects.filter(is_demo=True).values_list("org_unit_id", flat=True))
        counties = [c for c in counties if c.pk not in done]
    ids = [c.pk for c in counties]
    # Replace earlier demo rows of these counties; real rows (is_demo False) are never touched.
    DataValue.objects.filter(is_demo=True, org_unit_id__in=ids).delete()
    Submission.objects.filter(is_demo=True, org_unit_id__in=ids).delete()
    Target.objects.filter(is_demo=True, org_unit_id__in=ids).delete()
    datasets = list(DataSet.objects.filter(is_active=True).prefetch_related("members__indicator"))
    indicators = {i.code: i for i in Indicator.objects.all()}
    rules = _clip_rules()
    # Real submissions win: the demo never overwrites what somebody actually entered.
    real = set(
        Submission.objects.filter(is_demo=False, org_unit_id__in=ids).values_list(
            "dataset_id", "org_unit_id", "year"
        )
    )
    rng = np.random.default_rng(SEED)
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    now = timezone.now()
    planned: list[tuple[Submission, list[tuple[Indicator, float]]]] = []
    targets = 0
    for number, county in enumerate(counties):
        size = 1.0 if county.code == OWN_COUNTY else float(rng.lognormal(0.0, 0.6))
        growth = float(rng.normal(0.07, 0.03))
        series = _series(rng, size, growth, years, rules)
        for dataset in datasets:
            members = [m.indicator for m in dataset.members.all() if not m.indicator.is_derived]
            for year in (int(y) for y in years):
                if (dataset.pk, county.pk, year) in real:
                    continue
                state = _state(county, number, year, dataset)
                submission = Submission(
                    dataset=dataset,
                    org_unit=county,
                    year=year,
                    is_demo=True,
                    **state,
                    submitted_at=now if state["status"] != "draft" else None,
                    approved_at=now if state["status"] == "approved" else None,
                )
                cells = []
                for position, indicator in enumerate(members):
                    value = series.get(indicator.code, {}).get(year)
                    # An open draft still has a few boxes to fill.
                    if value is not None and not (state["status"] == "draft" and position % 9 == 4):
                        cells.append((indicator, value))
                planned.append((submission, cells))
        targets += _targets(county, size, growth, indicators)
        if progress is not None:
            progress(county.name)
    Submission.objects.bulk_create([submission for submission, _cells in planned], batch_size=2000)
    DataValue.objects.bulk_create(
        (
            DataValue(
                indicator=indicator,
                org_unit=submission.org_unit,
                year=submission.year,
                value=value,
                submission=submission,
                channel="system",
                is_demo=True,
            )
            for submission, cells in planned
            for indicator, value in cells
        ),
        batch_size=5000,
    )
    approved = []
    for submission, cells in planned:
        if submission.status == "approved":
            # The same digest values_digest() computes, from the rows just written.
            submission.approved_digest = digest_of((i.code, v) for i, v in cells)
            approved.append(submission)
    Submission.objects.bulk_update(approved, ["approved_digest"], batch_size=2000)
    values = sum(len(cells) for _submission, cells in planned)
    submissions = len(planned)
    report = DemoIndicatorReport(len(counties), values, submissions, targets)
    audit.record(
        None, "demo.indicators", None, object_repr="示例数据：指标数值与目标", data=report.__dict__
    )
    return report


def _clip_rules() -> list[tuple[str, Any]]:
    """The catalogue's ``CODE <= expression`` rules, used to keep generated data consistent."""
    rules = []
    for rule in ValidationRule.objects.filter(is_active=True, operator__in=("<=", "<")):
        if parse(rule.left).codes == {rule.left.strip()}:
            rules.append((rule.left.strip(), parse(rule.right)))
    return rules


def _series(
    rng: np.random.Generator,
    size: float,
    growth: float,
    years: np.ndarray,
    rules: list[tuple[str, Any]],
) -> dict[str, dict[int, float]]:
    by_year: dict[int, dict[str, float]] = {int(y): {} for y in years}
    for code, base in BASE_2023.items():
        scale = 1.0 if code in SIZE_FREE else size
        trend = (1.0 + (growth / 3 if code in SIZE_FREE else growth)) ** (years - 2023)
        noise = rng.lognormal(0.0, 0.06, size=len(years))
        raw = base * scale * trend * noise
        for year, value in zip(years, raw, strict=True):
            by_year[int(year)][code] = _shape(code, float(value))
    for values in by_year.values():
        for _ in range(3):  # chains such as RD_SCIENTISTS ≤ RD_PERSONNEL ≤ EMPLOYED settle quickly
            for code, bound in rules:
                limit = bound.evaluate(values)
                if code in values and limit is not None and values[code] > limit:
                    values[code] = _shape(code, limit, down=True)
    series: dict[str, dict[int, float]] = {}
    for year, values in by_year.items():
        for code, value in values.items():
            series.setdefault(code, {})[year] = value
    return series


COUNTS = {code for code, base in BASE_2023.items() if isinstance(base, int)}


def _shape(code: str, value: float, *, down: bool = False) -> float:
    if code in COUNTS:
        return float(math.floor(value) if down else round(value))
    if code in ("CSPI", "TECH_CONTRIB_RATE"):
        return round(min(value, 95.0), 2)
    return round(value, 4) if not down else math.floor(value * 10_000) / 10_000


def _state(county: OrgUnit, number: int, year: int, dataset: DataSet) -> dict[str, Any]:
    """Every past year approved; this year's submissions spread over every state."""
    approved = {
        "status": "approved",
        "approved_levels": [2, 1],
        "next_level": None,
        "visible_level": 0,
    }
    if year < LAST_YEAR:
        return approved
    if county.code == OWN_COUNTY:
        return {"status": "draft", "visible_level": county.level}
    if county.code == SIBLING:
        return {"status": "submitted", "next_level": 2, "visible_level": 2}
    states = [
        {"status": "draft", "visible_level": county.level},
        {"status": "submitted", "next_level": 2, "visible_level": 2},
        {"status": "submitted", "approved_levels": [2], "next_level": 1, "visible_level": 1},
        {
            "status": "returned",
            "visible_level": county.level,
            "return_reason": "研发经费支出与统计年报不一致，请核实后重报（示例数据）",
        },
        approved,
    ]
    return states[number % len(states)]


def _targets(county: OrgUnit, size: float, growth: float, indicators: dict[str, Indicator]) -> int:
    city = county.parent
    rows = []
    for code, goal in TARGETS_2023.items():
        indicator = indicators.get(code)
        if indicator is None:
            continue
        for year in TARGET_YEARS:
            scale = 1.0 if code == "CSPI" or county.code == OWN_COUNTY else size
            value = goal * scale * (1.0 + max(growth, 0.03)) ** (year - 2023) * 1.05
            value = round(value) if indicator.value_type == "integer" else round(value, 2)
            rows.append(
                Target(
                    org_unit=county,
                    indicator=indicator,
                    year=year,
                    comparator="gte",
                    value=max(value, 1 if indicator.value_type == "integer" else 0.01),
                    set_by_unit=city,
                    is_demo=True,
                    note="示例数据：参照泾川县2023年预期指标",
                )
            )
    if "TECH_CONTRACT_VALUE" in indicators:
        # Seed 000: 技术交易额 growing 5 %–8 % a year.
        rows.append(
            Target(
                org_unit=county,
                indicator=indicators["TECH_CONTRACT_VALUE"],
                year=2026,
                comparator="cagr",
                value=5.0,
                base_year=2022,
                set_by_unit=city,
                is_demo=True,
                note="示例数据：年均增长5%以上",
            )
        )
    Target.objects.bulk_create(rows)
    return len(rows)
