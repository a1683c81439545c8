"""A plan's text: a same-length normalised copy, its lines, the web-page chrome around it.

Everything the extractor returns is a slice of the original string, so normalisation
never changes a length: full-width punctuation and digits map one character to one
(，→, （→( ０→0), and a "compact" view drops soft line breaks and spaces while keeping,
for every character, its offset in the original.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

_ONE_TO_ONE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_ONE_TO_ONE.update(dict.fromkeys((0x3000, 0x00A0, 0x2002, 0x2003, 0x2009, 0x200B, 0xFEFF), 0x20))
_ONE_TO_ONE.update({0xFF61: ord("。"), 0x2236: ord(":"), 0xFE55: ord(":"), 0x3001: ord("、")})

_SENTENCE_END = "。!?"
OPENING = "(“《[【〔‘"
CLOSING = ")”》]】〕’"

# A line that is site furniture rather than document: navigation, meta data, footers.
_CHROME = re.compile(
    r"当前的?位置|您的位置|所在位置|设为首页|加入收藏|收藏本[页站]|网站首页|欢迎(?:进入|访问|来到)"
    r"|网站地图|无障碍|责任编辑|浏览次数|访问量|点击[数量率]|阅读次数|字号[:\s]|【?打印|关闭窗口"
    r"|分享到|扫一扫|上一篇|下一篇|相关(?:文章|阅读|链接|新闻)|版权所有|Copyright|©|ICP"
    r"|备案号|网站标识码|公网安备|公安备|主办单位|承办单位|技术支持|联系电话|邮编|通讯地址|官网"
    r"|下载文档|文档下载|VIP|原创力|侵权|索引号|发文字号|发文机关|成文(?:日期|时间)"
    r"|发布(?:日期|时间|机构)|所属主题|主题分类|生成日期|信息来源|文章来源|当前页|手机打开"
    r"|^(?:来源|时间|日期|作者)\s*:|^图片$|^首页",
    re.IGNORECASE,
)
# Gambling spam that some re-posting sites inject into their headers.
_SPAM = re.compile(r"[a-z]{3,}\d+.*(?:体育|娱乐|棋牌|彩票|博彩|真人|官网)", re.IGNORECASE)
# Once the document has begun, the first of these ends it.
_END_OF_DOCUMENT = re.compile(
    r"^\s*(?:上一篇|下一篇|【?打印本页|【?关闭窗口|扫一扫在手机|收藏网页|网站地图|相关(?:文章|链接|阅读)"
    r"|版权所有|-\s*\d+[、.]\s*下载文档|下载文档前|原创力文档)"
)
_HEADING_START = re.compile(
    r"[一二三四五六七八九十]{1,3}[、.](?![一二三四五六七八九十\d])|\([一二三四五六七八九十]{1,3}\)"
    r"|\d{1,2}[、.](?!\d)|\(\d{1,2}\)|[①-⑳]|[一二三四五六七八九十]{1,2}是(?!否)"
    r"|第[一二三四五六七八九十百]+[章节条部分]"
)
_BULLET = re.compile(r"——|[-•·●■◆▪※★☆>]|[一二三四五六七八九十]{1,2}是(?!否)")
_TITLE_LINE = re.compile(r"(?:方案|要点|规划|计划|通知|意见|办法|安排|纲要|分解表|清单)$")
# The standard section names of plans (指导思想, 重点任务 …), which often stand alone on a line.
SECTION_NAMES = (
    "指导思想|总体要求|基本原则|总体目标|发展目标|主要目标|具体目标|工作目标|目标任务|重点任务|主要任务"
    "|工作重点|重点工作|保障措施|组织保障|工作要求|实施步骤|工作措施|工作步骤|组织实施|现实基础|发展基础"
    "|发展现状|基本情况|发展成就|工作回顾|取得成效|面临形势|形势分析|发展环境"
)
_SECTION_LINE = re.compile(
    rf"(?:[一二三四五六七八九十]+[、.]|\([一二三四五六七八九十]+\))?\s*(?:{SECTION_NAMES})[::]?"
)
_ROLE_LABEL_START = re.compile(r"(?:牵头|责任|配合|协办|协作|参与|主责)(?:单位|部门|科室)")


@dataclass(frozen=True)
class Compact:
    """A view without soft breaks and spaces: `s[i]` comes from `raw[pos[i]]`.

    Hard breaks (paragraphs, headings, chrome) stay as "\\n"."""

    s: str
    pos: list[int]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        return self.pos[start], self.pos[end - 1] + 1

    def index_of(self, raw_offset: int) -> int:
        """The first compact index whose raw offset is at or after `raw_offset`."""
        return bisect_right(self.pos, raw_offset - 1)


class PlanText:
    """The input string with its normalised twin, lines and chrome mask."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.norm = raw.translate(_ONE_TO_ONE)
        starts = [0] + [m.end() for m in re.finditer("\n", raw)]
        self.lines = [
            (start, (starts[i + 1] - 1) if i + 1 < len(starts) else len(raw))
            for i, start in enumerate(starts)
        ]
        self._starts = starts
        self.chrome_lines, self.body_end = self._find_chrome()
        # Lines that are table cells: their breaks are hard whatever they look like.
        self.cell_lines: set[int] = set()

    # ------------------------------------------------------------------ lines
    def line_index(self, offset: int) -> int:
        return bisect_right(self._starts, offset) - 1

    def line_text(self, index: int) -> str:
        start, end = self.lines[index]
        return self.norm[start:end]

    def is_chrome(self, offset: int) -> bool:
        return offset >= self.body_end or self.line_index(offset) in self.chrome_lines

    def _find_chrome(self) -> tuple[set[int], int]:
        chrome: set[int] = set()
        body_end = len(self.raw)
        begun = False
        for index, (start, end) in enumerate(self.lines):
            line = self.norm[start:end].strip()
            if not line:
                continue
            if begun and _END_OF_DOCUMENT.search(line):
                body_end = start
                break
            if is_chrome_line(line):
                chrome.add(index)
            elif len(line) >= 20:
                begun = True
        return chrome, body_end

    # ------------------------------------------------------------------ breaks
    def is_hard_break(self, newline: int) -> bool:
        """Whether the line break at `newline` ends a paragraph (else the source wrapped a line)."""
        index = self.line_index(newline)
        before = self.line_text(index).strip()
        after = self.line_text(index + 1).strip() if index + 1 < len(self.lines) else ""
        if not before or not after:
            return True
        if index in self.chrome_lines or index + 1 in self.chrome_lines:
            return True
        if index in self.cell_lines or index + 1 in self.cell_lines:
            return True
        if before[-1] in _SENTENCE_END + ";:)”》":
            return True
        if _HEADING_START.match(after) or _BULLET.match(after) or _ROLE_LABEL_START.match(after):
            return True
        if _HEADING_START.match(before) and len(before) < 30 and "。" not in before:
            return True  # a short heading line
        return bool(_TITLE_LINE.search(before) or _SECTION_LINE.fullmatch(before))

    @cached_property
    def compact(self) -> Compact:
        chars: list[str] = []
        pos: list[int] = []
        raw, norm = self.raw, self.norm
        for index, (start, end) in enumerate(self.lines):
            if start >= self.body_end:
                break
            if index not in self.chrome_lines:
                for offset in range(start, end):
                    ch = norm[offset]
                    if not ch.isspace():
                        chars.append(ch)
                        pos.append(offset)
            hard = index in self.chrome_lines or (end < len(raw) and self.is_hard_break(end))
            if end < len(raw) and hard and chars and chars[-1] != "\n":
                chars.append("\n")
                pos.append(end)
        return Compact("".join(chars), pos)


def is_chrome_line(line: str) -> bool:
    line = line.strip()
    if not line:
        return False
    if _SPAM.search(line):
        return True
    if _CHROME.search(line):
        # A plan sentence may name a website; furniture is short and is no sentence.
        return len(line) < 80 and not line.endswith("。")
    ascii_letters = sum(ch.isascii() and ch.isalpha() for ch in line)
    return ascii_letters >= 8 and ascii_letters > len(line) / 3


class SpanSet:
    """Half-open [start, end) spans, merged, for fast membership tests."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [start for start, _ in merged]
        self._ends = [end for _, end in merged]

    def __contains__(self, position: int) -> bool:
        index = bisect_right(self._starts, position) - 1
        return index >= 0 and position < self._ends[index]


def depth_split(text: str, separators: str) -> list[tuple[int, int]]:
    """Spans of `text` split on `separators` outside brackets and quotes."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for index, ch in enumerate(text):
        if ch in OPENING:
            depth += 1
        elif ch in CLOSING:
            depth = max(0, depth - 1)
        elif ch in separators and depth == 0:
            spans.append((start, index))
            start = index + 1
    spans.append((start, len(text)))
    return spans
