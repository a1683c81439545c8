"""Title, issuer, document number and signing date of a plan.

The title is the plan's own, not the notice forwarding it ("关于印发《X》的通知" → X),
unless the notice is the document (a 任务分解的通知). The date is the signing (成文) date:
a 成文日期 field, a date under the signature, a portal's 生成日期 as a last resort; web
posting times of re-posting sites are ignored. Headers whose characters were dropped
("甘办发〔20188", "201824", "217年9月28日") are repaired where the repair is unambiguous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .numerals import parse_chinese
from .text import PlanText

_PLAN_WORDS = r"方案|规划|计划|要点|意见|办法|细则|纲要|安排|措施|分解表|清单|决定|通知"
_ORG_END = (
    r"(?:办公厅|办公室|人民政府|政府|委员会|党委|县委|市委|省委|州委|区委|局|委|厅|办|院|部|中心)"
)
_NOTICE = re.compile(
    r"^(?P<issuer>.*?)关于(?P<verb>印发|转发|下发|颁发|发布)?(?P<what>.+?)的(?:通知|决定|函|批复)$"
)
_TITLE_LINE = re.compile(rf"^[^\s,。;:!?]{{4,60}}?(?:{_PLAN_WORDS})(?:\([^()]*\))?$")
_NEWS_TITLE = re.compile(
    rf"(?P<issuer>[^\s,。;:《》]{{2,40}}?{_ORG_END})?(?:近日|日前|联合|正式)?(?:印发|出台|制定|发布)了?"
    rf"《(?P<title>[^》]{{4,60}}?(?:{_PLAN_WORDS})(?:\([^()]*\))?)》"
)
# A headline reports on a plan ("青川县出台…方案"); a plan's title never says so.
_NEWS_VERB = re.compile(r"出台|印发|发布|召开|启动|部署|解读|审议|通过|举行")
_FIELD_NAMES = (
    r"索引号|所属主题|主题分类|发文字号|文号|发文机关|发布机构|成文日期|成文时间"
    r"|发布日期|发布时间|生成日期"
)
# "发文字号: X", "文号: | X |", "[ 发文字号 ] | X |": the name, a colon or a cell wall, the value.
_AFTER_NAME = r"\s*(?:[:]|[\]】]\s*[:|])[ \t|]*"
_FIELD = re.compile(
    rf"(?P<name>{_FIELD_NAMES}){_AFTER_NAME}(?P<value>(?:(?!{_FIELD_NAMES})[^\s:|\[【])*)"
)
_DOC_NUMBER = re.compile(
    r"(?<![(\w])([\u4e00-\u9fff]{1,10}[〔\[【(]\s*(?:19|20)\d{2}\s*[〕\]】)]\s*\d{1,4}\s*号)"
)
_GARBLED_NUMBER = re.compile(
    r"^([\u4e00-\u9fff]{1,10})[〔\[【]((?:19|20)\d{2})[〕\]】]?(\d{1,4})号?$"
)
_CN_DIGITS = "〇○零一二三四五六七八九十"
_DATE = re.compile(
    rf"(?P<y>\d{{3,4}}|[{_CN_DIGITS}]{{4}})\s*年\s*(?P<m>\d{{1,2}}|[{_CN_DIGITS}]{{1,2}})\s*月"
    rf"\s*(?P<d>\d{{1,2}}|[{_CN_DIGITS}]{{1,3}})\s*日"
)
_ISO_DATE = re.compile(r"((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})")
_DIGIT_DATE = re.compile(r"^((?:19|20)\d{2})(\d{2,4})$")
_WORK_PLAN = re.compile(
    r"要点|工作计划|工作安排|工作方案|工作任务|任务分解|分解表|重点工作|工作思路"
)
_LONGER_PLAN = re.compile(r"(?:实施|行动)方案|规划|意见|纲要|办法|措施")


@dataclass
class DocumentFields:
    title: str | None = None
    issuer: str | None = None
    doc_number: str | None = None
    date: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "title": self.title,
            "issuer": self.issuer,
            "doc_number": self.doc_number,
            "date": self.date,
        }

    @property
    def year(self) -> int | None:
        """The plan's own year when its title names one (泾川县2023年科技创新工作要点)."""
        if not self.title:
            return None
        years = set(re.findall(r"(?<!\d)((?:19|20)\d{2})年?(?!\d)", self.title))
        return int(years.pop()) if len(years) == 1 else None

    @property
    def is_work_plan(self) -> bool:
        """A plan for one year's work (工作要点, 任务分解表), not a 实施方案 or 规划."""
        if not self.title or not _WORK_PLAN.search(self.title):
            return False
        return not _LONGER_PLAN.search(self.title[-6:])


