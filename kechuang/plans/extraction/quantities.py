"""Numbers with their units in a compact text: 22.46%, 0.16亿元, 5%—8%, 1-2个, 一个, 前40位.

Only the tokens: whether a quantity is a target, a subsidy or background is decided by
`targets` and `subsidies`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .numerals import parse_number

# Longest first, so 万平方米 wins over 平方米 and 万元 over 元. Units of time (年 月 日 天),
# of scores (分) and of serial numbers (号 届 期) are not quantities of a target.
UNITS = sorted(
    [
        "个百分点", "百分点", "万平方米", "平方米", "平方公里", "平方千米", "万人次", "人次",
        "万人", "人年", "人天", "亿元", "万元", "千元", "元", "%", "‰", "万家", "家", "家次",
        "万个", "个", "项", "件", "万名", "名", "位", "人", "支", "万户", "户", "篇", "处", "所",
        "座", "台套", "台", "套", "种", "次", "场", "部", "本", "册", "份", "门", "类", "万亩",
        "亩", "公顷", "万吨", "吨", "千米", "公里", "头", "只", "万株", "株", "棵", "辆", "倍",
        "条", "个次", "项次", "场次", "批次", "期", "万千瓦", "千瓦", "兆瓦",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
MONEY = {"元": 1, "千元": 10**3, "万元": 10**4, "亿元": 10**8}
_UNIT = "|".join(re.escape(unit) for unit in UNITS)
_CN = "零〇一二两三四五六七八九十百千"
_NUMBER = rf"\d+(?:\.\d+)?|[{_CN}]+"
_SUFFIX = r"及以上|以上|以下|以内|左右|之内"

QUANTITY = re.compile(
    rf"(?P<num>{_NUMBER})(?:(?P<unit1>{_UNIT})?(?P<sep>[-—–~至到]{{1,2}})(?P<num2>{_NUMBER}))?"
    rf"(?P<approx>[余多])?(?P<unit>{_UNIT})(?P<suffix>{_SUFFIX})?"
)
# A bare number where a comparator makes it a target value: 指数达到160以上.
UNITLESS = re.compile(
    rf"(?:达到|超过|突破|不低于|不少于|稳定在|保持在|提高到|提升到|增加到)(?P<num>\d+(?:\.\d+)?)"
    rf"(?P<suffix>{_SUFFIX})?(?=[,;。、\n)]|$)"
)
RANK = re.compile(rf"前(?P<num>\d+|[{_CN}]+)(?P<unit>位|名|强)?(?P<tail>水平|行列|以内)?")


@dataclass(frozen=True)
class Quantity:
    start: int  # the number's first character
    end: int  # after the unit and any 以上 / 左右
    value: float
    value_max: float | None
    unit: str
    suffix: str
    chinese: bool
    rank: bool = False

    @property
    def money(self) -> bool:
        return self.unit in MONEY


def find_quantities(s: str) -> list[Quantity]:
    found: dict[int, Quantity] = {}
    for match in QUANTITY.finditer(s):
        quantity = _from_match(match)
        if quantity is not None:
            found[quantity.start] = quantity
    for match in RANK.finditer(s):
        if not (match.group("unit") or match.group("tail")):
            continue
        value = parse_number(match.group("num"))
        if value is None:
            continue
        start = match.start("num")
        found[start] = Quantity(
            start, match.end(), value, None, match.group("unit") or "", match.group("tail") or "",
            not match.group("num").isdigit(), rank=True,
        )  # fmt: skip
    for match in UNITLESS.finditer(s):
        value = parse_number(match.group("num"))
        start = match.start("num")
        if value is None or start in found:
            continue
        found[start] = Quantity(
            start, match.end(), value, None, "", match.group("suffix") or "", False
        )
    return [found[key] for key in sorted(found)]


def _from_match(match: re.Match[str]) -> Quantity | None:
    number = match.group("num")
    chinese = not number[0].isdigit()
    start = match.start("num")
    if chinese and len(number) > 4:
        return None  # a run of numeral characters, not a count
    value = parse_number(number)
    if value is None:
        return None
    value_max = None
    if match.group("num2"):
        value_max = parse_number(match.group("num2"))
        unit1 = match.group("unit1")
        if value_max is None or value_max < value or (unit1 and unit1 != match.group("unit")):
            return None
    elif match.group("unit1"):
        return None
    return Quantity(
        start, match.end(), value, value_max, match.group("unit"), match.group("suffix") or "",
        chinese,
    )  # fmt: skip


def noun_follows(s: str, q: Quantity) -> bool:
    """Whether the counted noun follows the number ("5个创新型县") rather than precedes it."""
    if q.rank or not q.unit:
        return False
    after = s[q.end : q.end + 1]
    if not after or after in ",;:。!?\n、和及与()”》]" or after.isdigit():
        return False
    return not re.match(r"的(?:目标|水平|规模)", s[q.end : q.end + 4])
