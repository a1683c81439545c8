"""Loading the indicator catalogue from YAML: groups, indicators, data sets and validation rules.

The shipped catalogue is ``kechuang/indicators/data/catalogue.yaml``; its header
documents the schema. ``read_catalogue`` checks a whole file and returns it as
plain records without touching the database; ``load_catalogue`` then upserts
every entry by its code in one transaction.

A file must be self-contained: every code it refers to is defined in the same
file, so whether it loads never depends on what the database already holds.
Rows the file does not name are left alone (a province may have added its own).
"""

from __future__ import annotations

import calendar
import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml
from django.db import models, transaction
from django.utils.translation import gettext as _

from kechuang.audit import services as audit
from kechuang.core.authorization import Action, require
from kechuang.core.errors import Forbidden, InvalidInput
from kechuang.indicators.choices import Direction, Importance, Rollup, ValueType
from kechuang.indicators.expressions import CODE, COMPARE, ExpressionError, parse
from kechuang.indicators.models import (
    DataSet,
    DataSetMember,
    Indicator,
    IndicatorGroup,
    ValidationRule,
)
from kechuang.regions.choices import Level

SHIPPED_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "catalogue.yaml"
ACTION = "indicators.catalogue.load"
KINDS = ("groups", "indicators", "datasets", "rules")
# A long list of problems helps nobody; the first ones show what is wrong with the file.
MAX_PROBLEMS = 50
MAX_DECIMALS = 10
# Any pair would do; two unlike numbers make an accidental match of a wrong formula unlikely.
PROBE_NUMERATOR, PROBE_DENOMINATOR = 3.0, 7.0


# ---------------------------------------------------------------- the catalogue as records


@dataclass(frozen=True)
class GroupEntry:
    code: str
    name: str
    name_en: str = ""
    parent: str | None = None
    order: int = 0


@dataclass(frozen=True)
class IndicatorEntry:
    code: str
    name: str
    name_en: str = ""
    unit: str = ""
    definition: str = ""
    source_department: str = ""
    value_type: str = ValueType.NUMBER.value
    decimals: int = 2
    direction: str = Direction.POSITIVE.value
    rollup: str = Rollup.SUM.value
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    formula: str = ""
    min_value: float | None = None
    max_value: float | None = None
    groups: tuple[str, ...] = ()
    source_note: str = ""
    order: int = 0


@dataclass(frozen=True)
class MemberEntry:
    indicator: str
    section: str = ""
    order: int = 0
    required: bool = True


@dataclass(frozen=True)
class DataSetEntry:
    code: str
    name: str
    description: str = ""
    due_month: int = 3
    due_day: int = 31
    approval_levels: tuple[int, ...] = ()
    reporting_levels: tuple[int, ...] = ()
    members: tuple[MemberEntry, ...] = ()


@dataclass(frozen=True)
class RuleEntry:
    code: str
    name: str
    left: str
    operator: str
    right: str
    importance: str = Importance.ERROR.value
    dataset: str | None = None


@dataclass(frozen=True)
class Catalogue:
    """A checked catalogue file: every reference resolves, every formula parses."""

    source: str
    digest: str
    groups: tuple[GroupEntry, ...] = ()
    indicators: tuple[IndicatorEntry, ...] = ()
    datasets: tuple[DataSetEntry, ...] = ()
    rules: tuple[RuleEntry, ...] = ()


@dataclass(frozen=True)
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class CatalogueReport:
    """What one load changed, per kind of record."""

    groups: KindCounts = field(default_factory=KindCounts)
    indicators: KindCounts = field(default_factory=KindCounts)
    datasets: KindCounts = field(default_factory=KindCounts)
    rules: KindCounts = field(default_factory=KindCounts)

    @property
    def changed(self) -> bool:
        return any(getattr(self, kind).created or getattr(self, kind).updated for kind in KINDS)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {kind: asdict(getattr(self, kind)) for kind in KINDS}

    def summary(self) -> str:
        parts = []
        for kind, label in zip(
            KINDS, (_("分组"), _("指标"), _("填报表"), _("校验规则")), strict=True
        ):
            counts = getattr(self, kind)
            parts.append(
                _("%(label)s：新增 %(c)d，更新 %(u)d，未变 %(n)d")
                % {
                    "label": label,
                    "c": counts.created,
                    "u": counts.updated,
                    "n": counts.unchanged,
                }
            )
        return "；".join(parts)


# ---------------------------------------------------------------- loading


