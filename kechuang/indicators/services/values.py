"""Entering values: one cell or a whole sheet, always with history and an audit entry."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kechuang.audit import services as audit
from kechuang.core.authorization import Action, require
from kechuang.core.errors import Forbidden, InvalidInput
from kechuang.core.middleware import current_request_id
from kechuang.indicators.choices import Channel, SubmissionStatus
from kechuang.indicators.errors import ValuesLocked
from kechuang.indicators.expressions import same_value
from kechuang.indicators.models import (
    DataSet,
    DataValue,
    DataValueRevision,
    Indicator,
    Submission,
)

EDITABLE = (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED)
AUDITED_CHANGES = 20


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
    return open_submissions([(dataset, org_unit, year)], actor=actor, is_demo=is_demo)[0]


@transaction.atomic
def open_submissions(
    wanted: Sequence[tuple[DataSet, Any, int]], *, actor: Any, is_demo: bool = False
) -> list[Submission]:
    """``open_submission`` for many (data set, unit, year) at once, in wanted's order."""
    for unit in {unit.pk: unit for _dataset, unit, _year in wanted}.values():
        require_own_unit(actor, unit)
    existing: dict[tuple[int, int, int], Submission] = {}
    units = sorted({unit.pk for _dataset, unit, _year in wanted})
    for start in range(0, len(units), 500):
        for submission in Submission.objects.filter(
            org_unit_id__in=units[start : start + 500],
            year__in={year for _d, _u, year in wanted},
            dataset_id__in={dataset.pk for dataset, _u, _y in wanted},
        ):
            key = (submission.dataset_id, submission.org_unit_id, submission.year)
            existing[key] = submission
    new = {}
    for dataset, unit, year in wanted:
        key = (dataset.pk, unit.pk, year)
        if key not in existing and key not in new:
            new[key] = Submission(
                dataset=dataset, org_unit=unit, year=year, visible_level=unit.level, is_demo=is_demo
            )
    # Two clerks opening the same new submission at once must both get it, not an
    # IntegrityError: skip rows that appeared meanwhile, then read back what is there.
    Submission.objects.bulk_create(list(new.values()), batch_size=2000, ignore_conflicts=True)
    created = []
    units_by_pk = {unit.pk: unit for _d, unit, _y in wanted}
    if new:
        for submission in Submission.objects.filter(
            org_unit_id__in={unit for _d, unit, _y in new},
            year__in={year for _d, _u, year in new},
            dataset_id__in={dataset for dataset, _u, _y in new},
        ).select_related("dataset"):
            key = (submission.dataset_id, submission.org_unit_id, submission.year)
            if key in new:
                submission.org_unit = units_by_pk[submission.org_unit_id]
                created.append(submission)
                existing[key] = submission
    audit.record_many(
        [
            audit.entry_for(
                actor,
                "indicators.submission.open",
                submission,
                org_unit=submission.org_unit,
                after={"dataset": submission.dataset.code, "year": submission.year},
            )
            for submission in created
        ]
    )
    return [existing[(dataset.pk, unit.pk, year)] for dataset, unit, year in wanted]


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

    Unchanged cells write nothing. Each change to a stored cell gets a revision
    row (a new cell is its own first entry), and the whole call one audit entry
    listing the changes.
    """
    return set_values_many(
        [(submission, list(changes))], actor=actor, channel=channel, reason=reason
    )


@transaction.atomic
def set_values_many(
    batches: Sequence[tuple[Submission, Sequence[ValueChange]]],
    *,
    actor: Any,
    channel: str = Channel.FORM,
    reason: str = "",
) -> int:
    """``set_values`` for many submissions at once (a province-wide upload): same checks,
    same history and one audit entry per changed submission, in a few statements.

    All or nothing: any refused submission or cell raises before anything is written.
    """
    locked = {
        s.pk: s
        for s in Submission.objects.select_for_update(of=("self",))
        .select_related("org_unit", "dataset")
        .filter(pk__in=[submission.pk for submission, _changes in batches])
    }
    indicators_of: dict[int, dict[str, Indicator]] = {}
    plans = []
    for submission, changes in batches:
        submission = locked[submission.pk]
        require_own_unit(actor, submission.org_unit)
        if submission.status not in EDITABLE:
            raise ValuesLocked()
        if submission.dataset_id not in indicators_of:
            indicators_of[submission.dataset_id] = _dataset_indicators(submission.dataset)
        indicators = indicators_of[submission.dataset_id]
        _check_codes(submission, changes, indicators)
        plans.append((submission, [(indicators[c.indicator], c) for c in changes]))
    cells = _stored_cells(plans)
    now = timezone.now()
    user = _user(actor)
    new_rows, updates, revisions, entries, shared = [], [], [], [], []
    for submission, pairs in plans:
        log, count = [], 0
        for indicator, change in pairs:
            value = _clean_number(change.value, indicator)
            key = (indicator.pk, submission.org_unit_id, submission.year)
            current = cells.get(key)
            if current is None:
                if value is None and not change.comment:
                    continue
                comment = change.comment or ""
                new_rows.append((key, value, comment, submission))
                before = None
            else:
                cell_id, before, old_comment, owner = current
                comment = old_comment if change.comment is None else change.comment
                if same_value(before, value) and comment == old_comment:
                    continue
                if owner != submission.pk:
                    shared.append((owner, indicator))
                updates.append((cell_id, value, comment, submission))
                revisions.append((key, before, value, comment))
            count += 1
            if count <= AUDITED_CHANGES:
                log.append({"indicator": indicator.code, "before": before, "after": value})
        if count:
            entries.append((submission, log, count))
    _require_shared_editable(shared)
    _write(
        new_rows,
        updates,
        revisions,
        cells,
        now=now,
        user=user,
        actor=actor,
        channel=channel,
        reason=reason,
    )
    audit.record_many(
        [
            audit.entry_for(
                actor,
                "indicators.values.set",
                submission,
                org_unit=submission.org_unit,
                channel=channel,
                # The first changes show what the call did; every cell's own history
                # (first entry or revisions) holds the rest, so a national upload
                # does not write megabytes of audit JSON.
                data={"changes": log, "count": count, "reason": reason},
            )
            for submission, log, count in entries
        ]
    )
    return len(new_rows) + len(updates)


def _require_shared_editable(shared: list[tuple[int, Indicator]]) -> None:
    """An indicator in two data sets is one cell: it changes through either form
    only while the submission that last wrote it is still open, so approved
    numbers never change behind their reviewers' backs."""
    if not shared:
        return
    owners = {
        s.pk: s
        for s in Submission.objects.filter(pk__in={owner for owner, _i in shared}).select_related(
            "dataset"
        )
    }
    for owner, indicator in shared:
        other = owners[owner]
        if other.status not in EDITABLE:
            raise ValuesLocked(
                _(
                    "「%(name)s」也在填报表「%(ds)s」中，那份填报%(status)s，"
                    "数值已锁定；如需修改请先退回那份填报。"
                )
                % {
                    "name": indicator.name,
                    "ds": other.dataset.name,
                    "status": other.get_status_display(),
                }
            )


