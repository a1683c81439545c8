"""REST endpoints for the catalogue, submissions (with their transitions) and data values."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kechuang.core.api import (
    ScopedModelViewSet,
    ScopedPrimaryKeyRelatedField,
    ScopedReadOnlyViewSet,
)
from kechuang.core.authorization import Action
from kechuang.core.errors import InvalidInput
from kechuang.indicators import services
from kechuang.indicators.choices import Channel
from kechuang.indicators.models import DataSet, DataValue, Indicator, Submission, Target
from kechuang.indicators.services import ValueChange, targets
from kechuang.regions.models import OrgUnit


class IndicatorSerializer(serializers.ModelSerializer):
    numerator = serializers.SlugRelatedField(slug_field="code", read_only=True)
    denominator = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Indicator
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "unit",
            "definition",
            "source_department",
            "value_type",
            "decimals",
            "direction",
            "rollup",
            "numerator",
            "denominator",
            "scale",
            "formula",
            "min_value",
            "max_value",
            "source_note",
        ]


class IndicatorViewSet(viewsets.ReadOnlyModelViewSet):
    """The indicator catalogue (the same for everyone)."""

    queryset = Indicator.objects.filter(is_active=True).select_related("numerator", "denominator")
    serializer_class = IndicatorSerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_field = "code"
    filterset_fields = ["value_type", "rollup", "direction"]


class DataSetSerializer(serializers.ModelSerializer):
    indicators = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = DataSet
        fields = [
            "id",
            "code",
            "name",
            "description",
            "due_month",
            "due_day",
            "approval_levels",
            "reporting_levels",
            "indicators",
        ]


class DataSetViewSet(viewsets.ReadOnlyModelViewSet):
    """Data sets: which indicators a unit reports each year, and who approves them."""

    queryset = DataSet.objects.filter(is_active=True).prefetch_related("indicators")
    serializer_class = DataSetSerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_field = "code"


class SubmissionSerializer(serializers.ModelSerializer):
    dataset = serializers.SlugRelatedField(slug_field="code", queryset=DataSet.objects.all())
    org_unit = ScopedPrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    org_unit_code = serializers.CharField(source="org_unit.code", read_only=True)

    class Meta:
        model = Submission
        fields = [
            "id",
            "dataset",
            "org_unit",
            "org_unit_code",
            "year",
            "status",
            "approved_levels",
            "next_level",
            "return_reason",
            "submitted_at",
            "approved_at",
            "is_demo",
        ]
        read_only_fields = [
            "status",
            "approved_levels",
            "next_level",
            "return_reason",
            "submitted_at",
            "approved_at",
            "is_demo",
        ]
        validators: list[Any] = []


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ValueInSerializer(serializers.Serializer):
    indicator = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class ValuesInSerializer(serializers.Serializer):
    values = ValueInSerializer(many=True)
    reason = serializers.CharField(required=False, allow_blank=True)


class SubmissionViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Submissions the caller may see; POST opens one (a draft) for a unit, data set and year.

    Transitions are actions: ``submit``, ``approve``, ``return``, ``reopen``;
    ``values`` writes cells; ``validation`` lists what is wrong or unusual.
    """

    queryset = Submission.objects.select_related("org_unit", "dataset")
    serializer_class = SubmissionSerializer
    filterset_fields = ["dataset", "org_unit", "year", "status"]

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        submission = services.open_submission(
            data["dataset"], data["org_unit"], data["year"], actor=request.user
        )
        return Response(self.get_serializer(submission).data, status=status.HTTP_201_CREATED)

    def _done(self, submission: Submission) -> Response:
        return Response(self.get_serializer(submission).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def submit(self, request: Any, pk: Any = None) -> Response:
        return self._done(services.submit_submission(self.get_object(), actor=request.user))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def approve(self, request: Any, pk: Any = None) -> Response:
        return self._done(services.approve_submission(self.get_object(), actor=request.user))

    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request: Any, pk: Any = None) -> Response:
        reason = ReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        return self._done(
            services.return_submission(
                self.get_object(), actor=request.user, reason=reason.validated_data["reason"]
            )
        )

    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Any, pk: Any = None) -> Response:
        reason = ReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        return self._done(
            services.reopen_submission(
                self.get_object(), actor=request.user, reason=reason.validated_data["reason"]
            )
        )

    @extend_schema(
        request=ValuesInSerializer,
        responses=inline_serializer("ValuesOut", {"changed": serializers.IntegerField()}),
    )
    @action(detail=True, methods=["post"])
    def values(self, request: Any, pk: Any = None) -> Response:
        payload = ValuesInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        changes = [
            ValueChange(v["indicator"], v["value"], v.get("comment"))
            for v in payload.validated_data["values"]
        ]
        changed = services.set_values(
            self.get_object(),
            changes,
            actor=request.user,
            channel=Channel.API,
            reason=payload.validated_data.get("reason", ""),
        )
        return Response({"changed": changed})

    @extend_schema(
        responses=inline_serializer(
            "Findings", {"findings": serializers.ListField(child=serializers.DictField())}
        )
    )
    @action(detail=True, methods=["get"])
    def validation(self, request: Any, pk: Any = None) -> Response:
        findings = services.validate_submission(self.get_object())
        return Response(
            {
                "findings": [
                    {
                        "severity": f.severity,
                        "code": f.code,
                        "message": f.message,
                        "indicators": list(f.indicators),
                    }
                    for f in findings
                ]
            }
        )


