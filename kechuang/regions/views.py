"""Pages for the org-unit tree and departments.

Thin: reads go through visible_to/access_object, writes through regions.services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kechuang.audit.actions import label_for
from kechuang.audit.models import LogEntry
from kechuang.core.authorization import Action, can, has_action, require
from kechuang.core.errors import Forbidden
from kechuang.core.scoping import access_object, path_within
from kechuang.core.views import paginate, run_service
from kechuang.regions import services
from kechuang.regions.choices import Level, UnitKind
from kechuang.regions.forms import DepartmentForm, OrgUnitEditForm, OrgUnitForm
from kechuang.regions.models import Department, OrgUnit


def _level_counts(unit: OrgUnit) -> list[dict]:
    rows = (
        OrgUnit.objects.current()
        .descendants_of(unit)
        .values("level")
        .annotate(
            total=Count("id"), administrative=Count("id", filter=Q(kind=UnitKind.ADMINISTRATIVE))
        )
        .order_by("level")
    )
    return [{**r, "level": Level(r["level"]).label} for r in rows]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: the user's own org unit at a glance."""
    user = request.user
    unit = user.org_unit
    context: dict = {"unit": unit}
    if unit is not None:
        context.update(
            ancestors=unit.ancestors(),
            level_counts=_level_counts(unit),
            children=OrgUnit.objects.current().children_of(unit).order_by("code")[:60],
            departments=Department.objects.filter(org_unit=unit, is_active=True),
            member_count=unit.members.filter(is_active=True).count(),
        )
    if has_action(user, Action.VIEW_AUDIT):
        context["recent_log"] = list(
            LogEntry.objects.visible_to(user).select_related("org_unit")[:8]
        )
        for entry in context["recent_log"]:
            entry.label = label_for(entry.action)
    return render(request, "regions/home.html", context)


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    """Search the units the user may see, by name or code, optionally by level."""
    units = OrgUnit.objects.visible_to(request.user)
    query = request.GET.get("q", "").strip()
    level = request.GET.get("level", "")
    if query:
        units = units.filter(Q(name__contains=query) | Q(code__startswith=query))
    if level.isdigit():
        units = units.filter(level=int(level))
    if request.GET.get("retired") != "1":
        units = units.current()
    page, querystring = paginate(request, units.order_by("path"))
    return render(
        request,
        "regions/unit_list.html",
        {
            "page_obj": page,
            "querystring": querystring,
            "q": query,
            "level": level,
            "levels": Level.choices,
            "show_retired": request.GET.get("retired") == "1",
        },
    )


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access_object(OrgUnit.objects.all(), request.user, pk)
    children = OrgUnit.objects.children_of(unit).order_by("valid_to", "code")
    page, querystring = paginate(request, children, per_page=100)
    return render(
        request,
        "regions/unit_detail.html",
        {
            "unit": unit,
            "ancestors": _breadcrumbs(request.user, unit),
            "page_obj": page,
            "querystring": querystring,
            "departments": unit.departments.all(),
            "code_history": unit.code_history.all(),
            "can_edit": _can_edit_unit(request.user, unit),
            "can_add_child": can(request.user, Action.MANAGE_ORG_UNITS, unit.path)
            and unit.level < Level.TOWNSHIP
            and unit.is_current,
            "can_add_department": can(request.user, Action.MANAGE_DEPARTMENTS, unit.path),
        },
    )


def _breadcrumbs(user: Any, unit: OrgUnit) -> list[tuple[OrgUnit, bool]]:
    """Every ancestor's name; a link only where the user may open it."""
    return [
        (a, user.is_superuser or path_within(a.path, user.scope_path)) for a in unit.ancestors()
    ]


def _can_edit_unit(user: Any, unit: OrgUnit) -> bool:
    if user.is_superuser:
        return True
    return unit.path != user.scope_path and can(user, Action.MANAGE_ORG_UNITS, unit.path)


def _require_edit(user: Any, unit: OrgUnit) -> None:
    require(user, Action.MANAGE_ORG_UNITS, unit)
    if not _can_edit_unit(user, unit):
        raise Forbidden(_("本单位的信息由上级单位维护。"))


@login_required
def unit_create(request: HttpRequest, parent_pk: int) -> HttpResponse:
    parent = access_object(OrgUnit.objects.all(), request.user, parent_pk)
    require(request.user, Action.MANAGE_ORG_UNITS, parent)
    form = OrgUnitForm(request.POST or None, initial={"kind": UnitKind.ADMINISTRATIVE})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = run_service(
            form,
            lambda: services.create_org_unit(
                actor=request.user,
                parent=parent,
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                valid_from=data["effective"],
            ),
        )
        if unit is not None:
            messages.success(request, _("已新增 %(name)s。") % {"name": unit.name})
            return redirect("regions:unit-detail", pk=unit.pk)
    return render(
        request,
        "regions/unit_form.html",
        {"form": form, "parent": parent, "title": _("在 %(p)s 下新增单位") % {"p": parent.name}},
    )