def require_own_unit(actor: Any, unit: Any) -> None:
    """Data entry is the unit's own clerks' job.

    A unit's draft is invisible above it (ADR 0004), so a clerk higher up could
    only overwrite numbers they cannot see; they review instead.
    """
    require(actor, Action.ENTER_DATA, unit)
    if actor is not None and not actor.is_superuser and actor.org_unit_id != unit.pk:
        raise Forbidden(_("只能填报本单位的数据；下级单位的数据由下级单位填报。"))


def _check_codes(
    submission: Submission, changes: Sequence[ValueChange], indicators: dict[str, Indicator]
) -> None:
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


Key = tuple[int, int, int]  # (indicator id, org unit id, year)


def _stored_cells(
    plans: list[tuple[Submission, list[tuple[Indicator, ValueChange]]]],
) -> dict[Key, tuple[int, float | None, str, int]]:
    """The stored cells the changes touch (one query per 500 units)."""
    return _cells_for([(i.pk, s.org_unit_id, s.year) for s, pairs in plans for i, _c in pairs])


def _write(
    new_rows: list,
    updates: list,
    revisions: list,
    cells: dict,
    *,
    now: Any,
    user: Any,
    actor: Any,
    channel: str,
    reason: str,
) -> None:
    """Plain parameterised INSERT/UPDATE through Django's connection, portable SQL.

    The ORM's bulk_create prepares every field of every row one by one, which
    made a national upload (170,000 cells) spend most of a minute in Python;
    here the few values that need the database's own form (a timestamp, a
    UUID) are prepared once per call, and new cells go in as multi-row INSERTs.

    A new cell writes no revision: until it first changes, the cell itself
    says who entered it, when and through which channel (ADR 0005). Its
    first entry becomes a revision row just before that first change.
    """
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(now)
    user_id = getattr(user, "pk", None)
    values_table = ops.quote_name(DataValue._meta.db_table)
    with connection.cursor() as cursor:
        _insert_many(
            cursor,
            f"INSERT INTO {values_table} (indicator_id, org_unit_id, year, value, comment, "
            "submission_id, updated_at, updated_by_id, channel, is_demo) VALUES ",
            [
                (k[0], k[1], k[2], value, comment, sub.pk, stamp, user_id, channel, sub.is_demo)
                for k, value, comment, sub in new_rows
            ],
        )
    if not updates:
        return
    # Keep the first entry of cells changing for the first time, before overwriting it.
    DataValueRevision.objects.bulk_create(
        first_entries(DataValue.objects.filter(pk__in=[u[0] for u in updates])), batch_size=500
    )
    request_id = DataValueRevision._meta.get_field("request_id").get_db_prep_value(
        current_request_id(), connection
    )
    actor_name = audit.actor_label(actor)
    revisions_table = ops.quote_name(DataValueRevision._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {values_table} SET value = %s, comment = %s, submission_id = %s, "
            "updated_at = %s, updated_by_id = %s, channel = %s WHERE id = %s",
            [
                (value, comment, sub.pk, stamp, user_id, channel, cell_id)
                for cell_id, value, comment, sub in updates
            ],
        )
        _insert_many(
            cursor,
            f"INSERT INTO {revisions_table} (data_value_id, value_before, value_after, comment, "
            "reason, actor_id, actor_name, time, channel, request_id) VALUES ",
            [
                (
                    cells[key][0],
                    before,
                    after,
                    comment,
                    reason,
                    user_id,
                    actor_name,
                    stamp,
                    channel,
                    request_id,
                )
                for key, before, after, comment in revisions
            ],
        )


