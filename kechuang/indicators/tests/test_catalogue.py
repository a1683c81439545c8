"""The shipped indicator catalogue and its loader: content, idempotence, refusals, round trips."""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kechuang.audit.models import LogEntry
from kechuang.core.errors import Forbidden, InvalidInput
from kechuang.indicators import expressions
from kechuang.indicators.choices import Rollup
from kechuang.indicators.models import (
    DataSet,
    DataSetMember,
    Indicator,
    IndicatorGroup,
    ValidationRule,
)
from kechuang.indicators.services import catalogue
from kechuang.indicators.validation import RuleSpec, check_rules

SHIPPED = catalogue.SHIPPED_CATALOGUE
MODELS = (
    IndicatorGroup,
    Indicator,
    Indicator.groups.through,
    DataSet,
    DataSetMember,
    ValidationRule,
    LogEntry,
)


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table the loader may touch, audit log included."""
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in MODELS}


def shipped_data() -> dict[str, Any]:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: Any, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_entries(action: str = catalogue.ACTION) -> list[LogEntry]:
    return list(LogEntry.objects.filter(action=action).order_by("pk"))


# ---------------------------------------------------------------- the shipped catalogue


@pytest.fixture
def loaded(db: Any) -> catalogue.CatalogueReport:
    return catalogue.load_catalogue(actor=None)


def test_the_shipped_catalogue_loads(loaded: catalogue.CatalogueReport) -> None:
    shipped = catalogue.read_catalogue()
    assert loaded.groups == catalogue.KindCounts(created=len(shipped.groups))
    assert loaded.indicators == catalogue.KindCounts(created=len(shipped.indicators))
    assert loaded.datasets == catalogue.KindCounts(created=len(shipped.datasets))
    assert loaded.rules == catalogue.KindCounts(created=len(shipped.rules))
    assert loaded.changed
    assert IndicatorGroup.objects.count() == len(shipped.groups)
    assert Indicator.objects.count() == len(shipped.indicators)
    assert DataSet.objects.count() == len(shipped.datasets)
    assert ValidationRule.objects.count() == len(shipped.rules)
    assert 45 <= Indicator.objects.count() <= 70
    assert "新增" in loaded.summary()


def test_the_shipped_file_is_the_default_and_names_its_sources() -> None:
    header = SHIPPED.read_text(encoding="utf-8").split("\ngroups:")[0]
    for source in (
        "seeds/000_",
        "seeds/002_",
        "seeds/004_",
        "index-methodology.md §1",
        "plan-gold",
    ):
        assert source in header
    for key in ("groups:", "indicators:", "datasets:", "rules:", "approval_levels", "formula"):
        assert key in header  # the schema is documented at the top
    assert catalogue.read_catalogue().source == "catalogue.yaml"


# What seed 002's 预期指标 (items 1–7) set targets on, as annotated in
# shared/data/plan-gold/002_006af767866823f6.json, and the indicator that carries each.
SEED_002_TARGETS = {
    "综合科技进步水平指数": "CSPI",
    "研发经费支出": "RD_EXP",
    "本级财政科技支出": "GOV_ST_EXP",
    "有研发活动的规上企业": "ENT_RD_ACTIVE",
    "新产品销售收入": "NEW_PRODUCT_SALES",
    "高技术产业营业收入": "HIGH_TECH_REVENUE",
    "登记科技成果": "REG_ACHIEVEMENTS",
    "高价值发明专利拥有量": "HV_INVENTION_PATENTS",
    "技术市场合同成交金额": "TECH_CONTRACT_VALUE",
    "新增高新技术企业": "NEW_HNTE",
    "新增省级科技创新型企业": "NEW_PROV_STI_ENT",
    "入库评价科技型中小企业": "TECH_SME",
    "省级科技创新平台": "NEW_PROV_PLATFORMS",
    "市级科技创新型企业": "NEW_CITY_STI_ENT",
    "技术创新中心": "NEW_TIC",
    "科普基地": "NEW_POP_SCI_BASES",
    "众创空间": "NEW_MAKERSPACES",
    "科技特派员": "COMMISSIONERS",
    "科技特派员团队": "COMMISSIONER_TEAMS",
}
# The unit each target is written in (plan-gold), where the catalogue keeps it.
SEED_002_UNITS = {
    "CSPI": "%",
    "RD_EXP": "亿元",
    "GOV_ST_EXP": "亿元",
    "ENT_RD_ACTIVE": "家",
    "NEW_PRODUCT_SALES": "亿元",
    "HIGH_TECH_REVENUE": "亿元",
    "REG_ACHIEVEMENTS": "项",
    "HV_INVENTION_PATENTS": "件",
    "TECH_CONTRACT_VALUE": "亿元",
    "NEW_HNTE": "家",
    "TECH_SME": "家",
    "NEW_PROV_PLATFORMS": "个",
    "COMMISSIONER_TEAMS": "个",
}
# Seeds 000 and 004, and the running text of 002, by the name the indicator carries.
OTHER_SEED_TARGETS = {
    "技术市场合同成交金额": "TECH_CONTRACT_VALUE",  # 000: 县域技术交易额 年均增长5%—8%
    "科技园区数": "SCI_PARKS",  # 000: 每个县(市)建设一个科技园区
    "研发经费投入强度": "RD_INTENSITY",  # 004: R&D 经费占地区生产总值比重 2%
    "科技进步贡献率": "TECH_CONTRIB_RATE",  # 004: 55%
    "高新技术企业数": "HNTE",  # 002: 3家; 004: 2家
    "省级科技创新型企业数": "PROV_STI_ENT",  # 002: 5家; 004: 创新型企业 4家
    "各级各类科技创新平台数": "PLATFORMS",  # 004: 15家
    "财政科技支出占一般公共预算支出比重": "GOV_ST_SHARE",  # 002 工作重点
    "万人有效发明专利拥有量": "PATENTS_PER_10K",  # 002 工作重点: 万人拥有专利数
    "R&D人员数": "RD_PERSONNEL",  # 002: 从事研究与试验发展人员
}


def test_every_seed_002_target_has_an_indicator(loaded: catalogue.CatalogueReport) -> None:
    indicators = {i.code: i for i in Indicator.objects.all()}
    missing = [s for s in SEED_002_TARGETS if not Indicator.objects.filter(name__contains=s)]
    assert missing == []
    for subject, code in SEED_002_TARGETS.items():
        indicator = indicators[code]
        assert subject in indicator.name, code
        assert "002" in indicator.source_note, code
        assert indicator.unit == SEED_002_UNITS.get(code, indicator.unit), code


def test_the_other_seed_targets_have_indicators(loaded: catalogue.CatalogueReport) -> None:
    by_name = dict(Indicator.objects.values_list("name", "code"))
    assert {name: by_name.get(name) for name in OTHER_SEED_TARGETS} == OTHER_SEED_TARGETS


def test_rd_intensity_is_derived_over_gdp(loaded: catalogue.CatalogueReport) -> None:
    rd = Indicator.objects.get(code="RD_INTENSITY")
    assert rd.is_derived
    assert rd.formula == "RD_EXP / GDP * 100"
    assert expressions.parse(rd.formula).evaluate({"RD_EXP": 0.16, "GDP": 80}) == pytest.approx(0.2)
    assert not Indicator.objects.get(code="GDP").is_derived


def test_derived_formulas_evaluate(loaded: catalogue.CatalogueReport) -> None:
    derived = list(Indicator.objects.exclude(formula=""))
    assert len(derived) >= 10
    reported = Indicator.objects.filter(formula="").values_list("code", flat=True)
    # Made-up inputs: every directly reported indicator gets a distinct positive value.
    values = {code: 1.5 + index for index, code in enumerate(sorted(reported))}
    for indicator in derived:
        expression = expressions.parse(indicator.formula)
        assert expression.codes <= set(values), indicator.code
        result = expression.evaluate(values)
        assert result is not None
        assert math.isfinite(result)
        assert result > 0
        # A missing input leaves the derived value missing instead of guessing.
        first = sorted(expression.codes)[0]
        assert expression.evaluate({**values, first: None}) is None


def test_ratio_indicators_have_numerator_and_denominator(
    loaded: catalogue.CatalogueReport,
) -> None:
    ratios = list(
        Indicator.objects.filter(rollup=Rollup.RATIO).select_related("numerator", "denominator")
    )
    assert len(ratios) >= 10
    for ratio in ratios:
        assert ratio.numerator is not None, ratio.code
        assert ratio.denominator is not None, ratio.code
        assert ratio.numerator != ratio.denominator
        assert not ratio.numerator.is_derived
        assert not ratio.denominator.is_derived
        # Rolled up from summed parts, the ratio equals its own formula.
        parts = {ratio.numerator.code: 12.0, ratio.denominator.code: 5.0}
        assert expressions.parse(ratio.formula).evaluate(parts) == pytest.approx(
            12.0 / 5.0 * ratio.scale
        )
    shares = {r.code: r for r in ratios}
    assert shares["GOV_ST_SHARE"].numerator.code == "GOV_ST_EXP"
    assert shares["GOV_ST_SHARE"].denominator.code == "GOV_EXP"
    assert shares["PATENTS_PER_10K"].denominator.code == "POPULATION"
    assert shares["RD_INTENSITY"].scale == 100


def test_counts_money_and_percentages_have_bounds(loaded: catalogue.CatalogueReport) -> None:
    for indicator in Indicator.objects.all():
        assert indicator.min_value == 0, indicator.code
        if indicator.value_type == "integer":
            assert indicator.decimals == 0
            assert indicator.unit in {"家", "项", "件", "人", "个"}
        if indicator.unit == "%" and indicator.code != "RS_WAGE_RATIO":
            assert indicator.max_value == 100, indicator.code
    assert Indicator.objects.get(code="ENERGY_INTENSITY").direction == "negative"


def test_the_framework_groups_nest_five_by_twelve(loaded: catalogue.CatalogueReport) -> None:
    root = IndicatorGroup.objects.get(code="CSPI")
    first = list(root.children.all())
    assert len(first) == 5
    assert {g.name for g in first} >= {"科技活动投入", "科技活动产出", "高新技术产业化"}
    second = IndicatorGroup.objects.filter(parent__in=first)
    assert second.count() == 12
    assert {"科研物质条件", "技术成果市场化", "经济发展方式转变"} <= {g.name for g in second}
    # The documented third-level indicators hang under their second-level dimension.
    in_framework = Indicator.objects.filter(groups__in=second).distinct()
    assert in_framework.count() >= 25
    assert all("index-methodology" in i.source_note for i in in_framework)


def test_the_county_data_set(loaded: catalogue.CatalogueReport) -> None:
    annual = DataSet.objects.get(code="COUNTY_ANNUAL")
    assert annual.name == "县域科技创新年度监测"
    assert annual.reporting_levels == [3]
    assert annual.approval_levels == [2, 1]
    members = list(annual.members.select_related("indicator"))
    assert all(m.section for m in members)
    assert len({m.section for m in members}) >= 5
    assert not any(m.indicator.is_derived for m in members)
    published = {"CSPI", "TECH_CONTRIB_RATE"}  # entered from the province's published results
    reported = set(Indicator.objects.filter(formula="").values_list("code", flat=True))
    assert {m.indicator.code for m in members} == reported - published
    assessment = DataSet.objects.get(code="COUNTY_ASSESSMENT")
    assert set(assessment.indicators.values_list("code", flat=True)) == published


def test_every_reported_indicator_is_in_exactly_one_data_set(
    loaded: catalogue.CatalogueReport,
) -> None:
    for indicator in Indicator.objects.all():
        count = DataSetMember.objects.filter(indicator=indicator).count()
        assert count == (0 if indicator.is_derived else 1), indicator.code


def test_the_rules_the_issue_asks_for(loaded: catalogue.CatalogueReport) -> None:
    def rule(left: str, right: str) -> ValidationRule:
        return ValidationRule.objects.get(left=left, right=right)

    assert rule("GOV_ST_EXP", "GOV_EXP").importance == "error"
    assert rule("ENT_RD_ACTIVE", "IND_ENTERPRISES").importance == "error"
    assert rule("HIGH_TECH_REVENUE", "IND_REVENUE").importance == "warning"
    assert rule("NEW_PRODUCT_SALES", "IND_REVENUE").importance == "warning"
    reported = set(Indicator.objects.filter(formula="").values_list("code", flat=True))
    for r in ValidationRule.objects.select_related("dataset"):
        codes = expressions.parse(r.left).codes | expressions.parse(r.right).codes
        # Only stored values are checked, so a rule over a derived code would never fire.
        assert codes <= reported, r.code
        members = set(r.dataset.indicators.values_list("code", flat=True))
        assert codes <= members, r.code


def test_the_shipped_rules_catch_what_they_say(loaded: catalogue.CatalogueReport) -> None:
    rules = [
        RuleSpec(r.code, r.name, r.left, r.operator, r.right, r.importance)
        for r in ValidationRule.objects.all()
    ]
    county = {
        "GOV_ST_EXP": 0.18,
        "GOV_EXP": 25.0,
        "ENT_RD_ACTIVE": 2,
        "IND_ENTERPRISES": 40,
        "RD_EXP": 0.16,
        "GDP": 80.0,
    }
    assert check_rules(rules, county) == []
    findings = check_rules(rules, {**county, "GOV_ST_EXP": 30.0, "RD_EXP": 9.0})
    by_code = {f.code: f.severity for f in findings}
    assert by_code == {"GOV_ST_EXP_WITHIN_BUDGET": "error", "RD_INTENSITY_PLAUSIBLE": "warning"}


# ---------------------------------------------------------------- reloading


def test_a_reload_changes_nothing_but_logs_the_load(loaded: catalogue.CatalogueReport) -> None:
    before = snapshot()
    again = catalogue.load_catalogue(actor=None)
    assert not again.changed
    assert again.indicators == catalogue.KindCounts(unchanged=loaded.indicators.created)
    assert again.groups == catalogue.KindCounts(unchanged=loaded.groups.created)
    assert again.datasets == catalogue.KindCounts(unchanged=loaded.datasets.created)
    assert again.rules == catalogue.KindCounts(unchanged=loaded.rules.created)
    after = snapshot()
    # Decision: every load is audited, even one that changes nothing; nothing else moves.
    new_entries = after.pop(LogEntry._meta.label)[len(before[LogEntry._meta.label]) :]
    before.pop(LogEntry._meta.label)
    assert after == before
    assert len(new_entries) == 1
    entry = load_entries()[-1]
    assert entry.actor_id is None
    assert entry.data["counts"] == again.as_dict()
    assert entry.data["created"] == {}
    assert entry.data["updated"] == {}
    assert len(entry.data["sha256"]) == 64


def test_an_edited_file_updates_exactly_what_changed(
    loaded: catalogue.CatalogueReport, tmp_path: Path
) -> None:
    data = shipped_data()
    indicators = {i["code"]: i for i in data["indicators"]}
    indicators["RD_EXP"]["name"] = "研究与试验发展经费支出"
    indicators["PATENTS_PER_10K"]["groups"] = ["PLAN_OUTPUT", "CSPI_OUTPUT_MARKET"]
    annual = data["datasets"][0]
    annual["members"] = [m for m in annual["members"] if m["indicator"] != "SCI_PARKS"]
    data["rules"][0]["importance"] = "warning"
    data["groups"].append({"code": "LOCAL", "name": "本省补充指标", "parent": "PLAN"})
    report = catalogue.load_catalogue(write(tmp_path, data, "catalogue.yaml"), actor=None)
    assert report.indicators == catalogue.KindCounts(
        updated=2, unchanged=loaded.indicators.created - 2
    )
    assert report.groups == catalogue.KindCounts(created=1, unchanged=loaded.groups.created)
    assert report.datasets == catalogue.KindCounts(updated=1, unchanged=1)
    assert report.rules == catalogue.KindCounts(updated=1, unchanged=loaded.rules.created - 1)
    assert Indicator.objects.get(code="RD_EXP").name == "研究与试验发展经费支出"
    assert set(
        Indicator.objects.get(code="PATENTS_PER_10K").groups.values_list("code", flat=True)
    ) == {"PLAN_OUTPUT", "CSPI_OUTPUT_MARKET"}
    assert not DataSetMember.objects.filter(indicator__code="SCI_PARKS").exists()
    assert IndicatorGroup.objects.get(code="LOCAL").parent.code == "PLAN"
    entry = load_entries()[-1]
    assert entry.data["updated"]["indicators"] == ["RD_EXP", "PATENTS_PER_10K"]
    assert entry.data["created"] == {"groups": ["LOCAL"]}


def test_rows_the_file_does_not_name_are_left_alone(
    loaded: catalogue.CatalogueReport, tmp_path: Path
) -> None:
    small = {"indicators": [{"code": "GDP", "name": "地区生产总值", "unit": "亿元"}]}
    report = catalogue.load_catalogue(write(tmp_path, small, "small.yaml"), actor=None)
    assert report.indicators.updated == 1  # GDP lost its group, definition and bounds
    assert Indicator.objects.count() == loaded.indicators.created
    assert Indicator.objects.get(code="GDP").groups.count() == 0
    assert DataSet.objects.count() == 2


# ---------------------------------------------------------------- who may load


@pytest.mark.parametrize(
    ("unit", "role"),
    [
        ("jingchuan", "admin"),
        ("jingchuan", "clerk"),
        ("pingliang", "admin"),
        ("gansu", "clerk"),
        ("gansu", "reviewer"),
        ("gansu", "leader"),
    ],
)
def test_only_province_admins_and_above_may_load(cast: Any, unit: str, role: str) -> None:
    before = snapshot()
    with pytest.raises(Forbidden):
        catalogue.load_catalogue(actor=cast.user(unit, role))
    assert snapshot() == before
    assert load_entries() == []


def test_a_province_admin_loads_and_the_entry_is_theirs(cast: Any) -> None:
    admin = cast.user("gansu", "admin")
    report = catalogue.load_catalogue(actor=admin)
    assert report.indicators.created >= 45
    entry = load_entries()[-1]
    assert entry.actor == admin
    assert entry.org_unit == cast.unit("gansu")
    assert LogEntry.objects.visible_to(admin).filter(pk=entry.pk).exists()
    assert (
        not LogEntry.objects.visible_to(cast.user("pingliang", "admin"))
        .filter(pk=entry.pk)
        .exists()
    )


def test_a_superuser_may_load(superuser: Any) -> None:
    assert catalogue.load_catalogue(actor=superuser).indicators.created >= 45


# ---------------------------------------------------------------- broken files


def small_catalogue() -> dict[str, Any]:
    return {
        "groups": [
            {"code": "INPUT", "name": "科技投入"},
            {"code": "INPUT_FIN", "name": "财力投入", "parent": "INPUT"},
        ],
        "indicators": [
            {"code": "RD_EXP", "name": "研发经费支出", "unit": "亿元", "groups": ["INPUT_FIN"]},
            {"code": "GDP", "name": "地区生产总值", "unit": "亿元"},
            {
                "code": "RD_INTENSITY",
                "name": "研发经费投入强度",
                "unit": "%",
                "value_type": "percent",
                "rollup": "ratio",
                "numerator": "RD_EXP",
                "denominator": "GDP",
                "scale": 100,
                "formula": "RD_EXP / GDP * 100",
                "groups": ["INPUT", "INPUT_FIN"],
            },
            {
                "code": "FIRMS",
                "name": "规上工业企业数",
                "unit": "家",
                "value_type": "integer",
                "min_value": 0,
            },
        ],
        "datasets": [
            {
                "code": "ANNUAL",
                "name": "年度监测",
                "approval_levels": [2, 1],
                "reporting_levels": [3],
                "members": [
                    {"indicator": "RD_EXP", "section": "投入"},
                    {"indicator": "GDP", "section": "基础"},
                    {"indicator": "FIRMS", "section": "基础", "required": False},
                ],
            }
        ],
        "rules": [
            {
                "code": "RD_WITHIN_GDP",
                "name": "研发经费不超过地区生产总值",
                "left": "RD_EXP",
                "operator": "<=",
                "right": "GDP",
                "importance": "error",
                "dataset": "ANNUAL",
            }
        ],
    }


Mutation = Callable[[dict[str, Any]], Any]


def setting(*path: Any, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def dropping(*path: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def appending(kind: str, item: dict[str, Any]) -> Mutation:
    return lambda data: data[kind].append(item)


BROKEN: list[tuple[str, Mutation, str, str]] = [
    # id, mutation, YAML path named, words of the message
    (
        "unknown group",
        setting("indicators", 0, "groups", value=["NOPE"]),
        "indicators[0].groups[0]",
        "NOPE",
    ),
    (
        "unknown parent",
        setting("groups", 1, "parent", value="NOPE"),
        "groups[1].parent",
        "未知的分组",
    ),
    ("parent cycle", setting("groups", 0, "parent", value="INPUT_FIN"), "groups[0].parent", "循环"),
    (
        "bad value type",
        setting("indicators", 1, "value_type", value="float"),
        "indicators[1].value_type",
        "float",
    ),
    (
        "bad direction",
        setting("indicators", 1, "direction", value="up"),
        "indicators[1].direction",
        "不是可选值",
    ),
    ("bad rollup", setting("indicators", 1, "rollup", value="max"), "indicators[1].rollup", "max"),
    (
        "ratio without numerator",
        dropping("indicators", 2, "numerator"),
        "indicators[2].numerator",
        "分子和分母",
    ),
    (
        "ratio parts on a sum",
        setting("indicators", 1, "numerator", value="RD_EXP"),
        "indicators[1].numerator",
        "ratio",
    ),
    (
        "unknown denominator",
        setting("indicators", 2, "denominator", value="NOPE"),
        "indicators[2].denominator",
        "NOPE",
    ),
    (
        "formula syntax",
        setting("indicators", 2, "formula", value="RD_EXP / (GDP * 100"),
        "indicators[2].formula",
        "语法错误",
    ),
    (
        "formula call",
        setting("indicators", 2, "formula", value="__import__('os')"),
        "indicators[2].formula",
        "不",
    ),
    (
        "formula unknown code",
        setting("indicators", 2, "formula", value="RD_EXP / GNP * 100"),
        "indicators[2].formula",
        "GNP",
    ),
    (
        "formula disagrees with ratio",
        setting("indicators", 2, "scale", value=10),
        "indicators[2].formula",
        "不一致",
    ),
    (
        "self formula",
        setting("indicators", 1, "formula", value="GDP * 2"),
        "indicators[1].formula",
        "循环",
    ),
    (
        "circular formulas",
        lambda d: (
            d["indicators"][0].update(formula="GDP * 2"),
            d["indicators"][1].update(formula="RD_EXP / 2"),
        ),
        "indicators[0].formula",
        "RD_EXP → GDP → RD_EXP",
    ),
    (
        "duplicate indicator",
        appending("indicators", {"code": "GDP", "name": "又一个"}),
        "indicators[4].code",
        "重复",
    ),
    (
        "duplicate group",
        appending("groups", {"code": "INPUT", "name": "又一个"}),
        "groups[2].code",
        "重复",
    ),
    (
        "duplicate data set",
        appending("datasets", {"code": "ANNUAL", "name": "又一个", "reporting_levels": [3]}),
        "datasets[1].code",
        "重复",
    ),
    (
        "duplicate rule",
        appending(
            "rules",
            {"code": "RD_WITHIN_GDP", "name": "x", "left": "GDP", "operator": ">", "right": "0"},
        ),
        "rules[1].code",
        "重复",
    ),
    ("bad code", setting("indicators", 0, "code", value="rd_exp"), "indicators[0].code", "rd_exp"),
    ("long code", setting("indicators", 3, "code", value="A" * 41), "indicators[3].code", "40"),
    (
        "unknown key",
        setting("indicators", 0, "formual", value="GDP"),
        "indicators[0].formual",
        "未知字段",
    ),
    ("missing name", dropping("indicators", 0, "name"), "indicators[0].name", "必填"),
    (
        "text for a number",
        setting("indicators", 3, "min_value", value="零"),
        "indicators[3].min_value",
        "数值",
    ),
    (
        "min above max",
        setting("indicators", 3, "max_value", value=-1),
        "indicators[3].min_value",
        "大于上限",
    ),
    (
        "decimals on a count",
        setting("indicators", 3, "decimals", value=2),
        "indicators[3].decimals",
        "整数",
    ),
    (
        "member unknown",
        setting("datasets", 0, "members", 0, "indicator", value="NOPE"),
        "datasets[0].members[0].indicator",
        "NOPE",
    ),
    (
        "member derived",
        setting("datasets", 0, "members", 0, "indicator", value="RD_INTENSITY"),
        "datasets[0].members[0].indicator",
        "派生",
    ),
    (
        "member twice",
        setting("datasets", 0, "members", 1, "indicator", value="RD_EXP"),
        "datasets[0].members[1].indicator",
        "重复",
    ),
    (
        "required not bool",
        setting("datasets", 0, "members", 0, "required", value="是"),
        "datasets[0].members[0].required",
        "true",
    ),
    (
        "bad level",
        setting("datasets", 0, "approval_levels", value=[2, 7]),
        "datasets[0].approval_levels[1]",
        "7",
    ),
    (
        "approver below reporter",
        setting("datasets", 0, "approval_levels", value=[3]),
        "datasets[0].approval_levels[0]",
        "审核层级",
    ),
    (
        "no reporting level",
        setting("datasets", 0, "reporting_levels", value=[]),
        "datasets[0].reporting_levels",
        "至少",
    ),
    (
        "30 February",
        lambda d: d["datasets"][0].update(due_month=2, due_day=30),
        "datasets[0].due_day",
        "28",
    ),
    ("bad operator", setting("rules", 0, "operator", value="=>"), "rules[0].operator", "=>"),
    (
        "bad importance",
        setting("rules", 0, "importance", value="fatal"),
        "rules[0].importance",
        "fatal",
    ),
    (
        "rule over derived",
        setting("rules", 0, "left", value="RD_INTENSITY"),
        "rules[0].left",
        "派生",
    ),
    ("rule unknown code", setting("rules", 0, "right", value="GNP * 0.1"), "rules[0].right", "GNP"),
    (
        "rule without codes",
        lambda d: d["rules"][0].update(left="1", right="2"),
        "rules[0].left",
        "至少",
    ),
    (
        "rule unknown data set",
        setting("rules", 0, "dataset", value="NOPE"),
        "rules[0].dataset",
        "NOPE",
    ),
    ("list not a mapping", setting("groups", 0, value="INPUT"), "groups[0]", "映射"),
    ("kind not a list", setting("rules", value={"code": "X"}), "rules", "列表"),
    ("unknown kind", setting("targets", value=[]), "targets", "未知字段"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mutate", "where", "words"),
    [pytest.param(m, w, words, id=name) for name, m, w, words in BROKEN],
)
def test_a_broken_catalogue_names_the_place_and_changes_nothing(
    tmp_path: Path, mutate: Mutation, where: str, words: str
) -> None:
    catalogue.load_catalogue(write(tmp_path, small_catalogue(), "good.yaml"), actor=None)
    data = small_catalogue()
    mutate(data)
    before = snapshot()
    with pytest.raises(InvalidInput) as caught:
        catalogue.load_catalogue(write(tmp_path, data), actor=None)
    message = str(caught.value)
    assert f"broken.yaml: {where}: " in message
    line = next(line for line in message.splitlines() if f": {where}: " in line)
    assert words in line
    assert where in caught.value.fields
    assert snapshot() == before


def test_the_small_catalogue_itself_is_good(db: Any, tmp_path: Path) -> None:
    report = catalogue.load_catalogue(write(tmp_path, small_catalogue(), "good.yaml"), actor=None)
    assert report.indicators.created == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "文件为空"),
        ("# only a comment\n", "文件为空"),
        ("- groups\n- indicators\n", "映射"),
        ("groups: [\n  {code: A, name: x\n", "YAML 格式错误"),
        ("indicators:\n  - code: A\n     name: x\n", "第 3 行"),
        ("indicators: &a [*a]\n", ""),
    ],
)
def test_unreadable_files_change_nothing(tmp_path: Path, text: str, words: str) -> None:
    before = snapshot()
    with pytest.raises(InvalidInput) as caught:
        catalogue.load_catalogue(write(tmp_path, text), actor=None)
    assert str(caught.value).startswith("broken.yaml: ")
    assert words in str(caught.value)
    assert snapshot() == before


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_or_missing_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes("indicators:\n  - {code: A, name: 研发}\n".encode("gbk"))
    with pytest.raises(InvalidInput, match=re.escape("gbk.yaml: 文件不是 UTF-8 编码")):
        catalogue.load_catalogue(path, actor=None)
    with pytest.raises(InvalidInput, match=re.escape("missing.yaml: 找不到文件")):
        catalogue.load_catalogue(tmp_path / "missing.yaml", actor=None)
    assert snapshot() == {label: [] for label in snapshot()}


@pytest.mark.django_db
def test_a_broken_shipped_copy_names_the_indicator_index(tmp_path: Path) -> None:
    data = shipped_data()
    index = next(i for i, x in enumerate(data["indicators"]) if x["code"] == "RD_INTENSITY")
    data["indicators"][index]["formula"] = "RD_EXP / GDPP * 100"
    with pytest.raises(InvalidInput) as caught:
        catalogue.load_catalogue(write(tmp_path, data, "catalogue.yaml"), actor=None)
    assert str(caught.value).startswith(f"catalogue.yaml: indicators[{index}].formula: ")
    assert "GDPP" in str(caught.value)
    assert Indicator.objects.count() == 0


@pytest.mark.django_db
def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    # Shape and value problems come first, all together: references are only
    # followed in a file whose entries read cleanly, so one typo does not cascade.
    data = small_catalogue()
    data["indicators"][0]["value_type"] = "float"
    data["rules"][0]["operator"] = "=>"
    data["datasets"][0]["colour"] = "red"
    with pytest.raises(InvalidInput) as caught:
        catalogue.load_catalogue(write(tmp_path, data), actor=None)
    assert set(caught.value.fields) == {
        "indicators[0].value_type",
        "rules[0].operator",
        "datasets[0].colour",
    }
    assert len(str(caught.value).splitlines()) == 3

    data = small_catalogue()
    data["indicators"][2]["formula"] = "RD_EXP / GNP * 100"
    data["datasets"][0]["members"][0]["indicator"] = "NOPE"
    data["rules"][0]["dataset"] = "NOPE"
    with pytest.raises(InvalidInput) as caught:
        catalogue.load_catalogue(write(tmp_path, data), actor=None)
    assert set(caught.value.fields) == {
        "indicators[2].formula",
        "datasets[0].members[0].indicator",
        "rules[0].dataset",
    }


# ---------------------------------------------------------------- round trips (hypothesis)

TEXT = st.text(
    alphabet="科技创新指标数据经费企业甲乙ABCxyz019（）%&:#-'\"", min_size=1, max_size=12
)
GROUP_CODES = ["G1", "G2", "G3", "G4"]
INDICATOR_CODES = ["A", "B", "C", "D", "E", "F", "NO", "ON"]  # NO and ON are YAML 1.1 booleans
DATASET_CODES = ["D1", "D2"]
RULE_CODES = ["R1", "R2", "R3"]


@st.composite
def catalogues(draw: st.DrawFn) -> dict[str, Any]:
    """A small valid catalogue over a few fixed codes, so two draws overlap."""
    group_codes = draw(st.lists(st.sampled_from(GROUP_CODES), max_size=4, unique=True))
    groups = []
    for index, code in enumerate(group_codes):
        group: dict[str, Any] = {"code": code, "name": draw(TEXT)}
        if index and draw(st.booleans()):
            group["parent"] = draw(st.sampled_from(group_codes[:index]))
        if draw(st.booleans()):
            group["name_en"] = draw(TEXT)
        if draw(st.booleans()):
            group["order"] = draw(st.integers(0, 1000))
        groups.append(group)

    codes = draw(st.lists(st.sampled_from(INDICATOR_CODES), min_size=2, max_size=7, unique=True))
    n_derived = draw(st.integers(0, min(2, len(codes) - 2)))
    reported, derived = codes[: len(codes) - n_derived], codes[len(codes) - n_derived :]
    indicators = []
    for code in reported:
        value_type = draw(st.sampled_from(["integer", "number", "percent", "index"]))
        indicator: dict[str, Any] = {
            "code": code,
            "name": draw(TEXT),
            "value_type": value_type,
            "rollup": draw(st.sampled_from(["sum", "average", "none"])),
            "direction": draw(st.sampled_from(["positive", "negative"])),
        }
        if value_type != "integer" and draw(st.booleans()):
            indicator["decimals"] = draw(st.integers(0, 6))
        bounds = sorted(
            draw(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=2, max_size=2))
        )
        if draw(st.booleans()):
            indicator["min_value"] = bounds[0]
        if draw(st.booleans()):
            indicator["max_value"] = bounds[1]
        for key in ("name_en", "unit", "definition", "source_department", "source_note"):
            if draw(st.booleans()):
                indicator[key] = draw(TEXT)
        if group_codes:
            indicator["groups"] = draw(st.lists(st.sampled_from(group_codes), unique=True))
        indicator["order"] = draw(st.integers(0, 1000))
        indicators.append(indicator)
    for code in derived:
        numerator, denominator = draw(
            st.lists(st.sampled_from(reported), min_size=2, max_size=2, unique=True)
        )
        scale = draw(st.sampled_from([1, 100, 10000]))
        indicators.append(
            {
                "code": code,
                "name": draw(TEXT),
                "value_type": "percent" if scale == 100 else "number",
                "rollup": "ratio",
                "numerator": numerator,
                "denominator": denominator,
                "scale": scale,
                "formula": f"{numerator} / {denominator}" + ("" if scale == 1 else f" * {scale}"),
            }
        )

    datasets = []
    for code in draw(st.lists(st.sampled_from(DATASET_CODES), max_size=2, unique=True)):
        members = [
            {
                "indicator": member,
                "section": draw(TEXT),
                "order": draw(st.integers(0, 100)),
                "required": draw(st.booleans()),
            }
            for member in draw(st.lists(st.sampled_from(reported), unique=True))
        ]
        datasets.append(
            {
                "code": code,
                "name": draw(TEXT),
                "description": draw(TEXT),
                "due_month": draw(st.integers(1, 12)),
                "due_day": draw(st.integers(1, 28)),
                "approval_levels": draw(st.lists(st.sampled_from([0, 1, 2]), unique=True)),
                "reporting_levels": draw(st.sampled_from([[3], [3, 4], [2, 3]])),
                "members": members,
            }
        )

    rules = []
    for code in draw(st.lists(st.sampled_from(RULE_CODES), max_size=3, unique=True)):
        rule: dict[str, Any] = {
            "code": code,
            "name": draw(TEXT),
            "left": draw(st.sampled_from(reported)),
            "operator": draw(st.sampled_from(["<=", "<", ">=", ">", "==", "!="])),
            "right": draw(st.sampled_from([*reported, "0"])) + draw(st.sampled_from(["", " * 2"])),
            "importance": draw(st.sampled_from(["error", "warning"])),
        }
        if datasets and draw(st.booleans()):
            rule["dataset"] = draw(st.sampled_from([d["code"] for d in datasets]))
        rules.append(rule)
    return {"groups": groups, "indicators": indicators, "datasets": datasets, "rules": rules}


def plain(entry: Any) -> dict[str, Any]:
    """A record as YAML would hold it (lists, not tuples)."""

    def unwrap(value: Any) -> Any:
        if isinstance(value, tuple | list):
            return [unwrap(v) for v in value]
        if isinstance(value, dict):
            return {k: unwrap(v) for k, v in value.items()}
        return value

    return unwrap(asdict(entry))


def database_rows(read: catalogue.Catalogue) -> dict[str, dict[str, dict[str, Any]]]:
    """The rows for the file's codes, in the file's own shape."""
    groups = {
        g.code: {
            "code": g.code,
            "name": g.name,
            "name_en": g.name_en,
            "parent": g.parent.code if g.parent else None,
            "order": g.order,
        }
        for g in IndicatorGroup.objects.filter(code__in=[e.code for e in read.groups])
    }
    indicators = {}
    for i in Indicator.objects.filter(code__in=[e.code for e in read.indicators]):
        row = {name: getattr(i, name) for name in catalogue.INDICATOR_FIELDS}
        row["code"] = i.code
        row["numerator"] = i.numerator.code if i.numerator else None
        row["denominator"] = i.denominator.code if i.denominator else None
        row["groups"] = sorted(g.code for g in i.groups.all())
        indicators[i.code] = row
    datasets = {
        d.code: {
            "code": d.code,
            "name": d.name,
            "description": d.description,
            "due_month": d.due_month,
            "due_day": d.due_day,
            "approval_levels": d.approval_levels,
            "reporting_levels": d.reporting_levels,
            "members": sorted(
                (
                    {
                        "indicator": m.indicator.code,
                        "section": m.section,
                        "order": m.order,
                        "required": m.is_required,
                    }
                    for m in d.members.all()
                ),
                key=lambda m: m["indicator"],
            ),
        }
        for d in DataSet.objects.filter(code__in=[e.code for e in read.datasets])
    }
    rules = {
        r.code: {
            "code": r.code,
            "name": r.name,
            "left": r.left,
            "operator": r.operator,
            "right": r.right,
            "importance": r.importance,
            "dataset": r.dataset.code if r.dataset else None,
        }
        for r in ValidationRule.objects.filter(code__in=[e.code for e in read.rules])
    }
    return {"groups": groups, "indicators": indicators, "datasets": datasets, "rules": rules}


def expected_rows(read: catalogue.Catalogue) -> dict[str, dict[str, dict[str, Any]]]:
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in catalogue.KINDS:
        rows[kind] = {}
        for entry in getattr(read, kind):
            row = plain(entry)
            if kind == "indicators":
                row["groups"] = sorted(row["groups"])
            if kind == "datasets":
                row["members"] = sorted(row["members"], key=lambda m: m["indicator"])
            rows[kind][entry.code] = row
    return rows


def assert_file_read_as_written(data: dict[str, Any], read: catalogue.Catalogue) -> None:
    for kind in catalogue.KINDS:
        entries = getattr(read, kind)
        assert len(entries) == len(data[kind])
        for written, entry in zip(data[kind], entries, strict=True):
            got = plain(entry)
            for key, value in written.items():
                assert got[key] == value, (kind, key)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=catalogues(), second=catalogues())
@pytest.mark.django_db
def test_valid_catalogues_round_trip(
    tmp_path: Path, first: dict[str, Any], second: dict[str, Any]
) -> None:
    with transaction.atomic():
        for name, data in (("first.yaml", first), ("second.yaml", second)):
            path = write(tmp_path, data, name)
            read = catalogue.read_catalogue(path)
            assert_file_read_as_written(data, read)
            catalogue.load_catalogue(path, actor=None)
            assert database_rows(read) == expected_rows(read)
        again = catalogue.load_catalogue(path, actor=None)
        assert not again.changed
        assert database_rows(read) == expected_rows(read)
        transaction.set_rollback(True)


def test_the_report_shape() -> None:
    report = catalogue.CatalogueReport(indicators=catalogue.KindCounts(1, 2, 3))
    assert report.as_dict()["indicators"] == {"created": 1, "updated": 2, "unchanged": 3}
    assert report.changed
    assert not catalogue.CatalogueReport(rules=catalogue.KindCounts(unchanged=5)).changed
    with pytest.raises(AttributeError):
        report.groups = catalogue.KindCounts()  # type: ignore[misc]


def test_broken_catalogue_cases_are_plenty() -> None:
    assert len(BROKEN) >= 10
    assert copy.deepcopy(small_catalogue()) == small_catalogue()
