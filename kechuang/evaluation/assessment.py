"""Assessment schemes as data: eligibility conditions, scored criteria, a shortlist. No Django.

Choosing 创新型县(市) and 创新型乡镇 candidates and scoring the 党政领导科技进步
目标责任制 have one shape. A candidate must meet every *condition* (a data
threshold such as 财政科技支出占比 ≥ 0.5 %) to be eligible; it earns points on
each *criterion* (an indicator value or a target completion, scored by a
rule); the eligible candidates are ranked by their total; the *shortlist* is
the top N and/or those at or above a minimum score.

The national 《创新型县(市)建设工作指引》 (国科发〔2018〕130号) does not publish
its data-evaluation table, so schemes are configuration, checked here
(``parse_scheme``) before they are stored and applied the same way to every
candidate (``assess``). Everything is deterministic: ties share the lowest
rank and are listed by unit code.

A scheme's rules, as stored (JSON) and as written in YAML::

    conditions:                      # all must hold; a missing value fails (无数据)
      - {indicator: GOV_ST_SHARE, comparator: ">=", threshold: 0.5, name: …}
    criteria:                        # at least one
      - code: RD                     # unique in the scheme (default: the indicator code)
        name: 研发经费投入强度          # shown on the page (default: the code)
        indicator: RD_INTENSITY      # or target: "*" (all the unit's targets) / an indicator code
        weight: 20                   # the criterion's full points
        rule: linear                 # linear | steps | completion
        lower: 0.1                   # linear: 0 points at lower, full at upper, straight between;
        upper: 1.0                   #   lower > upper scores a smaller-is-better value
        # steps: [[1, 4], [3, 8]]    # steps: points of the highest threshold reached, else 0
    shortlist: {top: 5, min_score: 60, label: 推荐候选}   # optional; eligible only

``completion`` scores a target completion ratio: weight × min(ratio, 1).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
}
# The comparators as Chinese documents print them.
ALIASES = {"≥": ">=", "≤": "<=", "=": "==", "＞": ">", "＜": "<"}
SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}
LINEAR, STEPS, COMPLETION = "linear", "steps", "completion"
RULES = (LINEAR, STEPS, COMPLETION)
ALL_TARGETS = "*"
NO_DATA = "无数据"
NOT_MET = "未达到"
CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Totals are compared after rounding, so sums of the same points in another
# order (or 0.1 + 0.2 against 0.3) tie instead of ranking by float noise.
DIGITS = 9

_SCHEME_KEYS = {"conditions", "criteria", "shortlist"}
_CONDITION_KEYS = {"indicator", "comparator", "threshold", "name"}
_CRITERION_KEYS = {
    "code",
    "name",
    "indicator",
    "target",
    "weight",
    "rule",
    "lower",
    "upper",
    "steps",
}
_SHORTLIST_KEYS = {"top", "min_score", "label"}


@dataclass(frozen=True)
class Condition:
    """An eligibility threshold on one indicator."""

    indicator: str
    comparator: str
    threshold: float
    name: str = ""

    def holds(self, value: float) -> bool:
        return COMPARATORS[self.comparator](value, self.threshold)

    def as_json(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator,
            "comparator": self.comparator,
            "threshold": self.threshold,
            "name": self.name,
        }


@dataclass(frozen=True)
class Criterion:
    """One scored item: where its value comes from, its full points and how it scores."""

    code: str
    name: str
    weight: float
    rule: str
    indicator: str = ""
    target: str = ""
    lower: float | None = None
    upper: float | None = None
    steps: tuple[tuple[float, float], ...] = ()

    @property
    def source(self) -> str:
        return "target" if self.target else "indicator"

    @property
    def key(self) -> str:
        return self.target or self.indicator

    def points(self, value: float) -> float:
        """Points for a known value, between 0 and the weight."""
        if self.rule == LINEAR:
            assert self.lower is not None
            assert self.upper is not None
            share = (value - self.lower) / (self.upper - self.lower)
        elif self.rule == STEPS:
            reached = [points for threshold, points in self.steps if value >= threshold]
            return reached[-1] if reached else 0.0
        else:
            share = value
        return self.weight * min(max(share, 0.0), 1.0)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "name": self.name}
        data["target" if self.target else "indicator"] = self.key
        data.update(weight=self.weight, rule=self.rule)
        if self.rule == LINEAR:
            data.update(lower=self.lower, upper=self.upper)
        elif self.rule == STEPS:
            data["steps"] = [list(step) for step in self.steps]
        return data


@dataclass(frozen=True)
class Shortlist:
    """Who among the eligible is put forward: the top N and/or those scoring at least a minimum."""

    top: int | None = None
    min_score: float | None = None
    label: str = "入围"

    def as_json(self) -> dict[str, Any]:
        return {"top": self.top, "min_score": self.min_score, "label": self.label}


@dataclass(frozen=True)
class Scheme:
    conditions: tuple[Condition, ...]
    criteria: tuple[Criterion, ...]
    shortlist: Shortlist = field(default_factory=Shortlist)

    @property
    def max_points(self) -> float:
        return math.fsum(c.weight for c in self.criteria)

    @property
    def indicators(self) -> list[str]:
        """Indicator codes the scheme reads, in order of first use."""
        codes = [c.indicator for c in self.conditions]
        codes += [c.indicator for c in self.criteria if c.indicator]
        return list(dict.fromkeys(codes))

    @property
    def targets(self) -> list[str]:
        """Target keys the scheme reads: ``*`` or indicator codes."""
        return list(dict.fromkeys(c.target for c in self.criteria if c.target))

    def as_json(self) -> dict[str, Any]:
        return {
            "conditions": [c.as_json() for c in self.conditions],
            "criteria": [c.as_json() for c in self.criteria],
            "shortlist": self.shortlist.as_json(),
        }


@dataclass(frozen=True)
class Candidate:
    """A unit with the values the scheme reads (None where there is no value)."""

    code: str
    name: str = ""
    values: Mapping[str, float | None] = field(default_factory=dict)
    completions: Mapping[str, float | None] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)  # target key → how it was measured


@dataclass(frozen=True)
class ConditionResult:
    condition: Condition
    value: float | None
    passed: bool
    reason: str  # "" when passed, else 无数据 or 未达到

    def as_json(self) -> dict[str, Any]:
        return {
            **self.condition.as_json(),
            "value": self.value,
            "passed": self.passed,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    value: float | None
    points: float
    reason: str  # 无数据 when the value is missing
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.criterion.code,
            "name": self.criterion.name,
            "source": self.criterion.source,
            "key": self.criterion.key,
            "rule": self.criterion.rule,
            "weight": self.criterion.weight,
            "value": self.value,
            "points": self.points,
            "reason": self.reason,
            "note": self.note,
        }


@dataclass(frozen=True)
class Outcome:
    """One candidate's result: eligibility and why, points and from what, rank, shortlist."""

    code: str
    name: str
    eligible: bool
    conditions: tuple[ConditionResult, ...]
    criteria: tuple[CriterionResult, ...]
    total: float
    percent: float
    rank: int | None
    shortlisted: bool

    @property
    def failed(self) -> list[ConditionResult]:
        return [c for c in self.conditions if not c.passed]

    def evidence(self) -> dict[str, Any]:
        return {
            "conditions": [c.as_json() for c in self.conditions],
            "criteria": [c.as_json() for c in self.criteria],
        }


