"""Screen: drop units with too little data or too many zeros (COINr's Screen)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from kechuang.evaluation.engine.params import StepParams
from kechuang.evaluation.engine.steps.base import Context, State

# COINr's unit_screen values: byNA, byzeros, byNAandzeros.
RULES = ("na", "zeros", "na_and_zeros")


def screen_mask(
    values: np.ndarray,
    *,
    min_share: float = 2 / 3,
    rule: str = "na",
    min_nonzero_share: float = 0.05,
) -> np.ndarray:
    """True for rows kept: non-NaN share ≥ min_share and/or non-zero share ≥ min_nonzero_share.

    The non-zero share is over the observed values; a row with none observed
    fails both tests.
    """
    n = values.shape[1]
    missing = np.isnan(values).sum(axis=1)
    zeros = (values == 0).sum(axis=1)
    available = 1 - missing / n if n else np.ones(len(values))
    observed = n - missing
    with np.errstate(invalid="ignore", divide="ignore"):
        nonzero = np.where(observed > 0, 1 - zeros / observed, 0.0)
    enough_data = available >= min_share
    enough_nonzero = nonzero >= min_nonzero_share
    if rule == "na":
        return enough_data
    if rule == "zeros":
        return enough_nonzero
    return enough_data & enough_nonzero


@dataclass(frozen=True)
class ScreenStep:
    name: ClassVar[str] = "screen"
    dataset: ClassVar[str] = "Screened"
    number: int
    min_share: float = 2 / 3
    by: str = "na"
    min_nonzero_share: float = 0.05
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def parse(cls, params: StepParams, *, base_dir: Path | None) -> ScreenStep:
        params.only(("min_share", "by", "min_nonzero_share", "include", "exclude"))
        include, exclude = params.codes("include"), params.codes("exclude")
        both = set(include) & set(exclude)
        if both:
            raise params.error(f"单位同时出现在 include 和 exclude 中：{'、'.join(sorted(both))}")
        return cls(
            params.number,
            min_share=params.real("min_share", 2 / 3, minimum=0, maximum=1),
            by=params.choice("by", "na", RULES),
            min_nonzero_share=params.real("min_nonzero_share", 0.05, minimum=0, maximum=1),
            include=include,
            exclude=exclude,
        )

    def apply(self, state: State, context: Context) -> State:
        keep = screen_mask(
            state.values,
            min_share=self.min_share,
            rule=self.by,
            min_nonzero_share=self.min_nonzero_share,
        )
        codes = context.table.unit_codes[state.rows]
        known = set(context.table.unit_codes)
        for key, forced, value in (
            ("include", self.include, True),
            ("exclude", self.exclude, False),
        ):
            unknown = [code for code in forced if code not in known]
            if unknown:
                raise ValueError(
                    f"第 {self.number} 步 screen：{key} 中的单位不在数据中：{'、'.join(unknown)}"
                )
            if forced:
                keep = np.where(np.isin(codes, list(forced)), value, keep)
        return replace(state, rows=state.rows[keep], values=state.values[keep])
