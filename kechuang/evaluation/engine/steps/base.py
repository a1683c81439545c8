"""What every build step receives and returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

import numpy as np

from kechuang.evaluation.engine.framework import Framework
from kechuang.evaluation.engine.params import StepParams
from kechuang.evaluation.engine.table import DataTable

if TYPE_CHECKING:
    from kechuang.evaluation.engine.steps.aggregate import Aggregation
    from kechuang.evaluation.engine.steps.treat import TreatLog


@dataclass(frozen=True, eq=False)
class State:
    """The data set after a step: which table rows survive and their indicator matrix."""

    rows: np.ndarray  # positions in the table
    values: np.ndarray  # (len(rows), n_indicators)
    treat_log: TreatLog | None = None
    aggregation: Aggregation | None = None


@dataclass(frozen=True, eq=False)
class Context:
    table: DataTable
    framework: Framework

    def blocks(self, rows: np.ndarray) -> list[tuple[float | None, np.ndarray]]:
        """(Time, positions within `rows`) per year; one block (None) for a cross-section."""
        if not self.table.is_panel:
            return [(None, np.arange(len(rows)))]
        assert self.table.times is not None
        times = self.table.times[rows]
        return [(float(t), np.flatnonzero(times == t)) for t in np.unique(times)]


def per_block(
    values: np.ndarray,
    rows: np.ndarray,
    context: Context,
    function: Callable[[float | None, np.ndarray | slice, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Apply `function(time, where, block)` to each year's rows, `where` selecting them.

    A cross-section is one block, passed without copying (`where` is `slice(None)`).
    """
    blocks = context.blocks(rows)
    if len(blocks) == 1:
        time, _ = blocks[0]
        return function(time, slice(None), values)
    out = np.empty_like(values)
    for time, block in blocks:
        out[block] = function(time, block, values[block])
    return out


class Step(Protocol):
    """One entry of the spec; `apply` never modifies its input arrays."""

    name: ClassVar[str]  # the key in SPEC.yaml
    dataset: ClassVar[str]  # the name of the data set it writes (dset_<dataset>.csv)
    number: int

    @classmethod
    def parse(cls, params: StepParams, *, base_dir: Path | None) -> Step: ...

    def apply(self, state: State, context: Context) -> State: ...