class DataValueSerializer(serializers.ModelSerializer):
    indicator = serializers.SlugRelatedField(slug_field="code", read_only=True)
    org_unit_code = serializers.CharField(source="org_unit.code", read_only=True)

    class Meta:
        model = DataValue
        fields = [
            "id",
            "indicator",
            "org_unit",
            "org_unit_code",
            "year",
            "value",
            "comment",
            "submission",
            "channel",
            "updated_at",
            "is_demo",
        ]


class DataValueViewSet(ScopedReadOnlyViewSet):
    """Values the caller may see (own subtree, and only as far as review has carried them)."""

    queryset = DataValue.objects.select_related("indicator", "org_unit")
    serializer_class = DataValueSerializer
    filterset_fields = ["org_unit", "year", "indicator__code", "submission"]


class TargetSerializer(serializers.ModelSerializer):
    org_unit = ScopedPrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    indicator = serializers.SlugRelatedField(slug_field="code", queryset=Indicator.objects.all())
    set_by_unit_code = serializers.CharField(
        source="set_by_unit.code", read_only=True, default=None
    )

    class Meta:
        model = Target
        fields = [
            "id",
            "org_unit",
            "indicator",
            "year",
            "comparator",
            "value",
            "value_high",
            "base_year",
            "note",
            "set_by_unit_code",
            "is_demo",
        ]
        read_only_fields = ["is_demo"]
        validators: list[Any] = []


class TargetStatusSerializer(serializers.Serializer):
    target = serializers.IntegerField(source="target.pk")
    org_unit_code = serializers.CharField(source="target.org_unit.code")
    indicator = serializers.CharField(source="target.indicator.code")
    year = serializers.IntegerField(source="target.year")
    value = serializers.FloatField(allow_null=True)
    value_year = serializers.IntegerField(allow_null=True)
    completion = serializers.FloatField(allow_null=True)
    probability = serializers.FloatField(allow_null=True)
    light = serializers.CharField()
    is_final = serializers.BooleanField()


class TargetViewSet(ScopedModelViewSet):
    """Targets of the units in the caller's subtree; ``status`` tells where each stands."""

    queryset = Target.objects.select_related("org_unit", "indicator", "set_by_unit")
    serializer_class = TargetSerializer
    filterset_fields = ["org_unit", "year", "indicator__code"]
    write_action = Action.SET_TARGETS

    def create_object(self, data: dict[str, Any]) -> Target:
        return targets.set_target(actor=self.request.user, **data)

    def update_object(self, instance: Target, data: dict[str, Any]) -> Target:
        # Start from the stored target, so a PATCH changes only what it names.
        fields = {
            name: getattr(instance, name) for name in targets.TARGET_FIELDS if name != "set_by_unit"
        }
        if ("org_unit" in data and data["org_unit"].pk != instance.org_unit_id) or (
            "indicator" in data and data["indicator"].pk != instance.indicator_id
        ):
            raise InvalidInput(_("目标的单位和指标不能修改，请删除后重新下达。"))
        fields.update(data)
        return targets.set_target(actor=self.request.user, **fields)

    def delete_object(self, instance: Target) -> None:
        targets.delete_target(instance, actor=self.request.user)

    @extend_schema(responses=TargetStatusSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="status", url_name="status")
    def status_list(self, request: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())[:5000]
        return Response(TargetStatusSerializer(targets.target_status(queryset), many=True).data)
