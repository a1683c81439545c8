"""services.targets: who sets targets, what the log keeps, and how each target stands."""

from __future__ import annotations

from typing import Any

import pytest

from kechuang.audit.models import LogEntry
from kechuang.core.errors import Forbidden, InvalidInput, NotFound
from kechuang.indicators.choices import Comparator, TargetLight
from kechuang.indicators.models import Target
from kechuang.indicators.services import targets
from kechuang.indicators.tests.test_rollup import (
    Catalogue,
    add_lanzhou_staff,
    build_catalogue,
    report,
)


@pytest.fixture
def catalogue(db: Any) -> Catalogue:
    return build_catalogue()


@pytest.fixture
def lanzhou_staff(cast: Any) -> None:
    add_lanzhou_staff(cast)


def ref(unit: Any) -> dict[str, Any]:
    """How the audit log records a foreign key: id and name at that moment."""
    return {"id": unit.pk, "repr": str(unit)}


def state() -> tuple[list[tuple[Any, ...]], int]:
    """Every target's columns and the size of the log: a denied write changes neither."""
    rows = list(
        Target.objects.order_by("pk").values_list(
            "pk",
            "org_unit_id",
            "indicator_id",
            "year",
            "comparator",
            "value",
            "value_high",
            "base_year",
            "note",
            "set_by_unit_id",
        )
    )
    return rows, LogEntry.objects.count()


def set_rd(
    catalogue: Catalogue, actor: Any, unit: Any, value: float = 3.0, **fields: Any
) -> Target:
    arguments = {"year": 2025, "comparator": Comparator.AT_LEAST, "value": value, **fields}
    return targets.set_target(
        actor=actor, org_unit=unit, indicator=catalogue["RD_EXP"], **arguments
    )


# ---------------------------------------------------------------- who may set targets


@pytest.mark.parametrize("role", ["leader", "admin"])
def test_the_city_sets_a_county_target(cast: Any, catalogue: Catalogue, role: str) -> None:
    actor = cast.user("pingliang", role)
    target = set_rd(catalogue, actor, cast.unit("jingchuan"), note=" 十四五 ")
    target.refresh_from_db()
    assert (target.value, target.note, target.set_by_unit) == (
        3.0,
        "十四五",
        cast.unit("pingliang"),
    )
    entry = LogEntry.objects.get(action="indicators.target.create")
    assert (entry.actor, entry.org_unit, entry.object_id) == (
        actor,
        cast.unit("jingchuan"),
        str(target.pk),
    )
    assert entry.before is None
    assert entry.after["value"] == 3.0
    assert entry.after["comparator"] == "gte"
    assert entry.after["set_by_unit"] == ref(cast.unit("pingliang"))
    assert entry.after["org_unit"] == ref(cast.unit("jingchuan"))


@pytest.mark.parametrize("role", ["leader", "admin"])
def test_a_county_sets_its_own_target(cast: Any, catalogue: Catalogue, role: str) -> None:
    target = set_rd(catalogue, cast.user("jingchuan", role), cast.unit("jingchuan"))
    assert target.set_by_unit == cast.unit("jingchuan")
    assert LogEntry.objects.filter(action="indicators.target.create").count() == 1


def test_the_province_sets_a_city_target(cast: Any, catalogue: Catalogue) -> None:
    target = set_rd(catalogue, cast.user("gansu", "leader"), cast.unit("pingliang"))
    assert target.set_by_unit == cast.unit("gansu")


@pytest.mark.parametrize(
    ("actor_key", "unit_key", "error"),
    [
        (("chongxin", "admin"), "jingchuan", NotFound),  # a sibling county
        (("jingchuan", "admin"), "pingliang", NotFound),  # the level above
        (("jingchuan", "clerk"), "jingchuan", Forbidden),
        (("jingchuan", "reviewer"), "jingchuan", Forbidden),
        (("pingliang", "reviewer"), "jingchuan", Forbidden),
        (("pingliang", "clerk"), "jingchuan", Forbidden),
    ],
)
def test_others_cannot_set_targets(
    cast: Any, catalogue: Catalogue, actor_key: tuple[str, str], unit_key: str, error: type
) -> None:
    set_rd(catalogue, cast.user("gansu", "admin"), cast.unit("chongxin"))
    before = state()
    with pytest.raises(error):
        set_rd(catalogue, cast.user(*actor_key), cast.unit(unit_key))
    assert state() == before


