"""The org-unit tree and departments: loading editions, administrators' edits, scoping.

The cast (conftest.py) is 甘肃省 > 平凉市 > 泾川县 > 城关镇, with 崇信县 beside 泾川县 and
兰州市 (城关区, 兰州新区) beside 平凉市; every staffed unit has one user per role.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Max

from conftest import Cast, cast_divisions
from kechuang.accounts.models import User
from kechuang.audit.models import LogEntry
from kechuang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kechuang.core.scoping import access_object
from kechuang.regions import services
from kechuang.regions.choices import Level, UnitKind
from kechuang.regions.divisions import Division, read_divisions
from kechuang.regions.models import Department, OrgUnit, OrgUnitCode
from kechuang.regions.tree import depth_of, parent_path_of

CAST_EDITION = "国家统计局 测试版"
NEXT_EDITION = "国家统计局 2024年统计用区划代码"
D1 = datetime.date(2024, 6, 30)
D2 = datetime.date(2025, 6, 30)
DENIED_ROLES = ("clerk", "reviewer", "leader")


def ref(unit):
    """How the audit log records a foreign key: id and name at that moment."""
    return {"id": unit.pk, "repr": str(unit)}


# ---------------------------------------------------------------- helpers


def fresh(unit: OrgUnit) -> OrgUnit:
    return OrgUnit.objects.get(pk=unit.pk)


def tree_state() -> dict[str, list[Any]]:
    """Every row this app owns, and where each user sits."""
    return {
        "units": list(OrgUnit.objects.order_by("pk").values()),
        "codes": list(OrgUnitCode.objects.order_by("pk").values()),
        "departments": list(Department.objects.order_by("pk").values()),
        "users": list(User.objects.order_by("pk").values_list("pk", "org_unit_id")),
    }


@contextmanager
def nothing_changes() -> Iterator[None]:
    """Neither the data nor the audit log may change inside the block."""
    before, log = tree_state(), list(LogEntry.objects.values_list("pk", flat=True))
    yield
    assert tree_state() == before
    assert list(LogEntry.objects.values_list("pk", flat=True)) == log


@contextmanager
def one_audit_entry(action: str) -> Iterator[list[LogEntry]]:
    """The block must write exactly one audit entry, with ``action``; it is handed back."""
    mark = LogEntry.objects.aggregate(m=Max("pk"))["m"] or 0
    written: list[LogEntry] = []
    yield written
    written.extend(LogEntry.objects.filter(pk__gt=mark).order_by("pk"))
    assert [entry.action for entry in written] == [action]


def assert_tree_is_consistent() -> None:
    units = {u.pk: u for u in OrgUnit.objects.all()}
    paths = [u.path for u in units.values()]
    assert len(paths) == len(set(paths)), "paths must be unique"
    for unit in units.values():
        assert depth_of(unit.path) == unit.level, unit
        if unit.parent_id is None:
            assert unit.level == Level.NATION
        else:
            parent = units[unit.parent_id]
            assert parent_path_of(unit.path) == parent.path, (unit, parent)
            assert unit.level == parent.level + 1


def edition(
    *,
    without: Collection[str] = (),
    names: dict[str, str] | None = None,
    extra: tuple[Division, ...] = (),
) -> list[Division]:
    """The cast's divisions as a newer edition would list them."""
    names = names or {}
    result = [
        dataclasses.replace(d, name=names.get(d.code, d.name))
        for d in cast_divisions()
        if d.code not in without
    ]
    return sorted([*result, *extra], key=lambda d: d.level)


def county(code: str, name: str, city: str = "6208") -> Division:
    return Division(code, name, Level.COUNTY, city, UnitKind.ADMINISTRATIVE)


def history(unit: OrgUnit) -> list[tuple[Any, ...]]:
    return list(
        OrgUnitCode.objects.filter(org_unit=unit)
        .order_by("id")
        .values_list("code", "name", "valid_from", "valid_to", "source")
    )


def not_found_for_a_missing_unit(user: Any) -> dict[str, Any]:
    missing = (OrgUnit.objects.aggregate(m=Max("pk"))["m"] or 0) + 1000
    with pytest.raises(NotFound) as raised:
        access_object(OrgUnit.objects, user, missing)
    return raised.value.as_dict()


# ---------------------------------------------------------------- loading editions


def test_the_cast_is_one_consistent_tree_under_the_nation(cast: Cast) -> None:
    assert_tree_is_consistent()
    nation = services.ensure_nation()
    assert services.ensure_nation() == nation
    assert list(OrgUnit.objects.filter(parent=None)) == [nation]  # one root, created once
    assert cast.unit("gansu").parent == nation
    assert cast.unit("chengguan_town").ancestors().count() == 4
    assert cast.unit("chengguan_town").full_name() == "平凉市泾川县城关镇"
    for unit in cast.units.values():
        assert [(c[0], c[1]) for c in history(unit)] == [(unit.code, unit.name)]


def test_loading_the_same_edition_twice_changes_nothing_the_second_time(cast: Cast) -> None:
    before = tree_state()
    report = services.load_divisions(cast_divisions(), edition=CAST_EDITION)
    assert report.unchanged == len(cast_divisions())
    assert (report.created, report.renamed, report.retired, report.reinstated) == (0, [], [], [])
    assert tree_state() == before


