"""Every write to the org-unit tree and to departments.

Tree writes are rare and all come through here, so the derived ``path`` can
never disagree with ``parent`` (docs/adr/0001-org-unit-tree.md).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from kechuang.audit import services as audit
from kechuang.core.authorization import Action, require
from kechuang.core.errors import Conflict, Forbidden, InvalidInput
from kechuang.core.scoping import subtree_q
from kechuang.regions.choices import Level, UnitKind
from kechuang.regions.divisions import SHIPPED_EDITION, Division
from kechuang.regions.models import Department, OrgUnit, OrgUnitCode
from kechuang.regions.tree import child_path, decode_step, encode_step, parent_path_of

NATION_CODE = "CN"
NATION_NAME = "全国"
ORG_UNIT_FIELDS = ("parent", "code", "name", "kind", "level", "valid_from", "valid_to")
DEPARTMENT_FIELDS = ("org_unit", "name", "short_name", "is_active")
BATCH = 2000
# The code-history sources written by administrators' edits. An edition's source is free
# text (the CLI names an edition after its directory), so loads tell the two apart by
# these; stored untranslated so the test holds whatever language the editor used.
MANUAL_ENTRY = "人工录入"
MANUAL_EDIT = "人工修改"


# ---------------------------------------------------------------- loading divisions


@dataclass
class LoadReport:
    """What a load of division codes changed."""

    created: int = 0
    renamed: list[dict[str, str]] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    reinstated: list[str] = field(default_factory=list)
    unchanged: int = 0

    def summary(self) -> str:
        return _("新增 %(c)d 个，更名 %(r)d 个，撤销 %(x)d 个，恢复 %(i)d 个，未变 %(u)d 个") % {
            "c": self.created,
            "r": len(self.renamed),
            "x": len(self.retired),
            "i": len(self.reinstated),
            "u": self.unchanged,
        }


def ensure_nation() -> OrgUnit:
    """The root of the tree, 全国, above every province."""
    nation = OrgUnit.objects.filter(parent__isnull=True, level=Level.NATION).first()
    if nation is None:
        nation = OrgUnit.objects.create(
            parent=None, path=encode_step(1), level=Level.NATION, code=NATION_CODE, name=NATION_NAME
        )
    return nation


@transaction.atomic
def load_divisions(
    divisions: list[Division],
    *,
    actor: Any = None,
    edition: str = SHIPPED_EDITION,
    effective: datetime.date | None = None,
    retire_missing: bool = True,
    progress: Any = None,
) -> LoadReport:
    """Bring the tree in line with an edition of the division codes.

    New codes become units; a known code whose name changed gets a new
    code-history row; with ``retire_missing``, units that came from an edition
    and whose code is absent from this one (within the provinces and levels
    loaded) are retired, never deleted. Units typed in by administrators are
    left alone. All or nothing: one transaction.
    """
    effective = effective or timezone.localdate()
    report = LoadReport()
    nation = ensure_nation()
    units = {
        u["code"]: u
        for u in OrgUnit.objects.filter(valid_to__isnull=True).values(
            "id", "code", "name", "path", "level", "kind"
        )
    }
    retired_by_code = {
        u["code"]: u
        for u in OrgUnit.objects.filter(valid_to__isnull=False)
        .order_by("valid_to")
        .values("id", "code", "name", "path", "level", "kind")
    }
    next_step: dict[str, int] = defaultdict(lambda: 1)
    for path in OrgUnit.objects.values_list("path", flat=True):
        if len(path) > len(nation.path):
            parent = parent_path_of(path)
            next_step[parent] = max(next_step[parent], decode_step(path[-4:]) + 1)

    by_level: dict[int, list[Division]] = defaultdict(list)
    for division in divisions:
        by_level[division.level].append(division)
    seen: set[str] = set()
    for level in sorted(by_level):
        new_units: list[OrgUnit] = []
        for division in by_level[level]:
            seen.add(division.code)
            existing = units.get(division.code)
            reinstated = existing is None and division.code in retired_by_code
            if reinstated:
                existing = _reinstate_row(retired_by_code[division.code], report)
                units[division.code] = existing
            if existing is not None:
                # A reinstated unit is reported as such, not also as unchanged.
                _refresh_existing(
                    existing, division, edition, effective, report, count_unchanged=not reinstated
                )
                continue
            if division.parent_code and division.parent_code not in units:
                raise InvalidInput(
                    _("区划 %(code)s %(name)s 的上级代码 %(parent)s 不是在用单位。")
                    % {"code": division.code, "name": division.name, "parent": division.parent_code}
                )
            parent = (
                units[division.parent_code]
                if division.parent_code
                else {"id": nation.pk, "path": nation.path}
            )
            path = child_path(parent["path"], next_step[parent["path"]])
            next_step[parent["path"]] += 1
            new_units.append(
                OrgUnit(
                    parent_id=parent["id"],
                    path=path,
                    level=division.level,
                    code=division.code,
                    name=division.name,
                    kind=division.kind,
                )
            )
        created = OrgUnit.objects.bulk_create(new_units, batch_size=BATCH)
        OrgUnitCode.objects.bulk_create(
            [
                OrgUnitCode(org_unit_id=u.pk, code=u.code, name=u.name, source=edition)
                for u in created
            ],
            batch_size=BATCH,
        )
        for unit in created:
            units[unit.code] = {
                "id": unit.pk,
                "code": unit.code,
                "name": unit.name,
                "path": unit.path,
                "level": unit.level,
                "kind": unit.kind,
            }
        report.created += len(created)
        if progress is not None:
            progress(level, len(by_level[level]))

    if retire_missing:
        _retire_absent(divisions, seen, edition, effective, report)
    audit.record(
        actor,
        "regions.divisions.load",
        None,
        org_unit=nation,
        object_repr=edition,
        data={
            "edition": edition,
            "created": report.created,
            "renamed": report.renamed,
            "retired": report.retired,
            "reinstated": report.reinstated,
            "unchanged": report.unchanged,
            "provinces": sorted({d.code[:2] for d in divisions}),
        },
    )
    return report


def _refresh_existing(
    existing: dict[str, Any],
    division: Division,
    edition: str,
    effective: datetime.date,
    report: LoadReport,
    *,
    count_unchanged: bool = True,
) -> None:
    if existing["name"] == division.name and existing["kind"] == division.kind:
        if count_unchanged:
            report.unchanged += 1
        return
    if existing["name"] != division.name:
        report.renamed.append(
            {"code": division.code, "before": existing["name"], "after": division.name}
        )
        OrgUnitCode.objects.filter(org_unit_id=existing["id"], valid_to__isnull=True).update(
            valid_to=effective
        )
        OrgUnitCode.objects.create(
            org_unit_id=existing["id"],
            code=division.code,
            name=division.name,
            valid_from=effective,
            source=edition,
        )
    OrgUnit.objects.filter(pk=existing["id"]).update(name=division.name, kind=division.kind)
    existing["name"], existing["kind"] = division.name, division.kind


def _reinstate_row(row: dict[str, Any], report: LoadReport) -> dict[str, Any]:
    OrgUnit.objects.filter(pk=row["id"]).update(valid_to=None)
    last = OrgUnitCode.objects.filter(org_unit_id=row["id"]).order_by("-id").first()
    if last is not None:
        last.valid_to = None
        last.save(update_fields=["valid_to"])
    report.reinstated.append(row["code"])
    return row


def _retire_absent(
    divisions: list[Division],
    seen: set[str],
    edition: str,
    effective: datetime.date,
    report: LoadReport,
) -> None:
    provinces = {d.code[:2] for d in divisions}
    levels = {d.level for d in divisions}
    if not provinces:
        return
    # A unit whose current code came from any edition, whatever it is called; units whose
    # current code an administrator typed in or changed are theirs to retire.
    current = OrgUnit.objects.filter(
        valid_to__isnull=True, level__in=levels, code_history__valid_to__isnull=True
    ).values_list("id", "code", "code_history__source")
    gone = [
        (pk, code)
        for pk, code, source in current
        if source not in (MANUAL_ENTRY, MANUAL_EDIT) and code[:2] in provinces and code not in seen
    ]
    # A unit that is gone takes its subtree with it: with --no-townships the townships of
    # an abolished county are not in the edition read, yet cannot stay in force alone.
    gone_ids = {pk for pk, _code in gone}
    gone_paths = list(OrgUnit.objects.filter(pk__in=gone_ids).values_list("path", flat=True))
    below: list[tuple[int, str]] = []
    for path in _outermost(gone_paths):
        below += [
            (pk, code)
            for pk, code in OrgUnit.objects.current()
            .filter(subtree_q("path", path))
            .values_list("id", "code")
            if pk not in gone_ids
        ]
    gone += below
    ids = [pk for pk, _code in gone]
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        OrgUnit.objects.filter(pk__in=chunk).update(valid_to=effective)
        OrgUnitCode.objects.filter(org_unit_id__in=chunk, valid_to__isnull=True).update(
            valid_to=effective
        )
    report.retired = sorted(code for _pk, code in gone)


def _outermost(paths: list[str]) -> list[str]:
    """The paths not inside another one of the list."""
    result: list[str] = []
    for path in sorted(paths):
        if not result or not path.startswith(result[-1]):
            result.append(path)
    return result


# ---------------------------------------------------------------- administrators' edits


def _require_below_own(actor: Any, unit: OrgUnit) -> None:
    """A unit's record belongs to the level above: nobody edits their own unit."""
    if actor is not None and not actor.is_superuser and actor.scope_path == unit.path:
        require(actor, Action.MANAGE_ORG_UNITS, unit)  # NotFound/Forbidden as usual first
        raise Forbidden(_("本单位的信息由上级单位维护。"))
    require(actor, Action.MANAGE_ORG_UNITS, unit.parent or unit)


