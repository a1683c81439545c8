"""Which year a target is set for.

A year phrase (到2020年, 2025年底, “十三五”末) governs to the end of its sentence; when its
sentence introduces a list (ends with ":") it governs the list, and in a goal section
(目标任务, 发展目标 …) it governs the rest of the section. Recurring targets (每年), horizons
without a base (5年内) and templates (20xx) have no year. A work plan gives its own year
(泾川县2023年…工作要点, 年内) to every other target.
"""

from __future__ import annotations

import re

from .numerals import parse_chinese

_YEAR = re.compile(
    r"(?P<base>比|较|与|同)?(?P<prep>到|至|截至|截止到?|力争到|在|于)?"
    r"(?P<year>(?:19|20)\d{2}|20[xX×]{2})年(?P<tail>底|末|前|内)?"
)
_FIVE_YEAR = re.compile(r"(?:到|至)?“?十(?P<n>[一二三四五六])五”?(?P<tail>末|期末|末期|期间|时期)")
_RECURRING = re.compile(r"每年|每季度|每月|年年|逐年")
_HORIZON = re.compile(r"(?:\d+|[一二两三四五六七八九十]+)年(?:内|时间|左右)")
_THIS_YEAR = re.compile(r"(?<![\d一二两三四五六七八九十])(?:年内|今年|全年|本年度?)")
GOAL_TITLE = re.compile(r"目标|指标")

# Unknown year, distinct from "no phrase found".
UNKNOWN = -1


def year_phrases(s: str, start: int, end: int, doc_year: int | None) -> list[tuple[int, int]]:
    """(position, year or UNKNOWN) of every year phrase in s[start:end]."""
    found: list[tuple[int, int]] = []
    for match in _YEAR.finditer(s, start, end):
        if match.group("base") or s[match.end() : match.end() + 2] in ("基础", "水平"):
            continue  # a base year: 比2020年增长
        if match.group("tail") == "内" or not (match.group("prep") or match.group("tail")):
            # "2023年是…" or "2023年内" of a work plan: the plan's own year when it is that.
            year_text = match.group("year")
            if not year_text.isdigit():
                found.append((match.start(), UNKNOWN))
            elif doc_year is not None and int(year_text) == doc_year:
                found.append((match.start(), doc_year))
            elif match.group("tail") != "内":
                found.append((match.start(), int(year_text)))
            continue
        year_text = match.group("year")
        found.append((match.start(), int(year_text) if year_text.isdigit() else UNKNOWN))
    for match in _FIVE_YEAR.finditer(s, start, end):
        plan = parse_chinese("十" + match.group("n"))
        if plan is not None:
            found.append((match.start(), 2010 + (plan - 11) * 5))
    for match in _HORIZON.finditer(s, start, end):
        found.append((match.start(), UNKNOWN))
    if doc_year is not None:
        for match in _THIS_YEAR.finditer(s, start, end):
            found.append((match.start(), doc_year))
    found.sort()
    return found


def year_for(
    s: str,
    position: int,
    sentence_start: int,
    section: tuple[int, str] | None,
    list_year: int | None,
    doc_year: int | None,
) -> int | None:
    """The year of a target at `position` of the compact text `s`.

    `section` is (compact start, title) of the task that holds the target; `list_year` the
    year of a list intro ("到2027年,…:") that the target sits under.
    """
    before = s[sentence_start:position]
    if _RECURRING.search(before):
        return None
    phrases = year_phrases(s, sentence_start, position, doc_year)
    if phrases:
        year = phrases[-1][1]
        return None if year == UNKNOWN else year
    if list_year is not None:
        return None if list_year == UNKNOWN else list_year
    if section is not None and GOAL_TITLE.search(section[1]):
        phrases = year_phrases(s, section[0], position, doc_year)
        if phrases:
            year = phrases[0][1]
            return None if year == UNKNOWN else year
    return doc_year
