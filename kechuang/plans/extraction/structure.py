"""The outline of a plan: which numbered headings are tasks, their paths and title spans.

Tokens are accepted in reading order against the numbering so far: a token at a line
start opens a heading; in the middle of a line (texts whose line breaks were lost) it
must continue its sequence (三 after 二) or open the first child right after its parent's
title. Levels follow the style ranks of official documents, so "四、工作要求1.加强…" gives
["四", "1"], and numbers that run on across sections keep their written values.

Numbered indicator lists under a 预期指标 / 主要目标 intro are not tasks. Work plans with no
numbered headings may use group labels ("抓实五项重点:一是…二是…"), which become the
first path element with the 一是 numeral as the second.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from .headings import CN, RANK, SHI, TOKEN, Token, title_span, token_at
from .numerals import to_chinese
from .tables import Row, Table, find_tables
from .text import PlanText

_STRONG = "。;:!?"
_NOT_BEFORE_NUMBER = "第〔[-—~/%.·"
_TARGET_TITLE = re.compile(r"指标|目标")
_LIST_INTRO = re.compile(r"(?:指标|目标)[^。\n]{0,12}:\s*$")
_QUANTITY_HINT = re.compile(r"\d+(?:\.\d+)?\s*(?:%|[个家项件名人支户篇处所座台套种次亿万元位])")
_GROUP_LABEL = re.compile(r"([^\s,。:;、()“”\d]{2,12}?)([:。])")
_COUNTED = re.compile(rf"[{CN}两]+(?:条|项|个|大|种|类|方面|件|化|支)")
_BARE_SHI = re.compile(r"(?<=[。;])\s*是(?![否的为])")
_RUN_IN_GAP = 40


@dataclass
class Heading:
    path: tuple[str, ...]
    start: int  # offset of the number (or of the label)
    title_start: int
    title_end: int
    style: str
    value: int
    is_task: bool = True
    parent: Heading | None = field(default=None, repr=False)


@dataclass
class Outline:
    headings: list[Heading]
    tables: list[Table] = field(default_factory=list)

    @property
    def tasks(self) -> list[Heading]:
        return [h for h in self.headings if h.is_task]

    def __post_init__(self) -> None:
        self._tasks = self.tasks
        self._starts = [h.start for h in self._tasks]
        self.boundaries = sorted(h.start for h in self.headings)

    def sections(self, title: re.Pattern[str], text: PlanText) -> list[tuple[int, int]]:
        """Offsets of the sections whose heading title matches, each with its subsections."""
        spans = []
        for index, heading in enumerate(self.headings):
            if not title.search(text.norm[heading.title_start : heading.title_end]):
                continue
            end = text.body_end
            for later in self.headings[index + 1 :]:
                if not _descends(later, heading):
                    end = later.start
                    break
            spans.append((heading.start, end))
        return spans

    def task_at(self, offset: int) -> Heading | None:
        index = bisect_right(self._starts, offset) - 1
        return self._tasks[index] if index >= 0 else None

    def next_boundary(self, offset: int) -> int | None:
        index = bisect_right(self.boundaries, offset)
        return self.boundaries[index] if index < len(self.boundaries) else None


def _descends(heading: Heading, ancestor: Heading) -> bool:
    parent = heading.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


def parse_outline(text: PlanText) -> Outline:
    tables = find_tables(text)
    for table in tables:
        text.cell_lines |= table.cell_lines
    tokens = [
        token
        for token in _accepted_tokens(text)
        if not any(table.start <= token.start < table.end for table in tables)
    ]
    headings = _nest(text, tokens)
    _mark_indicator_lists(text, headings)
    if not any(h.is_task and h.style in ("cn", "cn_paren") for h in headings):
        groups = _group_headings(text, headings)
        if groups:
            headings = sorted(headings + groups, key=lambda h: h.start)
        elif not any(h.is_task for h in headings):
            headings = sorted(headings + _line_start_shi(text), key=lambda h: h.start)
    rows = [_row_heading(text, row) for table in tables for row in table.rows]
    return Outline(sorted(headings + rows, key=lambda h: h.start), tables)


def _row_heading(text: PlanText, row: Row) -> Heading:
    start, end = row.cells["task"]
    title_start, title_end = title_span(text.norm, start, end)
    path = (row.serial,) if row.serial else (f"#{row.index}",)
    return Heading(path, row.start, title_start, title_end, "row", row.index)


# ---------------------------------------------------------------- numbered headings
def _accepted_tokens(text: PlanText) -> list[Token]:
    norm = text.norm
    last: dict[str, int] = {}
    accepted: list[Token] = []
    for match in TOKEN.finditer(norm, 0, text.body_end):
        token = token_at(match)
        if token is None or text.is_chrome(token.start):
            continue
        before = _previous_char(norm, token.start)
        if not _looks_like_a_number(norm, token, before):
            continue
        line_start = norm[text.lines[text.line_index(token.start)][0] : token.start].strip() == ""
        previous = last.get(token.style, 0)
        expected = token.value == previous + 1
        if line_start:
            # One number may have been lost (or the excerpt starts at 三).
            ok = (
                expected
                or token.value == 1
                or previous == 0
                or previous < token.value <= previous + 2
            )
        elif before in _STRONG:
            # Inline (1) and ① after a colon enumerate within a sentence; after 。 they head.
            ok = (expected or token.value == 1) and (
                token.style not in ("num_paren", "circled") or before == "。"
            )
        else:
            # No punctuation before it: only a continuation, or a first child glued to its parent.
            ok = (expected and previous > 0) or (
                token.value == 1 and token.style != "cn" and _right_after(accepted, token, norm)
            )
        if ok:
            accepted.append(token)
            last[token.style] = token.value
    return accepted


def _looks_like_a_number(norm: str, token: Token, before: str) -> bool:
    """Not the 一 of 第一, nor the 1. of 0.16 or ISO9001., nor the 1、 of 1、2季度."""
    if token.style == "cn" and before in CN + "第":
        return False
    if token.style == "num" and (
        (before.isalnum() and before.isascii()) or before in _NOT_BEFORE_NUMBER
    ):
        return False
    return not re.match(r"\s*(?:\d|[季月日年号届]|%)", norm[token.end : token.end + 2])


def _previous_char(norm: str, offset: int) -> str:
    index = offset - 1
    while index >= 0 and norm[index] in " \t\r":
        index -= 1
    return norm[index] if index >= 0 else "\n"


def _right_after(accepted: list[Token], token: Token, norm: str) -> bool:
    """A first child glued to its parent's title: "(一)完善三大平台1.争创…"."""
    if not accepted:
        return False
    parent = accepted[-1]
    gap = norm[parent.end : token.start]
    return len(gap) <= _RUN_IN_GAP and "。" not in gap and RANK[parent.style] < RANK[token.style]


