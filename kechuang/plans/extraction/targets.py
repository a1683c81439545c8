"""Quantitative targets: subject, value, unit, comparator, year, scope.

Two sentence shapes carry a target. Subject first: "有研发活动的规上企业达到2家以上",
where the subject runs back from the comparator to the clause start (leading scope words,
years and verbs such as 认定 / 选派 are dropped, qualifiers such as 新增 kept). Quantity
first: "每个贫困县建立1个农技专家服务站", where the counted noun follows the number to the
end of the clause. 分别 / 各 spread values over a list of subjects.

Numbers that are not targets are set aside first (`nontargets`); money paid as a subsidy
never reaches here.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from .clauses import clause_end, clause_start, sentence_start
from .nontargets import drop_thresholds, is_background, may_be_target, quoted_spans, sums_up_list
from .quantities import Quantity, noun_follows
from .text import Compact, SpanSet, depth_split
from .years import GOAL_TITLE, year_for, year_phrases

_COMPARATOR_WORDS = sorted(
    [
        "年均增长", "年均提高", "年均提升", "年增长", "平均增长", "增幅", "增长", "提高到",
        "提高至", "提升到", "提升至", "增加到", "增加至", "增长到", "提高", "提升", "增加", "达到",
        "达", "为", "稳定在", "保持在", "控制在", "突破", "超过", "不低于", "不少于",
        "不超过", "不高于", "至少", "力争", "分别", "各", "均", "总计", "合计",
        "累计", "跃居", "进入", "位居", "保持", "居", "较上年", "比上年", "同比",
        "在上年基础上", "较去年", "比去年",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
_GROWTH = {
    "年均增长", "年均提高", "年均提升", "年增长", "平均增长", "增幅", "增长", "提高", "提升",
    "增加",
}  # fmt: skip
_AT_LEAST = {
    "达到", "达", "稳定在", "保持在", "突破", "超过", "不低于", "不少于", "至少", "力争",
    "增加到", "增加至", "提高到", "提高至", "提升到", "提升至", "增长到",
}  # fmt: skip
_AT_MOST = {"控制在", "不超过", "不高于"}

_LEAD_IN = re.compile(
    r"(?:\d{1,2}[.、]|\(\d{1,2}\)|[①-⑳]|[一二三四五六七八九十]{1,2}[是、]|\([一二三四五六七八九十]{1,3}\)"
    r"|——|年内|今年|全年|当年|同时|其中|另外|此外|并且|并|还要|要|将|力争|努力|确保|争取|计划|预计"
    r"|每年|每季度|(?:到|至|截至)?(?:20\d{2}|20[xX×]{2})年(?:底|末|前)?"
    r"|到?“?十[一二三四五六]五”?(?:末|期末|期间|时期)?"
    r"|(?:\d{1,2}|[一二两三四五六七八九十]{1,2})年(?:内|间|来)?"
    r"|使(?!用)|让|推动|促进|全力|积极|努力|进一步|持续|大力|通过|支持|鼓励|引导"
    r"|督促|指导)"
)
_SCOPE = re.compile(
    r"全[省市州县区旗盟镇乡](?![级委政府直属])"
    r"|每个[^\s,;。、]{0,6}?(?:县|市|区|乡镇|乡|镇|村|州|省|园区|企业|单位|学校|户)(?:\([^()]*\))?"
)
_ACTION_VERB = re.compile(
    r"(?<!新)(?:建设|建成|建立|培育|组建|创建|打造|引进|认定|设立|选派|完成|争取|实施|新建|培养|开展"
    r"|举办|推广|转化|扶持|争创|创成|获批|获得|评选|吸引|招引|签约|培训|掌握|帮扶|发放|组织|登记|孵化"
    r"|引育|编发|出版|发表|制定|修订"
    r"|实现|落实|推进|推动|支持|鼓励|引导)"
    r"(?![器站中基园体台厅室者员机])"  # 孵化器, 培训基地, 推广站 are nouns
)
_KEEP_VERBS = {"登记"}  # 登记科技成果 names an indicator as a whole
_DOUBLING = re.compile(r"(?:增加|增长|提高)?(?:一倍|翻一番|翻番|倍增)$")
_QUALIFIER = re.compile(r"^(?:新增|新认定)")
_STRUCTURE_HEAD = re.compile(
    r"(?:任务|措施|举措|条款|原则|环节|模式|指标|目标|方面|领域|重点|主线|思路|理念|意见|文件|会议"
    r"|要求|内容|步骤|阶段|行动|政策)$"
)
_TIME_HEAD = re.compile(r"^(?:工作日|个?月|小时|季度|年|周|天|日|分钟|批次)")
_MEASURE_END = re.compile(r"(?:量|率|额|数|比|比重|收入|产值|总额|支出|投入)$")
_LIST_JOIN = "、和及与"
# A paragraph of a list under an intro: "——…", "①…", "(1)…", "一是…".
_LIST_ITEM = re.compile(
    r"——|[-•·●■◆▪※★☆]|[①-⑳]|\(?\d{1,2}[).、]|\(?[一二三四五六七八九十]{1,3}[)、]|[一二三四五六七八九十]是"
)


@dataclass
class Target:
    text_start: int  # compact indices
    text_end: int
    subject: str
    quantity: Quantity
    comparator: str
    scope: str | None
    year: int | None = None


@dataclass
class Context:
    s: str
    raw: str
    compact: Compact
    doc_year: int | None
    reference_year: int | None  # the plan's own year, else the year it was signed
    excluded: SpanSet  # compact spans with no target: subsidies, background sections
    titles: SpanSet  # compact spans of heading titles
    sections: list[tuple[int, str]]  # (compact start, title) of every task, in order
    boundaries: list[int]  # compact starts of every heading

    @property
    def section_starts(self) -> list[int]:
        return [start for start, _ in self.sections]

    def raw_text(self, start: int, end: int) -> str:
        return "".join(self.raw[p] for p in self.compact.pos[start:end])


def find_targets(context: Context, quantities: list[Quantity]) -> list[Target]:
    s = context.s
    quotes = quoted_spans(s)
    candidates = [
        q for q in quantities if may_be_target(s, q, quotes, context.excluded, context.titles)
    ]
    candidates = drop_thresholds(s, candidates)
    list_ends = {q.end for q in candidates}
    targets: list[Target] = []
    used: set[int] = set()
    for index, quantity in enumerate(candidates):
        if quantity.start in used:
            continue
        if is_background(s, quantity.start, context.reference_year):
            continue
        if noun_follows(s, quantity):
            target = _quantity_first_target(context, quantity)
            if target is not None:
                targets.append(target)
            continue
        group = _value_list(s, candidates, index)
        for member in group[1:]:
            used.add(member.start)
        targets.extend(_subject_first_targets(context, group, list_ends, targets))
    for target in targets:
        target.year = _year(context, target)
    return targets


# ---------------------------------------------------------------- shapes
def _strip_lead_ins(s: str, start: int, end: int) -> tuple[int, str | None]:
    """Skip numbering, time words and adverbs at a clause start; return the scope word met."""
    scope = None
    while start < end:
        match = _LEAD_IN.match(s, start, end)
        if match and match.end() > start:
            start = match.end()
            continue
        match = _SCOPE.match(s, start, end)
        if match and scope is None:
            scope = match.group()
            start = match.end()
            continue
        break
    return start, scope


def _comparator_chain(s: str, start: int, end: int) -> tuple[int, list[str]]:
    """Comparator words right before a number: (where they begin, the words)."""
    chain: list[str] = []
    while end > start:
        for word in _COMPARATOR_WORDS:
            if s.endswith(word, start, end):
                chain.append(word)
                end -= len(word)
                break
        else:
            break
    return end, chain


def _comparator(q: Quantity, chain: list[str], sentence: str) -> str:
    """The comparator of a value; `sentence` is its sentence up to the number."""
    words = set(chain)
    clause = re.split(r"[,;:]", sentence)[-1]
    if q.rank or words & _AT_MOST or q.suffix in ("以下", "以内", "之内"):
        return "<="
    if words & _GROWTH and not any(w.endswith(("到", "至")) for w in chain):
        return "growth>="
    if q.suffix == "左右":
        return "="
    if q.suffix in ("以上", "及以上") or words & _AT_LEAST or "力争" in sentence:
        return ">="
    if re.search(r"争取|完成|实现|突破", clause):
        return ">="  # 全年争取省级以上科技项目15项
    return "="


def _subject_span(s: str, start: int, end: int) -> int:
    """Drop the verb of the clause: 认定市级科技创新型企业 → 市级科技创新型企业."""
    best = start
    for match in _ACTION_VERB.finditer(s, start, end):
        if match.group() in _KEEP_VERBS:
            continue
        if end - match.end() >= 2:
            best = match.end()
    return best


def _value_list(s: str, quantities: list[Quantity], index: int) -> list[Quantity]:
    """Values spread by 分别 / 各 or listed with 、: 分别达到3家和5家以上."""
    group = [quantities[index]]
    head = s[max(0, quantities[index].start - 6) : quantities[index].start]
    if "分别" not in head:
        return group
    for following in quantities[index + 1 :]:
        gap = s[group[-1].end : following.start]
        if gap in ("、", "和", "及", "与", ",", "、分别", ""):
            group.append(following)
        else:
            break
    return group


def _subject_first_targets(
    context: Context, group: list[Quantity], list_ends: set[int], earlier: list[Target]
) -> list[Target]:
    s = context.s
    first = group[0]
    number_start = first.start
    scope = None
    if first.rank:
        number_start -= 1  # 跃居全省前40位: 前 and the scope before it
        scope_match = re.search(r"全[省市州县区国]$", s[max(0, number_start - 2) : number_start])
        if scope_match:
            scope = scope_match.group()
            number_start -= len(scope)
    chain_start, chain = _comparator_chain(s, clause_start(s, number_start), number_start)
    clause = clause_start(s, chain_start, list_ends)
    subject_start, clause_scope = _strip_lead_ins(s, clause, chain_start)
    scope = scope or clause_scope or _group_scope(s, clause)
    subject_start = _subject_span(s, subject_start, chain_start)
    sentence_from = sentence_start(s, first.start)
    sentence = s[sentence_from : first.start]
    subject = context.raw_text(subject_start, chain_start)
    text_start = subject_start
    subjects = [subject]
    if not subject:
        previous = next(
            (t for t in reversed(earlier) if t.text_start >= sentence_from and t.subject), None
        )
        before_start = clause_start(s, clause - 1) if clause > sentence_from + 1 else clause
        if clause > sentence_from + 1 and (previous is None or previous.text_end < before_start):
            # "高新技术企业数量增加一倍,达到2000家", "实施梯次培育,跃居全省前40位":
            # the clause before, which holds no value of its own, names the subject.
            before, _ = _strip_lead_ins(s, before_start, clause - 1)
            named = _DOUBLING.sub("", s[before : clause - 1])
            subjects = [context.raw_text(before, before + len(named))]
            text_start = before  # the text runs from the subject to the value
        elif previous is not None:
            subjects = [previous.subject]
            text_start = previous.text_start
        if not subjects[0]:
            return []
    else:
        subjects = _spread(context, subject_start, chain_start, subject, chain)
        if len(subjects) == 1 and not chain:
            subjects = [_carried_qualifier(context, earlier, clause) + subject]
    if len(group) == 1 and len(subjects) > 1:
        group = group * len(subjects)  # 新增A和B各1家以上
    last = group[-1]
    return [
        Target(
            text_start,
            last.end,
            subjects[min(index, len(subjects) - 1)],
            quantity,
            _comparator(quantity, chain, sentence),
            scope,
        )
        for index, quantity in enumerate(group)
    ]


def _spread(context: Context, start: int, end: int, subject: str, chain: list[str]) -> list[str]:
    """Subjects of one statement: "A和B各1家", "A、B分别达到3家和5家", "申请量、授权量增加5%"."""
    s = context.s
    spread = "分别" in chain or "各" in chain
    pieces = [(start + a, start + b) for a, b in depth_split(s[start:end], _LIST_JOIN)]
    names = [context.raw_text(a, b) for a, b in pieces if b > a]
    if len(names) < 2:
        return [subject]
    if not spread and not (
        set(chain) & _GROWTH and all(_MEASURE_END.search(name) for name in names)
    ):
        return [subject]
    qualifier = _QUALIFIER.match(names[0])
    if qualifier:
        names = [names[0]] + [
            n if _QUALIFIER.match(n) else qualifier.group() + n for n in names[1:]
        ]
    return names


def _carried_qualifier(context: Context, earlier: list[Target], clause: int) -> str:
    """新认定A1家以上,B5家以上: B is 新认定 too (not after a 各 statement, which is whole)."""
    s = context.s
    if not earlier or clause == 0 or s[clause - 1] not in ",;、":
        return ""
    previous = earlier[-1]
    if clause - 1 - previous.text_end > 0:
        return ""
    if len(earlier) > 1 and earlier[-2].text_start == previous.text_start:
        return ""
    match = _QUALIFIER.match(previous.subject)
    return match.group() if match else ""


def _group_scope(s: str, clause: int) -> str | None:
    """A 全县 at the head of an earlier clause governs up to the next ; or 。."""
    group_start = clause
    while group_start > 0 and s[group_start - 1] not in ";。!?\n":
        group_start -= 1
    scope = None
    for match in re.finditer(r"(?:^|(?<=[,:]))", s[group_start : max(group_start, clause - 1)]):
        _, found = _strip_lead_ins(s, group_start + match.start(), clause)
        scope = found or scope
    return scope


def _quantity_first_target(context: Context, q: Quantity) -> Target | None:
    s = context.s
    end = clause_end(s, q.end)
    noun_start = q.end + 1 if s[q.end : q.end + 1] == "的" else q.end
    subject = context.raw_text(noun_start, end)
    if not subject or _STRUCTURE_HEAD.search(subject) or _TIME_HEAD.match(subject):
        return None
    if len(subject) > 40:
        return None
    clause = clause_start(s, q.start)
    before = s[clause : q.start]
    if sums_up_list(before, q.value):
        return None
    text_start = q.start
    lead = re.search(r"(?:至少为|至少|不少于|不低于|超过)$", before)
    if lead:
        text_start = clause + lead.start()
    scope = _agent_scope(s, clause, q.start)
    _, chain = _comparator_chain(s, clause, text_start)
    sentence = s[sentence_start(s, q.start) : q.start]
    if lead:
        chain.append(lead.group().removesuffix("为"))
    return Target(text_start, end, subject, q, _comparator(q, chain, sentence), scope)


def _agent_scope(s: str, clause: int, number: int) -> str | None:
    """每个县(市)建设一个科技园区: the phrase before the verb is the target's scope."""
    start, scope = _strip_lead_ins(s, clause, number)
    if scope:
        return scope
    verb = None
    for match in _ACTION_VERB.finditer(s, start, number):
        verb = match
    if verb is None or verb.start() - start < 2:
        return None
    phrase = s[start : verb.start()]
    if re.match(r"[由对在向为从按以]", phrase) or len(phrase) > 20:
        return None
    if phrase.startswith(("每", "各")) or "的" in phrase:
        return phrase
    return None


# ---------------------------------------------------------------- years
def _year(context: Context, target: Target) -> int | None:
    s = context.s
    position = target.text_start
    sentence_from = sentence_start(s, position)
    index = bisect_right(context.section_starts, position) - 1
    section = context.sections[index] if index >= 0 else None
    section_start = section[0] if section else 0
    index = bisect_right(context.boundaries, position) - 1
    heading_start = context.boundaries[index] if index >= 0 else 0
    list_year = None
    colon = s.rfind(":", max(section_start, heading_start), sentence_from)
    if colon >= 0 and _only_list_items(s, colon, sentence_from):
        intro_start = sentence_start(s, colon)
        phrases = year_phrases(s, intro_start, colon, context.doc_year)
        if phrases:
            list_year = phrases[-1][1]
    if section is not None and not GOAL_TITLE.search(section[1]):
        section = None
    return year_for(s, position, sentence_from, section, list_year, context.doc_year)


def _only_list_items(s: str, colon: int, position: int) -> bool:
    """Whether every paragraph between an intro's colon and `position` is a list item."""
    for index in range(colon + 1, position):
        if s[index] == "\n" and index + 1 < len(s) and not _LIST_ITEM.match(s, index + 1):
            return False
    return True
