"""Sentences and clauses of a compact text (see `text.Compact`): where they start and end.

Brackets and quotes are skipped, so "全社会研究与试验发展(R&D)经费" or “众创、众包”
stay inside one clause. A "——" after a label works as a colon ("“六个倍增”——A达到…").
"""

from __future__ import annotations

import re

BOUNDARY = ",;:。!?\n"
SENTENCE = "。!?\n"
_OPEN = "(“《【["
_CLOSE = ")”》】]"
# What starts a further value in a list: "5个创新型县(市)、10个创新型乡镇".
_NEXT_VALUE = re.compile(r"\d|[零一二两三四五六七八九十]+[个家项件名人支户所]")


def clause_start(s: str, position: int, list_ends: set[int] | None = None) -> int:
    """Where the clause holding `position` begins.

    A 、 is a boundary only right after a value of `list_ends`: "认定A2家以上、B1个以上"
    lists two targets, "A、B、C3家以上" names one subject."""
    depth = 0
    index = position - 1
    while index >= 0:
        ch = s[index]
        if ch in _CLOSE:
            depth += 1
        elif ch in _OPEN:
            if depth == 0:
                return index + 1
            depth -= 1
        elif depth == 0 and (
            ch in BOUNDARY
            or (ch == "、" and list_ends is not None and index in list_ends)
            or (ch == "—" and index > 0 and s[index - 1] == "—")
        ):
            return index + 1
        index -= 1
    return 0


def clause_end(s: str, position: int, stop_at_list: bool = True) -> int:
    """Where the clause holding `position` ends; a 、 before a further value ends it too."""
    depth = 0
    for index in range(position, len(s)):
        ch = s[index]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            if depth == 0:
                return index
            depth -= 1
        elif depth == 0 and ch in BOUNDARY:
            return index
        elif depth == 0 and ch == "、" and stop_at_list:
            rest = s[index + 1 : clause_end(s, index + 1, stop_at_list=False)]
            if _NEXT_VALUE.match(rest):
                return index
    return len(s)


def sentence_start(s: str, position: int) -> int:
    index = position - 1
    while index >= 0 and s[index] not in SENTENCE:
        index -= 1
    return index + 1


def sentence_end(s: str, position: int) -> int:
    index = position
    while index < len(s) and s[index] not in SENTENCE:
        index += 1
    return index