@login_required
def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access_object(OrgUnit.objects.all(), request.user, pk)
    _require_edit(request.user, unit)
    initial = {"name": unit.name, "code": unit.code, "kind": unit.kind, "parent": unit.parent}
    form = OrgUnitEditForm(request.POST or None, initial=initial, user=request.user, unit=unit)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        updated = run_service(
            form,
            lambda: services.update_org_unit(
                unit,
                actor=request.user,
                name=data["name"],
                code=data["code"],
                kind=data["kind"],
                parent=data["parent"],
                effective=data["effective"],
            ),
        )
        if updated is not None:
            messages.success(request, _("已保存 %(name)s。") % {"name": updated.name})
            return redirect("regions:unit-detail", pk=unit.pk)
    return render(
        request,
        "regions/unit_form.html",
        {"form": form, "unit": unit, "title": _("修改 %(n)s") % {"n": unit.name}},
    )


@login_required
@require_POST
def unit_retire(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access_object(OrgUnit.objects.all(), request.user, pk)
    services.retire_org_unit(unit, actor=request.user)
    messages.success(request, _("已撤销 %(n)s，可随时恢复。") % {"n": unit.name})
    return redirect("regions:unit-detail", pk=unit.pk)


@login_required
@require_POST
def unit_reinstate(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access_object(OrgUnit.objects.all(), request.user, pk)
    services.reinstate_org_unit(unit, actor=request.user)
    messages.success(request, _("已恢复 %(n)s。") % {"n": unit.name})
    return redirect("regions:unit-detail", pk=unit.pk)


@login_required
def unit_delete(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access_object(OrgUnit.objects.all(), request.user, pk)
    _require_edit(request.user, unit)
    if request.method == "POST":
        parent_pk = unit.parent_id
        services.delete_org_unit(unit, actor=request.user)
        messages.success(request, _("已删除 %(n)s。") % {"n": unit.name})
        return redirect("regions:unit-detail", pk=parent_pk)
    return render(
        request, "regions/confirm_delete.html", {"object": unit, "cancel_url": unit_url(unit)}
    )


def unit_url(unit: OrgUnit) -> str:
    return reverse("regions:unit-detail", args=[unit.pk])


# ---------------------------------------------------------------- departments


@login_required
def department_list(request: HttpRequest) -> HttpResponse:
    departments = Department.objects.visible_to(request.user).select_related("org_unit")
    query = request.GET.get("q", "").strip()
    if query:
        departments = departments.filter(
            Q(name__contains=query) | Q(org_unit__name__contains=query)
        )
    page, querystring = paginate(request, departments)
    return render(
        request,
        "regions/department_list.html",
        {"page_obj": page, "querystring": querystring, "q": query},
    )


@login_required
def department_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.MANAGE_DEPARTMENTS, request.user.org_unit)
    initial = {"is_active": True}
    if request.GET.get("org_unit"):
        initial["org_unit"] = access_object(
            OrgUnit.objects.all(), request.user, request.GET["org_unit"]
        )
    form = DepartmentForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        department = run_service(
            form,
            lambda: services.create_department(
                actor=request.user,
                org_unit=data["org_unit"],
                name=data["name"],
                short_name=data["short_name"],
            ),
        )
        if department is not None:
            messages.success(request, _("已新增部门 %(n)s。") % {"n": department.name})
            return redirect("regions:department-list")
    return render(request, "regions/department_form.html", {"form": form, "title": _("新增部门")})


@login_required
def department_edit(request: HttpRequest, pk: int) -> HttpResponse:
    department = access_object(Department.objects.all(), request.user, pk)
    require(request.user, Action.MANAGE_DEPARTMENTS, department.org_unit)
    form = DepartmentForm(
        request.POST or None, initial=DepartmentForm.initial_for(department), user=request.user
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        updated = run_service(
            form,
            lambda: services.update_department(
                department,
                actor=request.user,
                org_unit=data["org_unit"],
                name=data["name"],
                short_name=data["short_name"],
                is_active=data["is_active"],
            ),
        )
        if updated is not None:
            messages.success(request, _("已保存部门 %(n)s。") % {"n": updated.name})
            return redirect("regions:department-list")
    return render(
        request,
        "regions/department_form.html",
        {
            "form": form,
            "title": _("修改部门 %(n)s") % {"n": department.name},
            "department": department,
        },
    )


@login_required
def department_delete(request: HttpRequest, pk: int) -> HttpResponse:
    department = access_object(Department.objects.all(), request.user, pk)
    require(request.user, Action.MANAGE_DEPARTMENTS, department.org_unit)
    if request.method == "POST":
        services.delete_department(department, actor=request.user)
        messages.success(request, _("已删除部门 %(n)s。") % {"n": department.name})
        return redirect("regions:department-list")
    return render(
        request,
        "regions/confirm_delete.html",
        {"object": department, "cancel_url": reverse("regions:department-list")},
    )