def read_fields(text: PlanText, header_end: int) -> DocumentFields:
    """The document fields, looking for the header before `header_end` (the first heading)."""
    lines = [
        (start, text.norm[start:end].strip())
        for start, end in text.lines
        if start < text.body_end and text.norm[start:end].strip()
    ]
    header = [(start, line) for start, line in lines if start < max(header_end, 1)]
    fields = {m.group("name"): m.group("value") for _, line in lines for m in _FIELD.finditer(line)}
    out = DocumentFields()
    _title_and_issuer(text, header, lines, out)
    if not out.issuer:
        out.issuer = _signature_issuer(header) or fields.get("发文机关") or None
    if not out.issuer and fields.get("发布机构"):
        out.issuer = re.sub(r"\s+", " ", _field_line_value(lines, "发布机构")) or None
    out.doc_number = fields.get("发文字号") or fields.get("文号") or _doc_number(header)
    out.date = (
        _signature_date(header)
        or _date_text(fields.get("成文日期") or fields.get("成文时间") or "")
        or _signature_date(lines[-8:])
        or _date_text(fields.get("生成日期") or "")
    )
    if not out.issuer:
        out.issuer = _signature_issuer(lines[-6:])
    return out


def _field_line_value(lines: list[tuple[int, str]], name: str) -> str:
    """A portal field whose value holds spaces ("发布机构: 甲办公室 乙办公室 生效日期: …")."""
    for _, line in lines:
        match = re.search(rf"{name}{_AFTER_NAME}(.+?)\s*(?:[\[【|]|\S{{2,6}}\s*:|$)", line)
        if match:
            return match.group(1).strip(" |")
    return ""


def _title_and_issuer(
    text: PlanText, header: list[tuple[int, str]], lines: list[tuple[int, str]], out: DocumentFields
) -> None:
    notice = None
    notice_at = 0
    for start, line in header:
        if text.line_index(start) in text.chrome_lines and "关于" not in line:
            continue
        # Portal tables wrap the heading in "|" and space it out: "…的 通知 |".
        line = re.sub(r"的\s+(?=通知|决定|函|批复)", "的", line.strip(" |"))
        match = _NOTICE.match(line) if len(line) <= 120 else None
        if match:
            notice, notice_at = match, start
            break
    standalone = next(
        (
            line
            for start, line in header
            if start >= notice_at
            and text.line_index(start) not in text.chrome_lines
            and _TITLE_LINE.match(line)
            and not _NOTICE.match(line)
            and not _NEWS_VERB.search(line)
            and not re.match(r"[一二三四五六七八九十\d(]", line)
        ),
        None,
    )
    if notice:
        issuer = re.sub(r"\s+", " ", notice.group("issuer")).strip()
        if issuer and re.search(_ORG_END + "$", issuer):
            out.issuer = issuer
        what = notice.group("what")
        forwarded = re.search(r"《([^》]+)》", what)
        if notice.group("verb") and not re.search(r"分解|分工", what[-6:]):
            out.title = forwarded.group(1) if forwarded else what
            if standalone and _similar(standalone, out.title):
                out.title = standalone  # the plan's own heading, as printed above its text
        else:
            out.title = notice.string.strip()
        return
    if standalone:
        out.title = standalone
        return
    body = "\n".join(line for _, line in lines[:12])
    news = _NEWS_TITLE.search(body)
    if news:
        out.title = news.group("title")
        if news.group("issuer"):
            out.issuer = _clause_tail(news.group("issuer"))