@transaction.atomic
def load_catalogue(path: Path | None = None, *, actor: Any) -> CatalogueReport:
    """Bring groups, indicators, data sets and rules in line with a catalogue file."""
    require_catalogue_admin(actor)
    catalogue = read_catalogue(path)
    tallies = {
        "groups": _write_groups(catalogue.groups),
        "indicators": _write_indicators(catalogue.indicators),
        "datasets": _write_datasets(catalogue.datasets),
        "rules": _write_rules(catalogue.rules),
    }
    report = CatalogueReport(**{kind: tally.counts() for kind, tally in tallies.items()})
    audit.record(
        actor,
        ACTION,
        None,
        org_unit=getattr(actor, "org_unit", None),
        object_repr=catalogue.source,
        data={
            "file": catalogue.source,
            "sha256": catalogue.digest,
            "counts": report.as_dict(),
            "created": {kind: t.created for kind, t in tallies.items() if t.created},
            "updated": {kind: t.updated for kind, t in tallies.items() if t.updated},
        },
    )
    return report


def require_catalogue_admin(actor: Any) -> None:
    """Province-level (or higher) administrators only: the catalogue is shared by every unit."""
    if actor is None:
        return
    unit = getattr(actor, "org_unit", None)
    require(actor, Action.MANAGE_CATALOGUE, unit)
    # The catalogue is shared by every unit: a county or city must not redefine it for all.
    if not actor.is_superuser and (unit is None or unit.level > Level.PROVINCE):
        raise Forbidden(_("只有省级及以上的管理员可以载入指标体系。"))


@dataclass
class _Tally:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    def counts(self) -> KindCounts:
        return KindCounts(len(self.created), len(self.updated), self.unchanged)


def _write_groups(entries: Iterable[GroupEntry]) -> _Tally:
    entries = _parents_first(list(entries))
    tally = _Tally()
    by_code = {
        g.code: g
        for g in IndicatorGroup.objects.select_related("parent").filter(
            code__in=[e.code for e in entries]
        )
    }
    for entry in entries:
        wanted = {"name": entry.name, "name_en": entry.name_en, "order": entry.order}
        parent = by_code[entry.parent] if entry.parent else None
        group = by_code.get(entry.code)
        if group is None:
            by_code[entry.code] = IndicatorGroup.objects.create(
                code=entry.code, parent=parent, **wanted
            )
            tally.created.append(entry.code)
        elif _fields(group, wanted) != wanted or _code_of(group.parent) != entry.parent:
            _assign(group, wanted)
            group.parent = parent
            group.save()
            tally.updated.append(entry.code)
        else:
            tally.unchanged += 1
    return tally


def _parents_first(entries: list[GroupEntry]) -> list[GroupEntry]:
    by_code = {e.code: e for e in entries}
    placed: set[str] = set()
    ordered: list[GroupEntry] = []

    def place(entry: GroupEntry) -> None:
        if entry.code in placed:
            return
        if entry.parent:
            place(by_code[entry.parent])
        placed.add(entry.code)
        ordered.append(entry)

    for entry in entries:
        place(entry)
    return ordered


# The scalar fields; links to other rows are compared and written separately.
INDICATOR_FIELDS = tuple(
    f.name
    for f in fields(IndicatorEntry)
    if f.name not in {"code", "numerator", "denominator", "groups"}
)


def _write_indicators(entries: Iterable[IndicatorEntry]) -> _Tally:
    entries = list(entries)
    tally = _Tally()
    by_code = {
        i.code: i
        for i in Indicator.objects.select_related("numerator", "denominator")
        .prefetch_related("groups")
        .filter(code__in=[e.code for e in entries])
    }
    # Foreign keys between indicators are set once every indicator exists.
    linked: list[IndicatorEntry] = []
    for entry in entries:
        wanted = {name: getattr(entry, name) for name in INDICATOR_FIELDS}
        indicator = by_code.get(entry.code)
        if indicator is None:
            by_code[entry.code] = Indicator.objects.create(code=entry.code, **wanted)
            tally.created.append(entry.code)
            linked.append(entry)
        elif _fields(indicator, wanted) != wanted or _links(indicator) != _entry_links(entry):
            _assign(indicator, wanted)
            indicator.save()
            tally.updated.append(entry.code)
            linked.append(entry)
        else:
            tally.unchanged += 1
    if linked:
        groups = {g.code: g for g in IndicatorGroup.objects.filter(code__in=_all_groups(linked))}
        for entry in linked:
            indicator = by_code[entry.code]
            indicator.numerator = by_code[entry.numerator] if entry.numerator else None
            indicator.denominator = by_code[entry.denominator] if entry.denominator else None
            indicator.save(update_fields=["numerator", "denominator"])
            indicator.groups.set([groups[code] for code in entry.groups])
    return tally