def test_a_load_writes_one_audit_entry_that_matches_its_report(cast: Cast) -> None:
    with one_audit_entry("regions.divisions.load") as log:
        report = services.load_divisions(
            edition(
                without={"620823"}, names={"620821": "泾川市"}, extra=(county("620881", "华亭市"),)
            ),
            edition=NEXT_EDITION,
            effective=D1,
        )
    (entry,) = log
    assert entry.object_repr == NEXT_EDITION
    assert entry.actor is None
    assert entry.actor_name == "系统"
    assert entry.org_unit == services.ensure_nation()
    assert entry.data["created"] == report.created == 1
    assert entry.data["retired"] == report.retired == ["620823"]
    assert entry.data["renamed"] == report.renamed
    assert entry.data["provinces"] == ["62"]


def test_a_renamed_unit_keeps_its_identity_and_gains_a_history_row(cast: Cast) -> None:
    jingchuan = cast.unit("jingchuan")
    report = services.load_divisions(
        edition(names={"620821": "泾川市"}), edition=NEXT_EDITION, effective=D1
    )
    assert report.renamed == [{"code": "620821", "before": "泾川县", "after": "泾川市"}]
    assert report.unchanged == len(cast_divisions()) - 1
    renamed = fresh(jingchuan)
    assert (renamed.name, renamed.code, renamed.path) == ("泾川市", "620821", jingchuan.path)
    assert renamed.is_current
    old, new = history(renamed)
    assert old[:2] == ("620821", "泾川县")
    assert old[3] == D1
    assert new == ("620821", "泾川市", D1, None, NEXT_EDITION)
    # Everything attached to the unit stays attached: its users and its township.
    assert User.objects.filter(org_unit=renamed).count() == 4
    assert fresh(cast.unit("chengguan_town")).parent_id == renamed.pk
    assert OrgUnit.objects.count() == len(cast_divisions()) + 1  # + 全国, no new unit


def test_a_code_missing_from_a_new_edition_is_retired_never_deleted(cast: Cast) -> None:
    chongxin = cast.unit("chongxin")
    report = services.load_divisions(
        edition(without={"620823"}), edition=NEXT_EDITION, effective=D1
    )
    assert report.retired == ["620823"]
    retired = fresh(chongxin)
    assert retired.valid_to == D1
    assert not retired.is_current
    assert [row[3] for row in history(retired)] == [D1]
    assert User.objects.filter(org_unit=retired).count() == 4  # its people are not orphaned
    assert list(OrgUnit.objects.filter(valid_to__isnull=False)) == [retired]
    assert chongxin not in OrgUnit.objects.current(on=D1)
    assert chongxin in OrgUnit.objects.current(on=D1 - datetime.timedelta(days=1))


def test_a_load_of_another_province_retires_nothing_here(cast: Cast) -> None:
    qinghai = [
        Division("63", "青海省", Level.PROVINCE, None, UnitKind.ADMINISTRATIVE),
        Division("6301", "西宁市", Level.CITY, "63", UnitKind.ADMINISTRATIVE),
    ]
    report = services.load_divisions(qinghai, edition=NEXT_EDITION, effective=D1)
    assert (report.created, report.retired) == (2, [])
    assert not OrgUnit.objects.filter(valid_to__isnull=False).exists()
    assert OrgUnit.objects.get(code="6301").parent == OrgUnit.objects.get(code="63")
    assert_tree_is_consistent()


def test_a_load_down_to_counties_leaves_the_townships_alone(cast: Cast) -> None:
    counties_only = [d for d in cast_divisions() if d.level <= Level.COUNTY]
    report = services.load_divisions(counties_only, edition=NEXT_EDITION, effective=D1)
    assert report.retired == []
    assert fresh(cast.unit("chengguan_town")).is_current


def test_a_load_of_townships_only_retires_only_townships(cast: Cast) -> None:
    yudu = Division("620821101", "玉都镇", Level.TOWNSHIP, "620821", UnitKind.ADMINISTRATIVE)
    report = services.load_divisions([yudu], edition=NEXT_EDITION, effective=D1)
    assert report.created == 1
    assert report.retired == ["620821100"]  # 城关镇, the only other township of 甘肃 here
    assert set(OrgUnit.objects.filter(valid_to__isnull=False)) == {cast.unit("chengguan_town")}
    assert OrgUnit.objects.get(code="620821101").parent == cast.unit("jingchuan")


def test_units_typed_in_by_an_administrator_are_never_retired_by_a_load(cast: Cast) -> None:
    typed = services.create_org_unit(
        actor=cast.user("jingchuan", "admin"),
        parent=cast.unit("jingchuan"),
        code="620821200",
        name="泾川县工业园区",
    )
    report = services.load_divisions(cast_divisions(), edition=NEXT_EDITION, effective=D1)
    assert "620821200" not in report.retired
    assert fresh(typed).is_current
    assert history(typed)[-1][3:] == (None, "人工录入")


def test_a_unit_from_any_edition_is_retired_when_a_later_edition_drops_it(cast: Cast) -> None:
    # `kechuang orgunits load --source DIR` names an edition after its directory, so an
    # edition's name need not begin with 国家统计局.
    huating = county("620881", "华亭市")
    services.load_divisions(edition(extra=(huating,)), edition="2024", effective=D1)
    report = services.load_divisions(cast_divisions(), edition="2025", effective=D2)
    assert report.retired == ["620881"]
    assert not OrgUnit.objects.get(code="620881").is_current


def test_a_retired_code_that_reappears_is_reinstated_not_duplicated(cast: Cast) -> None:
    chongxin = cast.unit("chongxin")
    services.load_divisions(edition(without={"620823"}), edition=NEXT_EDITION, effective=D1)
    report = services.load_divisions(cast_divisions(), edition=NEXT_EDITION, effective=D2)
    assert report.reinstated == ["620823"]
    assert report.created == 0
    assert list(OrgUnit.objects.filter(code="620823")) == [chongxin]
    back = fresh(chongxin)
    assert back.is_current
    assert back.path == chongxin.path
    assert history(back)[-1][:2] == ("620823", "崇信县")
    assert history(back)[-1][3] is None
    # Each division is counted once in the report.
    counted = report.created + len(report.renamed) + len(report.reinstated) + report.unchanged
    assert counted == len(cast_divisions())


