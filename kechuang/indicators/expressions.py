"""Arithmetic over indicator codes: ``RD_EXP / GDP * 100``, ``GOV_ST_EXP``.

Used by derived indicators and validation rules. Parsed with Python's own
``ast`` and walked against a whitelist, so a formula can never run code.
No Django here.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_FUNCTIONS: dict[str, Callable[..., float]] = {"abs": abs, "min": min, "max": max}
_ARITY: dict[str, Callable[[int], bool]] = {
    "abs": lambda n: n == 1,
    "min": lambda n: n >= 2,
    "max": lambda n: n >= 2,
}


class ExpressionError(ValueError):
    """A formula that cannot be read; the message says where."""


@dataclass(frozen=True)
class Expression:
    source: str
    tree: ast.expr
    codes: frozenset[str]

    def evaluate(self, values: Mapping[str, float | None]) -> float | None:
        """The value, or None when an input is missing or a division is by zero."""
        try:
            return _eval(self.tree, values)
        except _Missing:
            return None


class _Missing(Exception):
    pass


@lru_cache(maxsize=1024)
def parse(source: str) -> Expression:
    """Read a formula; raise ExpressionError naming what is not allowed."""
    text = (source or "").strip()
    if not text:
        raise ExpressionError("公式为空")
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as error:
        raise ExpressionError(f"公式「{text}」第 {error.offset} 个字符处有语法错误") from None
    codes: set[str] = set()
    _check(tree, text, codes)
    return Expression(text, tree, frozenset(codes))


def _check(node: ast.AST, text: str, codes: set[str]) -> None:
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check(node.left, text, codes)
        _check(node.right, text, codes)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _check(node.operand, text, codes)
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return
    elif isinstance(node, ast.Name):
        if not CODE.match(node.id):
            raise ExpressionError(f"公式「{text}」中的「{node.id}」不是指标代码（大写字母开头）")
        codes.add(node.id)
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
        and _ARITY[node.func.id](len(node.args))
    ):
        for arg in node.args:
            _check(arg, text, codes)
    else:
        fragment = ast.get_source_segment(text, node) or type(node).__name__
        raise ExpressionError(
            f"公式「{text}」中不允许「{fragment}」，只能用指标代码、数字和 + - * / ( )"
        )


def _eval(node: ast.AST, values: Mapping[str, float | None]) -> float:
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, values), _eval(node.right, values)
        if isinstance(node.op, ast.Div) and right == 0:
            raise _Missing
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        value = values.get(node.id)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise _Missing
        return float(value)
    call: ast.Call = node  # type: ignore[assignment]  # _check admitted nothing else
    return float(_FUNCTIONS[call.func.id](*(_eval(a, values) for a in call.args)))  # type: ignore[attr-defined]


COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "==": lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9),
    "!=": lambda a, b: not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9),
}


def same_value(a: float | None, b: float | None) -> bool:
    """Whether two stored cell values are the same number (or both empty).

    One definition for the upload plan and the write, so they agree on what changed.
    """
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
