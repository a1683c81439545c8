"""services.rollup: city and province values live from finally approved county values.

The helpers here (``build_catalogue``, ``add_lanzhou_staff``, ``report``) also serve
test_targets.py: every value is entered and approved through the real
services, as a county clerk, the city reviewer and the province reviewer would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from kechuang.accounts import services as accounts
from kechuang.indicators.choices import Direction, Rollup
from kechuang.indicators.models import DataSet, DataSetMember, Indicator
from kechuang.indicators.services import rollup, values, workflow
from kechuang.regions.choices import Level

PASSWORD = "Test-Passw0rd!"  # conftest.PASSWORD


@dataclass
class Catalogue:
    dataset: DataSet
    indicators: dict[str, Indicator]

    def __getitem__(self, code: str) -> Indicator:
        return self.indicators[code]

    def all(self) -> list[Indicator]:
        return list(self.indicators.values())


# Filled with these when a test does not care about an indicator (all are required but IND_REV).
DEFAULTS = {"RD_EXP": 1.0, "GDP": 100.0, "HT_REV": 10.0, "TECH_SHARE": 20.0, "SCORE": 50.0}


def build_catalogue() -> Catalogue:
    def indicator(code: str, name: str, **fields: Any) -> Indicator:
        return Indicator.objects.create(code=code, name=name, **fields)

    made = {
        "RD_EXP": indicator("RD_EXP", "研发经费支出", unit="亿元"),
        "GDP": indicator("GDP", "地区生产总值", unit="亿元"),
        "HT_REV": indicator("HT_REV", "高技术产业营业收入", unit="亿元"),
        "IND_REV": indicator("IND_REV", "规上工业营业收入", unit="亿元"),
        "SCORE": indicator("SCORE", "综合科技进步水平指数", rollup=Rollup.AVERAGE),
        "RANKING": indicator("RANKING", "县域排名", rollup=Rollup.NONE),
        "ENERGY": indicator("ENERGY", "单位产值能耗", direction=Direction.NEGATIVE),
    }
    made["TECH_SHARE"] = indicator(
        "TECH_SHARE",
        "高技术产业营业收入占比",
        unit="%",
        rollup=Rollup.RATIO,
        numerator=made["HT_REV"],
        denominator=made["IND_REV"],
        scale=100.0,
    )
    made["RD_INTENSITY"] = indicator(
        "RD_INTENSITY", "研发投入强度", unit="%", formula="RD_EXP / GDP * 100"
    )
    dataset = DataSet.objects.create(
        code="COUNTY_ANNUAL", name="县域科技创新年报", approval_levels=[2, 1], reporting_levels=[3]
    )
    for order, code in enumerate(
        ("RD_EXP", "GDP", "HT_REV", "IND_REV", "TECH_SHARE", "SCORE", "RANKING", "ENERGY")
    ):
        DataSetMember.objects.create(
            dataset=dataset,
            indicator=made[code],
            order=order,
            is_required=code in DEFAULTS,
        )
    return Catalogue(dataset, made)


@pytest.fixture
def catalogue(db: Any) -> Catalogue:
    return build_catalogue()


def add_lanzhou_staff(cast: Any) -> None:
    """The cast staffs no 兰州市 unit: add a city reviewer and two county clerks."""
    people = {
        ("lanzhou", "reviewer"): cast.unit("lanzhou"),
        ("chengguan_district", "clerk"): cast.unit("chengguan_district"),
        ("lanzhou_new_area", "clerk"): cast.unit("lanzhou_new_area"),
    }
    for (key, role), unit in people.items():
        cast.users[(key, role)] = accounts.create_user(
            actor=None, username=f"{key}_{role}", password=PASSWORD, org_unit=unit, role=role
        )


@pytest.fixture
def lanzhou_staff(cast: Any) -> None:
    add_lanzhou_staff(cast)


STAGES = ("draft", "submitted", "city_approved", "approved")


def report(
    cast: Any,
    catalogue: Catalogue,
    unit_key: str,
    year: int,
    numbers: dict[str, float | None] | None = None,
    *,
    stage: str = "approved",
) -> Any:
    """Enter a county's values for a year as its clerk and take them as far as ``stage``."""
    unit = cast.unit(unit_key)
    city_key = "pingliang" if unit.parent.code == "6208" else "lanzhou"
    clerk = cast.user(unit_key, "clerk")
    submission = values.open_submission(catalogue.dataset, unit, year, actor=clerk)
    cells = {**DEFAULTS, **(numbers or {})}
    values.set_values(
        submission,
        # A comment on every cell: year-on-year outlier warnings then never block the test data.
        [values.ValueChange(code, number, comment="测试数据") for code, number in cells.items()],
        actor=clerk,
    )
    if STAGES.index(stage) >= STAGES.index("submitted"):
        submission = workflow.submit_submission(submission, actor=clerk)
    if STAGES.index(stage) >= STAGES.index("city_approved"):
        submission = workflow.approve_submission(submission, actor=cast.user(city_key, "reviewer"))
    if stage == "approved":
        submission = workflow.approve_submission(submission, actor=cast.user("gansu", "reviewer"))
    return submission