def _all_groups(entries: Iterable[IndicatorEntry]) -> set[str]:
    return {code for entry in entries for code in entry.groups}


def _links(indicator: Indicator) -> tuple[Any, ...]:
    return (
        _code_of(indicator.numerator),
        _code_of(indicator.denominator),
        tuple(sorted(g.code for g in indicator.groups.all())),
    )


def _entry_links(entry: IndicatorEntry) -> tuple[Any, ...]:
    return (entry.numerator, entry.denominator, tuple(sorted(entry.groups)))


DATASET_FIELDS = ("name", "description", "due_month", "due_day")


def _write_datasets(entries: Iterable[DataSetEntry]) -> _Tally:
    entries = list(entries)
    tally = _Tally()
    by_code = {
        d.code: d
        for d in DataSet.objects.prefetch_related("members__indicator").filter(
            code__in=[e.code for e in entries]
        )
    }
    indicators = dict(
        Indicator.objects.filter(
            code__in={m.indicator for e in entries for m in e.members}
        ).values_list("code", "pk")
    )
    for entry in entries:
        wanted: dict[str, Any] = {name: getattr(entry, name) for name in DATASET_FIELDS}
        wanted["approval_levels"] = list(entry.approval_levels)
        wanted["reporting_levels"] = list(entry.reporting_levels)
        dataset = by_code.get(entry.code)
        if dataset is None:
            dataset = DataSet.objects.create(code=entry.code, **wanted)
            tally.created.append(entry.code)
        elif _fields(dataset, wanted) != wanted or _members(dataset) != _entry_members(entry):
            _assign(dataset, wanted)
            dataset.save()
            # Members carry no history and nothing refers to them: replacing them is exact.
            dataset.members.all().delete()
            tally.updated.append(entry.code)
        else:
            tally.unchanged += 1
            continue
        DataSetMember.objects.bulk_create(
            [
                DataSetMember(
                    dataset=dataset,
                    indicator_id=indicators[m.indicator],
                    section=m.section,
                    order=m.order,
                    is_required=m.required,
                )
                for m in entry.members
            ]
        )
    return tally


def _members(dataset: DataSet) -> set[tuple[Any, ...]]:
    return {(m.indicator.code, m.section, m.order, m.is_required) for m in dataset.members.all()}


def _entry_members(entry: DataSetEntry) -> set[tuple[Any, ...]]:
    return {(m.indicator, m.section, m.order, m.required) for m in entry.members}


RULE_FIELDS = ("name", "left", "operator", "right", "importance")


def _write_rules(entries: Iterable[RuleEntry]) -> _Tally:
    entries = list(entries)
    tally = _Tally()
    by_code = {
        r.code: r
        for r in ValidationRule.objects.select_related("dataset").filter(
            code__in=[e.code for e in entries]
        )
    }
    datasets = {d.code: d for d in DataSet.objects.filter(code__in={e.dataset for e in entries})}
    for entry in entries:
        wanted = {name: getattr(entry, name) for name in RULE_FIELDS}
        dataset = datasets[entry.dataset] if entry.dataset else None
        rule = by_code.get(entry.code)
        if rule is None:
            ValidationRule.objects.create(code=entry.code, dataset=dataset, **wanted)
            tally.created.append(entry.code)
        elif _fields(rule, wanted) != wanted or _code_of(rule.dataset) != entry.dataset:
            _assign(rule, wanted)
            rule.dataset = dataset
            rule.save()
            tally.updated.append(entry.code)
        else:
            tally.unchanged += 1
    return tally


def _fields(obj: models.Model, wanted: Mapping[str, Any]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in wanted}


def _assign(obj: models.Model, wanted: Mapping[str, Any]) -> None:
    for name, value in wanted.items():
        setattr(obj, name, value)


def _code_of(obj: Any) -> str | None:
    return obj.code if obj is not None else None


# ---------------------------------------------------------------- reading and checking


