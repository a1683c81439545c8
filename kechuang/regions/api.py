"""REST endpoints for org units and departments (/api/v1/regions/…)."""

from __future__ import annotations

from typing import Any

import django_filters
from rest_framework import serializers

from kechuang.core.api import ScopedModelViewSet, ScopedPrimaryKeyRelatedField
from kechuang.core.authorization import Action
from kechuang.regions import services
from kechuang.regions.models import Department, OrgUnit


class OrgUnitSerializer(serializers.ModelSerializer):
    parent = ScopedPrimaryKeyRelatedField(queryset=OrgUnit.objects.all(), required=True)
    is_current = serializers.BooleanField(read_only=True)

    class Meta:
        model = OrgUnit
        fields = [
            "id",
            "parent",
            "code",
            "name",
            "level",
            "kind",
            "valid_from",
            "valid_to",
            "is_current",
        ]
        read_only_fields = ["level", "valid_to"]
        # Uniqueness is the service's job (it knows about retired codes).
        validators: list[Any] = []
        extra_kwargs = {"code": {"validators": []}}


class OrgUnitFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(lookup_expr="startswith")
    name = django_filters.CharFilter(lookup_expr="contains")
    current = django_filters.BooleanFilter(field_name="valid_to", lookup_expr="isnull")

    class Meta:
        model = OrgUnit
        fields = ["parent", "level", "kind", "code", "name", "current"]


class OrgUnitViewSet(ScopedModelViewSet):
    """Org units in the caller's subtree. Writing needs the administrator role."""

    queryset = OrgUnit.objects.all()
    serializer_class = OrgUnitSerializer
    filterset_class = OrgUnitFilter
    write_action = Action.MANAGE_ORG_UNITS

    def create_object(self, data: dict[str, Any]) -> OrgUnit:
        return services.create_org_unit(
            actor=self.request.user,
            parent=data["parent"],
            code=data["code"],
            name=data["name"],
            kind=data.get("kind", "administrative"),
            valid_from=data.get("valid_from"),
        )

    def update_object(self, instance: OrgUnit, data: dict[str, Any]) -> OrgUnit:
        return services.update_org_unit(
            instance,
            actor=self.request.user,
            name=data.get("name"),
            code=data.get("code"),
            kind=data.get("kind"),
            parent=data.get("parent"),
        )

    def delete_object(self, instance: OrgUnit) -> None:
        services.delete_org_unit(instance, actor=self.request.user)


class DepartmentSerializer(serializers.ModelSerializer):
    org_unit = ScopedPrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True)

    class Meta:
        model = Department
        fields = ["id", "org_unit", "org_unit_name", "name", "short_name", "is_active", "is_demo"]
        read_only_fields = ["is_demo"]
        validators: list[Any] = []


class DepartmentViewSet(ScopedModelViewSet):
    """Departments of the units in the caller's subtree."""

    queryset = Department.objects.select_related("org_unit")
    serializer_class = DepartmentSerializer
    filterset_fields = ["org_unit", "is_active"]
    write_action = Action.MANAGE_DEPARTMENTS

    def create_object(self, data: dict[str, Any]) -> Department:
        return services.create_department(
            actor=self.request.user,
            org_unit=data["org_unit"],
            name=data["name"],
            short_name=data.get("short_name", ""),
        )

    def update_object(self, instance: Department, data: dict[str, Any]) -> Department:
        return services.update_department(
            instance,
            actor=self.request.user,
            org_unit=data.get("org_unit"),
            name=data.get("name"),
            short_name=data.get("short_name"),
            is_active=data.get("is_active"),
        )

    def delete_object(self, instance: Department) -> None:
        services.delete_department(instance, actor=self.request.user)