def _nest(text: PlanText, tokens: list[Token]) -> list[Heading]:
    headings: list[Heading] = []
    stack: list[Heading] = []
    for index, token in enumerate(tokens):
        while stack and RANK[stack[-1].style] >= RANK[token.style]:
            stack.pop()
        parent = stack[-1] if stack else None
        limit = tokens[index + 1].start if index + 1 < len(tokens) else text.body_end
        start, end = title_span(text.norm, token.end, min(limit, _paragraph_end(text, token.end)))
        if start == end:
            # "(一)" alone on its line: the title is the next line.
            following = _paragraph_end(text, token.end) + 1
            if following < limit:
                stop = min(limit, _paragraph_end(text, following))
                start, end = title_span(text.norm, following, stop)
        heading = Heading(
            path=(*(parent.path if parent else ()), token.label),
            start=token.start,
            title_start=start,
            title_end=end,
            style=token.style,
            value=token.value,
            parent=parent,
            is_task=end > start,
        )
        headings.append(heading)
        stack.append(heading)
    return headings


def _paragraph_end(text: PlanText, offset: int) -> int:
    """The first hard line break at or after `offset` (or the end of the document)."""
    index = text.line_index(offset)
    while index < len(text.lines):
        end = text.lines[index][1]
        if end >= text.body_end:
            return text.body_end
        if text.is_hard_break(end):
            return end
        index += 1
    return text.body_end


