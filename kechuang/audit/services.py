"""Writing the audit log. The only way a LogEntry comes into being."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from kechuang.audit.models import LogEntry
from kechuang.core.middleware import current_channel, current_request_id

SYSTEM_ACTOR_NAME = "系统"


def record(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    org_unit: Any = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    channel: str = "",
    object_repr: str | None = None,
) -> LogEntry:
    """Append one entry to the audit log (call inside the service's transaction).

    ``actor`` None means the system itself (a migration, a scheduled job).
    ``org_unit`` defaults to the object's owning unit, so the entry is visible
    to exactly the people who can see the object.
    """
    entry = entry_for(
        actor,
        action,
        obj,
        org_unit=org_unit,
        before=before,
        after=after,
        data=data,
        channel=channel,
        object_repr=object_repr,
    )
    entry.save()
    return entry


def record_many(entries: list[LogEntry]) -> list[LogEntry]:
    """Append entries built by ``entry_for`` in one statement (bulk uploads)."""
    return LogEntry.objects.bulk_create(entries, batch_size=2000)


def entry_for(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    org_unit: Any = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    channel: str = "",
    object_repr: str | None = None,
) -> LogEntry:
    """An unsaved entry, filled exactly as ``record`` fills it."""
    if org_unit is None and obj is not None:
        org_unit = owning_unit(obj)
    return LogEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor_label(actor),
        org_unit=org_unit,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=(object_repr if object_repr is not None else str(obj) if obj else "")[:255],
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        data=jsonable(data or {}),
        request_id=current_request_id(),
        channel=channel or current_channel(),
    )


def owning_unit(obj: models.Model) -> Any:
    """The org unit a record belongs to: itself for a unit, else its ``org_unit``."""
    if obj._meta.label_lower == "regions.orgunit":
        return obj
    return getattr(obj, "org_unit", None)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of a record as JSON-safe values.

    A foreign key is kept as ``{"id": …, "repr": …}``: the id for machines, the
    name as it was at that moment for the people reading the log years later.
    """
    result: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if isinstance(field, models.ForeignKey):
            related = getattr(obj, name)
            result[name] = None if related is None else {"id": related.pk, "repr": str(related)}
        else:
            result[name] = getattr(obj, name)
    return jsonable(result)


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Only the keys whose value differs, as {"before": {...}, "after": {...}}."""
    changed = [key for key in after if before.get(key) != after.get(key)]
    return {
        "before": {key: before.get(key) for key in changed},
        "after": {key: after.get(key) for key in changed},
    }


_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    # Plain values first: a bulk upload passes hundreds of thousands of them.
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def actor_label(actor: Any) -> str:
    """How the log names an actor: "username（姓名）", or 系统 for the system."""
    if actor is None or not getattr(actor, "pk", None):
        return SYSTEM_ACTOR_NAME
    name = getattr(actor, "display_name", "") or ""
    return f"{actor.get_username()}（{name}）" if name else actor.get_username()
