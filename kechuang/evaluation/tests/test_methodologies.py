from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kechuang.audit.models import LogEntry
from kechuang.core.errors import Forbidden, InvalidInput, NotFound
from kechuang.evaluation.models import Methodology, MethodologyNode
from kechuang.evaluation.services import methodologies, runs
from kechuang.indicators.services.catalogue import load_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(cast: Any) -> None:
    load_catalogue(actor=None)


def test_the_shipped_methodologies_build_and_name_catalogue_indicators(catalogue) -> None:
    loaded = methodologies.load_methodologies(actor=None)
    assert [m.code for m in loaded] == ["CSPI_COUNTY", "CSPI_MINMAX", "CSPI_RELATIVE"]
    cspi = loaded[0]
    framework = methodologies.framework_of(cspi)
    firsts = MethodologyNode.objects.filter(methodology=cspi, parent_code="CSPI")
    assert [n.name for n in firsts] == [
        "科技进步环境",
        "科技活动投入",
        "科技活动产出",
        "高新技术产业化",
        "科技促进经济社会发展",
    ]
    leaves = MethodologyNode.objects.filter(methodology=cspi, level=1)
    assert leaves.count() == len(framework.indicators) > 20
    assert not leaves.filter(indicator__isnull=True).exists()
    assert not leaves.filter(target__isnull=True).exists()  # a standard value on every one
    # The official weights are not public: the page must say so.
    assert "等权" in cspi.note
    relative = loaded[2]
    assert set(
        MethodologyNode.objects.filter(methodology=relative).values_list("level", flat=True)
    ) == {1, 2}
    assert LogEntry.objects.filter(action="evaluation.methodology.save").count() == 3


def test_loading_again_changes_nothing_but_the_log(catalogue) -> None:
    methodologies.load_methodologies(actor=None)
    nodes = list(
        MethodologyNode.objects.order_by("pk").values_list("methodology__code", "code", "weight")
    )
    methodologies.load_methodologies(actor=None)
    again = list(
        MethodologyNode.objects.order_by("pk").values_list("methodology__code", "code", "weight")
    )
    assert sorted(nodes) == sorted(again)
    assert Methodology.objects.count() == 3


def test_only_province_administrators_load_methodologies(cast, catalogue) -> None:
    with pytest.raises(Forbidden):
        methodologies.load_methodologies(actor=cast.user("pingliang", "admin"))
    with pytest.raises((Forbidden, NotFound)):
        methodologies.load_methodologies(actor=cast.user("gansu", "leader"))
    assert not Methodology.objects.exists()
    methodologies.load_methodologies(actor=cast.user("gansu", "admin"))
    assert Methodology.objects.count() == 3


def test_a_methodology_that_has_runs_is_never_rewritten(shipped, cast) -> None:
    cspi = shipped["CSPI_COUNTY"]
    runs.compute(cspi, 2024, within=cast.unit("gansu"), actor=None)
    entry = methodologies.entry_from(cspi)
    entry.nodes[1].weight = 3.0
    with pytest.raises(InvalidInput, match="新的版本"):
        methodologies.save_methodology(entry, source="imported", actor=None)
    assert MethodologyNode.objects.get(methodology=cspi, code=entry.nodes[1].code).weight == 1.0


def test_unknown_indicators_and_broken_trees_are_refused(catalogue) -> None:
    entry = methodologies.read_methodologies()[0]
    entry.nodes.append(methodologies.NodeEntry("NO_SUCH", "不存在", 1, "CSPI_ENV_HR"))
    with pytest.raises(InvalidInput, match="NO_SUCH"):
        methodologies.save_methodology(entry, source="imported", actor=None)
    entry.nodes[-1] = methodologies.NodeEntry("RD_EXP", "研发经费支出", 1, "NOWHERE")
    with pytest.raises(InvalidInput, match="NOWHERE"):
        methodologies.save_methodology(entry, source="imported", actor=None)
    assert not Methodology.objects.exists()


def official_table(path: Path, rows: list[list[Any]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "指标体系"
    sheet.append(["层级", "代码", "名称", "上级代码", "方向", "权重", "标准值"])
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


GOOD_TABLE = [
    [3, "T", "县域科技创新指数", "", "", "", ""],
    [2, "IN", "投入", "T", "", "40%", ""],
    [2, "OUT", "产出", "T", "", "60%", ""],
    [1, "RD_INTENSITY", "研发经费投入强度", "IN", "正向", 0.7, 2.5],
    [1, "GOV_ST_SHARE", "财政科技支出占比", "IN", "正向", 0.3, 5],
    [1, "TECH_CONTRACT_PER_10K", "万人技术成果成交额", "OUT", "正向", 1, 200],
    [1, "ENERGY_INTENSITY", "万元GDP能耗", "OUT", "逆向", 1, 0.4],
]


def test_an_official_table_becomes_a_new_version(tmp_path, shipped, cast) -> None:
    base = shipped["CSPI_COUNTY"]
    path = official_table(tmp_path / "甘肃省县域指标体系.xlsx", GOOD_TABLE)
    imported = methodologies.import_excel(
        path, base=base, version=2026, actor=cast.user("gansu", "admin")
    )
    assert (imported.code, imported.version, imported.steps) == (base.code, 2026, base.steps)
    nodes = {n.code: n for n in imported.nodes.all()}
    assert (nodes["IN"].weight, nodes["OUT"].weight) == (0.4, 0.6)
    assert nodes["ENERGY_INTENSITY"].direction == -1
    assert nodes["RD_INTENSITY"].indicator.code == "RD_INTENSITY"
    assert methodologies.latest(base.code, 2026) == imported
    assert methodologies.latest(base.code, 2025) == base


@pytest.mark.parametrize(
    ("change", "place"),
    [
        ((3, 4, "abc"), "指标体系:5:E"),  # direction
        ((4, 5, "很多"), "指标体系:6:F"),  # weight
        ((5, 6, "-3"), "指标体系:7:G"),  # target
        ((6, 0, "x"), "指标体系:8:A"),  # level
        ((6, 1, None), "指标体系:8:B"),  # code
    ],
)
def test_a_bad_table_names_the_cell_and_changes_nothing(tmp_path, shipped, change, place) -> None:
    row, column, value = change
    rows = [list(r) for r in GOOD_TABLE]
    rows[row][column] = value
    path = official_table(tmp_path / "表.xlsx", rows)
    before = (
        Methodology.objects.count(),
        MethodologyNode.objects.count(),
        LogEntry.objects.count(),
    )
    with pytest.raises(InvalidInput, match=f"表.xlsx:{place}"):
        methodologies.import_excel(path, base=shipped["CSPI_COUNTY"], version=2026, actor=None)
    after = (Methodology.objects.count(), MethodologyNode.objects.count(), LogEntry.objects.count())
    assert after == before


def test_a_table_with_an_orphan_node_is_refused(tmp_path, shipped) -> None:
    rows = [list(r) for r in GOOD_TABLE]
    rows[3][3] = "MISSING"
    path = official_table(tmp_path / "表.xlsx", rows)
    with pytest.raises(InvalidInput, match="MISSING"):
        methodologies.import_excel(path, base=shipped["CSPI_COUNTY"], version=2026, actor=None)
    assert Methodology.objects.filter(version=2026).count() == 0