def _check_code_free(code: str, *, exclude: OrgUnit | None = None) -> None:
    clash = OrgUnit.objects.filter(code=code, valid_to__isnull=True)
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    if clash.exists():
        raise Conflict(
            _("区划代码 %(code)s 已被其他在用单位使用。") % {"code": code},
            fields={"code": [_("代码重复")]},
        )


def _next_child_path(parent: OrgUnit) -> str:
    # Locking the parent row serialises concurrent additions under one parent on
    # PostgreSQL (SQLite's IMMEDIATE transactions serialise all writers anyway).
    OrgUnit.objects.select_for_update().filter(pk=parent.pk).first()
    last = OrgUnit.objects.filter(parent=parent).aggregate(m=Max("path"))["m"]
    return child_path(parent.path, decode_step(last[-4:]) + 1 if last else 1)


def _require_current(unit: OrgUnit) -> None:
    if not unit.is_current:
        raise InvalidInput(
            _("%(name)s 已撤销，不能再为其设立部门。") % {"name": unit.name},
            fields={"org_unit": [_("单位已撤销")]},
        )


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("名称不能为空。"), fields={"name": [_("必填")]})
    return name


@transaction.atomic
def create_org_unit(
    *,
    actor: Any,
    parent: OrgUnit,
    code: str,
    name: str,
    kind: str = UnitKind.ADMINISTRATIVE,
    valid_from: datetime.date | None = None,
) -> OrgUnit:
    """Add a unit under ``parent`` (which must lie in the actor's subtree)."""
    require(actor, Action.MANAGE_ORG_UNITS, parent)
    if parent.level >= Level.TOWNSHIP:
        raise InvalidInput(_("乡级单位下不能再设下级单位。"))
    if not parent.is_current:
        raise InvalidInput(_("上级单位已撤销。"))
    name = _clean_name(name)
    code = (code or "").strip()
    unit = OrgUnit(
        parent=parent,
        path=_next_child_path(parent),
        level=parent.level + 1,
        code=code,
        name=name,
        kind=kind,
        valid_from=valid_from,
    )
    _validate(unit)
    _check_code_free(code)
    unit.save()
    OrgUnitCode.objects.create(
        org_unit=unit, code=code, name=name, valid_from=valid_from, source=MANUAL_ENTRY
    )
    audit.record(actor, "regions.orgunit.create", unit, after=audit.snapshot(unit, ORG_UNIT_FIELDS))
    return unit