def read_catalogue(path: Path | None = None) -> Catalogue:
    """Read and check a catalogue file; raise InvalidInput naming every problem found.

    Nothing is written. Each problem is one line ``file: yaml.path: message``,
    e.g. ``catalogue.yaml: indicators[12].formula: …`` (list indexes count from 0).
    """
    path = Path(path) if path is not None else SHIPPED_CATALOGUE
    problems = _Problems(path.name)
    raw, digest = _read_yaml(path, problems)
    reader = _Reader(problems)
    catalogue = reader.catalogue(raw)
    problems.raise_if_any()
    _check_references(catalogue, problems)
    problems.raise_if_any()
    return Catalogue(
        source=path.name,
        digest=digest,
        groups=catalogue.groups,
        indicators=catalogue.indicators,
        datasets=catalogue.datasets,
        rules=catalogue.rules,
    )


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, message: str) -> None:
        self.items.append((where, message))

    def fail(self, where: str, message: str) -> None:
        self.add(where, message)
        self.raise_if_any()

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_PROBLEMS]
        lines = [
            f"{self.source}: {where}: {message}" if where else f"{self.source}: {message}"
            for where, message in shown
        ]
        if len(self.items) > len(shown):
            lines.append(
                _("%(source)s: 另有 %(n)d 处问题未列出。")
                % {"source": self.source, "n": len(self.items) - len(shown)}
            )
        fields: dict[str, list[str]] = {}
        for where, message in shown:
            fields.setdefault(where or self.source, []).append(message)
        raise InvalidInput("\n".join(lines), fields=fields)


def _read_yaml(path: Path, problems: _Problems) -> tuple[Any, str]:
    try:
        content = path.read_bytes()
        text = content.decode("utf-8-sig")
    except FileNotFoundError:
        problems.fail("", _("找不到文件。"))
    except OSError as error:
        problems.fail("", _("无法读取文件：%(reason)s") % {"reason": error.strerror or error})
    except UnicodeDecodeError:
        problems.fail("", _("文件不是 UTF-8 编码。"))
    try:
        return yaml.safe_load(text), hashlib.sha256(content).hexdigest()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = (
            _("第 %(line)d 行第 %(column)d 列") % {"line": mark.line + 1, "column": mark.column + 1}
            if mark is not None
            else ""
        )
        problems.fail(where, _("YAML 格式错误：%(problem)s") % {"problem": error.problem or error})
    except yaml.YAMLError as error:
        problems.fail("", _("YAML 格式错误：%(problem)s") % {"problem": error})
    raise AssertionError("not reached: fail() raises")


def _keys(record: type) -> tuple[str, ...]:
    """The keys a YAML entry may have: the record's fields, named alike."""
    return tuple(f.name for f in fields(record))


def _max_length(model: type[models.Model], name: str) -> int:
    return model._meta.get_field(name).max_length  # type: ignore[return-value]


_MISSING = object()