def test_a_reinstated_code_under_a_new_name_is_reinstated_and_renamed(cast: Cast) -> None:
    services.load_divisions(edition(without={"620823"}), edition=NEXT_EDITION, effective=D1)
    report = services.load_divisions(
        edition(names={"620823": "崇信市"}), edition=NEXT_EDITION, effective=D2
    )
    assert report.reinstated == ["620823"]
    assert report.renamed == [{"code": "620823", "before": "崇信县", "after": "崇信市"}]
    unit = fresh(cast.unit("chongxin"))
    assert (unit.name, unit.is_current) == ("崇信市", True)
    assert [row[3] is None for row in history(unit)] == [False, True]  # one current row


def test_a_new_county_in_a_later_edition_gets_a_fresh_path_beside_its_siblings(
    cast: Cast,
) -> None:
    services.load_divisions(
        edition(extra=(county("620881", "华亭市"),)), edition=NEXT_EDITION, effective=D1
    )
    huating = OrgUnit.objects.get(code="620881")
    assert huating.parent == cast.unit("pingliang")
    assert huating.path > cast.unit("chongxin").path  # after the existing children
    assert_tree_is_consistent()


def test_the_whole_of_gansu_from_the_shipped_files_loads(db: Any) -> None:
    divisions = read_divisions(provinces=["62"])
    report = services.load_divisions(divisions)
    assert report.created == len(divisions)
    assert OrgUnit.objects.filter(code__startswith="62").count() == len(divisions)
    assert OrgUnit.objects.administrative_counties().filter(code__startswith="62").count() == 86
    jingchuan = OrgUnit.objects.get(code="620821")
    assert OrgUnit.objects.children_of(jingchuan).count() == 15
    assert jingchuan.full_name() == "平凉市泾川县"
    assert_tree_is_consistent()
    again = services.load_divisions(divisions)
    assert (again.created, again.unchanged, again.retired) == (0, len(divisions), [])


def test_the_shipped_province_loads_over_the_cast_keeping_every_cast_unit(cast: Cast) -> None:
    # Move a township and type one in first: the load must still find free paths.
    services.update_org_unit(cast.unit("chengguan_town"), actor=None, parent=cast.unit("chongxin"))
    services.create_org_unit(
        actor=None, parent=cast.unit("jingchuan"), code="620821900", name="示范区"
    )
    divisions = read_divisions(provinces=["62"])
    report = services.load_divisions(divisions, effective=D1)
    assert report.retired == []
    assert report.created == len(divisions) - len(cast_divisions())
    for key, unit in cast.units.items():
        assert OrgUnit.objects.get(code=unit.code, valid_to__isnull=True).pk == unit.pk, key
    assert_tree_is_consistent()


# ---------------------------------------------------------------- administrators' edits: units


def test_a_county_admin_adds_a_township_to_their_county(cast: Cast) -> None:
    jingchuan = cast.unit("jingchuan")
    with one_audit_entry("regions.orgunit.create") as log:
        unit = services.create_org_unit(
            actor=cast.user("jingchuan", "admin"),
            parent=jingchuan,
            code="620821101",
            name=" 玉都镇 ",
        )
    (entry,) = log
    assert (unit.name, unit.level, unit.parent) == ("玉都镇", Level.TOWNSHIP, jingchuan)
    assert parent_path_of(unit.path) == jingchuan.path
    assert entry.before is None
    assert entry.after["code"] == "620821101"
    assert entry.after["parent"]["id"] == jingchuan.pk
    assert entry.org_unit == unit
    assert entry.actor == cast.user("jingchuan", "admin")
    assert history(unit) == [("620821101", "玉都镇", None, None, "人工录入")]
    assert_tree_is_consistent()


def test_a_city_admin_renames_a_county_keeping_its_history(cast: Cast) -> None:
    jingchuan = cast.unit("jingchuan")
    with one_audit_entry("regions.orgunit.update") as log:
        services.update_org_unit(
            jingchuan, actor=cast.user("pingliang", "admin"), name="泾川市", effective=D1
        )
    (entry,) = log
    assert (entry.before, entry.after) == ({"name": "泾川县"}, {"name": "泾川市"})
    unit = fresh(jingchuan)
    assert (unit.pk, unit.path, unit.name) == (jingchuan.pk, jingchuan.path, "泾川市")
    old, new = history(unit)
    assert old[:2] == ("620821", "泾川县")
    assert old[3] == D1
    assert new == ("620821", "泾川市", D1, None, "人工修改")


def test_a_recoded_unit_frees_its_old_code_and_keeps_both_in_history(cast: Cast) -> None:
    chongxin = cast.unit("chongxin")
    with one_audit_entry("regions.orgunit.update") as log:
        services.update_org_unit(
            chongxin, actor=cast.user("gansu", "admin"), code="620882", effective=D1
        )
    (entry,) = log
    assert (entry.before, entry.after) == ({"code": "620823"}, {"code": "620882"})
    assert [row[0] for row in history(chongxin)] == ["620823", "620882"]
    assert OrgUnit.objects.get(code="620882") == chongxin
    # The old code is free again for a new unit.
    services.create_org_unit(
        actor=cast.user("pingliang", "admin"),
        parent=cast.unit("pingliang"),
        code="620823",
        name="新设县",
    )


def test_saving_a_unit_without_changes_writes_nothing(cast: Cast) -> None:
    with nothing_changes():
        services.update_org_unit(
            cast.unit("jingchuan"), actor=cast.user("pingliang", "admin"), name="泾川县"
        )


