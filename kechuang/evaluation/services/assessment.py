"""Assessment schemes and rounds: loading schemes, applying one to approved data, reading rounds.

A round reads, for one year, the finally approved values of the scheme's
indicators for every current unit of the scheme's level inside a scope, and
the completion of those units' targets for that year, then applies the
scheme (``evaluation.assessment``) and stores the snapshot, its digest and
each candidate's outcome with its evidence. County-level and higher values
come from ``indicators.services.rollup`` (derived indicators computed);
townships are not part of the roll-up, so their own approved values are read
here. A rerun on unchanged data returns the stored round.

Rounds are published like rankings (``results.published``): visible inside
their scope and above it. The values behind a candidate's points stay with
the candidate's own subtree (``evidence_visible``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils.translation import gettext as _

from kechuang.audit import services as audit
from kechuang.core.authorization import Action, require
from kechuang.core.errors import InvalidInput, NotFound
from kechuang.core.scoping import path_within, subtree_q
from kechuang.evaluation import assessment
from kechuang.evaluation.choices import SchemeKind, Source
from kechuang.evaluation.models import AssessmentOutcome, AssessmentRound, AssessmentScheme
from kechuang.evaluation.services.results import published
from kechuang.evaluation.services.runs import units_in
from kechuang.indicators.choices import SubmissionStatus
from kechuang.indicators.expressions import ExpressionError, parse
from kechuang.indicators.models import DataValue, Indicator, Target
from kechuang.indicators.services.catalogue import require_catalogue_admin
from kechuang.indicators.services.rollup import rollup_table
from kechuang.indicators.services.targets import target_status
from kechuang.regions.choices import Level
from kechuang.regions.models import OrgUnit

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "assessment_schemes.yaml"
LEVELS = {
    "province": Level.PROVINCE,
    "city": Level.CITY,
    "county": Level.COUNTY,
    "township": Level.TOWNSHIP,
}
FIELDS = ("name", "kind", "level", "authority", "note", "rules")
ENTRY_KEYS = {"code", "version", *FIELDS}


@dataclass
class SchemeEntry:
    code: str
    version: int
    name: str
    kind: str
    level: int
    rules: dict[str, Any]
    authority: str = ""
    note: str = ""


# ---------------------------------------------------------------- schemes


def read_schemes(path: Path | None = None) -> list[SchemeEntry]:
    """Every scheme in the YAML file, each checked as ``assess`` will apply it."""
    path = path or SHIPPED
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise InvalidInput(
            _("无法读取评价方案文件 %(file)s：%(error)s") % {"file": path.name, "error": error}
        ) from None
    records = (data or {}).get("schemes") if isinstance(data, Mapping) else None
    if not isinstance(records, list) or not records:
        raise InvalidInput(_("%(file)s：没有 schemes 列表") % {"file": path.name})
    entries = [
        _entry(record, _("%(file)s 第 %(n)s 个方案") % {"file": path.name, "n": number})
        for number, record in enumerate(records, start=1)
    ]
    keys = [(e.code, e.version) for e in entries]
    if len(set(keys)) != len(keys):
        raise InvalidInput(_("%(file)s：方案代码与版本重复") % {"file": path.name})
    for entry in entries:
        check_entry(entry)
    return entries


def _entry(record: Any, where: str) -> SchemeEntry:
    if not isinstance(record, Mapping):
        raise InvalidInput(_("%(where)s：应为映射") % {"where": where})
    unknown = sorted(str(key) for key in record if key not in ENTRY_KEYS)
    if unknown:
        raise InvalidInput(
            _("%(where)s：不认识的键 %(keys)s") % {"where": where, "keys": "、".join(unknown)}
        )
    try:
        code, version, name = str(record["code"]), int(record["version"]), str(record["name"])
    except (KeyError, TypeError, ValueError):
        raise InvalidInput(_("%(where)s：code、version、name 必填") % {"where": where}) from None
    level = LEVELS.get(str(record.get("level", "")))
    if level is None:
        raise InvalidInput(
            _("%(where)s：level 应为 %(levels)s 之一")
            % {"where": where, "levels": "、".join(LEVELS)}
        )
    return SchemeEntry(
        code=code,
        version=version,
        name=name,
        kind=str(record.get("kind", "")),
        level=level,
        rules=record.get("rules") or {},
        authority=str(record.get("authority", "")).strip(),
        note=str(record.get("note", "")).strip(),
    )


def check_entry(entry: SchemeEntry) -> assessment.Scheme:
    """The parsed scheme; InvalidInput for bad rules, kinds, levels or unknown indicators."""
    if entry.kind not in SchemeKind.values:
        raise InvalidInput(
            _("%(code)s：未知的评价类型「%(kind)s」") % {"code": entry.code, "kind": entry.kind}
        )
    if entry.level not in Level.values or entry.level == Level.NATION:
        raise InvalidInput(_("%(code)s：评价对象层级无效") % {"code": entry.code})
    try:
        scheme = assessment.parse_scheme(entry.rules)
    except ValueError as error:
        raise InvalidInput(f"{entry.code}：{error}") from None
    wanted = set(scheme.indicators) | {t for t in scheme.targets if t != assessment.ALL_TARGETS}
    known = set(Indicator.objects.filter(code__in=wanted).values_list("code", flat=True))
    if wanted - known:
        raise InvalidInput(
            _("%(code)s：指标库中没有这些指标：%(codes)s")
            % {"code": entry.code, "codes": "、".join(sorted(wanted - known))}
        )
    return scheme


@transaction.atomic
def load_schemes(path: Path | None = None, *, actor: Any) -> list[AssessmentScheme]:
    """Create or update every scheme version of the file (the shipped one by default)."""
    require_catalogue_admin(actor)
    source = Source.SHIPPED if path is None or path.resolve() == SHIPPED else Source.IMPORTED
    return [save_scheme(entry, source=source, actor=actor) for entry in read_schemes(path)]


def ensure_shipped_schemes(*, actor: Any) -> list[AssessmentScheme]:
    """The shipped scheme versions not in the database yet (stored ones stay as they are)."""
    require_catalogue_admin(actor)
    return [
        save_scheme(entry, source=Source.SHIPPED, actor=actor)
        for entry in read_schemes()
        if not AssessmentScheme.objects.filter(code=entry.code, version=entry.version).exists()
    ]


def save_scheme(entry: SchemeEntry, *, source: str, actor: Any) -> AssessmentScheme:
    """Write one scheme version; one that already has rounds may only be reloaded unchanged."""
    require_catalogue_admin(actor)
    scheme = check_entry(entry)
    entry.rules = scheme.as_json()  # stored in canonical form: defaults filled, aliases resolved
    stored = AssessmentScheme.objects.filter(code=entry.code, version=entry.version).first()
    before = audit.snapshot(stored, FIELDS) if stored else None
    if stored is not None and before == audit.jsonable({n: getattr(entry, n) for n in FIELDS}):
        return stored
    if stored is not None and stored.rounds.exists():
        raise InvalidInput(
            _("「%(name)s」已有评价结果，不能再修改；请以新的版本（年度）载入。") % {"name": stored}
        )
    stored = stored or AssessmentScheme(code=entry.code, version=entry.version)
    for name in FIELDS:
        setattr(stored, name, getattr(entry, name))
    stored.source = source
    stored.save()
    audit.record(
        actor,
        "evaluation.scheme.save",
        stored,
        before=before,
        after=audit.snapshot(stored, FIELDS),
    )
    return stored


def latest_scheme(code: str, year: int | None = None) -> AssessmentScheme:
    """The newest active version of ``code`` (not newer than ``year`` when there is one)."""
    versions = AssessmentScheme.objects.filter(code=code, is_active=True)
    scheme = None
    if year is not None:
        scheme = versions.filter(version__lte=year).order_by("-version").first()
    scheme = scheme or versions.order_by("version" if year is not None else "-version").first()
    if scheme is None:
        raise InvalidInput(_("没有代码为「%(code)s」的评价方案") % {"code": code})
    return scheme


# ---------------------------------------------------------------- reading the data


@dataclass(frozen=True)
class Inputs:
    """A round's data snapshot: one row per candidate."""

    unit_codes: list[str]
    unit_names: list[str]
    indicators: list[str]
    values: list[list[float | None]]
    targets: list[str] = field(default_factory=list)
    completions: list[list[float | None]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Inputs:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})

    def digest(self) -> str:
        text = json.dumps(self.as_json(), ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def candidates(self) -> list[assessment.Candidate]:
        return assessment.candidates_from(
            self.unit_codes,
            self.unit_names,
            self.indicators,
            self.values,
            self.targets,
            self.completions,
            self.notes,
        )


def read_inputs(scheme: assessment.Scheme, within: OrgUnit, level: int, year: int) -> Inputs:
    """The values and target completions the scheme reads, for units of ``level`` having any."""
    units = units_in(within, level)
    codes = scheme.indicators
    if level > Level.COUNTY:
        table = own_values(codes, units, year, within=within)
    else:
        table = rollup_table(codes, units, [year])
    completions, notes, has_targets = _completions(scheme.targets, within, level, year)
    rows = []
    for unit in units:
        values = [_plain(table[(unit.pk, code, year)]) for code in codes]
        done = [completions.get((unit.pk, key)) for key in scheme.targets]
        # A unit with targets for the year is assessed on them even without data:
        # an unmet duty scores nothing rather than leaving the list.
        if any(v is not None for v in values) or unit.pk in has_targets:
            rows.append((unit, values, done, notes.get(unit.pk, {})))
    return Inputs(
        unit_codes=[unit.code for unit, *_ in rows],
        unit_names=[unit.name for unit, *_ in rows],
        indicators=codes,
        values=[values for _u, values, _d, _n in rows],
        targets=scheme.targets,
        completions=[done for _u, _v, done, _n in rows],
        notes=[note for *_, note in rows],
    )


def _plain(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def own_values(
    codes: Sequence[str], units: Sequence[OrgUnit], year: int, *, within: OrgUnit
) -> dict[tuple[int, str, int], float | None]:
    """Units' own finally approved values, derived indicators worked out from their formulas.

    For townships, which the roll-up does not cover (it adds up counties).
    The units all lie inside ``within`` and share one level; the values are
    selected by that scope rather than by a list of ids, which for a
    province's thousand townships would outgrow a query's parameters.
    """
    catalogue = {i.code: i for i in Indicator.objects.filter(code__in=codes)}
    pending = [i for i in catalogue.values() if i.is_derived]
    while pending:  # the inputs of formulas, and of their formulas
        wanted = set()
        for indicator in pending:
            try:
                wanted |= set(parse(indicator.formula).codes) - set(catalogue)
            except ExpressionError:
                continue
        found = list(Indicator.objects.filter(code__in=wanted))
        catalogue.update((i.code, i) for i in found)
        pending = [i for i in found if i.is_derived]
    plain = {i.pk: i.code for i in catalogue.values() if not i.is_derived}
    stored: dict[int, dict[str, float]] = defaultdict(dict)
    levels = {unit.level for unit in units}
    rows = DataValue.objects.filter(
        subtree_q("org_unit__path", within.path),
        org_unit__level__in=levels,
        indicator_id__in=list(plain),
        year=year,
        submission__status=SubmissionStatus.APPROVED,
        value__isnull=False,
    ).values_list("org_unit_id", "indicator_id", "value")
    for unit_id, indicator_id, value in rows:
        stored[unit_id][plain[indicator_id]] = value
    table: dict[tuple[int, str, int], float | None] = {}
    for unit in units:
        known = dict(stored.get(unit.pk, {}))
        for code in codes:
            table[(unit.pk, code, year)] = _derive(code, catalogue, known, set())
    return table


def _derive(
    code: str, catalogue: dict[str, Indicator], known: dict[str, float | None], busy: set[str]
) -> float | None:
    indicator = catalogue.get(code)
    if indicator is None or not indicator.is_derived:
        return known.get(code)
    if code in known:
        return known[code]
    if code in busy:  # a formula cycle
        return None
    try:
        expression = parse(indicator.formula)
    except ExpressionError:
        return None
    busy.add(code)
    inputs = {c: _derive(c, catalogue, known, busy) for c in expression.codes}
    busy.discard(code)
    known[code] = expression.evaluate(inputs)
    return known[code]


def _completions(
    keys: Sequence[str], within: OrgUnit, level: int, year: int
) -> tuple[dict[tuple[int, str], float | None], dict[int, dict[str, str]], set[int]]:
    """(unit, key) → completion capped to [0, 1]; a note per unit for ``*``; units with targets.

    ``*`` is the mean over the unit's assessable targets for the year, each
    capped at 1 (as ``targets.rank_by_completion``): over-delivering on one
    target does not make up for falling short on another.
    """
    if not keys:
        return {}, {}, set()
    statuses = target_status(_in_scope(Target.objects.filter(year=year), within, level))
    by_unit: dict[int, list[Any]] = defaultdict(list)
    for status in statuses:
        by_unit[status.target.org_unit_id].append(status)
    completions: dict[tuple[int, str], float | None] = {}
    notes: dict[int, dict[str, str]] = {}
    for unit_id, own in by_unit.items():
        capped = {
            s.target.indicator.code: min(max(s.completion, 0.0), 1.0)
            for s in own
            if s.completion is not None
        }
        for key in keys:
            if key == assessment.ALL_TARGETS:
                fractions = list(capped.values())
                completions[(unit_id, key)] = (
                    math.fsum(fractions) / len(fractions) if fractions else None
                )
                notes[unit_id] = {
                    key: _("%(n)s 项目标，%(a)s 项可评，%(m)s 项已完成")
                    % {"n": len(own), "a": len(fractions), "m": sum(s.is_met for s in own)}
                }
            else:
                completions[(unit_id, key)] = capped.get(key)
    return completions, notes, set(by_unit)


def _in_scope(queryset: Any, within: OrgUnit, level: int) -> Any:
    """Rows owned by units of ``level`` inside ``within``."""
    return queryset.filter(subtree_q("org_unit__path", within.path), org_unit__level=level)


# ---------------------------------------------------------------- a round


@transaction.atomic
def assess(
    scheme: AssessmentScheme, year: int, *, within: OrgUnit, actor: Any
) -> tuple[AssessmentRound, bool]:
    """The round of ``scheme`` for ``year`` over ``within``; (round, whether it is new)."""
    require(actor, Action.COMPUTE_INDEX, within)
    if scheme.level <= within.level:
        raise InvalidInput(_("评价层级应低于评价范围「%(unit)s」") % {"unit": within.name})
    rules = scheme.parsed()
    inputs = read_inputs(rules, within, scheme.level, year)
    if not inputs.unit_codes:
        if scheme.level == Level.TOWNSHIP:
            message = _(
                "%(unit)s范围内的乡镇（街道）没有%(year)s年已审定的数据，没有可评价的候选乡镇。"
                "乡镇一级的数据须先填报并审定，才能开展%(kind)s。"
            )
        else:
            message = _("%(unit)s范围内没有%(year)s年已审定的数据，没有可评价的单位（%(kind)s）。")
        raise InvalidInput(
            message % {"unit": within.name, "year": year, "kind": scheme.get_kind_display()}
        )
    digest = inputs.digest()
    previous = AssessmentRound.objects.filter(scheme=scheme, year=year, within=within).first()
    if previous is not None and previous.data_digest == digest:
        return previous, False
    outcomes = assessment.assess(rules, inputs.candidates())
    by_code = {unit.code: unit for unit in units_in(within, scheme.level)}
    round_ = AssessmentRound.objects.create(
        scheme=scheme,
        year=year,
        within=within,
        inputs=inputs.as_json(),
        data_digest=digest,
        candidates=len(outcomes),
        shortlisted=sum(o.shortlisted for o in outcomes),
        created_by=actor if getattr(actor, "pk", None) else None,
        # Demo values or targets feed the round: it carries the 示例数据 mark wherever it shows.
        is_demo=_in_scope(DataValue.objects.filter(is_demo=True), within, scheme.level).exists()
        or _in_scope(Target.objects.filter(is_demo=True, year=year), within, scheme.level).exists(),
    )
    AssessmentOutcome.objects.bulk_create(
        [
            AssessmentOutcome(
                round=round_,
                org_unit=by_code[outcome.code],
                eligible=outcome.eligible,
                total=outcome.total,
                percent=outcome.percent,
                rank=outcome.rank,
                shortlisted=outcome.shortlisted,
                evidence=outcome.evidence(),
                order=order,
            )
            for order, outcome in enumerate(outcomes)
        ],
        batch_size=1000,
    )
    audit.record(
        actor,
        "evaluation.assessment.run",
        round_,
        org_unit=within,
        after={
            "scheme": str(scheme),
            "year": year,
            "candidates": round_.candidates,
            "eligible": sum(o.eligible for o in outcomes),
            "shortlisted": round_.shortlisted,
            "data_digest": digest,
        },
    )
    return round_, True


# ---------------------------------------------------------------- reading rounds


def visible_rounds(user: Any) -> Any:
    """Rounds over the user's subtree, or over a scope the user's unit lies in."""
    return published(
        AssessmentRound.objects.select_related("scheme", "within"), user, "within__path"
    )


def access_round(user: Any, pk: Any) -> AssessmentRound:
    try:
        return visible_rounds(user).get(pk=pk)
    except (AssessmentRound.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def evidence_visible(user: Any, unit: OrgUnit) -> bool:
    """Whether the user may see the values behind a unit's points: its own subtree and above."""
    return getattr(user, "is_superuser", False) or path_within(
        unit.path, getattr(user, "scope_path", None)
    )


@dataclass
class OutcomeRow:
    outcome: AssessmentOutcome
    show_evidence: bool

    @property
    def conditions(self) -> list[dict[str, Any]]:
        return [
            {
                **c,
                "symbol": assessment.SYMBOLS.get(c["comparator"], c["comparator"]),
                "threshold_text": f"{c['threshold']:g}",
            }
            for c in self.outcome.evidence.get("conditions", [])
        ]

    @property
    def criteria(self) -> list[dict[str, Any]]:
        # A completion is read as a percentage; an indicator value in its own unit.
        return [
            {
                **c,
                "percent": None
                if c["value"] is None or c["source"] != "target"
                else 100 * c["value"],
            }
            for c in self.outcome.evidence.get("criteria", [])
        ]


def round_table(round_: AssessmentRound, user: Any) -> list[OutcomeRow]:
    """The round's outcomes in ranked order, each marked with whether its evidence is shown."""
    outcomes = round_.outcomes.select_related("org_unit").order_by("order")
    return [OutcomeRow(o, evidence_visible(user, o.org_unit)) for o in outcomes]


# ---------------------------------------------------------------- the scheme in words


@dataclass
class SchemeSummary:
    conditions: list[tuple[str, str]]  # (name, threshold as "≥ 0.5")
    criteria: list[tuple[str, float, str]]  # (name, full points, how it scores)
    max_points: float
    shortlist: str


def describe(scheme: AssessmentScheme) -> SchemeSummary:
    """The scheme's conditions, criteria and shortlist rule in Chinese, for the round page."""
    rules = scheme.parsed()
    names = dict(Indicator.objects.filter(code__in=rules.indicators).values_list("code", "name"))
    return SchemeSummary(
        conditions=[
            (
                c.name or names.get(c.indicator, c.indicator),
                f"{assessment.SYMBOLS[c.comparator]} {c.threshold:g}",
            )
            for c in rules.conditions
        ],
        criteria=[(c.name, c.weight, describe_criterion(c)) for c in rules.criteria],
        max_points=rules.max_points,
        shortlist=describe_shortlist(rules.shortlist),
    )


def describe_criterion(criterion: assessment.Criterion) -> str:
    if criterion.rule == assessment.LINEAR:
        low, high = criterion.lower, criterion.upper
        assert low is not None
        assert high is not None
        if high > low:
            text = _("%(low)s 及以下记 0 分，%(high)s 及以上记满分，之间按比例计分")
        else:
            text = _("%(low)s 及以上记 0 分，%(high)s 及以下记满分，之间按比例计分")
        return text % {"low": f"{low:g}", "high": f"{high:g}"}
    if criterion.rule == assessment.STEPS:
        return "；".join(
            _("达到 %(t)s 记 %(p)s 分") % {"t": f"{t:g}", "p": f"{p:g}"} for t, p in criterion.steps
        )
    return _("得分 = 分值 × 目标完成度（完成度以 100% 封顶）")


def describe_shortlist(rule: assessment.Shortlist) -> str:
    parts = []
    if rule.top is not None:
        parts.append(_("符合准入条件的前 %(n)s 名（并列者一并入围）") % {"n": rule.top})
    if rule.min_score is not None:
        parts.append(_("总分不低于 %(s)s 分") % {"s": f"{rule.min_score:g}"})
    if not parts:
        return _("符合准入条件的单位均列入“%(label)s”。") % {"label": rule.label}
    return _("%(rule)s的单位列入“%(label)s”。") % {"rule": _("且").join(parts), "label": rule.label}
