"""Denominate: divide indicators by their META denominator (COINr's Denominate)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from kechuang.evaluation.engine.framework import Framework
from kechuang.evaluation.engine.params import StepParams
from kechuang.evaluation.engine.steps.base import Context, State


def denominate(
    values: np.ndarray,
    denominator_values: np.ndarray,
    denominator_columns: np.ndarray,
    scale_factors: np.ndarray,
) -> np.ndarray:
    """x / (denominator / scale factor) for columns with a denominator (column index ≥ 0).

    Division by zero gives ±inf or NaN, as R's `/` does; missing values propagate.
    """
    out = values.copy()
    columns = np.flatnonzero(denominator_columns >= 0)
    if len(columns):
        divisors = denominator_values[:, denominator_columns[columns]] / scale_factors[columns]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, columns] = values[:, columns] / divisors
    return out


def denominator_columns(framework: Framework, denominators: tuple[str, ...]) -> np.ndarray:
    """For each indicator, its denominator's column in the table (-1: none)."""
    position = {code: i for i, code in enumerate(denominators)}
    columns = []
    for code, denominator in zip(framework.indicators, framework.denominator_of, strict=True):
        if denominator is None:
            columns.append(-1)
        elif denominator not in position:
            raise ValueError(f"指标 '{code}' 的分母 '{denominator}' 不在数据中")
        else:
            columns.append(position[denominator])
    return np.array(columns, dtype=np.intp)


@dataclass(frozen=True)
class DenominateStep:
    name: ClassVar[str] = "denominate"
    dataset: ClassVar[str] = "Denominated"
    number: int

    @classmethod
    def parse(cls, params: StepParams, *, base_dir: Path | None) -> DenominateStep:
        params.only(())
        return cls(params.number)

    def apply(self, state: State, context: Context) -> State:
        table = context.table
        assert table.denominator_values is not None
        columns = denominator_columns(context.framework, table.denominators)
        values = denominate(
            state.values,
            table.denominator_values[state.rows],
            columns,
            context.framework.scale_factors,
        )
        return replace(state, values=values)
