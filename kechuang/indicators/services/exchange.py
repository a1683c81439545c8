"""Files in and out: import a whole file or nothing, export values, hand out templates.

``import_file`` runs the pipeline of STYLE.md §8.8: read the file
(``exchange.reading``), look up what its codes mean for this actor, validate
every row (``exchange.checking``, pure), and only when there is no problem at
all write each submission's changes through ``values.open_submission`` and
``values.set_values_many`` in one transaction. Unchanged cells are never passed
on, so an export imported back writes nothing.

Many units per file: CSV, JSON and the values layout of .xlsx (one value per
row) carry any number of units and years; the wide table (.xlsx or CSV, one
row per unit and one column per indicator) any number of units for one year
(a wide CSV: per row); the template carries one unit and one year.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kechuang.audit import services as audit
from kechuang.core.authorization import Action, can, has_action
from kechuang.core.errors import Forbidden, InvalidInput, NotFound
from kechuang.core.scoping import subtree_q
from kechuang.indicators import exchange
from kechuang.indicators.choices import Channel, SubmissionStatus
from kechuang.indicators.exchange import (
    Catalogue,
    DataSetInfo,
    ExportRow,
    Group,
    ImportFailed,
    IndicatorInfo,
    TableColumn,
    TemplateRow,
    UnitInfo,
)
from kechuang.indicators.models import DataSet, DataSetMember, DataValue, Indicator, Submission
from kechuang.indicators.services.values import ValueChange, open_submissions, set_values_many
from kechuang.regions.models import OrgUnit
from kechuang.regions.tree import STEP_WIDTH

EDITABLE = (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED)
# Bound parameters per IN (...) list: well under SQLite's limit, whatever else the query binds.
IN_CHUNK = 2000


@dataclass
class ImportReport:
    """What an import read and changed (or, in a dry run, would change)."""

    file: str
    format: str
    layout: str
    encoding: str = ""
    dry_run: bool = False
    values: int = 0
    changed: int = 0
    unchanged: int = 0
    units: int = 0
    years: list[int] = field(default_factory=list)
    submissions: int = 0

    def summary(self) -> str:
        years = "、".join(str(y) for y in self.years) or "-"
        if self.dry_run:
            head = _("试导入（未写入任何数据）")
            verb = _("将更改")
        else:
            head = _("已导入")
            verb = _("更改")
        return _(
            "%(head)s %(file)s：%(values)d 个数值（%(units)d 个单位，%(years)s 年度），"
            "%(verb)s %(changed)d 个，未变 %(unchanged)d 个，涉及 %(submissions)d 份填报。"
        ) % {
            "head": head,
            "file": self.file,
            "values": self.values,
            "units": self.units,
            "years": years,
            "verb": verb,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "submissions": self.submissions,
        }


# ---------------------------------------------------------------- import


def import_file(
    path: str | Path, *, actor: Any, dry_run: bool = False, name: str | None = None
) -> ImportReport:
    """Write every value of the file, or nothing at all: any problem raises ``ImportFailed``.

    ``name`` is how problems name the file (an upload's original name);
    the file's base name by default.
    """
    if actor is not None and not has_action(actor, Action.ENTER_DATA):
        raise Forbidden()
    parsed = exchange.read_file(path, name=name)
    catalogue, stored, locked = _lookups(parsed, actor)
    clean, problems = exchange.validate(parsed, catalogue)
    groups, lock_problems = exchange.plan(parsed, clean, stored, locked, catalogue)
    everything = parsed.problems + problems + lock_problems
    if everything:
        raise ImportFailed(everything)
    report = ImportReport(
        file=parsed.file,
        format=parsed.format,
        layout=parsed.layout,
        encoding=parsed.encoding,
        dry_run=dry_run,
        values=len(clean),
        units=len({item.unit.pk for item in clean}),
        years=sorted({item.year for item in clean}),
    )
    changing = [group for group in groups if group.changes]
    report.submissions = len(changing)
    report.unchanged = sum(group.unchanged for group in groups)
    if dry_run:
        report.changed = sum(len(group.changes) for group in changing)
        return report
    if changing:
        report.changed = _write(changing, parsed.file, report, actor=actor)
    return report


@transaction.atomic
def _write(groups: Sequence[Group], file: str, report: ImportReport, *, actor: Any) -> int:
    """Each submission's changes through the values services, and one entry for the file."""
    units = OrgUnit.objects.in_bulk([group.unit.pk for group in groups])
    datasets = {d.code: d for d in DataSet.objects.filter(code__in={g.dataset for g in groups})}
    reason = (_("导入文件 %(file)s") % {"file": file})[:300]
    submissions = open_submissions(
        [(datasets[group.dataset], units[group.unit.pk], group.year) for group in groups],
        actor=actor,
    )
    batches = [
        (submission, [ValueChange(i.indicator, i.value, i.comment) for i in group.changes])
        for submission, group in zip(submissions, groups, strict=True)
    ]
    changed = set_values_many(batches, actor=actor, channel=Channel.UPLOAD, reason=reason)
    if changed:
        audit.record(
            actor,
            "indicators.values.import",
            None,
            org_unit=_common_unit([group.unit.path for group in groups]),
            object_repr=file,
            data={
                "file": file,
                "format": report.format,
                "values": report.values,
                "changed": changed,
                "units": report.units,
                "years": report.years,
                "submissions": len(groups),
            },
            channel=Channel.UPLOAD,
        )
    return changed


def _common_unit(paths: Iterable[str]) -> OrgUnit | None:
    """The deepest unit above (or equal to) every unit the file touched."""
    paths = list(paths)
    prefix = paths[0]
    for path in paths[1:]:
        while not path.startswith(prefix):
            prefix = prefix[:-STEP_WIDTH]
    return OrgUnit.objects.filter(path=prefix).first() if prefix else None


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def _lookups(
    parsed: exchange.ParsedFile, actor: Any
) -> tuple[
    Catalogue,
    dict[tuple[int, str, int], tuple[float | None, str]],
    dict[tuple[str, int, int], str],
]:
    """What the file's codes mean for this actor, and what is stored for its cells."""
    # A wide table's header codes too: they are checked even where their column is blank.
    indicator_codes = sorted(
        {raw.indicator_code for raw in parsed.values} | parsed.indicator_columns.keys()
    )
    org_codes = sorted({raw.org_code for raw in parsed.values})
    # Distinct cells first: a national file holds 170,000 values but a handful of years.
    years = sorted(
        {y for y in map(exchange.parse_year, {raw.year for raw in parsed.values}) if y is not None}
    )
    indicators: dict[str, IndicatorInfo] = {}
    indicator_pks: dict[int, str] = {}
    for chunk in _chunks(indicator_codes):
        for pk, code, name, value_type, low, high, formula in Indicator.objects.filter(
            code__in=chunk
        ).values_list("pk", "code", "name", "value_type", "min_value", "max_value", "formula"):
            indicators[code] = IndicatorInfo(code, name, value_type, low, high, bool(formula))
            indicator_pks[pk] = code
    members: dict[int, set[str]] = {}
    for dataset_id, code in DataSetMember.objects.values_list("dataset_id", "indicator__code"):
        members.setdefault(dataset_id, set()).add(code)
    datasets: dict[str, DataSetInfo] = {}
    dataset_codes: dict[int, str] = {}
    for pk, code, name, is_active, levels in DataSet.objects.values_list(
        "pk", "code", "name", "is_active", "reporting_levels"
    ):
        datasets[code] = DataSetInfo(
            code, name, is_active, frozenset(levels or ()), frozenset(members.get(pk, ()))
        )
        dataset_codes[pk] = code
    units: dict[str, UnitInfo] = {}
    for chunk in _chunks(org_codes):
        for pk, code, name, level, path in (
            OrgUnit.objects.current()
            .filter(code__in=chunk)
            .values_list("pk", "code", "name", "level", "path")
        ):
            # Out of the actor's reach reads exactly as unknown (docs/adr/0002-scoping.md).
            if actor is None or can(actor, Action.ENTER_DATA, path):
                units[code] = UnitInfo(pk, code, name, level, path)
    stored: dict[tuple[int, str, int], tuple[float | None, str]] = {}
    value_datasets: dict[tuple[int, str, int], str] = {}
    locked: dict[tuple[str, int, int], str] = {}
    unit_pks = sorted(unit.pk for unit in units.values())
    if unit_pks and years and indicator_pks:
        labels = dict(SubmissionStatus.choices)
        submissions: dict[int, str] = {}
        for chunk in _chunks(unit_pks):
            for pk, dataset_id, unit_id, year, status in Submission.objects.filter(
                org_unit_id__in=chunk, year__in=years
            ).values_list("pk", "dataset_id", "org_unit_id", "year", "status"):
                submissions[pk] = dataset_codes[dataset_id]
                if status not in EDITABLE:
                    locked[(dataset_codes[dataset_id], unit_id, year)] = str(labels[status])
            for (
                unit_id,
                indicator_id,
                year,
                value,
                comment,
                submission_id,
            ) in DataValue.objects.filter(
                org_unit_id__in=chunk, year__in=years, indicator_id__in=list(indicator_pks)
            ).values_list(
                "org_unit_id", "indicator_id", "year", "value", "comment", "submission_id"
            ):
                cell = (unit_id, indicator_pks[indicator_id], year)
                stored[cell] = (value, comment)
                if submission_id in submissions:
                    value_datasets[cell] = submissions[submission_id]
    catalogue = Catalogue(indicators, units, datasets, value_datasets)
    return catalogue, stored, locked


# ---------------------------------------------------------------- export and template


def _visible_values(actor: Any) -> Any:
    """Values the actor may read; the system (None, commands and jobs) reads them all."""
    return DataValue.objects.all() if actor is None else DataValue.objects.visible_to(actor)


def _require_visible(org_unit: OrgUnit, actor: Any) -> None:
    if actor is not None and not OrgUnit.objects.visible_to(actor).filter(pk=org_unit.pk).exists():
        raise NotFound()


def export_values(
    org_unit: OrgUnit,
    year: int,
    *,
    actor: Any,
    fmt: str,
    dataset: DataSet | None = None,
    layout: str = "values",
) -> bytes:
    """The values of ``org_unit`` and every unit below it for ``year`` that the actor may see.

    Derived indicators are left out (they are computed, never imported).
    ``layout`` is ``values`` (one value per row) or ``table`` (宽表: one row per
    unit, one column per indicator; .xlsx or CSV). A table has a column for
    every indicator that has a value and, with ``dataset``, for every member
    of the data set that is not derived, so it can be filled in.
    """
    if fmt not in exchange.writing.FORMATS:
        raise InvalidInput(
            _("不支持的导出格式「%(fmt)s」（可用：xlsx、csv、json）") % {"fmt": fmt},
            fields={"format": [_("不支持的格式")]},
        )
    if layout not in exchange.writing.LAYOUTS:
        raise InvalidInput(
            _("不支持的导出版式「%(layout)s」（可用：values、table）") % {"layout": layout},
            fields={"layout": [_("不支持的版式")]},
        )
    if layout == "table" and fmt not in exchange.writing.TABLE_FORMATS:
        raise InvalidInput(
            _("宽表只能导出为 xlsx 或 csv，不支持「%(fmt)s」。") % {"fmt": fmt},
            fields={"format": [_("不支持的格式")]},
        )
    _require_visible(org_unit, actor)
    values = _visible_values(actor).filter(
        subtree_q("org_unit__path", org_unit.path), year=year, indicator__formula=""
    )
    if dataset is not None:
        values = values.filter(submission__dataset=dataset)
    rows = (
        ExportRow(*row)
        for row in values.order_by("org_unit__path", "indicator__order", "indicator__code")
        .values_list(
            "org_unit__code",
            "org_unit__name",
            "indicator__code",
            "indicator__name",
            "indicator__unit",
            "year",
            "value",
            "comment",
            "submission__dataset__code",
        )
        .iterator(chunk_size=5000)
    )
    if layout == "table":
        return exchange.write_table(
            fmt,
            rows,
            year=year,
            columns=_table_columns(values, dataset),
            dataset=dataset.code if dataset is not None else None,
            org_unit=org_unit.code,
        )
    return exchange.write_values(
        fmt,
        rows,
        dataset=dataset.code if dataset is not None else None,
        org_unit=org_unit.code,
        year=year,
    )


def _table_columns(values: Any, dataset: DataSet | None) -> list[TableColumn]:
    """The data set's reported members in its order, then any other indicator with a value."""
    columns: list[TableColumn] = []
    if dataset is not None:
        columns = [
            TableColumn(*member)
            for member in dataset.members.filter(indicator__formula="")
            .order_by("order", "id")
            .values_list("indicator__code", "indicator__name", "indicator__unit")
        ]
    known = {column.code for column in columns}
    columns += [
        TableColumn(*indicator)
        for indicator in Indicator.objects.filter(pk__in=values.values("indicator_id"))
        .order_by("order", "code")
        .values_list("code", "name", "unit")
        if indicator[0] not in known
    ]
    return columns


def dataset_for(org_unit: OrgUnit, dataset: DataSet | None = None) -> DataSet:
    """The data set a unit reports: the one given, or the only active one for its level."""
    if dataset is not None:
        return dataset
    candidates = [
        ds
        for ds in DataSet.objects.filter(is_active=True)
        if not ds.reporting_levels or org_unit.level in ds.reporting_levels
    ]
    if len(candidates) != 1:
        raise InvalidInput(
            _("请指定填报表（%(unit)s 可填报：%(choices)s）。")
            % {
                "unit": org_unit.name,
                "choices": "、".join(ds.code for ds in candidates) or _("无"),
            },
            fields={"dataset": [_("必填")]},
        )
    return candidates[0]


def template_for(
    org_unit: OrgUnit, year: int, *, actor: Any, dataset: DataSet | None = None
) -> bytes:
    """The .xlsx template for the unit and year, with last year's and any current values."""
    _require_visible(org_unit, actor)
    dataset = dataset_for(org_unit, dataset)
    members = list(dataset.members.select_related("indicator").order_by("order", "id"))
    known: dict[tuple[int, int], tuple[float | None, str]] = {
        (indicator_id, value_year): (value, comment)
        for indicator_id, value_year, value, comment in _visible_values(actor)
        .filter(
            org_unit=org_unit,
            year__in=[year - 1, year],
            indicator__in=[m.indicator_id for m in members],
        )
        .values_list("indicator_id", "year", "value", "comment")
    }
    rows = []
    for member in members:
        indicator = member.indicator
        previous = known.get((indicator.pk, year - 1), (None, ""))[0]
        value, comment = known.get((indicator.pk, year), (None, ""))
        rows.append(
            TemplateRow(
                section=member.section,
                code=indicator.code,
                name=indicator.name,
                unit=indicator.unit,
                value_type=indicator.value_type,
                decimals=indicator.decimals,
                min_value=indicator.min_value,
                max_value=indicator.max_value,
                is_derived=indicator.is_derived,
                definition=indicator.definition,
                previous=previous,
                value=value,
                comment=comment,
            )
        )
    return exchange.workbook_bytes(exchange.build_template(dataset, org_unit, year, rows))
