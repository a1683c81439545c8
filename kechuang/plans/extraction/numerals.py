"""Chinese numerals as plans write them: 一, 十五, 两, 一百零八, 二〇一八, and back."""

from __future__ import annotations

DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
LARGE_UNITS = {"万": 10**4, "亿": 10**8}
NUMERAL_CHARS = "".join(DIGITS) + "".join(SMALL_UNITS) + "".join(LARGE_UNITS)

_WRITE_DIGITS = "零一二三四五六七八九"


def parse_chinese(text: str) -> int | None:
    """The value of a Chinese numeral, or None when `text` is not one."""
    if not text or any(ch not in NUMERAL_CHARS for ch in text):
        return None
    if len(text) > 1 and all(ch in DIGITS for ch in text):
        # Read digit by digit, as in years (二〇一八); "一二" style lists are not numbers.
        if not any(ch in "〇○零" for ch in text):
            return None
        return int("".join(str(DIGITS[ch]) for ch in text))
    total = section = number = 0
    pending = False  # a digit waits for its unit
    previous_unit = 10**9
    for ch in text:
        if ch in DIGITS:
            if pending and DIGITS[ch] != 0:
                return None  # two digits in a row: 一二十
            number = DIGITS[ch]
            pending = DIGITS[ch] != 0
        elif ch in SMALL_UNITS:
            unit = SMALL_UNITS[ch]
            if unit >= previous_unit:
                return None  # 十百, 百百
            section += (number if pending or number else (1 if unit == 10 else 0)) * unit
            if not pending and number == 0 and unit != 10:
                return None  # 百 or 零百 without a digit
            number, pending, previous_unit = 0, False, unit
        else:
            unit = LARGE_UNITS[ch]
            section += number
            if section == 0 and total == 0:
                return None
            total = (total + section) * unit if unit > 10**4 else total + section * unit
            section = number = 0
            pending, previous_unit = False, 10**9
    return total + section + number


def to_chinese(value: int) -> str:
    """The usual written form of a non-negative integer (十一, 一百零五, 两 never used)."""
    if value < 0:
        raise ValueError("negative numbers have no plain Chinese numeral")
    if value == 0:
        return "零"
    groups: list[int] = []
    while value:
        groups.append(value % 10**4)
        value //= 10**4
    names = ["", "万", "亿", "万亿"]
    parts: list[str] = []
    need_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            need_zero = bool(parts)
            continue
        if parts and (need_zero or group < 1000):
            parts.append("零")
        parts.append(_four_digits(group) + names[index])
        need_zero = False
    text = "".join(parts)
    if text.startswith("一十"):
        text = text[1:]  # 十五, not 一十五, at the head of a number
    return text


def _four_digits(value: int) -> str:
    out: list[str] = []
    zero = False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = value // unit % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(_WRITE_DIGITS[digit] + name)
    return "".join(out)


def parse_number(text: str) -> float | None:
    """An Arabic (22.46) or Chinese (十五) number, or None."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    value = parse_chinese(text)
    return None if value is None else float(value)
