"""Subsidies: an amount of money paid to a class of recipients.

"对新认定的省级科技企业孵化器、众创空间分别补助1万元" gives one entry per recipient class
(the qualifier 新认定的省级 is carried to 众创空间); a list inside a relative clause
("设立分园区、分基地…的分别补助2万元") is one class. Money that is raised or budgeted
(争取…奖补资金200万元) is a target, not a subsidy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .clauses import clause_start, sentence_start
from .quantities import MONEY, Quantity
from .text import depth_split

_PAY = r"补助|奖励|资助|补贴|奖补|扶持|支持|给予"
_PAY_BEFORE = re.compile(
    rf"(?:{_PAY})(?:资金|经费)?(?:分别|每人每年|每人|每年|每家|每个|每件|每项|一次性|最高|最多|不超过"
    rf"|按|给予|奖励|补助|资助)*$"
)
_PAY_AFTER = re.compile(
    r"(?:的)?(?:一次性)?(?:资金)?(?:补助|奖励|资助|补贴|奖补|经费支持|资金支持|扶持|支持)"
)
_LEVEL = re.compile(r"(?:国家|省|市|县|区|州|地市|省部)级")
_RAISED = re.compile(r"争取|筹集|安排|投入|预算|整合|撬动|带动|吸引|融资|授信|贷款|募集|落实资金")
_ONLY_HOW = re.compile(
    r"(?:每人每年|每人|每年|每家|每个|每件|每项|一次性|给予|分别|奖励|补助|资助|补贴|最高|最多|按)*"
)
_RECIPIENT_END = re.compile(
    r",|分别|给予|一次性|每人|每年|每家|每个|每件|每项|按|最高|(?:" + _PAY + ")"
)


@dataclass
class Subsidy:
    text_start: int  # compact indices
    text_end: int
    subject: str
    quantity: Quantity
    per: str


def find_subsidies(
    s: str, quantities: list[Quantity], raw_text: Callable[[int, int], str]
) -> list[Subsidy]:
    """`raw_text(start, end)` gives the original characters of a compact span."""
    out: list[Subsidy] = []
    used: set[int] = set()
    for index, q in enumerate(quantities):
        if not q.money or q.start in used:
            continue
        clause = clause_start(s, q.start)
        before = s[clause : q.start]
        after = _PAY_AFTER.match(s, q.end)
        if not (_PAY_BEFORE.search(before) or after):
            continue
        sentence = s[sentence_start(s, q.start) : q.start]
        if _RAISED.search(before) or (_RAISED.search(sentence[-30:]) and "对" not in sentence):
            continue
        amounts = [q]
        for following in quantities[index + 1 :]:
            if following.money and s[amounts[-1].end : following.start] in ("、", "和", ","):
                amounts.append(following)
                used.add(following.start)
            else:
                break
        text_end = amounts[-1].end
        after = _PAY_AFTER.match(s, text_end)
        if after:
            text_end = after.end()
        text_start, recipients = _recipients(s, clause, q.start)
        if text_start is None:
            continue
        subject_text = raw_text(*recipients)
        names = [subject_text]
        if "分别" in s[recipients[1] : q.start] and not subject_text.endswith("的"):
            names = _classes(s, recipients, raw_text)
        names = [name.removesuffix("的") for name in names]
        per = _per(s[text_start:text_end])
        if len(amounts) == len(names) and len(names) > 1:
            pairs = list(zip(names, amounts, strict=True))
        else:
            pairs = [(name, amounts[0]) for name in names]
        for name, amount in pairs:
            out.append(Subsidy(text_start, text_end, name, amount, per))
    return out


def _recipients(s: str, clause: int, number: int) -> tuple[int | None, tuple[int, int]]:
    """Where the subsidy's text starts, and the span naming who is paid."""
    own = s.rfind("对", clause, number)
    if own >= 0 and _RECIPIENT_END.search(s, own + 1, number):
        end = _RECIPIENT_END.search(s, own + 1, number)
        return own, (own + 1, end.start() if end else number)
    sentence = sentence_start(s, number)
    if _ONLY_HOW.fullmatch(s[clause:number]) and clause - 1 > sentence:
        # "对X,每人每年给予2万元补助": the recipients are the clause before.
        previous = clause_start(s, clause - 1)
        if s.startswith("对", previous) and "元" not in s[previous : clause - 1]:
            return previous, (previous + 1, clause - 1)
    end_match = _RECIPIENT_END.search(s, clause, number)
    end = end_match.start() if end_match else number
    if end - clause < 2:
        return None, (clause, clause)
    return clause, (clause, end)


def _classes(s: str, span: tuple[int, int], raw_text: Callable[[int, int], str]) -> list[str]:
    start, end = span
    pieces = [(start + a, start + b) for a, b in depth_split(s[start:end], "、")]
    names = [raw_text(a, b) for a, b in pieces if b > a]
    if len(names) < 2:
        return names
    last_level = _LEVEL.match(names[-1])
    if last_level and all(re.search(_LEVEL.pattern + "$", name) for name in names[:-1]):
        # "国家级、省级企业技术中心": the level words share the last item's head noun.
        head = names[-1][last_level.end() :]
        names = [name + head for name in names[:-1]] + [names[-1]]
    shared = []
    for name in names[1:]:
        # 新认定的省级 carries over to 众创空间; only 新认定的 to an item with its own level.
        pattern = r"^.*的" if _LEVEL.match(name) else r"^.*(?:的|级)"
        qualifier = re.match(pattern, names[0])
        prefix = qualifier.group() if qualifier else ""
        shared.append(name if not prefix or name.startswith(prefix) else prefix + name)
    return [names[0], *shared]


def _per(text: str) -> str:
    if "每人每年" in text:
        return "per_person_per_year"
    if re.search(r"每年|年度", text):
        return "per_year"
    if re.search(r"每月|每季度|每人(?!每年)", text):
        return "other"
    return "once"


def amount_yuan(q: Quantity) -> tuple[float, float | None]:
    factor = MONEY[q.unit]
    low = _tidy(q.value * factor)
    high = None if q.value_max is None else _tidy(q.value_max * factor)
    return low, high


def _tidy(value: float) -> float:
    rounded = round(value)
    return rounded if abs(value - rounded) < 1e-6 else round(value, 4)
