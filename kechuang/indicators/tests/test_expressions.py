"""The formula language: only codes, numbers and + - * / ( ), never code execution."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kechuang.indicators.expressions import ExpressionError, parse

CODES = ("RD_EXP", "GDP", "GOV_EXP", "A1")


def test_a_derived_indicator_formula_reads_and_evaluates() -> None:
    expression = parse("RD_EXP / GDP * 100")
    assert expression.codes == {"RD_EXP", "GDP"}
    assert expression.evaluate({"RD_EXP": 0.16, "GDP": 80.0}) == pytest.approx(0.2)


def test_missing_inputs_and_division_by_zero_give_no_value() -> None:
    expression = parse("RD_EXP / GDP")
    assert expression.evaluate({"RD_EXP": 1.0}) is None
    assert expression.evaluate({"RD_EXP": 1.0, "GDP": 0.0}) is None
    assert expression.evaluate({"RD_EXP": 1.0, "GDP": float("nan")}) is None


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('x')",
        "RD_EXP.real",
        "open('f')",
        "lower_case + 1",
        "RD_EXP ** 2",
        "[1, 2]",
        "RD_EXP if GDP else 0",
        "lambda: 1",
        "'text'",
        "",
        "RD_EXP +",
        "max(RD_EXP, key=GDP)",
        "RD_EXP[0]",
        "max(RD_EXP)",
        "abs(RD_EXP, GDP)",
    ],
)
def test_anything_but_arithmetic_over_codes_is_refused(source: str) -> None:
    with pytest.raises(ExpressionError):
        parse(source)


def test_the_error_names_the_formula() -> None:
    with pytest.raises(ExpressionError, match="RD_EXP \\*\\* 2"):
        parse("RD_EXP ** 2")


# Random expression trees over the allowed grammar; Python's own arithmetic is the oracle.
leaves = st.one_of(
    st.sampled_from(CODES),
    st.integers(min_value=0, max_value=1000).map(str),
    st.floats(min_value=0.001, max_value=1e6, allow_nan=False).map(repr),
)
expressions = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from("+-*/"), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda e: f"-{e}"),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: f"max({', '.join(xs)})"),
    ),
    max_leaves=12,
)
inputs = st.fixed_dictionaries(
    {c: st.floats(min_value=-1e3, max_value=1e3, allow_nan=False) for c in CODES}
)


@given(source=expressions, values=inputs)
def test_evaluation_matches_python_arithmetic(source: str, values: dict[str, float]) -> None:
    expression = parse(source)
    assert expression.codes <= set(CODES)
    try:
        expected = eval(
            source, {"__builtins__": {}, "max": max}, dict(values)
        )  # the oracle: same grammar, Python semantics
    except ZeroDivisionError:
        expected = None
    result = expression.evaluate(values)
    if expected is None:
        assert result is None
    else:
        assert result is not None
        assert math.isclose(result, expected, rel_tol=1e-9, abs_tol=1e-9) or (
            math.isinf(expected) and math.isinf(result)
        )