def test_moving_a_county_to_another_city_rewrites_its_whole_subtree(cast: Cast) -> None:
    jingchuan, town = cast.unit("jingchuan"), cast.unit("chengguan_town")
    lanzhou = cast.unit("lanzhou")
    with one_audit_entry("regions.orgunit.update") as log:
        services.update_org_unit(jingchuan, actor=cast.user("gansu", "admin"), parent=lanzhou)
    (entry,) = log
    assert (entry.before, entry.after) == (
        {"parent": ref(cast.unit("pingliang"))},
        {"parent": ref(lanzhou)},
    )
    moved, moved_town = fresh(jingchuan), fresh(town)
    assert moved.parent == lanzhou
    assert parent_path_of(moved.path) == lanzhou.path
    assert moved_town.parent == moved
    assert parent_path_of(moved_town.path) == moved.path
    assert moved_town.pk == town.pk
    assert not moved_town.path.startswith(cast.unit("pingliang").path)
    assert_tree_is_consistent()
    # Scoping follows the tree: 平凉市 no longer sees 城关镇, a 泾川县 user still does.
    pingliang_user = User.objects.get(pk=cast.user("pingliang", "clerk").pk)
    jingchuan_user = User.objects.get(pk=cast.user("jingchuan", "clerk").pk)
    assert town not in OrgUnit.objects.visible_to(pingliang_user)
    assert town in OrgUnit.objects.visible_to(jingchuan_user)


def test_a_city_admin_moves_a_township_between_two_of_its_counties(cast: Cast) -> None:
    chongxin = cast.unit("chongxin")
    with one_audit_entry("regions.orgunit.update"):
        services.update_org_unit(
            cast.unit("chengguan_town"), actor=cast.user("pingliang", "admin"), parent=chongxin
        )
    town = fresh(cast.unit("chengguan_town"))
    assert town.parent == chongxin
    assert parent_path_of(town.path) == chongxin.path
    # A township added to the old county afterwards gets a path of its own.
    services.create_org_unit(
        actor=cast.user("jingchuan", "admin"),
        parent=cast.unit("jingchuan"),
        code="620821101",
        name="玉都镇",
    )
    assert_tree_is_consistent()


def test_a_city_admin_retires_and_reinstates_a_county(cast: Cast) -> None:
    chongxin, admin = cast.unit("chongxin"), cast.user("pingliang", "admin")
    with one_audit_entry("regions.orgunit.retire") as log:
        services.retire_org_unit(chongxin, actor=admin, on=D1)
    (entry,) = log
    assert entry.before["valid_to"] is None
    assert entry.after["valid_to"] == D1.isoformat()
    assert fresh(chongxin).valid_to == D1
    assert history(chongxin)[-1][3] == D1
    with one_audit_entry("regions.orgunit.reinstate") as log:
        services.reinstate_org_unit(fresh(chongxin), actor=admin)
    (entry,) = log
    assert entry.before["valid_to"] == D1.isoformat()
    assert entry.after["valid_to"] is None
    assert fresh(chongxin).is_current
    assert history(chongxin)[-1][3] is None


def test_a_county_can_be_retired_once_its_townships_are(cast: Cast) -> None:
    admin = cast.user("pingliang", "admin")
    services.retire_org_unit(cast.unit("chengguan_town"), actor=admin, on=D1)
    services.retire_org_unit(cast.unit("jingchuan"), actor=admin, on=D1)
    assert not fresh(cast.unit("jingchuan")).is_current


def test_a_unit_entered_by_mistake_is_deleted_with_an_audit_entry(cast: Cast) -> None:
    jingchuan = cast.unit("jingchuan")
    unit = services.create_org_unit(
        actor=None, parent=jingchuan, code="620821199", name="错误录入镇"
    )
    with one_audit_entry("regions.orgunit.delete") as log:
        services.delete_org_unit(unit, actor=cast.user("jingchuan", "admin"))
    (entry,) = log
    assert entry.before["code"] == "620821199"
    assert entry.after is None
    assert entry.org_unit == jingchuan  # the log entry stays visible to the county
    assert not OrgUnit.objects.filter(code="620821199").exists()


def test_a_superuser_may_edit_a_province(cast: Cast, superuser: Any) -> None:
    with one_audit_entry("regions.orgunit.update"):
        services.update_org_unit(cast.unit("gansu"), actor=superuser, name="甘肃")
    assert fresh(cast.unit("gansu")).name == "甘肃"


def test_out_of_scope_looks_exactly_like_missing(cast: Cast) -> None:
    admin = cast.user("jingchuan", "admin")
    with pytest.raises(NotFound) as raised:
        services.update_org_unit(cast.unit("chongxin"), actor=admin, name="崇信市")
    assert raised.value.as_dict() == not_found_for_a_missing_unit(admin)
    with pytest.raises(NotFound) as raised:
        access_object(OrgUnit.objects, admin, cast.unit("chongxin").pk)
    assert raised.value.as_dict() == not_found_for_a_missing_unit(admin)


def test_a_code_in_use_elsewhere_cannot_be_reinstated_over(cast: Cast) -> None:
    admin = cast.user("pingliang", "admin")
    services.retire_org_unit(cast.unit("chongxin"), actor=admin, on=D1)
    services.create_org_unit(
        actor=admin, parent=cast.unit("pingliang"), code="620823", name="新崇信县"
    )
    with nothing_changes(), pytest.raises(Conflict):
        services.reinstate_org_unit(fresh(cast.unit("chongxin")), actor=admin)


