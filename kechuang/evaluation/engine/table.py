"""The data in memory: one row per unit (or unit-year), NaN = missing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np


@dataclass(frozen=True, eq=False)
class DataTable:
    """Unit codes and names, group labels, optional Time, indicator and denominator matrices.

    `values` has one column per indicator in META order; `denominator_values`
    one per denominator code. Group labels are strings, None where missing.
    """

    unit_codes: np.ndarray
    indicators: tuple[str, ...]
    values: np.ndarray
    unit_names: np.ndarray | None = None
    times: np.ndarray | None = None
    groups: Mapping[str, np.ndarray] = field(default_factory=dict)
    denominators: tuple[str, ...] = ()
    denominator_values: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.unit_codes)
        object.__setattr__(self, "unit_codes", np.asarray(self.unit_codes, dtype=object))
        object.__setattr__(self, "values", np.asarray(self.values, dtype=float))
        if self.values.shape != (n, len(self.indicators)):
            raise ValueError(
                f"数据矩阵的形状应为 {(n, len(self.indicators))}，实际为 {self.values.shape}"
            )
        names = self.unit_codes if self.unit_names is None else self.unit_names
        object.__setattr__(self, "unit_names", np.asarray(names, dtype=object))
        if self.times is not None:
            object.__setattr__(self, "times", np.asarray(self.times, dtype=float))
        denominators = self.denominator_values
        if denominators is None:
            denominators = np.empty((n, len(self.denominators)))
        object.__setattr__(self, "denominator_values", np.asarray(denominators, dtype=float))
        groups = {name: np.asarray(labels, dtype=object) for name, labels in self.groups.items()}
        for name, labels in groups.items():
            if len(labels) != n:
                raise ValueError(f"分组列 {name} 的长度应为 {n}")
        object.__setattr__(self, "groups", groups)

    @property
    def n_rows(self) -> int:
        return len(self.unit_codes)

    @cached_property
    def is_panel(self) -> bool:
        """More than one distinct Time value (a single value is an ordinary cross-section)."""
        return self.times is not None and len(np.unique(self.times)) > 1

    def coinr_order(self) -> np.ndarray:
        """Row order of COINr's new_coin: by uCode, or by Time then uCode for a panel."""
        codes = [str(code) for code in self.unit_codes]
        if self.is_panel:
            assert self.times is not None
            return np.array(
                sorted(range(len(codes)), key=lambda i: (self.times[i], codes[i])), dtype=np.intp
            )
        return np.array(sorted(range(len(codes)), key=codes.__getitem__), dtype=np.intp)

    def take(self, rows: np.ndarray) -> DataTable:
        """The table restricted to (and reordered as) `rows`."""
        assert self.unit_names is not None
        assert self.denominator_values is not None
        return DataTable(
            unit_codes=self.unit_codes[rows],
            indicators=self.indicators,
            values=self.values[rows],
            unit_names=self.unit_names[rows],
            times=None if self.times is None else self.times[rows],
            groups={name: labels[rows] for name, labels in self.groups.items()},
            denominators=self.denominators,
            denominator_values=self.denominator_values[rows],
        )