def test_a_county_cannot_change_a_target_handed_down(cast: Any, catalogue: Catalogue) -> None:
    target = set_rd(catalogue, cast.user("pingliang", "leader"), cast.unit("jingchuan"))
    before = state()
    with pytest.raises(Forbidden) as raised:
        set_rd(catalogue, cast.user("jingchuan", "admin"), cast.unit("jingchuan"), value=1.0)
    assert "平凉市" in str(raised.value)
    with pytest.raises(Forbidden):
        targets.delete_target(target, actor=cast.user("jingchuan", "admin"))
    assert state() == before
    # The level above the one that handed it down may change it.
    raised_target = set_rd(catalogue, cast.user("gansu", "leader"), cast.unit("jingchuan"), 4.0)
    assert (raised_target.value, raised_target.set_by_unit) == (4.0, cast.unit("gansu"))


def test_the_city_may_replace_a_county_own_target(cast: Any, catalogue: Catalogue) -> None:
    set_rd(catalogue, cast.user("jingchuan", "admin"), cast.unit("jingchuan"), 2.0)
    target = set_rd(catalogue, cast.user("pingliang", "admin"), cast.unit("jingchuan"), 3.0)
    assert Target.objects.count() == 1
    assert (target.value, target.set_by_unit) == (3.0, cast.unit("pingliang"))


def test_an_update_logs_what_changed_and_a_repeat_logs_nothing(
    cast: Any, catalogue: Catalogue
) -> None:
    leader = cast.user("pingliang", "leader")
    set_rd(catalogue, leader, cast.unit("jingchuan"), 3.0)
    set_rd(catalogue, leader, cast.unit("jingchuan"), 4.0)
    entry = LogEntry.objects.get(action="indicators.target.update")
    assert (entry.before, entry.after) == ({"value": 3.0}, {"value": 4.0})
    count = LogEntry.objects.count()
    set_rd(catalogue, leader, cast.unit("jingchuan"), 4.0)
    assert LogEntry.objects.count() == count


def test_delete_a_target(cast: Any, catalogue: Catalogue) -> None:
    target = set_rd(catalogue, cast.user("pingliang", "leader"), cast.unit("jingchuan"))
    before = state()
    with pytest.raises(Forbidden):
        targets.delete_target(target, actor=cast.user("pingliang", "clerk"))
    with pytest.raises(NotFound):
        targets.delete_target(target, actor=cast.user("chongxin", "admin"))
    assert state() == before
    targets.delete_target(target, actor=cast.user("pingliang", "admin"))
    assert not Target.objects.exists()
    with pytest.raises(NotFound):  # already gone
        targets.delete_target(target, actor=cast.user("pingliang", "admin"))
    entry = LogEntry.objects.get(action="indicators.target.delete")
    assert entry.before["value"] == 3.0
    assert entry.org_unit == cast.unit("jingchuan")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"comparator": Comparator.RANGE, "value": 5, "value_high": 3}, "value_high"),
        ({"comparator": Comparator.RANGE, "value": 5}, "value_high"),
        ({"comparator": Comparator.GROWTH, "value": 5}, "base_year"),
        ({"comparator": Comparator.CAGR, "value": 5, "base_year": 2025}, "base_year"),
        ({"comparator": Comparator.CAGR, "value": -100, "base_year": 2020}, "value"),
        ({"value_high": 9}, "value_high"),
        ({"base_year": 2020}, "base_year"),
        ({"comparator": "eq"}, "comparator"),
        ({"value": "三亿"}, "value"),
        ({"value": float("nan")}, "value"),
        ({"value": None}, "value"),
        ({"year": 3000}, "year"),
        ({"year": "明年"}, "year"),
        ({"note": "很长" * 200}, "note"),
    ],
)
def test_invalid_targets_are_refused_in_chinese(
    cast: Any, catalogue: Catalogue, fields: dict[str, Any], field: str
) -> None:
    before = state()
    arguments = {"year": 2025, "comparator": Comparator.AT_LEAST, "value": 3.0, **fields}
    with pytest.raises(InvalidInput) as raised:
        targets.set_target(
            actor=cast.user("pingliang", "leader"),
            org_unit=cast.unit("jingchuan"),
            indicator=catalogue["RD_EXP"],
            **arguments,
        )
    assert field in raised.value.fields
    assert "目标" in str(raised.value.message)
    assert state() == before


def test_a_retired_indicator_takes_no_targets(cast: Any, catalogue: Catalogue) -> None:
    catalogue["RD_EXP"].is_active = False
    catalogue["RD_EXP"].save()
    with pytest.raises(InvalidInput) as raised:
        set_rd(catalogue, cast.user("pingliang", "leader"), cast.unit("jingchuan"))
    assert "indicator" in raised.value.fields


def test_range_and_growth_targets_are_kept(cast: Any, catalogue: Catalogue) -> None:
    leader = cast.user("pingliang", "leader")
    band = set_rd(
        catalogue, leader, cast.unit("jingchuan"), 5, comparator="range", value_high="8.5"
    )
    growth = set_rd(
        catalogue, leader, cast.unit("chongxin"), 20, comparator="growth", base_year="2020"
    )
    assert (band.value, band.value_high, band.base_year) == (5.0, 8.5, None)
    assert (growth.comparator, growth.base_year, growth.value_high) == ("growth", 2020, None)


