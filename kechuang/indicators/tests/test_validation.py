"""Validation checks as pure functions: rules, bounds, completeness, year-on-year outliers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kechuang.indicators.validation import (
    BoundSpec,
    RuleSpec,
    check_bounds,
    check_completeness,
    check_outliers,
    check_rules,
    modified_z_scores,
)

RULE = RuleSpec(
    "ST_LE_BUDGET", "财政科技支出不超过一般公共预算支出", "GOV_ST_EXP", "<=", "GOV_EXP", "error"
)


def test_a_broken_rule_names_both_sides_and_the_indicators() -> None:
    [finding] = check_rules([RULE], {"GOV_ST_EXP": 5.0, "GOV_EXP": 3.0})
    assert finding.severity == "error"
    assert finding.indicators == ("GOV_EXP", "GOV_ST_EXP")
    assert "5" in finding.message
    assert "3" in finding.message


def test_a_rule_with_a_missing_side_is_not_judged() -> None:
    assert check_rules([RULE], {"GOV_ST_EXP": 5.0}) == []
    assert check_rules([RULE], {"GOV_ST_EXP": 1.0, "GOV_EXP": 3.0}) == []


def test_bounds_and_integers() -> None:
    bounds = [BoundSpec("HTE_NEW", "新增高新技术企业", 0, None, True)]
    assert check_bounds(bounds, {"HTE_NEW": 2.0}) == []
    assert [f.code for f in check_bounds(bounds, {"HTE_NEW": -1.0})] == ["HTE_NEW"]
    assert "整数" in check_bounds(bounds, {"HTE_NEW": 1.5})[0].message


def test_completeness_lists_every_missing_required_indicator() -> None:
    found = check_completeness({"RD_EXP": "研发经费支出", "GDP": "地区生产总值"}, {"GDP": 1.0})
    assert [f.code for f in found] == ["RD_EXP"]


def test_an_unusual_jump_is_a_warning_and_a_usual_one_is_not() -> None:
    history = {"RD_EXP": [0.10, 0.11, 0.12, 0.13, 0.14]}
    names = {"RD_EXP": "研发经费支出"}
    assert check_outliers(history, names, {"RD_EXP": 0.15}) == []
    [finding] = check_outliers(history, names, {"RD_EXP": 3.0})
    assert finding.severity == "warning"
    # Too little history to judge: no warning however large the jump.
    assert check_outliers({"RD_EXP": [0.1, 0.2]}, names, {"RD_EXP": 30.0}) == []


# Integers keep the affine rescaling exact, so the property is about the method, not rounding.
@given(st.lists(st.integers(min_value=-(10**6), max_value=10**6), min_size=1, max_size=40))
def test_modified_z_scores_are_centred_and_scale_free(xs: list[int]) -> None:
    z = modified_z_scores(xs)
    assert z.shape == (len(xs),)
    assert np.all(np.isfinite(z))
    scaled = modified_z_scores([3.0 * x + 7.0 for x in xs])
    assert np.allclose(z, scaled, atol=1e-6) or np.allclose(z, 0)


@pytest.mark.parametrize(
    ("op", "a", "b", "broken"),
    [("<", 1, 1, True), (">=", 1, 1, False), ("==", 1, 1.0000000001, False), ("!=", 2, 2, True)],
)
def test_operators(op: str, a: float, b: float, broken: bool) -> None:
    rule = RuleSpec("R", "R", "A", op, "B", "warning")
    assert bool(check_rules([rule], {"A": a, "B": b})) is broken


def test_rule_messages_read_in_indicator_names_when_given() -> None:
    names = {"GOV_ST_EXP": "本级财政科技支出", "GOV_EXP": "一般公共预算支出"}
    [finding] = check_rules([RULE], {"GOV_ST_EXP": 5.0, "GOV_EXP": 3.0}, names)
    assert "本级财政科技支出（5）应 ≤ 一般公共预算支出（3）" in finding.message
    assert "GOV_EXP" not in finding.message