def _insert_many(cursor: Any, head: str, rows: list[tuple]) -> None:
    """``head`` + "(…), (…), …" in chunks the database accepts: one statement per
    few thousand rows instead of one per row (three times faster on SQLite)."""
    if not rows:
        return
    width = len(rows[0])
    # SQLite's default limit on bound parameters is 32,766; PostgreSQL's is 65,535.
    per_statement = max(1, 30_000 // width)
    group = "(" + ", ".join(["%s"] * width) + ")"
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        cursor.execute(
            head + ", ".join([group] * len(chunk)), [field for row in chunk for field in row]
        )


def cell_history(cells: Any) -> list[DataValueRevision]:
    """Every entry and change of ``cells`` (a DataValue queryset), newest first."""
    changes = list(
        DataValueRevision.objects.filter(data_value__in=cells).select_related(
            "data_value__indicator"
        )
    )
    entries = changes + first_entries(cells)
    entries.sort(key=lambda r: (r.time, r.pk or 0), reverse=True)
    return entries


def first_entries(cells: Any) -> list[DataValueRevision]:
    """The first entry of each cell in ``cells`` that has never changed, as an unsaved revision.

    A cell's own row holds who entered it, when and how until its first
    change; this is that entry in the form of the history.
    """
    return [
        DataValueRevision(
            data_value=cell,
            value_before=None,
            value_after=cell.value,
            comment=cell.comment,
            actor_id=cell.updated_by_id,
            actor_name=audit.actor_label(cell.updated_by),
            time=cell.updated_at,
            channel=cell.channel,
        )
        for cell in cells.filter(revisions__isnull=True).select_related("updated_by", "indicator")
    ]


def _cells_for(keys: list[Key]) -> dict[Key, tuple[int, float | None, str, int]]:
    units = sorted({k[1] for k in keys})
    years = sorted({k[2] for k in keys})
    indicators = sorted({k[0] for k in keys})
    wanted = set(keys)
    found: dict[Key, tuple[int, float | None, str, int]] = {}
    for start in range(0, len(units), 500):
        rows = DataValue.objects.filter(
            org_unit_id__in=units[start : start + 500],
            year__in=years,
            indicator_id__in=indicators,
        ).values_list(
            "id", "indicator_id", "org_unit_id", "year", "value", "comment", "submission_id"
        )
        for cell_id, indicator_id, unit_id, year, value, comment, submission_id in rows:
            key = (indicator_id, unit_id, year)
            if key in wanted:
                found[key] = (cell_id, value, comment, submission_id)
    return found


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


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None