# ---------------------------------------------------------------- the rules


def test_sum_ratio_average_none_and_derived(cast: Any, catalogue: Catalogue) -> None:
    report(
        cast,
        catalogue,
        "jingchuan",
        2023,
        {"RD_EXP": 2.0, "GDP": 80.0, "HT_REV": 30.0, "IND_REV": 100.0, "SCORE": 60.0},
    )
    report(
        cast,
        catalogue,
        "chongxin",
        2023,
        {"RD_EXP": 1.0, "GDP": 20.0, "HT_REV": 1.0, "IND_REV": 10.0, "SCORE": 40.0},
    )
    result = rollup.rollup(catalogue.all(), cast.unit("pingliang"), 2023)

    assert result["RD_EXP"] == pytest.approx(3.0)
    assert result["GDP"] == pytest.approx(100.0)
    # Σ numerator / Σ denominator × 100 = 31 / 110 × 100, not the mean of 30 % and 10 %.
    assert result["TECH_SHARE"] == pytest.approx(31 / 110 * 100)
    assert result["TECH_SHARE"] != pytest.approx(20.0)
    assert result["SCORE"] == pytest.approx(50.0)
    assert result["RANKING"] is None
    # The formula over rolled-up inputs: 3 / 100 × 100.
    assert result["RD_INTENSITY"] == pytest.approx(3.0)
    assert result["ENERGY"] is None  # nobody reported it


def test_codes_are_accepted_and_a_year_without_data_is_empty(
    cast: Any, catalogue: Catalogue
) -> None:
    report(cast, catalogue, "jingchuan", 2023, {"RD_EXP": 2.0})
    assert rollup.rollup(["RD_EXP", "SCORE"], cast.unit("pingliang"), 2023) == {
        "RD_EXP": 2.0,
        "SCORE": 50.0,
    }
    assert rollup.rollup(["RD_EXP"], cast.unit("pingliang"), 2022) == {"RD_EXP": None}
    with pytest.raises(ValueError, match="NOPE"):
        rollup.rollup(["NOPE"], cast.unit("pingliang"), 2023)


def test_a_ratio_counts_only_counties_with_both_parts(cast: Any, catalogue: Catalogue) -> None:
    report(cast, catalogue, "jingchuan", 2023, {"HT_REV": 30.0, "IND_REV": 100.0})
    # 崇信县 reports the numerator but leaves the (optional) denominator empty.
    report(cast, catalogue, "chongxin", 2023, {"HT_REV": 50.0, "IND_REV": None})
    result = rollup.rollup(["HT_REV", "IND_REV", "TECH_SHARE"], cast.unit("pingliang"), 2023)
    assert result["HT_REV"] == pytest.approx(80.0)
    assert result["IND_REV"] == pytest.approx(100.0)
    # 80 / 100 would be wrong: 崇信县's 50 has no denominator to stand against.
    assert result["TECH_SHARE"] == pytest.approx(30.0)


def test_only_finally_approved_values_count(cast: Any, catalogue: Catalogue) -> None:
    report(cast, catalogue, "jingchuan", 2023, {"RD_EXP": 2.0, "GDP": 50.0})
    for stage in ("draft", "submitted", "city_approved"):
        year = 2020 + STAGES.index(stage)
        report(cast, catalogue, "jingchuan", year, {"RD_EXP": 7.0}, stage=stage)
        assert rollup.rollup(["RD_EXP"], cast.unit("pingliang"), year) == {"RD_EXP": None}
    report(cast, catalogue, "chongxin", 2023, {"RD_EXP": 5.0, "GDP": 50.0}, stage="city_approved")
    pingliang = rollup.rollup(["RD_EXP", "RD_INTENSITY"], cast.unit("pingliang"), 2023)
    assert pingliang == {"RD_EXP": 2.0, "RD_INTENSITY": pytest.approx(4.0)}