# ---------------------------------------------------------------- status

# 泾川县's 研发经费支出 grows by about 0.5 a year: the 2025 trend is 3.99 ± 0.14 (90 %).
JINGCHUAN_RD = {2019: 1.0, 2020: 1.52, 2021: 1.98, 2022: 2.55, 2023: 2.97}


@pytest.fixture
def history(cast: Any, catalogue: Catalogue) -> Catalogue:
    for year, number in JINGCHUAN_RD.items():
        report(cast, catalogue, "jingchuan", year, {"RD_EXP": number, "GDP": 100.0 + year % 10})
    for year, number in ((2022, 1.0), (2023, 1.5)):
        report(cast, catalogue, "chongxin", year, {"RD_EXP": number, "GDP": 50.0})
    # A later year still in draft: never part of any status.
    report(cast, catalogue, "jingchuan", 2024, {"RD_EXP": 99.0}, stage="draft")
    return catalogue


def make(catalogue: Catalogue, unit: Any, code: str = "RD_EXP", **fields: Any) -> Target:
    """A target written straight to the table: status tests are not about who sets them."""
    arguments = {"year": 2025, "comparator": Comparator.AT_LEAST, **fields}
    return Target.objects.create(org_unit=unit, indicator=catalogue[code], **arguments)


def status_of(target: Target, **options: Any) -> targets.TargetStatus:
    (result,) = targets.target_status([target], **options)
    assert result.target == target
    return result


def test_a_target_met_in_its_year_is_on_track(cast: Any, history: Catalogue) -> None:
    result = status_of(make(history, cast.unit("jingchuan"), year=2023, value=2.0))
    assert (result.value, result.value_year) == (2.97, 2023)
    assert result.completion == pytest.approx(1.485)
    assert (result.is_final, result.projection, result.probability) == (True, None, 1.0)
    assert result.light == TargetLight.ON_TRACK
    assert result.is_met


def test_a_target_missed_in_its_year_is_off_track(cast: Any, history: Catalogue) -> None:
    result = status_of(make(history, cast.unit("jingchuan"), year=2023, value=3.0))
    assert result.completion == pytest.approx(0.99)
    assert (result.is_final, result.probability, result.light) == (True, 0.0, "off_track")
    assert not result.is_met


@pytest.mark.parametrize(
    ("value", "light", "low", "high"),
    [
        (3.5, TargetLight.ON_TRACK, 0.99, 1.0),  # well under the trend
        (4.0, TargetLight.AT_RISK, 0.3, 0.7),  # right on it
        (5.0, TargetLight.OFF_TRACK, 0.0, 0.01),  # far above it
    ],
)
def test_the_projection_decides_before_the_target_year(
    cast: Any, history: Catalogue, value: float, light: str, low: float, high: float
) -> None:
    result = status_of(make(history, cast.unit("jingchuan"), value=value))
    assert (result.value, result.value_year, result.is_final) == (2.97, 2023, False)
    assert result.projection.model == "linear"
    assert result.projection.n == 5
    assert result.projection.point == pytest.approx(3.992)
    assert low <= result.probability <= high
    assert result.light == light
    assert result.completion == pytest.approx(2.97 / value)


def test_growth_targets_measure_from_the_base_year(cast: Any, history: Catalogue) -> None:
    easy, hard = (
        status_of(
            make(
                history,
                cast.unit("jingchuan"),
                year=year,
                comparator="growth",
                value=rate,
                base_year=2020,
            )
        )
        for year, rate in ((2025, 50), (2026, 250))
    )
    assert easy.base_value == hard.base_value == 1.52
    assert easy.completion == pytest.approx(min(2.0, (2.97 / 1.52 - 1) / 0.5))
    assert easy.light == TargetLight.ON_TRACK
    assert hard.completion == pytest.approx((2.97 / 1.52 - 1) / 2.5)
    assert hard.probability < 0.01
    assert hard.light == TargetLight.OFF_TRACK
    cagr = status_of(
        make(
            history,
            cast.unit("jingchuan"),
            year=2027,
            comparator="cagr",
            value=30,
            base_year=2019,
        )
    )
    assert cagr.completion == pytest.approx(min(2.0, (2.97 ** (1 / 4) - 1) / 0.3))


def test_no_values_means_no_data(cast: Any, history: Catalogue) -> None:
    result = status_of(make(history, cast.unit("jingchuan"), "ENERGY", value=1.0))
    assert (result.value, result.completion, result.probability) == (None, None, None)
    assert result.projection is None
    assert result.light == TargetLight.NO_DATA


