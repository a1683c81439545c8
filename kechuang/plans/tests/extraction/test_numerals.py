from __future__ import annotations

import pytest

from kechuang.plans.extraction.numerals import parse_chinese, parse_number, to_chinese


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1), ("十", 10), ("十五", 15), ("二十", 20), ("两", 2), ("一百零八", 108),
        ("一百一十", 110), ("一千零一", 1001), ("三千五百万", 35_000_000), ("十万零一十", 100_010),
        ("一亿二千万", 120_000_000), ("二〇一八", 2018), ("零", 0),
    ],
)  # fmt: skip
def test_parse_chinese(text: str, value: int):
    assert parse_chinese(text) == value


@pytest.mark.parametrize("text", ["", "一二", "万", "十百", "一百二三", "科技", "1"])
def test_not_numerals(text: str):
    assert parse_chinese(text) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "零"),
        (10, "十"),
        (11, "十一"),
        (101, "一百零一"),
        (1010, "一千零一十"),
        (20001, "二万零一"),
    ],
)
def test_to_chinese(value: int, text: str):
    assert to_chinese(value) == text


def test_parse_number_reads_both_scripts():
    assert parse_number("22.46") == 22.46
    assert parse_number("十五") == 15
    assert parse_number("多") is None