def test_a_reopened_submission_drops_out(cast: Any, catalogue: Catalogue) -> None:
    submission = report(cast, catalogue, "jingchuan", 2023, {"RD_EXP": 2.0})
    report(cast, catalogue, "chongxin", 2023, {"RD_EXP": 3.0})
    assert rollup.rollup(["RD_EXP"], cast.unit("pingliang"), 2023)["RD_EXP"] == 5.0
    workflow.reopen_submission(submission, actor=cast.user("gansu", "reviewer"), reason="更正")
    assert rollup.rollup(["RD_EXP"], cast.unit("pingliang"), 2023)["RD_EXP"] == 3.0


def test_the_province_adds_every_county_level_unit(
    cast: Any, catalogue: Catalogue, lanzhou_staff: Any
) -> None:
    for key, number in (
        ("jingchuan", 1.0),
        ("chongxin", 2.0),
        ("chengguan_district", 4.0),
        ("lanzhou_new_area", 8.0),  # a statistical zone: its activity is the city's too
    ):
        report(cast, catalogue, key, 2023, {"RD_EXP": number})
    assert cast.unit("lanzhou_new_area").level == Level.COUNTY
    assert rollup.rollup(["RD_EXP"], cast.unit("lanzhou"), 2023)["RD_EXP"] == 12.0
    assert rollup.rollup(["RD_EXP"], cast.unit("gansu"), 2023)["RD_EXP"] == 15.0


def test_a_county_rolls_up_to_its_own_values(cast: Any, catalogue: Catalogue) -> None:
    report(cast, catalogue, "jingchuan", 2023, {"RD_EXP": 2.0, "GDP": 40.0})
    report(cast, catalogue, "chongxin", 2023, {"RD_EXP": 9.0})
    assert rollup.rollup(["RD_EXP", "RD_INTENSITY"], cast.unit("jingchuan"), 2023) == {
        "RD_EXP": 2.0,
        "RD_INTENSITY": pytest.approx(5.0),
    }
    # Below the county nothing is reported, so nothing rolls up.
    assert rollup.rollup(["RD_EXP"], cast.unit("chengguan_town"), 2023) == {"RD_EXP": None}


def test_a_table_of_units_and_years_in_a_few_queries(
    cast: Any, catalogue: Catalogue, lanzhou_staff: Any, django_assert_max_num_queries: Any
) -> None:
    for year in (2022, 2023):
        report(cast, catalogue, "jingchuan", year, {"RD_EXP": 1.0, "HT_REV": 5, "IND_REV": 50})
        report(
            cast, catalogue, "chengguan_district", year, {"RD_EXP": 3.0, "HT_REV": 0, "IND_REV": 50}
        )
    units = [cast.unit("pingliang"), cast.unit("lanzhou"), cast.unit("gansu")]
    # Per level: the sums and the ratio pairs. Two levels here (cities, province).
    with django_assert_max_num_queries(4):
        table = rollup.rollup_table(catalogue.all(), units, [2022, 2023])
    assert len(table) == 3 * len(catalogue.all()) * 2
    for year in (2022, 2023):
        assert table[(cast.unit("gansu").pk, "RD_EXP", year)] == 4.0
        assert table[(cast.unit("gansu").pk, "TECH_SHARE", year)] == pytest.approx(5.0)
        assert table[(cast.unit("lanzhou").pk, "TECH_SHARE", year)] == pytest.approx(0.0)
        assert table[(cast.unit("pingliang").pk, "RD_INTENSITY", year)] == pytest.approx(1.0)


def test_formula_inputs_not_asked_for_are_loaded(
    cast: Any, catalogue: Catalogue, django_assert_max_num_queries: Any
) -> None:
    report(cast, catalogue, "jingchuan", 2023, {"RD_EXP": 2.0, "GDP": 40.0})
    intensity = Indicator.objects.get(code="RD_INTENSITY")
    # One query to find RD_EXP and GDP, one for their sums.
    with django_assert_max_num_queries(2):
        assert rollup.rollup([intensity], cast.unit("pingliang"), 2023) == {
            "RD_INTENSITY": pytest.approx(5.0)
        }


def test_a_broken_or_circular_formula_gives_no_value(cast: Any, catalogue: Catalogue) -> None:
    report(cast, catalogue, "jingchuan", 2023)
    loop_a = Indicator.objects.create(code="LOOP_A", name="甲", formula="LOOP_B + 1")
    Indicator.objects.create(code="LOOP_B", name="乙", formula="LOOP_A + 1")
    broken = Indicator.objects.create(code="BROKEN", name="丙", formula="RD_EXP +")
    missing = Indicator.objects.create(code="GHOST", name="丁", formula="NOT_THERE * 2")
    result = rollup.rollup([loop_a, broken, missing], cast.unit("pingliang"), 2023)
    assert result == {"LOOP_A": None, "BROKEN": None, "GHOST": None}
