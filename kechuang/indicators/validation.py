"""Checks on one unit's values for one year (no Django): rules, bounds, outliers, completeness.

Each check returns ``Finding`` rows; the caller decides what blocks a
submission (errors) and what needs an explanation (warnings).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from kechuang.indicators.expressions import COMPARE, parse

CODE_TOKEN = re.compile(r"\b[A-Z][A-Z0-9_]*\b")

# Iglewicz & Hoaglin: |modified z| > 3.5 marks a likely outlier.
OUTLIER_Z = 3.5


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning"
    code: str  # the indicator the finding is about, or the rule code
    message: str
    indicators: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSpec:
    code: str
    name: str
    left: str
    operator: str
    right: str
    importance: str


@dataclass(frozen=True)
class BoundSpec:
    code: str
    name: str
    min_value: float | None
    max_value: float | None
    integer: bool


SYMBOLS = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "=", "!=": "≠"}


def check_rules(
    rules: Iterable[RuleSpec],
    values: Mapping[str, float | None],
    names: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Every rule whose both sides can be computed and whose comparison fails.

    ``names`` (code → name) makes the message read in words, not codes.
    """
    findings = []
    for rule in rules:
        left, right = parse(rule.left), parse(rule.right)
        a, b = left.evaluate(values), right.evaluate(values)
        if a is None or b is None:
            continue
        if not COMPARE[rule.operator](a, b):
            lhs, rhs = _words(rule.left, names), _words(rule.right, names)
            message = f"{rule.name}：{lhs}（{a:g}）应 {SYMBOLS[rule.operator]} {rhs}（{b:g}）"
            findings.append(
                Finding(
                    rule.importance, rule.code, message, tuple(sorted(left.codes | right.codes))
                )
            )
    return findings


def _words(expression: str, names: Mapping[str, str] | None) -> str:
    if not names:
        return expression
    return CODE_TOKEN.sub(lambda m: names.get(m.group(0), m.group(0)), expression)


def check_bounds(bounds: Iterable[BoundSpec], values: Mapping[str, float | None]) -> list[Finding]:
    findings = []
    for bound in bounds:
        value = values.get(bound.code)
        if value is None:
            continue
        if bound.integer and float(value) != int(value):
            findings.append(
                Finding(
                    "error", bound.code, f"{bound.name} 应为整数，填的是 {value:g}", (bound.code,)
                )
            )
        if bound.min_value is not None and value < bound.min_value:
            findings.append(
                Finding(
                    "error",
                    bound.code,
                    f"{bound.name} 不应小于 {bound.min_value:g}，填的是 {value:g}",
                    (bound.code,),
                )
            )
        if bound.max_value is not None and value > bound.max_value:
            findings.append(
                Finding(
                    "error",
                    bound.code,
                    f"{bound.name} 不应大于 {bound.max_value:g}，填的是 {value:g}",
                    (bound.code,),
                )
            )
    return findings


def check_completeness(
    required: Mapping[str, str], values: Mapping[str, float | None]
) -> list[Finding]:
    """``required`` maps code → name of every indicator that must be filled."""
    return [
        Finding("error", code, f"{name} 未填写", (code,))
        for code, name in required.items()
        if values.get(code) is None
    ]


def modified_z_scores(series: Sequence[float]) -> np.ndarray:
    """0.6745 (x − median) / MAD; zeros where the MAD is zero (no spread to judge by)."""
    x = np.asarray(series, dtype=float)
    median = np.median(x)
    mad = np.median(np.abs(x - median))
    if mad == 0:
        return np.zeros_like(x)
    return 0.6745 * (x - median) / mad


def check_outliers(
    history: Mapping[str, Sequence[float]],
    names: Mapping[str, str],
    values: Mapping[str, float | None],
    *,
    min_history: int = 4,
) -> list[Finding]:
    """Warn where this year's change is far outside the unit's usual year-on-year changes.

    ``history`` maps code → the unit's earlier values, oldest first (at least
    ``min_history`` years are needed to judge).
    """
    findings = []
    for code, past in history.items():
        value = values.get(code)
        if value is None or len(past) < min_history:
            continue
        series = np.asarray([*past, value], dtype=float)
        changes = np.diff(series)
        z = modified_z_scores(changes)[-1]
        if abs(z) > OUTLIER_Z:
            findings.append(
                Finding(
                    "warning",
                    code,
                    f"{names.get(code, code)} 较上年变化 {changes[-1]:+g}，"
                    f"明显偏离往年（修正 z 值 {z:.1f}），请核实并说明",
                    (code,),
                )
            )
    return findings
