"""Numbers that are not targets.

Background statistics (仅占, 平均, 目前 …, a past year or five-year period at the head of
the statement), programme names and document numbers in quotes or brackets (“2168”,
《…》, 〔2017〕), ordinals (第十三次), scoring rules (计5分, 每增1个百分点), subsidy rates,
Chinese-numeral counts that are not set by a verb (抓实五项重点, 六种服务模式), counts
that sum up the list right before them (…能力提升6项创新工程), and thresholds inside a
subject (申请2件以上专利大户1家).
"""

from __future__ import annotations

import re

from .clauses import BOUNDARY, sentence_end, sentence_start
from .numerals import parse_chinese
from .quantities import Quantity, noun_follows
from .text import SpanSet, depth_split

_QUOTED = re.compile(r"“[^“”\n]{0,14}”|《[^《》\n]*》|〔[^〔〕\n]*〕|\"[^\"\n]{0,14}\"")
# A Chinese numeral is a count only where a verb sets it: 建设一个科技园区.
_SETTING_VERB = re.compile(
    r"(?:建设|建成|建立|新建|新增|培育|组建|创建|打造|引进|认定|设立|争创|选派|培养|培训|举办|开展"
    r"|掌握|扶持|实施|推广|完成|达到|突破|建好|形成|达)$"
)
_BACKGROUND = re.compile(
    r"仅占|仅有|仅为|只有|只占|(?<!年)平均(?!增长|每)|目前|当前|现有|现已|已有|已经|已建成|已认定"
    r"|截至|截止|去年|上年度|近年来|近几年|以来|共有|占全[省市国]"
    r"|从[\d.]+[^,;。]{0,8}?(?:增至|增加到|增长到|提高到|提升到|上升到)"
)
_PAST_YEAR = re.compile(r"(?:截至|截止)?((?:19|20)\d{2})年(?:底|末)?(?:以来)?[,:]?(?!是)")
_PAST_PERIOD = re.compile(r"十([一二三四五六])五”?(?:期间|时期|以来)")
_FUTURE = re.compile(r"力争|争取|确保|到20\d{2}年|目标|预计|计划|将|十[四五六]五”?(?:期间|时期|末)")
_SCORING = re.compile(
    r"每增|每减|每提高|每降低|每下降|[扣加计得]\(?\d+(?:\.\d+)?\)?分|得分|计分|扣分|加分|记分"
)
_SUBSIDY_WORD = re.compile(r"补助|奖励|补贴|资助|奖补")


def quoted_spans(s: str) -> SpanSet:
    return SpanSet([match.span() for match in _QUOTED.finditer(s)])


def may_be_target(s: str, q: Quantity, quotes: SpanSet, excluded: SpanSet, titles: SpanSet) -> bool:
    """Whether `q` can be a target at all (before its sentence is read)."""
    if q.start in excluded or q.start in quotes:
        return False
    before = s[q.start - 1] if q.start else ""
    if before == "第" or (before.isascii() and (before.isalnum() or before in ".-/")):
        return False
    sentence = s[sentence_start(s, q.start) : sentence_end(s, q.end)]
    if _SCORING.search(sentence):
        return False
    if q.unit in ("%", "个百分点") and _SUBSIDY_WORD.search(sentence) and "按" in sentence:
        return False  # a subsidy rate: 按研发投入的10%给予补助
    if q.chinese:
        if not _SETTING_VERB.search(s[max(0, q.start - 4) : q.start]):
            return False
        if q.start in titles:
            return False  # 实施三大工程, 抓实五项重点: a heading counts its parts
    return True


def drop_thresholds(s: str, quantities: list[Quantity]) -> list[Quantity]:
    """申请2件以上专利大户1家: the first number defines the subject of the second."""
    kept = []
    for index, q in enumerate(quantities):
        following = quantities[index + 1] if index + 1 < len(quantities) else None
        if following is not None:
            gap = s[q.end : following.start]
            if (
                gap
                and len(gap) <= 15
                and not any(ch in BOUNDARY + "、" for ch in gap)
                and (q.suffix in ("以上", "以下", "及以上") or q.unit != following.unit)
                and not noun_follows(s, following)
            ):
                continue
        kept.append(q)
    return kept


def is_background(s: str, position: int, reference_year: int | None) -> bool:
    """A statistic of the present: its clause, or an earlier one of its sentence, says so.

    `reference_year` is the plan's own year (or the year it was signed): statements headed
    by an earlier year or five-year period report, they do not plan."""
    start = sentence_start(s, position)
    past = _PAST_YEAR.match(s, start)
    if past and reference_year is not None and int(past.group(1)) < reference_year:
        return True  # "2023年,全县高新技术企业达到12家" in a 2024 plan
    paragraph = s.rfind("\n", 0, start) + 1
    for period in _PAST_PERIOD.finditer(s, paragraph, position):
        plan = parse_chinese("十" + period.group(1))
        ended = plan is not None and reference_year and 2010 + (plan - 11) * 5 < reference_year
        if ended and not _FUTURE.search(s, period.end(), position):
            return True  # "“十三五”期间…达到12.69万人" in a plan of 2022
    background = False
    clause_start = start
    for index in range(start, position + 1):
        if index == position or s[index] in ",;:":
            clause = s[clause_start:index]
            if _FUTURE.search(clause):
                background = False
            if _BACKGROUND.search(clause):
                background = True
            clause_start = index + 1
    return background


def sums_up_list(before: str, value: float) -> bool:
    """实施A、B、C…6项创新工程: a count of the list right before it, not a target."""
    items = [b - a for a, b in depth_split(before, "、和及")]
    return len(items) >= 2 and len(items) == value
