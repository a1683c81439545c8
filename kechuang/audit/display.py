"""Turning a log entry's before/after into lines a person reads: 角色：填报员 → 审核员."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _

from kechuang.audit.models import LogEntry


@dataclass(frozen=True)
class ChangeLine:
    label: str
    before: str | None
    after: str | None


def change_lines(entry: LogEntry) -> list[ChangeLine]:
    """One line per field, labelled with the field's Chinese name where the model is known."""
    before, after = entry.before or {}, entry.after or {}
    model = _model(entry.object_type)
    lines = []
    for key in list(before) + [k for k in after if k not in before]:
        field = _field(model, key)
        lines.append(
            ChangeLine(
                label=str(field.verbose_name) if field is not None else key,
                before=_show(field, before[key]) if key in before else None,
                after=_show(field, after[key]) if key in after else None,
            )
        )
    return lines


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label) if label else None
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)  # type: ignore[return-value]
    except FieldDoesNotExist:
        return None


def _show(field: models.Field | None, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict) and "repr" in value:
        return str(value["repr"])
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)