def test_retiring_a_retired_unit_again_is_refused(cast: Cast) -> None:
    admin = cast.user("pingliang", "admin")
    services.retire_org_unit(cast.unit("chongxin"), actor=admin, on=D1)
    with nothing_changes(), pytest.raises(Conflict):
        services.retire_org_unit(fresh(cast.unit("chongxin")), actor=admin, on=D2)


def test_a_unit_cannot_be_moved_under_a_retired_unit(cast: Cast) -> None:
    admin = cast.user("pingliang", "admin")
    services.retire_org_unit(cast.unit("chongxin"), actor=admin, on=D1)
    with nothing_changes(), pytest.raises(InvalidInput):
        services.update_org_unit(
            cast.unit("chengguan_town"), actor=admin, parent=fresh(cast.unit("chongxin"))
        )


def test_a_unit_under_a_retired_unit_cannot_be_reinstated(cast: Cast) -> None:
    admin = cast.user("pingliang", "admin")
    services.retire_org_unit(cast.unit("chengguan_town"), actor=admin, on=D1)
    services.retire_org_unit(cast.unit("jingchuan"), actor=admin, on=D1)
    with nothing_changes(), pytest.raises(Conflict):
        services.reinstate_org_unit(fresh(cast.unit("chengguan_town")), actor=admin)
    services.reinstate_org_unit(fresh(cast.unit("jingchuan")), actor=admin)
    services.reinstate_org_unit(fresh(cast.unit("chengguan_town")), actor=admin)
    assert fresh(cast.unit("chengguan_town")).is_current


def test_every_current_unit_has_exactly_one_current_code_after_any_edits(cast: Cast) -> None:
    admin = cast.user("gansu", "admin")
    chongxin = cast.unit("chongxin")
    services.update_org_unit(chongxin, actor=admin, name="崇信市", code="620881", effective=D1)
    services.retire_org_unit(fresh(chongxin), actor=admin, on=D1)
    with pytest.raises(Conflict):
        services.retire_org_unit(fresh(chongxin), actor=admin, on=D2)
    services.reinstate_org_unit(fresh(chongxin), actor=admin)
    services.load_divisions(cast_divisions(), edition=NEXT_EDITION, effective=D2)
    for unit in OrgUnit.objects.exclude(level=Level.NATION):
        current_rows = [row for row in history(unit) if row[3] is None]
        if unit.is_current:
            assert [row[:2] for row in current_rows] == [(unit.code, unit.name)], unit
        else:
            assert current_rows == [], unit


# ---------------------------------------------------------------- departments


@pytest.fixture
def departments(cast: Cast) -> dict[str, Department]:
    make = services.create_department
    return {
        "jingchuan": make(actor=None, org_unit=cast.unit("jingchuan"), name="泾川县科学技术局"),
        "town": make(actor=None, org_unit=cast.unit("chengguan_town"), name="城关镇农业服务中心"),
        "chongxin": make(actor=None, org_unit=cast.unit("chongxin"), name="崇信县科学技术局"),
        "new_area": make(actor=None, org_unit=cast.unit("lanzhou_new_area"), name="兰州新区管委会"),
    }


def test_a_county_admin_adds_a_department_to_their_own_county(cast: Cast) -> None:
    with one_audit_entry("regions.department.create") as log:
        department = services.create_department(
            actor=cast.user("jingchuan", "admin"),
            org_unit=cast.unit("jingchuan"),
            name=" 泾川县财政局 ",
            short_name=" 财政局 ",
        )
    (entry,) = log
    assert (department.name, department.short_name) == ("泾川县财政局", "财政局")
    assert entry.before is None
    assert entry.after["name"] == "泾川县财政局"
    assert entry.org_unit == cast.unit("jingchuan")


def test_the_same_department_name_may_exist_in_two_units(
    cast: Cast, departments: dict[str, Department]
) -> None:
    twin = services.create_department(
        actor=cast.user("pingliang", "admin"),
        org_unit=cast.unit("chongxin"),
        name="泾川县科学技术局",
    )
    assert twin.org_unit == cast.unit("chongxin")


def test_a_department_is_renamed_and_moved_within_the_admins_subtree(
    cast: Cast, departments: dict[str, Department]
) -> None:
    department = departments["town"]
    with one_audit_entry("regions.department.update") as log:
        services.update_department(
            department,
            actor=cast.user("jingchuan", "admin"),
            org_unit=cast.unit("jingchuan"),
            name="泾川县农业农村局",
            is_active=False,
        )
    (entry,) = log
    assert entry.before == {
        "org_unit": ref(cast.unit("chengguan_town")),
        "name": "城关镇农业服务中心",
        "is_active": True,
    }
    assert entry.after == {
        "org_unit": ref(cast.unit("jingchuan")),
        "name": "泾川县农业农村局",
        "is_active": False,
    }
    department.refresh_from_db()
    assert (department.org_unit, department.is_active) == (cast.unit("jingchuan"), False)


def test_a_department_is_deleted_with_an_audit_entry(
    cast: Cast, departments: dict[str, Department]
) -> None:
    department = departments["jingchuan"]
    with one_audit_entry("regions.department.delete") as log:
        services.delete_department(department, actor=cast.user("jingchuan", "admin"))
    (entry,) = log
    assert entry.before["name"] == "泾川县科学技术局"
    assert entry.after is None
    assert entry.org_unit == cast.unit("jingchuan")
    assert not Department.objects.filter(name="泾川县科学技术局").exists()


# ---------------------------------------------------------------- refused edits change nothing

Attempt = Callable[[Cast, dict[str, Department]], Any]


def _as(unit: str, role: str) -> Callable[[Cast], Any]:
    return lambda c: c.user(unit, role)