def _mark_indicator_lists(text: PlanText, headings: list[Heading]) -> None:
    """Numbered lists of indicators under a 预期指标 / 主要目标 intro are targets, not tasks."""
    siblings: dict[tuple[int, str], list[int]] = {}
    for index, heading in enumerate(headings):
        if RANK[heading.style] >= RANK["num"]:
            siblings.setdefault((id(heading.parent), heading.style), []).append(index)
    for members in siblings.values():
        first = headings[members[0]]
        parent = first.parent
        intro_from = parent.title_end if parent else max(0, first.start - 200)
        intro = text.norm[max(intro_from, first.start - 200) : first.start]
        titled = parent is not None and bool(
            _TARGET_TITLE.search(text.norm[parent.title_start : parent.title_end])
        )
        if not (titled or _LIST_INTRO.search(intro)):
            continue
        bodies = []
        for index in members:
            end = headings[index + 1].start if index + 1 < len(headings) else text.body_end
            bodies.append(text.norm[headings[index].start : end])
        if sum(bool(_QUANTITY_HINT.search(body)) for body in bodies) * 2 >= len(bodies):
            inside = {id(headings[i]) for i in members}
            for heading in headings:
                ancestor: Heading | None = heading
                while ancestor is not None:
                    if id(ancestor) in inside:
                        heading.is_task = False
                        break
                    ancestor = ancestor.parent


# ---------------------------------------------------------------- group labels (1544 scheme)
def _paragraph_starts(text: PlanText) -> list[int]:
    starts = []
    previous_hard = True
    for index, (start, end) in enumerate(text.lines):
        if start >= text.body_end:
            break
        line = text.norm[start:end]
        if line.strip() and index not in text.chrome_lines and previous_hard:
            starts.append(start + len(line) - len(line.lstrip()))
        previous_hard = end >= len(text.raw) or text.is_hard_break(end) or not line.strip()
    return starts


def _group_headings(text: PlanText, numbered: list[Heading]) -> list[Heading]:
    norm = text.norm
    taken = {h.start for h in numbered}
    labels: list[tuple[int, re.Match[str]]] = []
    starts = [s for s in _paragraph_starts(text) if s not in taken]
    for start in starts:
        match = _GROUP_LABEL.match(norm, start)
        if not match or match.group(1).endswith("是"):
            continue
        end = _paragraph_end(text, match.end())
        body = norm[match.end() : end]
        enumerates = SHI.match(body.lstrip()) or re.search(rf"[。;][{CN}]{{1,2}}是", body)
        if enumerates or _COUNTED.search(match.group(1)):
            labels.append((start, match))
    if len(labels) < 2:
        return []
    groups: list[Heading] = []
    for index, (start, match) in enumerate(labels):
        label = match.group(1)
        group = Heading((label,), start, match.start(1), match.end(1), "group", index + 1)
        groups.append(group)
        end = labels[index + 1][0] if index + 1 < len(labels) else text.body_end
        groups.extend(_group_items(text, group, match, end))
    return groups


def _group_items(text: PlanText, group: Heading, label: re.Match[str], end: int) -> list[Heading]:
    norm = text.norm
    found: list[tuple[int, int, int | None]] = []  # (start, body start, written value)
    for match in SHI.finditer(norm, label.end(), end):
        if _previous_char(norm, match.start()) in _STRONG + "\n" or match.start() == label.end():
            token = token_at(match)
            if token is not None:
                found.append((match.start(), match.end(), token.value))
    for match in _BARE_SHI.finditer(norm, label.end(), end):
        start = match.end() - 1
        found.append((start, match.end(), None))
    found.sort()
    if not found:
        return []
    if found[0][2] == 2 and label.group(2) == ":":
        # The source lost the first 一是: the text after the label is item one.
        found.insert(0, (label.end(), label.end(), 1))
    items: list[Heading] = []
    value = 0
    for index, (start, body, written) in enumerate(found):
        value = written if written is not None else value + 1
        limit = found[index + 1][0] if index + 1 < len(found) else end
        title_start, title_end = title_span(norm, body, min(limit, _paragraph_end(text, body)))
        items.append(
            Heading(
                (*group.path, to_chinese(value)),
                start,
                title_start,
                title_end,
                "shi",
                value,
                parent=group,
            )
        )
    return items


def _line_start_shi(text: PlanText) -> list[Heading]:
    """一是/二是 paragraphs of a text with no other numbering."""
    items = []
    for start in _paragraph_starts(text):
        match = SHI.match(text.norm, start)
        if match:
            token = token_at(match)
            if token is None:
                continue
            limit = _paragraph_end(text, match.end())
            title_start, title_end = title_span(text.norm, match.end(), limit)
            items.append(Heading((token.label,), start, title_start, title_end, "shi", token.value))
    return items if len(items) >= 2 else []
