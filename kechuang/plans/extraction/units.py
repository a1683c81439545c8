"""Lead, responsible and cooperating units of each task.

Only explicit role labels are read (牵头单位: / 责任单位: / 配合单位:, in running text, in
parentheses or on their own line), plus one standalone clause "X牵头" (and "Y配合" beside
it). Persons (责任领导, 责任人) are not units. Lists split on 、 , ; and spaces outside
brackets; a trailing 等 goes; "X党委、政府" stays one unit, since splitting would leave a
bare 政府.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .structure import Outline
from .text import PlanText, depth_split

ROLES = ("lead_units", "responsible_units", "cooperating_units")

_LABEL = re.compile(
    r"(?P<lead>牵头(?:单位|部门|科室|处室)(?:\((?:单位|部门|科室)\))?)"
    r"|(?P<responsible>(?:责任|主责)(?:单位|部门|科室|处室)(?:\((?:单位|部门)\))?)"
    r"|(?P<cooperating>(?:配合|协办|协作|参与|协同)(?:单位|部门|科室|处室)(?:\((?:单位|部门)\))?)"
)
_ROLE_OF = {
    "lead": "lead_units",
    "responsible": "responsible_units",
    "cooperating": "cooperating_units",
}
_SEPARATORS = "、,;， "
_ROLE_NOTE = re.compile(r"\((?:牵头|负责|主责|配合|协办)\)\s*$")
_TRAILING_ETC = re.compile(r"等(?:有关|相关)?(?:单位|部门)?$")
_ORG_END = (
    "局|委|办|厅|院|会|部|中心|政府|党委|县委|市委|公司|站|所|队|科|处|室|组|馆|社|行|团|校"
    "|园区|管委会|集团|街道|乡镇|镇|乡|协会|学会|银行|机构"
)
_ORG = rf"[^\s,;。:、()“”]{{1,24}}?(?:{_ORG_END})"
_STANDALONE_LEAD = re.compile(
    rf"(?:^|(?<=[,;。:(\n]))\s*由?(?P<units>{_ORG}(?:[、和及]{_ORG})*)\s*(?P<verb>牵头(?:负责)?)"
    rf"(?=\s*[,;。)\n])"
)
_STANDALONE_OTHER = re.compile(
    rf"(?:^|(?<=[,;。:(\n]))\s*(?P<units>{_ORG}(?:[、和及]{_ORG})*)\s*(?P<verb>配合|参与|协助|负责)"
    rf"(?=\s*[,;。)\n])"
)


@dataclass
class Assignment:
    roles: dict[str, list[str]] = field(default_factory=lambda: {role: [] for role in ROLES})

    def add(self, role: str, unit: str) -> None:
        if unit and unit not in self.roles[role]:
            self.roles[role].append(unit)


def assign_units(text: PlanText, outline: Outline) -> dict[int, Assignment]:
    """Units per task, keyed by the id() of the task's Heading."""
    out: dict[int, Assignment] = {}
    norm = text.norm
    labels = [m for m in _LABEL.finditer(norm, 0, text.body_end) if _is_label(norm, m)]
    read: list[tuple[int, int]] = []
    in_table = [(table.start, table.end) for table in outline.tables]
    for index, match in enumerate(labels):
        if text.is_chrome(match.start()) or any(a <= match.start() < b for a, b in in_table):
            continue
        task = outline.task_at(match.start())
        if task is None:
            continue
        role = _ROLE_OF[match.lastgroup or "lead"]
        start = match.end()
        while start < len(norm) and norm[start] in ": \t":
            start += 1
        if start < len(norm) and norm[start] in "\r\n":
            start = _next_line_start(norm, start)
        next_label = labels[index + 1].start() if index + 1 < len(labels) else len(norm)
        end = _list_end(text, outline, start, next_label, _in_parentheses(norm, match.start()))
        read.append((match.start(), end))
        for unit in split_units(text, start, end):
            out.setdefault(id(task), Assignment()).add(role, unit)
    for table in outline.tables:
        for row in table.rows:
            task = outline.task_at(row.start)
            for role, (start, end) in row.units.items():
                for unit in split_units(text, start, end):
                    out.setdefault(id(task), Assignment()).add(role, unit)
    for pattern, roles in (
        (_STANDALONE_LEAD, {"牵头": "lead_units", "牵头负责": "lead_units"}),
        (_STANDALONE_OTHER, {"配合": "cooperating_units", "参与": "cooperating_units"}),
    ):
        for match in pattern.finditer(norm, 0, text.body_end):
            role = roles.get(match.group("verb"))
            task = outline.task_at(match.start())
            if role is None or task is None or text.is_chrome(match.start()):
                continue
            if any(a <= match.start() < b for a, b in read):
                continue
            if _is_heading_text(outline, match.start()):
                continue
            start, end = match.span("units")
            for unit in split_units(text, start, end, separators="、和及"):
                out.setdefault(id(task), Assignment()).add(role, unit)
    return out