# ---------------------------------------------------------------- reading a scheme


def parse_scheme(rules: Any) -> Scheme:
    """The scheme in ``rules``; ValueError with a Chinese message naming the faulty item."""
    if not isinstance(rules, Mapping):
        raise ValueError("评价规则应为包含 conditions、criteria、shortlist 的映射")
    _refuse_unknown(rules, _SCHEME_KEYS, "评价规则")
    conditions = tuple(
        _condition(item, f"准入条件第 {number} 项")
        for number, item in enumerate(_list(rules.get("conditions"), "conditions"), start=1)
    )
    items = _list(rules.get("criteria"), "criteria")
    if not items:
        raise ValueError("评价规则至少要有一个评分项（criteria）")
    criteria = tuple(_criterion(item, number) for number, item in enumerate(items, start=1))
    seen: set[str] = set()
    for criterion in criteria:
        if criterion.code in seen:
            raise ValueError(f"评分项「{criterion.name}」：代码 {criterion.code} 重复")
        seen.add(criterion.code)
    return Scheme(conditions, criteria, _shortlist(rules.get("shortlist")))


def _list(value: Any, key: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValueError(f"评价规则的 {key} 应为列表")
    return list(value)


def _refuse_unknown(item: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(str(key) for key in item if key not in known)
    if unknown:
        raise ValueError(f"{where}：不认识的键 {'、'.join(unknown)}")


def _number(value: Any, where: str, what: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{where}：{what}应为数字")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}：{what}应为数字，填的是「{value}」") from None
    if not math.isfinite(number):
        raise ValueError(f"{where}：{what}应为有限的数字")
    return number


def _code(value: Any, where: str, what: str) -> str:
    text = str(value or "").strip()
    if not CODE.match(text):
        raise ValueError(f"{where}：{what}应为指标代码（大写字母开头），填的是「{value}」")
    return text


def _condition(item: Any, where: str) -> Condition:
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}：应为映射（indicator、comparator、threshold）")
    _refuse_unknown(item, _CONDITION_KEYS, where)
    indicator = _code(item.get("indicator"), where, "indicator ")
    where = f"{where}（{item.get('name') or indicator}）"
    comparator = str(item.get("comparator", "")).strip()
    comparator = ALIASES.get(comparator, comparator)
    if comparator not in COMPARATORS:
        raise ValueError(
            f"{where}：比较方式应为 ≥ ≤ > < == 之一，填的是「{item.get('comparator')}」"
        )
    return Condition(
        indicator=indicator,
        comparator=comparator,
        threshold=_number(item.get("threshold"), where, "threshold "),
        name=str(item.get("name") or "").strip(),
    )


def _criterion(item: Any, number: int) -> Criterion:
    if not isinstance(item, Mapping):
        raise ValueError(f"评分项第 {number} 项：应为映射（indicator 或 target、weight、rule）")
    label = item.get("name") or item.get("code") or item.get("indicator") or item.get("target")
    where = f"评分项「{label}」" if label else f"评分项第 {number} 项"
    _refuse_unknown(item, _CRITERION_KEYS, where)
    has_indicator, has_target = bool(item.get("indicator")), bool(item.get("target"))
    if has_indicator == has_target:
        raise ValueError(f"{where}：indicator（指标）和 target（目标完成度）须填且只填一个")
    indicator = _code(item["indicator"], where, "indicator ") if has_indicator else ""
    target = ""
    if has_target:
        target = str(item["target"]).strip()
        if target != ALL_TARGETS:
            target = _code(target, where, "target ")
    code = str(item.get("code") or indicator or _target_code(target)).strip()
    if not CODE.match(code):
        raise ValueError(f"{where}：code 应为大写字母开头的代码，填的是「{code}」")
    weight = _number(item.get("weight"), where, "分值 weight ")
    if weight <= 0:
        raise ValueError(f"{where}：分值 weight 应大于 0")
    rule = str(item.get("rule") or "").strip()
    if rule not in RULES:
        raise ValueError(f"{where}：计分规则 rule 应为 linear、steps、completion 之一")
    criterion = Criterion(
        code=code,
        name=str(item.get("name") or code).strip(),
        weight=weight,
        rule=rule,
        indicator=indicator,
        target=target,
    )
    present = {key for key in ("lower", "upper", "steps") if item.get(key) is not None}
    if rule == LINEAR:
        if present != {"lower", "upper"}:
            raise ValueError(f"{where}：linear 规则须填 lower 和 upper（不填 steps）")
        lower = _number(item["lower"], where, "lower ")
        upper = _number(item["upper"], where, "upper ")
        if lower == upper:
            raise ValueError(f"{where}：lower 和 upper 不能相等")
        return Criterion(**{**vars(criterion), "lower": lower, "upper": upper})
    if rule == STEPS:
        if present != {"steps"}:
            raise ValueError(f"{where}：steps 规则须填 steps（不填 lower、upper）")
        return Criterion(**{**vars(criterion), "steps": _steps(item["steps"], weight, where)})
    if present:
        raise ValueError(f"{where}：completion 规则不用 lower、upper、steps")
    if not target:
        raise ValueError(f"{where}：completion 规则只用于目标完成度（target）评分项")
    return criterion


def _target_code(target: str) -> str:
    return "TARGETS" if target == ALL_TARGETS else f"TARGET_{target}"


def _steps(raw: Any, weight: float, where: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(raw, list | tuple) or not raw:
        raise ValueError(f"{where}：steps 应为 [门槛, 分值] 的非空列表")
    steps: list[tuple[float, float]] = []
    for pair in raw:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValueError(f"{where}：steps 的每一档应为 [门槛, 分值]，填的是「{pair}」")
        threshold = _number(pair[0], where, "steps 的门槛")
        points = _number(pair[1], where, "steps 的分值")
        if not 0 <= points <= weight:
            raise ValueError(f"{where}：steps 的分值应在 0 到 {weight:g} 之间")
        if steps and threshold <= steps[-1][0]:
            raise ValueError(f"{where}：steps 的门槛应从小到大排列且不重复")
        # Reaching a higher threshold never costs points: a scheme rewards, it does not trap.
        if steps and points < steps[-1][1]:
            raise ValueError(f"{where}：steps 的分值应随门槛提高而不减")
        steps.append((threshold, points))
    return tuple(steps)


def _shortlist(raw: Any) -> Shortlist:
    if raw is None:
        return Shortlist()
    if not isinstance(raw, Mapping):
        raise ValueError("入围规则 shortlist 应为映射（top、min_score、label）")
    _refuse_unknown(raw, _SHORTLIST_KEYS, "入围规则")
    top = raw.get("top")
    if top is not None:
        if isinstance(top, bool) or not isinstance(top, int | float) or top != int(top) or top < 1:
            raise ValueError("入围规则：top 应为正整数")
        top = int(top)
    min_score = raw.get("min_score")
    if min_score is not None:
        min_score = _number(min_score, "入围规则", "min_score ")
        if min_score < 0:
            raise ValueError("入围规则：min_score 不能为负数")
    label = str(raw.get("label") or "入围").strip()
    return Shortlist(top=top, min_score=min_score, label=label)


# ---------------------------------------------------------------- applying it


def assess(scheme: Scheme, candidates: Iterable[Candidate]) -> list[Outcome]:
    """Every candidate's outcome: eligible ones by rank (ties by code), then the rest by code."""
    scored = [_score(scheme, candidate) for candidate in candidates]
    codes = [outcome.code for outcome in scored]
    if len(set(codes)) != len(codes):
        raise ValueError("候选对象的代码重复")
    eligible = [o for o in scored if o.eligible]
    totals = [o.total for o in eligible]
    ranked: list[Outcome] = []
    for outcome in eligible:
        # "min" ranks: 1 + the number of strictly higher totals, so ties share the lowest.
        rank = 1 + sum(total > outcome.total for total in totals)
        ranked.append(_ranked(outcome, rank, _shortlisted(scheme.shortlist, rank, outcome.total)))
    ranked.sort(key=lambda o: (o.rank, o.code))
    rest = sorted((o for o in scored if not o.eligible), key=lambda o: o.code)
    return ranked + rest


def _score(scheme: Scheme, candidate: Candidate) -> Outcome:
    conditions = []
    for condition in scheme.conditions:
        value = _finite(candidate.values.get(condition.indicator))
        if value is None:
            conditions.append(ConditionResult(condition, None, False, NO_DATA))
            continue
        passed = condition.holds(value)
        conditions.append(ConditionResult(condition, value, passed, "" if passed else NOT_MET))
    criteria = []
    for criterion in scheme.criteria:
        source = candidate.completions if criterion.target else candidate.values
        value = _finite(source.get(criterion.key))
        note = candidate.notes.get(criterion.key, "") if criterion.target else ""
        if value is None:
            criteria.append(CriterionResult(criterion, None, 0.0, NO_DATA, note))
        else:
            criteria.append(CriterionResult(criterion, value, criterion.points(value), "", note))
    total = round(math.fsum(c.points for c in criteria), DIGITS)
    return Outcome(
        code=candidate.code,
        name=candidate.name,
        eligible=all(c.passed for c in conditions),
        conditions=tuple(conditions),
        criteria=tuple(criteria),
        total=total,
        percent=round(100 * total / scheme.max_points, DIGITS),
        rank=None,
        shortlisted=False,
    )


def _ranked(outcome: Outcome, rank: int, shortlisted: bool) -> Outcome:
    return Outcome(**{**vars(outcome), "rank": rank, "shortlisted": shortlisted})


def _shortlisted(rule: Shortlist, rank: int, total: float) -> bool:
    if rule.top is not None and rank > rule.top:
        return False
    return rule.min_score is None or total >= round(rule.min_score, DIGITS)


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def candidates_from(
    codes: Sequence[str],
    names: Sequence[str],
    indicators: Sequence[str],
    values: Sequence[Sequence[float | None]],
    targets: Sequence[str] = (),
    completions: Sequence[Sequence[float | None]] = (),
    notes: Sequence[Mapping[str, str]] = (),
) -> list[Candidate]:
    """Candidates from the column layout a stored round keeps its inputs in."""
    return [
        Candidate(
            code=code,
            name=names[row],
            values=dict(zip(indicators, values[row], strict=True)),
            completions=dict(zip(targets, completions[row], strict=True)) if targets else {},
            notes=notes[row] if notes else {},
        )
        for row, code in enumerate(codes)
    ]