@transaction.atomic
def update_org_unit(
    unit: OrgUnit,
    *,
    actor: Any,
    name: str | None = None,
    code: str | None = None,
    kind: str | None = None,
    parent: OrgUnit | None = None,
    effective: datetime.date | None = None,
) -> OrgUnit:
    """Rename, re-code, re-classify or move a unit; a code or name change keeps its history."""
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    _require_below_own(actor, unit)
    before = audit.snapshot(unit, ORG_UNIT_FIELDS)
    if parent is not None and parent.pk != unit.parent_id:
        _move(unit, parent, actor=actor)
    new_name = _clean_name(name) if name is not None else unit.name
    new_code = code.strip() if code is not None else unit.code
    if (new_name, new_code) != (unit.name, unit.code):
        if new_code != unit.code:
            _check_code_free(new_code, exclude=unit)
        effective = effective or timezone.localdate()
        OrgUnitCode.objects.filter(org_unit=unit, valid_to__isnull=True).update(valid_to=effective)
        OrgUnitCode.objects.create(
            org_unit=unit, code=new_code, name=new_name, valid_from=effective, source=MANUAL_EDIT
        )
        unit.name, unit.code = new_name, new_code
    if kind is not None:
        unit.kind = kind
    _validate(unit)
    unit.save()
    after = audit.snapshot(unit, ORG_UNIT_FIELDS)
    if after != before:
        audit.record(actor, "regions.orgunit.update", unit, **audit.changes(before, after))
    return unit