def test_two_years_of_history_cannot_call_a_shortfall(cast: Any, history: Catalogue) -> None:
    result = status_of(make(history, cast.unit("chongxin"), value=10.0))
    assert result.projection.n == 2
    assert result.probability is None
    assert result.light == TargetLight.AT_RISK
    already = status_of(make(history, cast.unit("chongxin"), year=2026, value=1.2))
    assert already.light == TargetLight.ON_TRACK


def test_as_of_an_earlier_year(cast: Any, history: Catalogue) -> None:
    result = status_of(make(history, cast.unit("jingchuan"), value=3.5), as_of_year=2021)
    assert (result.value, result.value_year, result.projection.n) == (1.98, 2021, 3)


def test_a_city_is_measured_on_its_roll_up(cast: Any, history: Catalogue) -> None:
    result = status_of(make(history, cast.unit("pingliang"), value=5.0))
    assert (result.value, result.value_year) == (pytest.approx(2.97 + 1.5), 2023)
    assert result.projection.n == 5


def test_a_county_derived_indicator_uses_its_own_inputs(cast: Any, history: Catalogue) -> None:
    result = status_of(make(history, cast.unit("jingchuan"), "RD_INTENSITY", value=2.0))
    # 2023: 2.97 / 103 × 100.
    assert result.value == pytest.approx(2.97 / 103 * 100)
    assert result.value_year == 2023


def test_many_targets_in_four_queries(
    cast: Any, history: Catalogue, django_assert_num_queries: Any
) -> None:
    for unit in (cast.unit("jingchuan"), cast.unit("chongxin")):
        for year in (2023, 2024, 2025):
            for code in ("RD_EXP", "GDP", "SCORE"):
                make(history, unit, code, year=year, value=1.0)
    # The targets, their few distinct indicators and units, then every value they need.
    with django_assert_num_queries(4):
        results = targets.target_status(Target.objects.all())
    assert len(results) == 18
    assert {r.light for r in results} <= set(TargetLight.values)
    with django_assert_num_queries(2):  # relations already joined: targets, values
        again = targets.target_status(Target.objects.select_related("indicator", "org_unit"))
    assert [(r.target.pk, r.light, r.probability) for r in again] == [
        (r.target.pk, r.light, r.probability) for r in results
    ]


def test_mixed_levels_and_a_plain_list(
    cast: Any, history: Catalogue, django_assert_max_num_queries: Any
) -> None:
    made = [
        make(history, cast.unit("jingchuan"), value=3.5),
        make(history, cast.unit("pingliang"), value=5.0),
        make(history, cast.unit("jingchuan"), "RD_INTENSITY", value=2.0),
    ]
    loaded = list(Target.objects.filter(pk__in=[t.pk for t in made]))
    # Indicators and units (2), own values (1), roll-up: formula inputs (1) and one
    # sum per level (county, city). Targets loaded with their relations skip the first two.
    with django_assert_max_num_queries(6):
        results = targets.target_status(loaded)
    assert [r.target.pk for r in results] == [t.pk for t in loaded]
    assert len(results) == len(made)
    assert targets.target_status([]) == []


def test_ranking_by_completion(cast: Any, history: Catalogue, lanzhou_staff: Any) -> None:
    jingchuan, chongxin = cast.unit("jingchuan"), cast.unit("chongxin")
    district = cast.unit("chengguan_district")
    make(history, jingchuan, year=2023, value=2.0)  # 148.5 %, counted as 100 %
    make(history, jingchuan, "GDP", year=2023, value=103.0)  # 100 %
    make(history, chongxin, year=2023, value=3.0)  # 50 %
    make(history, chongxin, "GDP", year=2023, value=50.0)  # 100 %
    make(history, district, year=2023, value=1.0)  # nothing reported
    ranking = targets.rank_by_completion(
        [district, chongxin, jingchuan, cast.unit("lanzhou_new_area")], 2023
    )
    assert [(r.org_unit, r.rank) for r in ranking] == [
        (jingchuan, 1),
        (chongxin, 2),
        (district, None),
        (cast.unit("lanzhou_new_area"), None),
    ]
    first, second, third, fourth = ranking
    assert (first.completion, first.targets, first.assessed, first.met) == (1.0, 2, 2, 2)
    assert (second.completion, second.met) == (pytest.approx(0.75), 1)
    assert (third.completion, third.targets, third.assessed) == (None, 1, 0)
    assert (fourth.targets, fourth.assessed) == (0, 0)


def test_equal_completion_shares_a_rank(cast: Any, history: Catalogue) -> None:
    jingchuan, chongxin = cast.unit("jingchuan"), cast.unit("chongxin")
    make(history, jingchuan, year=2023, value=1.0)
    make(history, chongxin, year=2023, value=1.0)
    ranking = targets.rank_by_completion([jingchuan, chongxin], 2023)
    assert [r.rank for r in ranking] == [1, 1]