class _Entry:
    """One mapping of the file, read key by key; every problem is noted, none raised."""

    def __init__(self, data: Any, where: str, allowed: Iterable[str], problems: _Problems):
        self.where = where
        self.problems = problems
        self.ok = isinstance(data, dict)
        self.data: dict[Any, Any] = data if self.ok else {}
        if not self.ok:
            problems.add(where, _("应为键值映射（key: value）。"))
            return
        allowed = set(allowed)
        for key in self.data:
            if key not in allowed:
                problems.add(
                    self.at(str(key)),
                    _("未知字段「%(key)s」；可用字段：%(allowed)s")
                    % {"key": key, "allowed": "、".join(sorted(allowed))},
                )

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _get(self, key: str) -> Any:
        return self.data.get(key, _MISSING)

    def text(self, key: str, *, max_length: int | None, required: bool = False) -> str:
        value = self._get(key)
        if value is _MISSING or value is None:
            if required:
                self.problems.add(self.at(key), _("必填。"))
            return ""
        if not isinstance(value, str):
            self.problems.add(self.at(key), _("应为文本。"))
            return ""
        value = value.strip()
        if required and not value:
            self.problems.add(self.at(key), _("不能为空。"))
        if max_length is not None and len(value) > max_length:
            self.problems.add(
                self.at(key),
                _("不能超过 %(n)d 个字符（现为 %(len)d 个）。")
                % {"n": max_length, "len": len(value)},
            )
        return value

    def code(self, key: str, *, required: bool = False) -> str | None:
        value = self._get(key)
        if value is _MISSING or value is None:
            if required:
                self.problems.add(self.at(key), _("必填。"))
            return None
        return _check_code(value, self.at(key), self.problems)

    def code_list(self, key: str) -> tuple[str, ...]:
        value = self._get(key)
        if value is _MISSING or value is None:
            return ()
        if not isinstance(value, list):
            self.problems.add(self.at(key), _("应为代码列表，如 [A, B]。"))
            return ()
        codes = []
        for index, item in enumerate(value):
            code = _check_code(item, f"{self.at(key)}[{index}]", self.problems)
            if code is None:
                continue
            if code in codes:
                self.problems.add(
                    f"{self.at(key)}[{index}]", _("「%(code)s」重复出现。") % {"code": code}
                )
                continue
            codes.append(code)
        return tuple(codes)

    def integer(
        self, key: str, *, default: int, minimum: int = 0, maximum: int | None = None
    ) -> int:
        value = self._get(key)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.add(self.at(key), _("应为整数。"))
            return default
        if value < minimum or (maximum is not None and value > maximum):
            self.problems.add(self.at(key), _range_message(minimum, maximum))
            return default
        return value

    def number(self, key: str, *, default: float | None) -> float | None:
        value = self._get(key)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problems.add(self.at(key), _("应为数值。"))
            return default
        if not math.isfinite(value):
            self.problems.add(self.at(key), _("应为有限的数值。"))
            return default
        return float(value)

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self._get(key)
        if value is _MISSING or value is None:
            return default
        if not isinstance(value, bool):
            self.problems.add(self.at(key), _("应为 true 或 false。"))
            return default
        return value

    def choice(
        self, key: str, choices: Iterable[str], *, default: str, required: bool = False
    ) -> str:
        value = self._get(key)
        if value is _MISSING or value is None:
            if required:
                self.problems.add(self.at(key), _("必填。"))
            return default
        choices = list(choices)
        if value not in choices:
            self.problems.add(
                self.at(key),
                _("「%(value)s」不是可选值；可选：%(choices)s")
                % {"value": value, "choices": "、".join(choices)},
            )
            return default
        return value

    def levels(self, key: str, *, required: bool) -> tuple[int, ...]:
        value = self._get(key)
        if value is _MISSING or value is None:
            value = []
        if not isinstance(value, list):
            self.problems.add(self.at(key), _("应为层级列表，如 [2, 1]。"))
            return ()
        if required and not value:
            self.problems.add(self.at(key), _("至少要有一个层级。"))
        levels: list[int] = []
        for index, item in enumerate(value):
            where = f"{self.at(key)}[{index}]"
            if isinstance(item, bool) or item not in Level.values:
                self.problems.add(
                    where,
                    _("「%(value)s」不是层级；可选：%(choices)s")
                    % {
                        "value": item,
                        "choices": "、".join(f"{v} {label}" for v, label in Level.choices),
                    },
                )
            elif item in levels:
                self.problems.add(where, _("层级 %(level)d 重复出现。") % {"level": item})
            else:
                levels.append(item)
        return tuple(levels)

    def items(self, key: str) -> list[Any]:
        value = self._get(key)
        if value is _MISSING or value is None:
            return []
        if not isinstance(value, list):
            self.problems.add(self.at(key), _("应为列表。"))
            return []
        return value


def _range_message(minimum: int, maximum: int | None) -> str:
    if maximum is None:
        return _("应不小于 %(min)d。") % {"min": minimum}
    return _("应在 %(min)d 到 %(max)d 之间。") % {"min": minimum, "max": maximum}


def _check_code(value: Any, where: str, problems: _Problems) -> str | None:
    limit = _max_length(Indicator, "code")
    if not isinstance(value, str) or not CODE.match(value) or len(value) > limit:
        problems.add(
            where,
            _("「%(value)s」不是合法代码：应以大写字母开头，只含大写字母、数字和下划线，")
            % {"value": value}
            + _("最长 %(n)d 个字符。") % {"n": limit},
        )
        return None
    return value


