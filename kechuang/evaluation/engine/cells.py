"""Reading one CSV cell: missing markers, numbers, and where an error happened."""

from __future__ import annotations

import math

# R writes NA; spreadsheets leave the cell empty.
MISSING = frozenset({"", "NA"})


def where(source: str, line: int | None = None, column: str | None = None) -> str:
    """ "META.csv 第 5 行 Parent 列" — the prefix of every message about one cell."""
    text = source
    if line is not None:
        text += f" 第 {line} 行"
    if column is not None:
        text += f" {column} 列"
    return text


def is_missing(text: str | None) -> bool:
    return text is None or text.strip() in MISSING


def parse_number(text: str | None, source: str, line: int, column: str) -> float:
    """A float, NaN for a missing cell; ValueError naming the cell otherwise."""
    if is_missing(text):
        return math.nan
    assert text is not None
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError(f"{where(source, line, column)}：无法解析为数字：'{text}'") from None
