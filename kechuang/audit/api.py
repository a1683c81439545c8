"""Read-only REST endpoint for the audit log of the caller's subtree."""

from __future__ import annotations

from rest_framework import serializers

from kechuang.audit.actions import label_for
from kechuang.audit.models import LogEntry
from kechuang.core.api import ScopedReadOnlyViewSet
from kechuang.core.authorization import Action


class LogEntrySerializer(serializers.ModelSerializer):
    action_label = serializers.SerializerMethodField()
    org_unit_code = serializers.CharField(source="org_unit.code", read_only=True, default=None)

    class Meta:
        model = LogEntry
        fields = [
            "id",
            "time",
            "actor",
            "actor_name",
            "org_unit",
            "org_unit_code",
            "action",
            "action_label",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
            "data",
            "request_id",
            "channel",
        ]

    def get_action_label(self, entry: LogEntry) -> str:
        return label_for(entry.action)


class LogEntryViewSet(ScopedReadOnlyViewSet):
    """Audit log entries of the caller's subtree (administrators and reviewers)."""

    queryset = LogEntry.objects.select_related("org_unit")
    serializer_class = LogEntrySerializer
    filterset_fields = ["action", "actor", "org_unit", "object_type", "object_id"]
    read_action = Action.VIEW_AUDIT
