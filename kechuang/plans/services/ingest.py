"""A plan's text → a proposal a reviewer corrects → a published plan with its task tree.

``propose`` runs the extractor (``plans.extraction``, pure) and matches each
unit name the text gives to a department or org unit of the issuing unit's
subtree. ``publish`` writes the plan in one transaction: tasks in their
document order with parents from their numbering, assignments by role
(matched, or kept as written), targets linked to a catalogue indicator when
one matches the subject, and promised subsidies.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kechuang.audit import services as audit
from kechuang.core.authorization import Action, require
from kechuang.core.errors import InvalidInput
from kechuang.core.scoping import subtree_q
from kechuang.indicators.models import Indicator
from kechuang.plans.choices import Comparator, PlanStatus, Role, SubsidyPer
from kechuang.plans.extraction.extract import extract
from kechuang.plans.models import Assignment, Plan, PlanTarget, Subsidy, Task
from kechuang.regions.models import Department, OrgUnit

ROLE_KEYS = {
    Role.LEAD: "lead_units",
    Role.RESPONSIBLE: "responsible_units",
    Role.COOPERATING: "cooperating_units",
}
# Common short forms in plan texts and the words they stand for in department names.
SHORT_FORMS = (
    ("科技局", "科学技术局"),
    ("发改委", "发展和改革委员会"),
    ("发改局", "发展和改革局"),
    ("工信局", "工业和信息化局"),
    ("人社局", "人力资源和社会保障局"),
    ("农业农村局", "农业农村局"),
)


@dataclass
class UnitMatch:
    name: str
    department: Department | None = None
    org_unit: OrgUnit | None = None

    @property
    def matched(self) -> bool:
        return self.department is not None or self.org_unit is not None


@dataclass
class Proposal:
    """What the extractor read, with each unit name matched where it could be."""

    data: dict[str, Any]
    units: dict[str, UnitMatch] = field(default_factory=dict)

    @property
    def unmatched(self) -> list[str]:
        return sorted(name for name, match in self.units.items() if not match.matched)


def propose(text: str, org_unit: OrgUnit) -> Proposal:
    if not text.strip():
        raise InvalidInput(_("没有可识别的文字：请粘贴或上传规划计划的正文。"))
    data = extract(text)
    names = {
        name for task in data["tasks"] for key in ROLE_KEYS.values() for name in task.get(key, [])
    }
    return Proposal(data, {name: match_unit(name, org_unit) for name in sorted(names)})


def match_unit(name: str, org_unit: OrgUnit) -> UnitMatch:
    """The department or org unit ``name`` stands for, inside ``org_unit``'s subtree.

    Exact names first, then the name without its place prefix (区科技局 →
    科技局) against names and short names ending with it, with the common short
    forms expanded (科技局 → 科学技术局). Ambiguous names stay unmatched: a
    reviewer decides rather than the platform guessing.
    """
    departments = list(
        Department.objects.filter(subtree_q("org_unit__path", org_unit.path), is_active=True)
    )
    exact = [d for d in departments if name in (d.name, d.short_name)]
    if len(exact) == 1:
        return UnitMatch(name, department=exact[0])
    units = list(OrgUnit.objects.current().filter(subtree_q("path", org_unit.path), name=name))
    if len(units) == 1:
        return UnitMatch(name, org_unit=units[0])
    core = _core(name, org_unit)
    if len(core) >= 2:
        variants = {core, *(core.replace(short, full) for short, full in SHORT_FORMS)}
        own = [
            d
            for d in departments
            if d.org_unit_id == org_unit.pk
            and any(d.name.endswith(v) or d.short_name == v for v in variants)
        ]
        if len(own) == 1:
            return UnitMatch(name, department=own[0])
    return UnitMatch(name)


def _core(name: str, org_unit: OrgUnit) -> str:
    """The name without the issuing unit's place name or a bare 区/县/市 in front."""
    for prefix in (org_unit.name, re.sub(r"(省|市|县|区|自治州|自治县)$", "", org_unit.name)):
        if prefix and name.startswith(prefix):
            return name[len(prefix) :]
    return re.sub(r"^(省|市|州|县|区|旗)(?=.)", "", name)