def role_refusals() -> list[Any]:
    """Every write, tried by the roles that may not write: all Forbidden inside their scope."""
    cases: dict[str, Attempt] = {
        "add-a-township": lambda c, d, who: services.create_org_unit(
            actor=who(c), parent=c.unit("jingchuan"), code="620821101", name="玉都镇"
        ),
        "rename-a-county": lambda c, d, who: services.update_org_unit(
            c.unit("jingchuan"), actor=who(c), name="泾川市"
        ),
        "retire-a-township": lambda c, d, who: services.retire_org_unit(
            c.unit("chengguan_town"), actor=who(c)
        ),
        "add-a-department": lambda c, d, who: services.create_department(
            actor=who(c), org_unit=c.unit("jingchuan"), name="泾川县财政局"
        ),
        "rename-a-department": lambda c, d, who: services.update_department(
            d["jingchuan"], actor=who(c), name="科技局"
        ),
        "delete-a-department": lambda c, d, who: services.delete_department(
            d["town"], actor=who(c)
        ),
    }
    return [
        pytest.param(unit, role, attempt, id=f"{unit}-{role}-may-not-{name}")
        for name, attempt in cases.items()
        for unit in ("pingliang", "jingchuan")
        for role in DENIED_ROLES
    ]


@pytest.mark.parametrize(("unit", "role", "attempt"), role_refusals())
def test_only_an_administrator_may_change_the_tree_or_departments(
    cast: Cast, departments: dict[str, Department], unit: str, role: str, attempt: Any
) -> None:
    with nothing_changes(), pytest.raises(Forbidden):
        attempt(cast, departments, _as(unit, role))


def _admin(unit: str) -> Callable[[Cast], Any]:
    return lambda c: c.user(unit, "admin")