def _is_label(norm: str, match: re.Match[str]) -> bool:
    """A role label is followed by a colon or stands on its own line ("各责任单位、…" is not)."""
    after = norm[match.end() : match.end() + 3]
    if re.match(r"\s*:", after):
        return True
    line_start = norm.rfind("\n", 0, match.start()) + 1
    line_end = norm.find("\n", match.end())
    line_end = len(norm) if line_end < 0 else line_end
    return (
        norm[line_start : match.start()].strip() == ""
        and norm[match.end() : line_end].strip() == ""
    )


def _next_line_start(norm: str, offset: int) -> int:
    while offset < len(norm) and norm[offset] in "\r\n \t":
        offset += 1
    return offset


def _in_parentheses(norm: str, offset: int) -> bool:
    line_start = norm.rfind("\n", 0, offset) + 1
    before = norm[line_start:offset]
    return before.count("(") > before.count(")")


def _list_end(text: PlanText, outline: Outline, start: int, next_label: int, closed: bool) -> int:
    norm = text.norm
    end = min(next_label, text.body_end)
    boundary = outline.next_boundary(start)
    if boundary is not None:
        end = min(end, boundary)
    depth = 0
    for offset in range(start, end):
        ch = norm[offset]
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0 and closed:
                return offset
            depth = max(0, depth - 1)
        elif ch == "。" or (ch == "\n" and text.is_hard_break(offset)):
            return offset
    return end


def split_units(text: PlanText, start: int, end: int, separators: str = _SEPARATORS) -> list[str]:
    norm = text.norm
    pieces: list[tuple[int, int]] = []
    for a, b in depth_split(norm[start:end], separators + "\r\n\t"):
        a, b = start + a, start + b
        while a < b and norm[a] in " \t\r\n":
            a += 1
        while b > a and norm[b - 1] in " \t\r\n。.;:":
            b -= 1
        note = _ROLE_NOTE.search(norm, a, b)
        if note:
            b = note.start()  # "市科技局(牵头)": the role is not part of the name
        trailing = _TRAILING_ETC.search(norm, a, b)
        if trailing and trailing.start() > a:
            b = trailing.start()
        if b > a:
            pieces.append((a, b))
    merged: list[tuple[int, int]] = []
    for a, b in pieces:
        word = norm[a:b]
        if (
            merged
            and word in ("政府", "人民政府")
            and norm[merged[-1][0] : merged[-1][1]].endswith("党委")
        ):
            merged[-1] = (merged[-1][0], b)  # "X党委、政府" is one unit
        else:
            merged.append((a, b))
    units = []
    for a, b in merged:
        unit = text.raw[a:b]
        if len(unit) >= 2 and not re.fullmatch(r"[\d\s\W]+", unit):
            units.append(unit)
    return units


def _is_heading_text(outline: Outline, offset: int) -> bool:
    task = outline.task_at(offset)
    return task is not None and task.title_start <= offset < task.title_end
