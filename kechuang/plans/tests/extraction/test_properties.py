"""Properties of the parsers on arbitrary input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kechuang.plans.extraction import extract
from kechuang.plans.extraction.numerals import parse_chinese, to_chinese

FEW = settings(max_examples=100, deadline=None)

# Pieces of plan text, so that random input reaches the interesting rules.
PIECES = [
    "一、", "二、", "(一)", "(二)", "1.", "2、", "(1)", "①", "一是", "二是", "是", "。", ",", ";",
    ":", "\n", "\n\n", " ", "、", "和", "各", "分别", "达到", "以上", "左右", "不少于", "年均增长",
    "前", "到2025年", "每年", "全县", "每个县", "新增", "高新技术企业", "科技园区", "5", "0.16",
    "一个", "十五", "%", "家", "个", "亿元", "万元", "—", "-", "8", "位", "牵头单位:", "责任单位:",
    "配合单位:", "市科技局", "各县(市)党委、政府", "等", "对", "补助", "给予", "奖励", "“", "”",
    "《", "》", "(", ")", "关于印发", "的通知", "实施方案", "2023年3月1日", "〔2018〕", "号",
    "上一篇", "仅占", "目前",
]  # fmt: skip
plan_like = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=60).map(
    "".join
)


@FEW
@given(st.integers(min_value=0, max_value=99_999))
def test_numeral_round_trip(value: int):
    assert parse_chinese(to_chinese(value)) == value


@FEW
@given(st.one_of(plan_like, st.text(max_size=200)))
def test_extract_never_raises_and_returns_slices(text: str):
    result = extract(text)
    assert set(result) == {"document", "tasks", "targets", "subsidies"}
    for task in result["tasks"]:
        assert task["title"] in text
        for role in ("lead_units", "responsible_units", "cooperating_units"):
            assert all(unit and unit in text for unit in task[role])
    for item in result["targets"]:
        assert item["text"]
        assert item["text"] in text
        assert item["value_max"] is None or item["value"] <= item["value_max"]
        assert item["comparator"] in (">=", "=", "<=", "growth>=")
    for item in result["subsidies"]:
        assert item["text"] in text
        assert item["amount_max_yuan"] is None or item["amount_yuan"] <= item["amount_max_yuan"]