class _Reader:
    """Turns the parsed YAML into records, noting shape and value problems."""

    def __init__(self, problems: _Problems) -> None:
        self.problems = problems

    def catalogue(self, raw: Any) -> Catalogue:
        if raw is None:
            self.problems.fail("", _("文件为空。"))
        top = _Entry(raw, "", KINDS, self.problems)
        if not top.ok:
            self.problems.raise_if_any()
        lists = {}
        for kind in KINDS:
            value = top.data.get(kind)
            if value is None:
                lists[kind] = []
            elif not isinstance(value, list):
                self.problems.add(kind, _("应为列表。"))
                lists[kind] = []
            else:
                lists[kind] = value
        return Catalogue(
            source="",
            digest="",
            groups=self._each(lists["groups"], "groups", self.group),
            indicators=self._each(lists["indicators"], "indicators", self.indicator),
            datasets=self._each(lists["datasets"], "datasets", self.dataset),
            rules=self._each(lists["rules"], "rules", self.rule),
        )

    def _each(self, items: list[Any], kind: str, read: Any) -> tuple[Any, ...]:
        records = []
        for index, item in enumerate(items):
            record = read(item, f"{kind}[{index}]")
            if record is not None:
                records.append(record)
        return tuple(records)

    def group(self, data: Any, where: str) -> GroupEntry | None:
        e = _Entry(data, where, _keys(GroupEntry), self.problems)
        if not e.ok:
            return None
        return GroupEntry(
            code=e.code("code", required=True) or "",
            name=e.text("name", required=True, max_length=_max_length(IndicatorGroup, "name")),
            name_en=e.text("name_en", max_length=_max_length(IndicatorGroup, "name_en")),
            parent=e.code("parent"),
            order=e.integer("order", default=0),
        )

    def indicator(self, data: Any, where: str) -> IndicatorEntry | None:
        e = _Entry(data, where, _keys(IndicatorEntry), self.problems)
        if not e.ok:
            return None

        def length(name: str) -> int:
            return _max_length(Indicator, name)

        value_type = e.choice("value_type", ValueType.values, default=ValueType.NUMBER)
        entry = IndicatorEntry(
            code=e.code("code", required=True) or "",
            name=e.text("name", required=True, max_length=length("name")),
            name_en=e.text("name_en", max_length=length("name_en")),
            unit=e.text("unit", max_length=length("unit")),
            definition=e.text("definition", max_length=None),
            source_department=e.text("source_department", max_length=length("source_department")),
            value_type=value_type,
            # Counts show no decimals unless the file says otherwise (and then it is refused).
            decimals=e.integer(
                "decimals",
                default=0 if value_type == ValueType.INTEGER else 2,
                maximum=MAX_DECIMALS,
            ),
            direction=e.choice("direction", Direction.values, default=Direction.POSITIVE),
            rollup=e.choice("rollup", Rollup.values, default=Rollup.SUM),
            numerator=e.code("numerator"),
            denominator=e.code("denominator"),
            scale=e.number("scale", default=1.0),  # type: ignore[arg-type]
            formula=e.text("formula", max_length=length("formula")),
            min_value=e.number("min_value", default=None),
            max_value=e.number("max_value", default=None),
            groups=e.code_list("groups"),
            source_note=e.text("source_note", max_length=length("source_note")),
            order=e.integer("order", default=0),
        )
        self._check_indicator(entry, e)
        return entry

    def _check_indicator(self, entry: IndicatorEntry, e: _Entry) -> None:
        if entry.value_type == ValueType.INTEGER and entry.decimals != 0:
            e.problems.add(e.at("decimals"), _("整数型指标的小数位数应为 0。"))
        if (
            entry.min_value is not None
            and entry.max_value is not None
            and entry.min_value > entry.max_value
        ):
            e.problems.add(
                e.at("min_value"),
                _("下限 %(min)g 大于上限 %(max)g。")
                % {"min": entry.min_value, "max": entry.max_value},
            )
        if entry.rollup == Rollup.RATIO:
            for key in ("numerator", "denominator"):
                if getattr(entry, key) is None and e.data.get(key) is None:
                    e.problems.add(e.at(key), _("比值汇总的指标必须写明分子和分母。"))
            if entry.scale <= 0:
                e.problems.add(e.at("scale"), _("比值倍数应为正数。"))
        else:
            for key in ("numerator", "denominator", "scale"):
                if key in e.data:
                    e.problems.add(
                        e.at(key),
                        _("只有汇总方式为 ratio（比值）的指标才能写「%(key)s」。") % {"key": key},
                    )

    def dataset(self, data: Any, where: str) -> DataSetEntry | None:
        e = _Entry(data, where, _keys(DataSetEntry), self.problems)
        if not e.ok:
            return None
        due_month = e.integer("due_month", default=3, minimum=1, maximum=12)
        # A non-leap year: a deadline must exist every year.
        last_day = calendar.monthrange(2001, due_month)[1]
        entry = DataSetEntry(
            code=e.code("code", required=True) or "",
            name=e.text("name", required=True, max_length=_max_length(DataSet, "name")),
            description=e.text("description", max_length=None),
            due_month=due_month,
            due_day=e.integer("due_day", default=min(31, last_day), minimum=1, maximum=last_day),
            approval_levels=e.levels("approval_levels", required=False),
            reporting_levels=e.levels("reporting_levels", required=True),
            members=tuple(
                m
                for index, item in enumerate(e.items("members"))
                if (m := self.member(item, f"{e.at('members')}[{index}]")) is not None
            ),
        )
        if entry.reporting_levels:
            lowest = max(entry.reporting_levels)
            for index, level in enumerate(entry.approval_levels):
                if level >= lowest:
                    e.problems.add(
                        f"{e.at('approval_levels')}[{index}]",
                        _("审核层级 %(level)d 不高于任何填报层级，永远不会参与审核。")
                        % {"level": level},
                    )
        return entry

    def member(self, data: Any, where: str) -> MemberEntry | None:
        e = _Entry(data, where, _keys(MemberEntry), self.problems)
        if not e.ok:
            return None
        indicator = e.code("indicator", required=True)
        return MemberEntry(
            indicator=indicator or "",
            section=e.text("section", max_length=_max_length(DataSetMember, "section")),
            order=e.integer("order", default=0),
            required=e.boolean("required", default=True),
        )

    def rule(self, data: Any, where: str) -> RuleEntry | None:
        e = _Entry(data, where, _keys(RuleEntry), self.problems)
        if not e.ok:
            return None

        def length(name: str) -> int:
            return _max_length(ValidationRule, name)

        return RuleEntry(
            code=e.code("code", required=True) or "",
            name=e.text("name", required=True, max_length=length("name")),
            left=e.text("left", required=True, max_length=length("left")),
            operator=e.choice("operator", COMPARE, default="<=", required=True),
            right=e.text("right", required=True, max_length=length("right")),
            importance=e.choice("importance", Importance.values, default=Importance.ERROR),
            dataset=e.code("dataset"),
        )