def _clause_tail(issuer: str) -> str:
    """The organisations of "近日,中共永仁县委、永仁县人民政府" without the time words."""
    issuer = re.split(r"[,,。:]", issuer)[-1]
    return re.sub(r"^(?:近日|日前|今年以来|最近)", "", issuer)


def _similar(a: str, b: str) -> bool:
    pairs_a = {a[i : i + 2] for i in range(len(a) - 1)}
    pairs_b = {b[i : i + 2] for i in range(len(b) - 1)}
    total = len(pairs_a) + len(pairs_b)
    return bool(total) and 2 * len(pairs_a & pairs_b) / total >= 0.6


def _doc_number(header: list[tuple[int, str]]) -> str | None:
    for _, line in header:
        if line.startswith("(") and line.endswith(")"):
            line = line[1:-1]  # "(梧政发〔2012〕3号)" under a notice's heading
        match = _DOC_NUMBER.search(line)
        if match and len(line) <= 40:
            return re.sub(r"\s+", "", match.group(1))
        garbled = _GARBLED_NUMBER.match(line.replace(" ", ""))
        if garbled and "发" in garbled.group(1):
            return f"{garbled.group(1)}〔{garbled.group(2)}〕{garbled.group(3)}号"
    return None


def _signature_date(lines: list[tuple[int, str]]) -> str | None:
    for _, line in lines:
        compact = line.replace(" ", "")
        digits = _DIGIT_DATE.match(compact)
        if digits:
            repaired = _repair_digits(digits.group(1), digits.group(2))
            if repaired:
                return repaired
        for match in _DATE.finditer(line):
            before = line[: match.start()].strip()
            after = line[match.end() :].strip()
            alone = not before and not after
            signed = bool(before) and bool(re.search(_ORG_END + "$", before))
            if (alone or signed) and not re.match(r"[前起至到,,]|召开|印发", after):
                value = _date_text(match.group())
                if value:
                    return value
    return None


def _repair_digits(year: str, rest: str) -> str | None:
    """201824 → 2018-02-04; with three or four digits, the reading that is a valid date."""
    splits = (
        [(rest[:1], rest[1:]), (rest[:2], rest[2:])] if len(rest) == 3 else [(rest[:-2], rest[-2:])]
    )
    if len(rest) == 2:
        splits = [(rest[0], rest[1])]
    for month, day in splits:
        if month and day and 1 <= int(month) <= 12 and 1 <= int(day) <= 31:
            return f"{year}-{int(month):02d}-{int(day):02d}"
    return None


def _date_text(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    match = _DATE.search(value)
    if match:
        year = _date_number(match.group("y"))
        month = _date_number(match.group("m"))
        day = _date_number(match.group("d"))
        if year is not None and 100 <= year < 1000 and str(year).startswith("2"):
            year = int(f"20{str(year)[1:]}")  # 217年 → 2017年: a dropped 0
        if year and month and day and 1 <= month <= 12 and 1 <= day <= 31 and year >= 1949:
            return f"{year:04d}-{month:02d}-{day:02d}"
        return None
    match = _ISO_DATE.search(value)
    if match:
        year, month, day = (int(group) for group in match.groups())
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def _date_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if len(text) == 4:
        return parse_chinese(text.replace("○", "〇").replace("零", "〇"))
    return parse_chinese(text)


def _signature_issuer(lines: list[tuple[int, str]]) -> str | None:
    """The organisations signing above (or right before) a signing date."""
    for index, (_, line) in enumerate(lines):
        compact = line.replace(" ", "")
        date = _DATE.search(line)
        if date is None and not _DIGIT_DATE.match(compact):
            continue
        before = line[: date.start()] if date else ""
        if before.strip():
            # "…贯彻落实。甘州区人民政府办公室217年9月28日…": the signer shares the line.
            tail = re.split(r"[。;:!?]", before)[-1].strip()
            if re.search(_ORG_END + "$", tail) and len(tail) <= 40:
                return re.sub(r"\s+", " ", tail)
            continue
        signers = []
        for _, above in reversed(lines[max(0, index - 3) : index]):
            if len(above) > 30 or re.search(r"[,。:]", above):
                break
            if not re.search(_ORG_END + "$", above):
                break
            signers.insert(0, above)
        if signers:
            return " ".join(signers)
    return None
