"""A small catalogue for indicator tests: four reported indicators, a rule, a county data set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from kechuang.indicators.choices import Importance, Rollup, ValueType
from kechuang.indicators.models import DataSet, DataSetMember, Indicator, ValidationRule


@dataclass
class Catalogue:
    dataset: DataSet
    indicators: dict[str, Indicator]


def build_catalogue() -> Catalogue:
    specs = [
        ("RD_EXP", "研发经费支出", "亿元", ValueType.NUMBER, Rollup.SUM, 0.0),
        ("GOV_ST_EXP", "本级财政科技支出", "亿元", ValueType.NUMBER, Rollup.SUM, 0.0),
        ("GOV_EXP", "一般公共预算支出", "亿元", ValueType.NUMBER, Rollup.SUM, 0.0),
        ("HTE_NEW", "新增高新技术企业", "家", ValueType.INTEGER, Rollup.SUM, 0.0),
    ]
    indicators = {
        code: Indicator.objects.create(
            code=code, name=name, unit=unit, value_type=vt, rollup=rollup, min_value=low, order=i
        )
        for i, (code, name, unit, vt, rollup, low) in enumerate(specs)
    }
    indicators["GOV_ST_SHARE"] = Indicator.objects.create(
        code="GOV_ST_SHARE",
        name="财政科技支出占比",
        unit="%",
        rollup=Rollup.RATIO,
        numerator=indicators["GOV_ST_EXP"],
        denominator=indicators["GOV_EXP"],
        scale=100,
        formula="GOV_ST_EXP / GOV_EXP * 100",
        order=9,
    )
    dataset = DataSet.objects.create(
        code="COUNTY_ANNUAL",
        name="县域科技创新年度监测",
        approval_levels=[2, 1],
        reporting_levels=[3],
    )
    for order, code in enumerate(["RD_EXP", "GOV_ST_EXP", "GOV_EXP", "HTE_NEW", "GOV_ST_SHARE"]):
        DataSetMember.objects.create(
            dataset=dataset,
            indicator=indicators[code],
            order=order,
            section="投入" if order < 3 else "产出",
        )
    ValidationRule.objects.create(
        code="ST_LE_BUDGET",
        name="财政科技支出不超过一般公共预算支出",
        left="GOV_ST_EXP",
        operator="<=",
        right="GOV_EXP",
        importance=Importance.ERROR,
    )
    return Catalogue(dataset, indicators)


@pytest.fixture
def catalogue(db: Any) -> Catalogue:
    return build_catalogue()