@transaction.atomic
def publish(
    proposal: Proposal,
    *,
    org_unit: OrgUnit,
    actor: Any,
    text: str = "",
    parent: Plan | None = None,
    create_departments: Iterable[str] = (),
    is_demo: bool = False,
) -> Plan:
    """Write the proposal as a published plan of ``org_unit``.

    ``create_departments``: unmatched names the reviewer chose to add as
    departments of ``org_unit`` (the others stay as written, unlinked).
    """
    require(actor, Action.MANAGE_PLANS, org_unit)
    document = proposal.data.get("document") or {}
    title = (document.get("title") or "").strip()
    if not title:
        raise InvalidInput(_("请填写规划计划的标题。"), fields={"title": [_("必填")]})
    created = {}
    for name in create_departments:
        if name in proposal.units and not proposal.units[name].matched:
            department = Department.objects.create(org_unit=org_unit, name=name, is_demo=is_demo)
            created[name] = department
            proposal.units[name] = UnitMatch(name, department=department)
    plan = Plan.objects.create(
        org_unit=org_unit,
        title=title[:300],
        issuer=(document.get("issuer") or "")[:300],
        doc_number=(document.get("doc_number") or "")[:100],
        issued_on=_date(document.get("date")),
        start_year=document.get("start_year"),
        end_year=document.get("end_year"),
        parent=parent,
        status=PlanStatus.PUBLISHED,
        source_text=text,
        is_demo=is_demo,
    )
    tasks = _write_tasks(plan, proposal)
    _write_targets(plan, proposal.data.get("targets") or [], tasks)
    _write_subsidies(plan, proposal.data.get("subsidies") or [], tasks)
    audit.record(
        actor,
        "plans.plan.publish",
        plan,
        after={
            "title": plan.title,
            "doc_number": plan.doc_number,
            "tasks": len(tasks),
            "targets": plan.targets.count(),
            "subsidies": plan.subsidies.count(),
            "departments_created": sorted(created),
        },
    )
    return plan


def _write_tasks(plan: Plan, proposal: Proposal) -> dict[tuple[str, ...], Task]:
    by_path: dict[tuple[str, ...], Task] = {}
    assignments = []
    for order, item in enumerate(proposal.data.get("tasks") or []):
        path = tuple(str(p) for p in item.get("path") or (str(order + 1),))
        parent = next(
            (by_path[path[:cut]] for cut in range(len(path) - 1, 0, -1) if path[:cut] in by_path),
            None,
        )
        task = Task.objects.create(
            plan=plan,
            parent=parent,
            path=list(path),
            title=str(item.get("title") or "")[:500] or _("（无标题）"),
            order=order,
        )
        by_path[path] = task
        for role, key in ROLE_KEYS.items():
            for position, name in enumerate(item.get(key) or []):
                match = proposal.units.get(name) or UnitMatch(name)
                assignments.append(
                    Assignment(
                        task=task,
                        role=role,
                        name=name[:200],
                        department=match.department,
                        org_unit=match.org_unit,
                        order=position,
                    )
                )
    Assignment.objects.bulk_create(assignments)
    return by_path


def _write_targets(
    plan: Plan, targets: Iterable[Mapping[str, Any]], tasks: dict[tuple[str, ...], Task]
) -> None:
    indicators = list(Indicator.objects.values_list("pk", "name"))
    rows = []
    for item in targets:
        comparator = item.get("comparator") or Comparator.AT_LEAST
        if comparator not in Comparator.values:
            comparator = Comparator.AT_LEAST
        subject = str(item.get("subject") or "")
        rows.append(
            PlanTarget(
                plan=plan,
                task=_task_of(item, tasks),
                text=str(item.get("text") or ""),
                subject=subject[:300],
                indicator_id=_indicator_for(subject, indicators),
                comparator=comparator,
                value=float(item["value"]),
                value_max=item.get("value_max"),
                unit=str(item.get("unit") or "")[:30],
                year=item.get("year"),
                scope=str(item.get("scope") or "")[:50],
            )
        )
    PlanTarget.objects.bulk_create(rows)


def _write_subsidies(
    plan: Plan, subsidies: Iterable[Mapping[str, Any]], tasks: dict[tuple[str, ...], Task]
) -> None:
    Subsidy.objects.bulk_create(
        Subsidy(
            plan=plan,
            task=_task_of(item, tasks),
            text=str(item.get("text") or ""),
            subject=str(item.get("subject") or "")[:300],
            amount_yuan=float(item["amount_yuan"]),
            amount_max_yuan=item.get("amount_max_yuan"),
            per=item.get("per") if item.get("per") in SubsidyPer.values else SubsidyPer.OTHER,
        )
        for item in subsidies
    )


def _task_of(item: Mapping[str, Any], tasks: dict[tuple[str, ...], Task]) -> Task | None:
    path = item.get("task_path")
    return tasks.get(tuple(str(p) for p in path)) if path else None


def _indicator_for(subject: str, indicators: list[tuple[int, str]]) -> int | None:
    """The catalogue indicator the subject names: equal names, else the one name it contains."""
    plain = re.sub(r"\s+", "", subject)
    if not plain:
        return None
    equal = [pk for pk, name in indicators if name == plain]
    if len(equal) == 1:
        return equal[0]
    inside = [pk for pk, name in indicators if len(name) >= 4 and (name in plain or plain in name)]
    return inside[0] if len(inside) == 1 else None


def _date(text: Any) -> datetime.date | None:
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(str(text))
    except ValueError:
        return None