def _move(unit: OrgUnit, new_parent: OrgUnit, *, actor: Any) -> None:
    require(actor, Action.MANAGE_ORG_UNITS, unit.parent, new_parent)
    if new_parent.path.startswith(unit.path):
        raise InvalidInput(_("不能把单位移到它自己的下级之下。"))
    if new_parent.level != unit.level - 1:
        raise InvalidInput(_("新的上级单位必须比本单位高一级。"))
    # As in create_org_unit: a current unit under a retired one is a tree retire_org_unit
    # refuses to make.
    if not new_parent.is_current and unit.is_current:
        raise InvalidInput(_("上级单位已撤销。"))
    old_path, new_path = unit.path, _next_child_path(new_parent)
    # One UPDATE rewrites the prefix of the whole subtree, on SQLite and PostgreSQL alike.
    OrgUnit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1))
    )
    unit.path, unit.parent = new_path, new_parent


@transaction.atomic
def retire_org_unit(unit: OrgUnit, *, actor: Any, on: datetime.date | None = None) -> OrgUnit:
    """Mark a unit as abolished from a date; its data and history stay."""
    _require_below_own(actor, unit)
    # Retiring twice would move valid_to past the date its code row was closed on, and
    # reinstate_org_unit would then leave the unit without a current code.
    if OrgUnit.objects.filter(pk=unit.pk, valid_to__isnull=False).exists():
        raise Conflict(_("该单位已撤销。"))
    if OrgUnit.objects.filter(parent=unit, valid_to__isnull=True).exists():
        raise Conflict(_("该单位还有在用的下级单位，请先调整或撤销下级单位。"))
    before = audit.snapshot(unit, ORG_UNIT_FIELDS)
    unit.valid_to = on or timezone.localdate()
    unit.save(update_fields=["valid_to"])
    OrgUnitCode.objects.filter(org_unit=unit, valid_to__isnull=True).update(valid_to=unit.valid_to)
    audit.record(
        actor,
        "regions.orgunit.retire",
        unit,
        before=before,
        after=audit.snapshot(unit, ORG_UNIT_FIELDS),
    )
    return unit


