"""The build spec: an ordered list of steps, each `{name: {parameters}}`.

    steps:
      - denominate: {}
      - impute: {method: mean_group, group: EurAsia_group}
      - screen: {min_share: 0.9}
      - treat: {winmax: 5, skew: 2.0, kurtosis: 3.5}
      - normalise: {method: minmax, lower: 0, upper: 100}
      - aggregate: {method: arithmetic}

Missing parameters take COINr's defaults. Each step may appear once and
aggregate must come last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kechuang.evaluation.engine.params import StepParams
from kechuang.evaluation.engine.steps.aggregate import AggregateStep
from kechuang.evaluation.engine.steps.base import Step
from kechuang.evaluation.engine.steps.denominate import DenominateStep
from kechuang.evaluation.engine.steps.impute import ImputeStep
from kechuang.evaluation.engine.steps.normalise import NormaliseStep
from kechuang.evaluation.engine.steps.screen import ScreenStep
from kechuang.evaluation.engine.steps.treat import TreatStep

STEP_TYPES: Mapping[str, type[Step]] = {
    cls.name: cls  # type: ignore[misc]
    for cls in (DenominateStep, ImputeStep, ScreenStep, TreatStep, NormaliseStep, AggregateStep)
}


@dataclass(frozen=True)
class Spec:
    steps: tuple[Step, ...]

    def find(self, name: str) -> Step | None:
        return next((step for step in self.steps if step.name == name), None)


def parse_spec(data: Any, *, base_dir: Path | None = None, source: str = "") -> Spec:
    """Check a YAML-loaded spec and turn it into step objects (ValueError in Chinese)."""
    prefix = f"{source}：" if source else ""
    if isinstance(data, Mapping):
        unknown = [key for key in data if key != "steps"]
        if unknown:
            raise ValueError(f"{prefix}未知的顶层键 '{unknown[0]}'（只允许 steps）")
        data = data.get("steps")
    if not isinstance(data, list) or not data:
        raise ValueError(f"{prefix}steps 应为非空的步骤列表")
    steps: list[Step] = []
    where = f"{source} " if source else ""
    for number, entry in enumerate(data, start=1):
        if isinstance(entry, str):
            name, raw = entry, None
        elif isinstance(entry, Mapping) and len(entry) == 1:
            ((name, raw),) = entry.items()
        else:
            raise ValueError(f"{where}第 {number} 步：应为 {{步骤名: {{参数}}}}，实际为 {entry!r}")
        if name not in STEP_TYPES:
            raise ValueError(
                f"{where}第 {number} 步：未知的步骤 '{name}'（可用：{'、'.join(STEP_TYPES)}）"
            )
        if any(step.name == name for step in steps):
            raise ValueError(f"{where}第 {number} 步 {name}：每个步骤只能出现一次")
        if steps and steps[-1].name == AggregateStep.name:
            raise ValueError(f"{where}第 {number} 步 {name}：aggregate 之后不能再有步骤")
        params = StepParams(number, name, raw, source=source)
        steps.append(STEP_TYPES[name].parse(params, base_dir=base_dir))
    return Spec(tuple(steps))