def _check_references(catalogue: Catalogue, problems: _Problems) -> None:
    """Everything that needs the whole file: duplicates, references, formulas, cycles."""
    groups = _unique(catalogue.groups, "groups", problems)
    indicators = _unique(catalogue.indicators, "indicators", problems)
    datasets = _unique(catalogue.datasets, "datasets", problems)
    _unique(catalogue.rules, "rules", problems)

    for index, group in enumerate(catalogue.groups):
        where = f"groups[{index}].parent"
        if group.parent is None:
            continue
        if group.parent not in groups:
            problems.add(where, _("未知的分组代码「%(code)s」。") % {"code": group.parent})
    for cycle, index in _cycles(
        {g.code: [g.parent] if g.parent in groups else [] for g in catalogue.groups},
        {g.code: i for i, g in enumerate(catalogue.groups)},
    ):
        problems.add(
            f"groups[{index}].parent",
            _("上级分组形成循环：%(cycle)s") % {"cycle": " → ".join(cycle)},
        )

    derived = {i.code for i in catalogue.indicators if i.formula}
    formula_codes: dict[str, list[str]] = {}
    for index, indicator in enumerate(catalogue.indicators):
        where = f"indicators[{index}]"
        for position, code in enumerate(indicator.groups):
            if code not in groups:
                problems.add(
                    f"{where}.groups[{position}]",
                    _("未知的分组代码「%(code)s」。") % {"code": code},
                )
        for key in ("numerator", "denominator"):
            code = getattr(indicator, key)
            if code is None:
                continue
            if code not in indicators:
                problems.add(f"{where}.{key}", _("未知的指标代码「%(code)s」。") % {"code": code})
            elif code == indicator.code:
                problems.add(f"{where}.{key}", _("指标不能以自身作为分子或分母。"))
        if (
            indicator.numerator is not None
            and indicator.numerator == indicator.denominator
            and indicator.numerator != indicator.code
        ):
            problems.add(f"{where}.denominator", _("分子和分母不能是同一个指标。"))
        if indicator.formula:
            codes = _check_formula(indicator.formula, f"{where}.formula", indicators, problems)
            if codes is not None:
                formula_codes[indicator.code] = sorted(codes & derived)
                _check_ratio_formula(indicator, codes, f"{where}.formula", problems)
    positions = {i.code: index for index, i in enumerate(catalogue.indicators)}
    for cycle, index in _cycles(formula_codes, positions):
        problems.add(
            f"indicators[{index}].formula",
            _("公式循环引用：%(cycle)s") % {"cycle": " → ".join(cycle)},
        )

    for index, dataset in enumerate(catalogue.datasets):
        seen: set[str] = set()
        for position, member in enumerate(dataset.members):
            where = f"datasets[{index}].members[{position}].indicator"
            if member.indicator not in indicators:
                problems.add(where, _("未知的指标代码「%(code)s」。") % {"code": member.indicator})
            elif member.indicator in derived:
                problems.add(
                    where,
                    _("「%(code)s」是派生指标，由公式计算，不能列入填报表。")
                    % {"code": member.indicator},
                )
            if member.indicator in seen:
                problems.add(
                    where, _("指标「%(code)s」在本表中重复出现。") % {"code": member.indicator}
                )
            seen.add(member.indicator)

    for index, rule in enumerate(catalogue.rules):
        where = f"rules[{index}]"
        used: set[str] = set()
        for side in ("left", "right"):
            codes = _check_formula(getattr(rule, side), f"{where}.{side}", indicators, problems)
            if codes is None:
                continue
            used |= codes
            for code in sorted(codes & derived):
                problems.add(
                    f"{where}.{side}",
                    _("「%(code)s」是派生指标，不参与填报数据的校验；请直接写出它的公式。")
                    % {"code": code},
                )
        if rule.left and rule.right and not used and not _has_errors_at(problems, where):
            problems.add(f"{where}.left", _("校验规则至少要引用一个指标。"))
        if rule.dataset is not None and rule.dataset not in datasets:
            problems.add(
                f"{where}.dataset", _("未知的填报表代码「%(code)s」。") % {"code": rule.dataset}
            )