REFUSALS = [
    # An administrator's own unit is maintained by the level above.
    pytest.param(
        lambda c, d: services.update_org_unit(
            c.unit("jingchuan"), actor=c.user("jingchuan", "admin"), name="泾川市"
        ),
        Forbidden,
        id="a-county-admin-cannot-rename-their-own-county",
    ),
    pytest.param(
        lambda c, d: services.update_org_unit(
            c.unit("jingchuan"), actor=c.user("jingchuan", "admin"), code="620899"
        ),
        Forbidden,
        id="a-county-admin-cannot-recode-their-own-county",
    ),
    pytest.param(
        lambda c, d: services.retire_org_unit(
            c.unit("chongxin"), actor=c.user("chongxin", "admin")
        ),
        Forbidden,
        id="a-county-admin-cannot-retire-their-own-county",
    ),
    pytest.param(
        lambda c, d: services.delete_org_unit(
            c.unit("chengguan_town"), actor=c.user("chengguan_town", "admin")
        ),
        Forbidden,
        id="a-township-admin-cannot-delete-their-own-township",
    ),
    pytest.param(
        lambda c, d: services.update_org_unit(
            c.unit("pingliang"), actor=c.user("pingliang", "admin"), parent=c.unit("gansu")
        ),
        Forbidden,
        id="a-city-admin-cannot-move-their-own-city",
    ),
    # Outside the actor's subtree: NotFound, as if the unit did not exist.
    pytest.param(
        lambda c, d: services.update_org_unit(
            c.unit("chongxin"), actor=c.user("jingchuan", "admin"), name="崇信市"
        ),
        NotFound,
        id="a-county-admin-cannot-rename-a-sibling-county",
    ),
    pytest.param(
        lambda c, d: services.update_org_unit(
            c.unit("pingliang"), actor=c.user("jingchuan", "admin"), name="平凉"
        ),
        NotFound,
        id="a-county-admin-cannot-rename-their-city",
    ),
    pytest.param(
        lambda c, d: services.update_org_unit(
            c.unit("chongxin"), actor=c.user("jingchuan", "clerk"), name="崇信市"
        ),
        NotFound,
        id="a-sibling-clerk-is-told-not-found-before-forbidden",
    ),
    pytest.param(
        lambda c, d: services.create_org_unit(
            actor=c.user("jingchuan", "admin"),
            parent=c.unit("chongxin"),
            code="620823101",
            name="新窑镇",
        ),
        NotFound,
        id="a-county-admin-cannot-add-a-township-to-a-sibling-county",
    ),
    pytest.param(
        lambda c, d: services.retire_org_unit(
            c.unit("chongxin"), actor=c.user("jingchuan", "admin")
        ),
        NotFound,
        id="a-county-admin-cannot-retire-a-sibling-county",
    ),
    pytest.param(
        lambda c, d: services.delete_org_unit(
            c.unit("lanzhou_new_area"), actor=c.user("pingliang", "admin")
        ),
        NotFound,
        id="a-city-admin-cannot-delete-a-unit-of-another-city",
    ),
    pytest.param(
        lambda c, d: services.create_department(
            actor=c.user("chengguan_town", "admin"), org_unit=c.unit("jingchuan"), name="科技局"
        ),
        NotFound,
        id="a-township-admin-cannot-add-a-department-to-their-county",
    ),
    pytest.param(
        lambda c, d: services.update_department(
            d["chongxin"], actor=c.user("jingchuan", "admin"), name="科技局"
        ),
        NotFound,
        id="a-county-admin-cannot-rename-a-sibling-countys-department",
    ),
    pytest.param(
        lambda c, d: services.delete_department(d["chongxin"], actor=c.user("jingchuan", "admin")),
        NotFound,
        id="a-county-admin-cannot-delete-a-sibling-countys-department",
    ),
    # Moves: the NEW owner must be in scope too.
    pytest.param(
        lambda c, d: services.update_org_unit(
            c.unit("chengguan_town"), actor=c.user("jingchuan", "admin"), parent=c.unit("chongxin")
        ),
        NotFound,
        id="a-county-admin-cannot-push-a-township-to-a-sibling-county",
    ),
    pytest.param(
        lambda c, d: services.update_org_unit(
            c.unit("jingchuan"), actor=c.user("pingliang", "admin"), parent=c.unit("lanzhou")
        ),
        NotFound,
        id="a-city-admin-cannot-push-a-county-to-another-city",
    ),
    pytest.param(
        lambda c, d: services.update_department(
            d["jingchuan"], actor=c.user("jingchuan", "admin"), org_unit=c.unit("chongxin")
        ),
        NotFound,
        id="a-county-admin-cannot-push-a-department-to-a-sibling-county",
    ),
    pytest.param(
        lambda c, d: services.update_department(
            d["town"], actor=c.user("chengguan_town", "admin"), org_unit=c.unit("jingchuan")
        ),
        NotFound,
        id="a-township-admin-cannot-push-a-department-up-to-the-county",
    ),
    pytest.param(
        lambda c, d: services.update_department(
            d["chongxin"], actor=c.user("jingchuan", "admin"), org_unit=c.unit("jingchuan")
        ),
        NotFound,
        id="a-county-admin-cannot-pull-in-a-sibling-countys-department",
    ),
    # Impossible trees.
    pytest.param(
        lambda c, d: services.update_org_unit(
            c.unit("pingliang"), actor=c.user("gansu", "admin"), parent=c.unit("jingchuan")
        ),
        InvalidInput,
        id="a-city-cannot-move-under-its-own-county",
    ),
    pytest.param(
        lambda c, d: services.update_org_unit(
            c.unit("jingchuan"), actor=c.user("gansu", "admin"), parent=c.unit("jingchuan")
        ),
        InvalidInput,
        id="a-county-cannot-move-under-itself",
    ),
    pytest.param(
        lambda c, d: services.update_org_unit(
            c.unit("jingchuan"), actor=c.user("gansu", "admin"), parent=c.unit("gansu")
        ),
        InvalidInput,
        id="a-county-cannot-move-directly-under-a-province",
    ),
    pytest.param(
        lambda c, d: services.create_org_unit(
            actor=c.user("jingchuan", "admin"),
            parent=c.unit("chengguan_town"),
            code="620821100001",
            name="某村",
        ),
        InvalidInput,
        id="nothing-is-added-below-a-township",
    ),
    pytest.param(
        lambda c, d: services.create_org_unit(
            actor=c.user("jingchuan", "admin"),
            parent=c.unit("jingchuan"),
            code="620821101",
            name="  ",
        ),
        InvalidInput,
        id="a-unit-needs-a-name",
    ),
    pytest.param(
        lambda c, d: services.create_org_unit(
            actor=c.user("jingchuan", "admin"),
            parent=c.unit("jingchuan"),
            code="6208211",
            name="玉都镇",
        ),
        InvalidInput,
        id="a-code-must-be-a-division-code",
    ),
    pytest.param(
        lambda c, d: services.update_org_unit(
            c.unit("chongxin"), actor=c.user("pingliang", "admin"), name="崇信县2", kind="county"
        ),
        InvalidInput,
        id="a-unit-kind-must-be-known",
    ),
    # Conflicts with what is there.
    pytest.param(
        lambda c, d: services.create_org_unit(
            actor=c.user("jingchuan", "admin"),
            parent=c.unit("jingchuan"),
            code="620821100",
            name="城关镇二",
        ),
        Conflict,
        id="a-current-code-cannot-be-used-twice",
    ),
    pytest.param(
        lambda c, d: services.update_org_unit(
            c.unit("chongxin"), actor=c.user("pingliang", "admin"), code="620821"
        ),
        Conflict,
        id="a-county-cannot-take-a-siblings-code",
    ),
    pytest.param(
        lambda c, d: services.retire_org_unit(
            c.unit("jingchuan"), actor=c.user("pingliang", "admin")
        ),
        Conflict,
        id="a-county-with-a-current-township-cannot-be-retired",
    ),
    pytest.param(
        lambda c, d: services.delete_org_unit(
            c.unit("jingchuan"), actor=c.user("pingliang", "admin")
        ),
        Conflict,
        id="a-unit-with-children-cannot-be-deleted",
    ),
    pytest.param(
        lambda c, d: services.delete_org_unit(
            c.unit("chengguan_town"), actor=c.user("jingchuan", "admin")
        ),
        Conflict,
        id="a-unit-with-users-cannot-be-deleted",
    ),
    pytest.param(
        lambda c, d: services.delete_org_unit(
            c.unit("lanzhou_new_area"), actor=c.user("gansu", "admin")
        ),
        Conflict,
        id="a-unit-with-departments-cannot-be-deleted",
    ),
    pytest.param(
        lambda c, d: services.create_department(
            actor=c.user("jingchuan", "admin"),
            org_unit=c.unit("jingchuan"),
            name="泾川县科学技术局",
        ),
        Conflict,
        id="a-unit-cannot-have-two-departments-of-one-name",
    ),
    pytest.param(
        lambda c, d: services.update_department(
            d["town"],
            actor=c.user("jingchuan", "admin"),
            org_unit=c.unit("jingchuan"),
            name="泾川县科学技术局",
        ),
        Conflict,
        id="a-department-cannot-move-onto-a-namesake",
    ),
]


@pytest.mark.parametrize(("attempt", "error"), REFUSALS)
def test_a_refused_edit_leaves_the_data_and_the_audit_log_unchanged(
    cast: Cast, departments: dict[str, Department], attempt: Attempt, error: type[Exception]
) -> None:
    with nothing_changes(), pytest.raises(error):
        attempt(cast, departments)


