"""Task tables flattened to text: a header of column names, then the rows' cells.

Copying a web or Word table to text leaves either one line per row with cells separated by
tabs, runs of spaces or "|", or one line per cell. A header is a run of column names that
includes a task column and a unit or person column; rows then follow in the header's
width. Rows without a 序号 column get synthetic paths (#1, #2 …); a unit column gives the
row's units, person columns (责任人, 责任领导) are not units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .text import PlanText

_COLUMNS = {
    "task": (
        r"(?:工作|重点|主要|具体|目标)?任务(?:内容|名称|事项)?|工作(?:内容|事项|任务)|重点工作|主要工作"
    ),
    "lead_units": r"牵头(?:单位|部门|科室)",
    "responsible_units": r"(?:责任|主责|承办)(?:单位|部门|科室)",
    "cooperating_units": r"(?:配合|协办|协作|参与)(?:单位|部门)",
    "person": r"责任(?:人|领导)|分管(?:领导|负责人)|联系人|县级领导",
    "number": r"序号|编号",
    "other": (
        r"完成(?:时限|时间)|时间(?:节点|安排|要求)|进度(?:安排|要求)|季度目标|目标要求|工作目标"
        r"|考核指标|备注|工作措施|推进措施|[一二三四]季度|年度目标|完成标准"
    ),
}
_COLUMN = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _COLUMNS.items()))
_CELL_SPLIT = re.compile(r"\t+|\s{2,}|\s*\|\s*")
_ORG_END = re.compile(
    r"(?:局|委|办|厅|院|会|部|中心|政府|党委|公司|站|所|队|科|处|室|组|馆|镇|乡|街道)$"
)


@dataclass
class Row:
    index: int
    serial: str | None
    cells: dict[str, tuple[int, int]]  # column kind → (start, end) offset span of the cell
    start: int
    units: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class Table:
    rows: list[Row]
    start: int
    end: int
    cell_lines: set[int]  # line indices that are cells, so their breaks are hard


def find_tables(text: PlanText) -> list[Table]:
    tables = []
    index = 0
    lines = text.lines
    while index < len(lines):
        table = _cell_per_line(text, index) or _row_per_line(text, index)
        if table is None:
            index += 1
            continue
        tables.append(table)
        index = text.line_index(table.end) + 1
    return tables


def _kind(cell: str) -> str | None:
    match = _COLUMN.fullmatch(cell.strip())
    return match.lastgroup if match else None


def _is_header(kinds: list[str | None]) -> bool:
    return (
        len(kinds) >= 3
        and None not in kinds
        and "task" in kinds
        and any(
            kind in kinds
            for kind in ("lead_units", "responsible_units", "cooperating_units", "person")
        )
    )


def _content_lines(text: PlanText, start: int) -> list[int]:
    out = []
    for index in range(start, len(text.lines)):
        line_start, line_end = text.lines[index]
        if line_start >= text.body_end:
            break
        if index in text.chrome_lines or not text.norm[line_start:line_end].strip():
            continue
        out.append(index)
    return out


def _cell_per_line(text: PlanText, first: int) -> Table | None:
    if _kind(text.line_text(first)) is None:
        return None
    content = _content_lines(text, first)
    if not content or content[0] != first:
        return None
    kinds: list[str | None] = []
    for index in content:
        kind = _kind(text.line_text(index))
        if kind is None:
            break
        kinds.append(kind)
    if not _is_header(kinds):
        return None
    width = len(kinds)
    data = content[width:]
    rows: list[Row] = []
    for number, offset in enumerate(range(0, len(data) - width + 1, width)):
        chunk = data[offset : offset + width]
        if _kind(text.line_text(chunk[0])) is not None:
            break  # a second header
        cells = {}
        for kind, index in zip(kinds, chunk, strict=True):
            start, end = text.lines[index]
            cells.setdefault(kind, _strip(text, start, end))
        rows.append(_row(text, number, cells, kinds))
    if not _plausible(text, rows):
        return None
    used = data[: len(rows) * width]
    return Table(
        rows, text.lines[first][0], text.lines[used[-1]][1], set(content[: width + len(used)])
    )


def _row_per_line(text: PlanText, first: int) -> Table | None:
    line = text.line_text(first)
    if not _COLUMN.search(line):
        return None
    cells = [cell for cell in _CELL_SPLIT.split(line.strip()) if cell]
    kinds = [_kind(cell) for cell in cells]
    if not _is_header(kinds):
        return None
    rows: list[Row] = []
    last = first
    for index in _content_lines(text, first + 1):
        start, end = text.lines[index]
        spans = _cell_spans(text, start, end)
        if len(spans) < len(kinds) - 1 or len(spans) > len(kinds):
            break
        rows.append(_row(text, len(rows), dict(zip(kinds, spans, strict=False)), kinds))
        last = index
    if not _plausible(text, rows):
        return None
    return Table(rows, text.lines[first][0], text.lines[last][1], set(range(first, last + 1)))


def _cell_spans(text: PlanText, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    position = start
    for match in _CELL_SPLIT.finditer(text.norm, start, end):
        if match.start() > position:
            spans.append(_strip(text, position, match.start()))
        position = match.end()
    if position < end:
        spans.append(_strip(text, position, end))
    return [span for span in spans if span[1] > span[0]]


def _strip(text: PlanText, start: int, end: int) -> tuple[int, int]:
    while start < end and text.norm[start].isspace():
        start += 1
    while end > start and text.norm[end - 1].isspace():
        end -= 1
    return start, end


def _row(text: PlanText, number: int, cells: dict, kinds: list[str | None]) -> Row:
    serial = None
    if "number" in cells:
        value = text.norm[slice(*cells["number"])].strip().rstrip(".、")
        serial = value if value.isdigit() else None
    start = min(span[0] for span in cells.values())
    units = {
        kind: cells[kind]
        for kind in ("lead_units", "responsible_units", "cooperating_units")
        if kind in cells
    }
    return Row(number + 1, serial, cells, start, units)


def _plausible(text: PlanText, rows: list[Row]) -> bool:
    """Rows whose unit cells name organisations (or are empty): a real table, not prose."""
    if not rows or any("task" not in row.cells for row in rows):
        return False
    checked = good = 0
    for row in rows:
        for start, end in row.units.values():
            names = [n for n in re.split(r"[、,;\s]+", text.norm[start:end]) if n]
            checked += 1
            good += all(_ORG_END.search(n.removesuffix("等")) for n in names)
    return checked == 0 or good * 10 >= checked * 6