@transaction.atomic
def reinstate_org_unit(unit: OrgUnit, *, actor: Any) -> OrgUnit:
    """Undo a retirement."""
    _require_below_own(actor, unit)
    if unit.is_current:
        raise Conflict(_("该单位并未撤销。"))
    if unit.parent is not None and not unit.parent.is_current:
        raise Conflict(_("上级单位已撤销，请先恢复上级单位。"))
    _check_code_free(unit.code, exclude=unit)
    before = audit.snapshot(unit, ORG_UNIT_FIELDS)
    last = OrgUnitCode.objects.filter(org_unit=unit).order_by("-id").first()
    if last is not None and last.valid_to == unit.valid_to:
        last.valid_to = None
        last.save(update_fields=["valid_to"])
    unit.valid_to = None
    unit.save(update_fields=["valid_to"])
    audit.record(
        actor,
        "regions.orgunit.reinstate",
        unit,
        before=before,
        after=audit.snapshot(unit, ORG_UNIT_FIELDS),
    )
    return unit


@transaction.atomic
def delete_org_unit(unit: OrgUnit, *, actor: Any) -> None:
    """Delete a unit entered by mistake; a unit with anything attached is retired instead."""
    _require_below_own(actor, unit)
    if (
        OrgUnit.objects.filter(parent=unit).exists()
        or unit.departments.exists()
        or (unit.members.exists())
    ):
        raise Conflict(_("该单位已有下级单位、部门或用户，不能删除；如已撤销，请使用“撤销”。"))
    before = audit.snapshot(unit, ORG_UNIT_FIELDS)
    parent = unit.parent
    audit.record(actor, "regions.orgunit.delete", unit, org_unit=parent, before=before)
    unit.delete()


def _validate(unit: OrgUnit) -> None:
    try:
        unit.full_clean(
            exclude=["path", "parent"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        raise InvalidInput(fields=error.message_dict) from None


# ---------------------------------------------------------------- departments


@transaction.atomic
def create_department(
    *,
    actor: Any,
    org_unit: OrgUnit,
    name: str,
    short_name: str = "",
    is_demo: bool = False,
) -> Department:
    """Add a department (科技局, 财政局 …) to an org unit."""
    require(actor, Action.MANAGE_DEPARTMENTS, org_unit)
    _require_current(org_unit)
    name = _clean_name(name)
    if Department.objects.filter(org_unit=org_unit, name=name).exists():
        raise Conflict(_("该单位已有同名部门。"), fields={"name": [_("名称重复")]})
    department = Department.objects.create(
        org_unit=org_unit, name=name, short_name=short_name.strip(), is_demo=is_demo
    )
    audit.record(
        actor,
        "regions.department.create",
        department,
        after=audit.snapshot(department, DEPARTMENT_FIELDS),
    )
    return department


@transaction.atomic
def update_department(
    department: Department,
    *,
    actor: Any,
    org_unit: OrgUnit | None = None,
    name: str | None = None,
    short_name: str | None = None,
    is_active: bool | None = None,
) -> Department:
    """Change a department; moving it needs rights over the old and the new unit."""
    department = Department.objects.select_for_update().get(pk=department.pk)
    require(actor, Action.MANAGE_DEPARTMENTS, department.org_unit, org_unit)
    before = audit.snapshot(department, DEPARTMENT_FIELDS)
    if org_unit is not None and org_unit.pk != department.org_unit_id:
        _require_current(org_unit)
        department.org_unit = org_unit
    if name is not None:
        department.name = _clean_name(name)
    if short_name is not None:
        department.short_name = short_name.strip()
    if is_active is not None:
        department.is_active = is_active
    clash = Department.objects.filter(org_unit=department.org_unit, name=department.name)
    if clash.exclude(pk=department.pk).exists():
        raise Conflict(_("该单位已有同名部门。"), fields={"name": [_("名称重复")]})
    department.save()
    after = audit.snapshot(department, DEPARTMENT_FIELDS)
    if after != before:
        audit.record(actor, "regions.department.update", department, **audit.changes(before, after))
    return department


@transaction.atomic
def delete_department(department: Department, *, actor: Any) -> None:
    """Delete a department entered by mistake (one that owns nothing yet)."""
    require(actor, Action.MANAGE_DEPARTMENTS, department.org_unit)
    audit.record(
        actor,
        "regions.department.delete",
        department,
        before=audit.snapshot(department, DEPARTMENT_FIELDS),
    )
    department.delete()