def test_a_refused_move_does_not_leave_half_rewritten_paths(cast: Cast) -> None:
    # The subtree UPDATE runs before the name is checked; the whole edit must roll back.
    with nothing_changes(), pytest.raises(InvalidInput):
        services.update_org_unit(
            cast.unit("jingchuan"),
            actor=cast.user("gansu", "admin"),
            parent=cast.unit("lanzhou"),
            name=" ",
        )


# ---------------------------------------------------------------- scoping


def visible_codes(user: Any) -> set[str]:
    return set(OrgUnit.objects.visible_to(user).values_list("code", flat=True))


@pytest.mark.parametrize("role", ["clerk", "reviewer", "leader", "admin"])
def test_a_county_user_sees_their_county_and_its_townships_only(cast: Cast, role: str) -> None:
    codes = visible_codes(cast.user("jingchuan", role))
    assert codes == {"620821", "620821100"}  # 泾川县, 城关镇
    assert not codes & {"620823", "6208", "62", "CN"}  # 崇信县, 平凉市, 甘肃省, 全国


def test_a_city_user_sees_all_of_the_citys_counties(cast: Cast) -> None:
    codes = visible_codes(cast.user("pingliang", "clerk"))
    assert codes == {"6208", "620821", "620823", "620821100"}
    assert not codes & {"6201", "620102", "620171"}  # nothing of 兰州市


def test_a_township_user_sees_only_the_township(cast: Cast) -> None:
    assert visible_codes(cast.user("chengguan_town", "admin")) == {"620821100"}


def test_a_superuser_sees_every_unit(cast: Cast, superuser: Any) -> None:
    assert OrgUnit.objects.visible_to(superuser).count() == OrgUnit.objects.count()
    assert "CN" in visible_codes(superuser)


def test_nobody_unknown_sees_anything(cast: Cast) -> None:
    assert not OrgUnit.objects.visible_to(AnonymousUser()).exists()
    assert not OrgUnit.objects.visible_to(User(username="unbound")).exists()
    assert not Department.objects.visible_to(AnonymousUser()).exists()


def test_departments_are_scoped_by_their_unit(
    cast: Cast, departments: dict[str, Department]
) -> None:
    def names(user: Any) -> set[str]:
        return set(Department.objects.visible_to(user).values_list("name", flat=True))

    assert names(cast.user("jingchuan", "clerk")) == {"泾川县科学技术局", "城关镇农业服务中心"}
    assert names(cast.user("chengguan_town", "clerk")) == {"城关镇农业服务中心"}
    assert names(cast.user("gansu", "clerk")) == {d.name for d in departments.values()}


def test_a_user_of_a_unit_sharing_a_path_prefix_sees_none_of_its_neighbour(cast: Cast) -> None:
    # Ten more counties under 平凉市: the path steps of 泾川县 and of later siblings
    # must not be prefixes of one another.
    admin = cast.user("pingliang", "admin")
    for n in range(10):
        services.create_org_unit(
            actor=admin, parent=cast.unit("pingliang"), code=f"6208{n + 30}", name=f"新县{n}"
        )
    assert visible_codes(cast.user("jingchuan", "clerk")) == {"620821", "620821100"}


# ---------------------------------------------------------------- guards added with the review


def test_a_load_whose_parent_code_is_unknown_names_it_and_changes_nothing(cast: Cast) -> None:
    before = OrgUnit.objects.count(), LogEntry.objects.count()
    orphan = Division("629999", "无主县", Level.COUNTY, "6299", UnitKind.ADMINISTRATIVE)
    with pytest.raises(InvalidInput, match="6299"):
        services.load_divisions([orphan], edition="国家统计局 测试版")
    assert (OrgUnit.objects.count(), LogEntry.objects.count()) == before


def test_reinstating_a_unit_in_force_is_refused(cast: Cast) -> None:
    admin = cast.user("pingliang", "admin")
    count = LogEntry.objects.count()
    with pytest.raises(Conflict):
        services.reinstate_org_unit(cast.unit("jingchuan"), actor=admin)
    assert LogEntry.objects.count() == count


def test_no_department_is_set_up_in_or_moved_to_a_retired_unit(cast: Cast) -> None:
    admin = cast.user("pingliang", "admin")
    spare = services.create_org_unit(
        actor=admin, parent=cast.unit("pingliang"), code="620898", name="撤销测试县"
    )
    services.retire_org_unit(spare, actor=admin)
    spare.refresh_from_db()
    with pytest.raises(InvalidInput):
        services.create_department(actor=admin, org_unit=spare, name="撤销测试县科技局")
    department = services.create_department(
        actor=admin, org_unit=cast.unit("jingchuan"), name="泾川县科技局"
    )
    with pytest.raises(InvalidInput):
        services.update_department(department, actor=admin, org_unit=spare)
    department.refresh_from_db()
    assert department.org_unit == cast.unit("jingchuan")


def test_a_county_gone_from_a_county_level_edition_takes_its_townships_along(cast: Cast) -> None:
    without_jingchuan = [
        d for d in cast_divisions() if d.level <= Level.COUNTY and d.code != "620821"
    ]
    report = services.load_divisions(without_jingchuan, edition="国家统计局 新版")
    assert "620821" in report.retired
    assert "620821100" in report.retired
    town = OrgUnit.objects.get(code="620821100")
    assert town.valid_to is not None
    assert not OrgUnitCode.objects.filter(org_unit=town, valid_to__isnull=True).exists()
    # Siblings and the rest of the tree are untouched.
    assert OrgUnit.objects.get(code="620823").valid_to is None
