"""Reading one spec step's parameters, with Chinese errors naming the step and key."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any


class StepParams:
    """The parameters of spec step `number` (1-based) called `name`."""

    def __init__(self, number: int, name: str, raw: Any, *, source: str = "") -> None:
        self.number = number
        self.name = name
        self.source = source
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise self.error(f"参数应为键值对（如 {{method: mean}}），实际为 {raw!r}")
        self.raw: Mapping[str, Any] = raw

    def error(self, message: str) -> ValueError:
        prefix = f"{self.source} " if self.source else ""
        return ValueError(f"{prefix}第 {self.number} 步 {self.name}：{message}")

    def only(self, allowed: Collection[str], *, context: str = "") -> None:
        """Reject any key outside `allowed` (context: e.g. "方法 minmax ")."""
        for key in self.raw:
            if key not in allowed:
                listed = "、".join(allowed) if allowed else "无"
                raise self.error(f"{context}未知的参数 '{key}'（可用：{listed}）")

    def has(self, key: str) -> bool:
        return key in self.raw and self.raw[key] is not None

    def real(
        self,
        key: str,
        default: float | None = None,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
    ) -> float:
        value = self.raw.get(key, default)
        if value is None:
            raise self.error(f"缺少参数 '{key}'")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.error(f"参数 '{key}' 应为数字，实际为 {value!r}")
        if minimum is not None and value < minimum:
            raise self.error(f"参数 '{key}' 应不小于 {minimum}，实际为 {value!r}")
        if maximum is not None and value > maximum:
            raise self.error(f"参数 '{key}' 应不大于 {maximum}，实际为 {value!r}")
        if positive and value <= 0:
            raise self.error(f"参数 '{key}' 应为正数，实际为 {value!r}")
        return float(value)

    def integer(self, key: str, default: int | None, *, minimum: int = 0) -> int | None:
        """An integer ≥ minimum; an explicit null keeps None (e.g. winmax: no limit)."""
        if key in self.raw and self.raw[key] is None:
            return None
        value = self.raw.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(f"参数 '{key}' 应为不小于 {minimum} 的整数，实际为 {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"参数 '{key}' 应为 true 或 false，实际为 {value!r}")
        return value

    def choice(self, key: str, default: str | None, choices: Collection[str]) -> str:
        value = self.raw.get(key, default)
        if value is None:
            raise self.error(f"缺少参数 '{key}'（可用：{'、'.join(choices)}）")
        if value not in choices:
            what = "方法" if key == "method" else f"参数 '{key}' 的取值"
            raise self.error(f"未知的{what} '{value}'（可用：{'、'.join(choices)}）")
        return str(value)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if value is None:
            raise self.error(f"缺少参数 '{key}'")
        if not isinstance(value, str | int) or isinstance(value, bool) or str(value).strip() == "":
            raise self.error(f"参数 '{key}' 应为文字，实际为 {value!r}")
        return str(value).strip()

    def codes(self, key: str) -> tuple[str, ...]:
        value = self.raw.get(key, ())
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(
            isinstance(item, str | int) and not isinstance(item, bool) for item in value
        ):
            raise self.error(f"参数 '{key}' 应为代码列表，实际为 {value!r}")
        return tuple(str(item) for item in value)

    def number_or_target(self, key: str, default: float | str | None) -> float | str:
        """A number, or the word "target" (the META Target column)."""
        value = self.raw.get(key, default)
        if value == "target":
            return "target"
        if value is None:
            raise self.error(f"缺少参数 '{key}'（数字或 target）")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.error(f"参数 '{key}' 应为数字或 target，实际为 {value!r}")
        return float(value)
