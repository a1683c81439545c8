"""Entering values: one cell or a whole sheet, always with history and an audit entry."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kechuang.audit import services as audit
from kechuang.core.authorization import Action, require
from kechuang.core.errors import InvalidInput
from kechuang.core.middleware import current_request_id
from kechuang.indicators.choices import Channel, SubmissionStatus
from kechuang.indicators.errors import ValuesLocked
from kechuang.indicators.models import (
    DataSet,
    DataValue,
    DataValueRevision,
    Indicator,
    Submission,
)

EDITABLE = (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED)


@dataclass(frozen=True)
class ValueChange:
    """One cell to write: a value (None clears it) and an optional comment."""

    indicator: str  # code
    value: float | None
    comment: str | None = None


def open_submission(
    dataset: DataSet, org_unit: Any, year: int, *, actor: Any, is_demo: bool = False
) -> Submission:
    """The unit's submission of ``dataset`` for ``year``, created as a draft on first use."""
    require(actor, Action.ENTER_DATA, org_unit)
    submission, created = Submission.objects.get_or_create(
        dataset=dataset,
        org_unit=org_unit,
        year=year,
        defaults={"visible_level": org_unit.level, "is_demo": is_demo},
    )
    if created:
        audit.record(
            actor,
            "indicators.submission.open",
            submission,
            after={"dataset": dataset.code, "year": year},
        )
    return submission


@transaction.atomic
def set_values(
    submission: Submission,
    changes: Iterable[ValueChange],
    *,
    actor: Any,
    channel: str = Channel.FORM,
    reason: str = "",
) -> int:
    """Write cells of a draft or returned submission; return how many changed.

    Unchanged cells write nothing. Each changed cell gets a revision row, and
    the whole call one audit entry listing the changes.
    """
    submission = (
        Submission.objects.select_for_update()
        .select_related("org_unit", "dataset")
        .get(pk=submission.pk)
    )
    require(actor, Action.ENTER_DATA, submission.org_unit)
    if submission.status not in EDITABLE:
        raise ValuesLocked()
    changes = list(changes)
    indicators = _dataset_indicators(submission.dataset)
    unknown = sorted({c.indicator for c in changes} - set(indicators))
    if unknown:
        raise InvalidInput(
            _("填报表「%(ds)s」中没有这些指标：%(codes)s")
            % {"ds": submission.dataset.name, "codes": "、".join(unknown)},
            fields={code: [_("未知指标")] for code in unknown},
        )
    derived = sorted(c.indicator for c in changes if indicators[c.indicator].is_derived)
    if derived:
        raise InvalidInput(
            _("派生指标由系统计算，不能填写：%(codes)s") % {"codes": "、".join(derived)}
        )
    existing = {
        v.indicator_id: v
        for v in DataValue.objects.filter(
            org_unit=submission.org_unit,
            year=submission.year,
            indicator__in=[i.pk for i in indicators.values()],
        )
    }
    request_id = current_request_id()
    actor_name = audit.actor_label(actor)
    new_values, updated, revisions, log = [], [], [], []
    for change in changes:
        indicator = indicators[change.indicator]
        value = _clean_number(change.value, indicator)
        current = existing.get(indicator.pk)
        if current is None:
            if value is None and not change.comment:
                continue
            current = DataValue(
                indicator=indicator,
                org_unit=submission.org_unit,
                year=submission.year,
                value=value,
                comment=change.comment or "",
                submission=submission,
                updated_by=_user(actor),
                channel=channel,
                is_demo=submission.is_demo,
            )
            new_values.append(current)
            before = None
        else:
            comment = current.comment if change.comment is None else change.comment
            if _same(current.value, value) and comment == current.comment:
                continue
            before = current.value
            current.value, current.comment = value, comment
            current.submission, current.updated_by, current.channel = (
                submission,
                _user(actor),
                channel,
            )
            updated.append(current)
        revisions.append((current, before, value, current.comment))
        log.append({"indicator": indicator.code, "before": before, "after": value})
    DataValue.objects.bulk_create(new_values, batch_size=2000)
    DataValue.objects.bulk_update(
        updated,
        ["value", "comment", "submission", "updated_by", "channel", "updated_at"],
        batch_size=2000,
    )
    DataValueRevision.objects.bulk_create(
        [
            DataValueRevision(
                data_value=cell,
                value_before=before,
                value_after=after,
                comment=comment,
                reason=reason,
                actor=_user(actor),
                actor_name=actor_name,
                channel=channel,
                request_id=request_id,
            )
            for cell, before, after, comment in revisions
        ],
        batch_size=2000,
    )
    if log:
        audit.record(
            actor,
            "indicators.values.set",
            submission,
            data={"changes": log[:200], "count": len(log), "reason": reason},
            channel=channel,
        )
    return len(log)


def _dataset_indicators(dataset: DataSet) -> dict[str, Indicator]:
    return {i.code: i for i in dataset.indicators.all()}


def _clean_number(value: Any, indicator: Indicator) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            _("%(name)s 应为数字，填的是「%(v)s」") % {"name": indicator.name, "v": value},
            fields={indicator.code: [_("应为数字")]},
        ) from None
    if math.isnan(number) or math.isinf(number):
        raise InvalidInput(
            _("%(name)s 不是有效数字") % {"name": indicator.name},
            fields={indicator.code: [_("应为数字")]},
        )
    return number


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None
