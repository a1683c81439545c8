from __future__ import annotations

import pytest

from kechuang.demo.indicator_data import load_indicator_demo
from kechuang.indicators.models import DataValue
from kechuang.plans.services import ingest
from kechuang.plans.services.targets import readings

pytestmark = pytest.mark.django_db

TEXT = """泾川县2024年科技创新工作方案
一、主要目标
(一)科技投入
1.2024年,研发经费支出达到0.01亿元以上,高新技术企业总数达到500家以上。(牵头单位:县科技局)
"""


def test_targets_named_in_the_catalogue_are_read_from_approved_data(cast) -> None:
    load_indicator_demo(province="62")
    unit = cast.unit("jingchuan")
    plan = ingest.publish(ingest.propose(TEXT, unit), org_unit=unit, actor=None, text=TEXT)
    rows = {r.target.subject: r for r in readings(plan, 2024)}
    rd = rows["研发经费支出"]
    assert rd.target.indicator.code == "RD_EXP"
    stored = DataValue.objects.get(
        org_unit=unit, year=2024, indicator__code="RD_EXP", submission__status="approved"
    ).value
    assert rd.value == pytest.approx(stored)
    assert rd.met is (stored >= 0.01)