def _has_errors_at(problems: _Problems, prefix: str) -> bool:
    return any(where.startswith(prefix) for where, _message in problems.items)


def _unique(entries: Iterable[Any], kind: str, problems: _Problems) -> dict[str, int]:
    first: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if not entry.code:
            continue
        if entry.code in first:
            problems.add(
                f"{kind}[{index}].code",
                _("代码「%(code)s」与 %(kind)s[%(first)d] 重复。")
                % {"code": entry.code, "kind": kind, "first": first[entry.code]},
            )
        else:
            first[entry.code] = index
    return first


def _check_formula(
    source: str, where: str, indicators: Mapping[str, int], problems: _Problems
) -> set[str] | None:
    """The codes a formula uses, or None when it cannot be read (the problem is noted)."""
    if not source:
        return None
    try:
        expression = parse(source)
    except ExpressionError as error:
        problems.add(where, str(error))
        return None
    unknown = sorted(expression.codes - set(indicators))
    if unknown:
        problems.add(
            where,
            _("公式「%(formula)s」引用了未知的指标代码：%(codes)s")
            % {"formula": source, "codes": "、".join(unknown)},
        )
        return None
    return set(expression.codes)


def _check_ratio_formula(
    indicator: IndicatorEntry, codes: set[str], where: str, problems: _Problems
) -> None:
    # Roll-up recomputes a ratio from summed numerator and denominator; the formula must agree.
    if indicator.rollup != Rollup.RATIO or not indicator.numerator or not indicator.denominator:
        return
    expected = {indicator.numerator, indicator.denominator}
    probe = {indicator.numerator: PROBE_NUMERATOR, indicator.denominator: PROBE_DENOMINATOR}
    value = parse(indicator.formula).evaluate(probe) if codes == expected else None
    if value is None or not math.isclose(
        value, PROBE_NUMERATOR / PROBE_DENOMINATOR * indicator.scale, rel_tol=1e-9
    ):
        problems.add(
            where,
            _("公式「%(formula)s」与汇总方式不一致：应等于 %(num)s / %(den)s × %(scale)g。")
            % {
                "formula": indicator.formula,
                "num": indicator.numerator,
                "den": indicator.denominator,
                "scale": indicator.scale,
            },
        )


def _cycles(
    edges: Mapping[str, Iterable[str | None]], positions: Mapping[str, int]
) -> list[tuple[list[str], int]]:
    """Each cycle once, as its codes (first repeated at the end) and the position of its start."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    found: list[tuple[list[str], int]] = []

    def visit(code: str, path: list[str]) -> None:
        state[code] = 1
        path.append(code)
        for nxt in edges.get(code, ()):
            if nxt is None or nxt not in edges:
                continue
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                found.append((cycle, positions[nxt]))
            elif nxt not in state:
                visit(nxt, path)
        path.pop()
        state[code] = 2

    for code in edges:
        if code not in state:
            visit(code, [])
    return found
