from __future__ import annotations

from kechuang.plans.extraction import extract


def subsidies(text: str) -> list[tuple]:
    return [
        (s["subject"], s["amount_yuan"], s["amount_max_yuan"], s["per"])
        for s in extract(text)["subsidies"]
    ]


def test_fenbie_gives_one_entry_per_recipient_class_with_the_qualifier_carried():
    assert subsidies("对新认定的省级科技企业孵化器、众创空间分别补助1万元。") == [
        ("新认定的省级科技企业孵化器", 10000, None, "once"),
        ("新认定的省级众创空间", 10000, None, "once"),
    ]


def test_a_list_inside_a_relative_clause_is_one_class():
    text = "对省内外高校院所,在我区设立分园区、分基地、联合实验室的分别补助2万元。"
    found = extract(text)["subsidies"]
    assert len(found) == 1
    assert found[0]["text"] == "在我区设立分园区、分基地、联合实验室的分别补助2万元"


def test_paired_amounts_and_periods():
    assert subsidies(
        "对新认定的国家级、省级企业技术中心分别给予50万元、20万元一次性奖励。"
        "对被评聘为市级工业特派员的专家,每人每年给予2万元补助。"
        "对年度技术合同登记额超过1000万元的服务机构每年奖励10万元。"
        "对首次认定的高新技术企业给予6-10万元奖励。"
    ) == [
        ("新认定的国家级企业技术中心", 500000, None, "once"),
        ("新认定的省级企业技术中心", 200000, None, "once"),
        ("被评聘为市级工业特派员的专家", 20000, None, "per_person_per_year"),
        ("年度技术合同登记额超过1000万元的服务机构", 100000, None, "per_year"),
        ("首次认定的高新技术企业", 60000, 100000, "once"),
    ]


def test_money_raised_is_not_a_subsidy():
    assert subsidies("争取上级奖补资金200万元以上,撬动社会资本投入1亿元。") == []
