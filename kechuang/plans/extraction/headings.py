"""Numbering tokens of official documents (一、 (一) 1. (1) ① 一是) and heading titles.

A heading's title runs from its number to the first 。 (or : ; ! ?) or line end. When the
source lost the line break after a heading ("一、指导思想全面贯彻…"), the title is cut
where the body visibly starts: a phrase that opens body sentences (全面贯彻, 围绕, 以…为).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .numerals import parse_chinese
from .text import SECTION_NAMES

CN = "一二三四五六七八九十"

# Ranks of the styles in the usual order of 《党政机关公文格式》: 一、 > (一) > 1. > (1) > ①.
RANK = {"cn": 0, "cn_paren": 1, "num": 2, "num_paren": 3, "circled": 4}

TOKEN = re.compile(
    rf"(?P<cn>[{CN}]{{1,3}})[、.](?![{CN}\d])"
    rf"|\((?P<cn_paren>[{CN}]{{1,3}})\)"
    r"|(?P<num>\d{1,2})[、.](?![\d%])"
    r"|\((?P<num_paren>\d{1,2})\)"
    r"|(?P<circled>[①-⑳])"
)
SHI = re.compile(rf"(?P<shi>[{CN}]{{1,2}})是(?![否的])")

# Phrases that open a body sentence, so a heading glued to its body ends before them.
_BODY_OPENING = re.compile(
    r"全面贯彻|全面落实|认真贯彻|认真落实|深入贯彻|深入实施|紧紧围绕|围绕|按照|根据|依据|坚持以"
    r"|大力实施|大力推进|大力发展|为深入|为全面|为加快|为进一步|为贯彻|为切实|各部门|各单位|各级|各地"
    r"|各有关|以(?![上下及来内外便免后前至期])[^,。;:]{1,20}?为(?:契机|目标|主线|核心|重点|抓手|引领"
    r"|导向|载体|依托|支撑|动力|基础|突破口|出发点|落脚点|统领|指导|主体)"
)
_TITLE_END = "。;:!?"
_SECTION_NAME = re.compile(rf"\s*(?:{SECTION_NAMES})(?![及和与、的(])")
# A parenthesis at the end of a heading that carries roles or a cross-reference, not title.
_TRAILING_NOTE = re.compile(r"\((?:[^()]*(?:牵头|责任|配合|负责)[^()]*|[^()]*第\d+项)\)\s*$")


@dataclass(frozen=True)
class Token:
    style: str
    value: int
    label: str  # the path element: 一, (一), 1, (1), ①
    start: int
    end: int  # first offset after the number


def token_at(match: re.Match[str]) -> Token | None:
    style = match.lastgroup
    if style is None:
        return None
    text = match.group(style)
    if style in ("cn", "cn_paren", "shi"):
        value = parse_chinese(text)
        label = f"({text})" if style == "cn_paren" else text
    elif style == "circled":
        value = ord(text) - ord("①") + 1
        label = text
    else:
        value = int(text)
        label = f"({value})" if style == "num_paren" else str(value)
    if value is None or value <= 0:
        return None
    return Token(style, value, label, match.start(), match.end())


def title_span(norm: str, start: int, limit: int) -> tuple[int, int]:
    """The [start, end) of a heading title in `norm`, given where its text must stop."""
    segment = norm[start:limit]
    end = len(segment)
    depth = 0
    for index, ch in enumerate(segment):
        if ch in "(“《":
            depth += 1
        elif ch in ")”》":
            depth = max(0, depth - 1)
        elif ch in _TITLE_END and (depth == 0 or ch == "。"):
            end = index
            break
    first_sentence = segment[:end]
    section = _SECTION_NAME.match(first_sentence)
    if section and len(first_sentence) - section.end() >= 8:
        end = section.end()  # "指导思想全面贯彻…": a standard section name glued to its body
    elif len(first_sentence.strip()) > 25:
        comma = first_sentence.find(",")
        window = first_sentence if comma < 0 else first_sentence[:comma]
        for match in _BODY_OPENING.finditer(window):
            if match.start() >= 2 and len(window[: match.start()].strip()) >= 2:
                end = match.start()
                break
    note = _TRAILING_NOTE.search(segment[:end])
    if note and note.start() > 0:
        end = note.start()
    while end > 0 and (segment[end - 1].isspace() or segment[end - 1] in "。:,;、"):
        end -= 1
    begin = 0
    while begin < end and segment[begin].isspace():
        begin += 1
    return start + begin, start + end
