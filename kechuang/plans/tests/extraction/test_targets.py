"""Quantitative targets: shapes, values, comparators, years, scopes, and what is not a target."""

from __future__ import annotations

import pytest

from kechuang.plans.extraction import extract


def targets(text: str) -> list[dict]:
    return extract(text)["targets"]


def brief(text: str) -> list[tuple]:
    return [
        (t["text"], t["value"], t["value_max"], t["unit"], t["comparator"]) for t in targets(text)
    ]


def test_subject_first_with_comparators():
    assert brief("全县研发经费支出达到0.16亿元以上,科技特派员队伍稳定在15人以上。") == [
        ("研发经费支出达到0.16亿元以上", 0.16, None, "亿元", ">="),
        ("科技特派员队伍稳定在15人以上", 15, None, "人", ">="),
    ]


def test_quantity_first_runs_to_the_end_of_its_clause():
    assert brief(
        "每年建设5个创新型县(市)、10个创新型乡镇、5个左右科技园区,每年至少为2户企业提供服务。"
    ) == [
        ("5个创新型县(市)", 5, None, "个", "="),
        ("10个创新型乡镇", 10, None, "个", "="),
        ("5个左右科技园区", 5, None, "个", "="),
        ("至少为2户企业提供服务", 2, None, "户", ">="),
    ]


def test_ranges_keep_both_ends():
    assert brief("县域技术交易额年均增长5%—8%,新建众创空间5-8个,引进团队1～2个。") == [
        ("县域技术交易额年均增长5%—8%", 5, 8, "%", "growth>="),
        ("众创空间5-8个", 5, 8, "个", "="),
        ("团队1～2个", 1, 2, "个", "="),
    ]


def test_chinese_numerals_after_a_verb():
    found = targets("每个县(市)建设一个科技园区,每个贫困县建立1个农技专家服务站。")
    assert [(t["text"], t["value"], t["scope"]) for t in found] == [
        ("一个科技园区", 1, "每个县(市)"),
        ("1个农技专家服务站", 1, "每个贫困县"),
    ]


def test_fenbie_and_ge_spread_values_over_subjects():
    found = targets(
        "力争全县高新技术企业、省级科技创新型企业分别达到3家和5家以上。"
        "新增高新技术企业和省级科技创新型企业各1家以上。"
    )
    assert [(t["subject"], t["value"], t["scope"]) for t in found] == [
        ("高新技术企业", 3, "全县"),
        ("省级科技创新型企业", 5, "全县"),
        ("新增高新技术企业", 1, None),
        ("新增省级科技创新型企业", 1, None),
    ]
    assert (
        found[0]["text"]
        == found[1]["text"]
        == "高新技术企业、省级科技创新型企业分别达到3家和5家以上"
    )


def test_growth_measures_listed_with_dun_are_separate_targets():
    found = targets("专利申请量、授权量在上年基础上增加5%以上。")
    assert [(t["subject"], t["value"], t["comparator"]) for t in found] == [
        ("专利申请量", 5, "growth>="),
        ("授权量", 5, "growth>="),
    ]


def test_ranks_and_unitless_values():
    # The rank's subject is the index of the clause before, so its text starts there.
    assert brief(
        "全县综合科技创新水平跃居全省前40位,区域科技创新指数达到160以上,达到全市前3水平。"
    ) == [
        ("综合科技创新水平跃居全省前40位", 40, None, "位", "<="),
        ("区域科技创新指数达到160以上", 160, None, "", ">="),
        ("区域科技创新指数达到160以上,达到全市前3水平", 3, None, "", "<="),
    ]


def test_quarterly_milestones_share_one_text():
    found = targets("一、二、三、四季度,占比分别达18%、19%、20%、21%。")
    assert [t["value"] for t in found] == [18, 19, 20, 21]
    assert len({t["text"] for t in found}) == 1


def test_threshold_inside_a_subject():
    assert brief("每年培育申请2件以上专利大户1家,1件以上专利大户2家。") == [
        ("申请2件以上专利大户1家", 1, None, "家", "="),
        ("1件以上专利大户2家", 2, None, "家", "="),
    ]


def test_qualifier_carried_to_the_next_clause():
    found = targets("争取新认定高新技术企业1家以上,省级科技创新型企业5家以上。")
    assert [t["subject"] for t in found] == ["新认定高新技术企业", "新认定省级科技创新型企业"]


@pytest.mark.parametrize(
    "text",
    [
        "县域工业企业研发经费仅占全省的10%左右,67个县(市)仅有一半有技术交易,平均技术交易额0.92亿元。",
        "延伸12316、12396、12330服务体系,落实“2168”发展思路和“黄金19条”政策。",
        "按照省第十三次党代会部署,落实国办发〔2017〕43号文件。",
        "实施投融资体系、科技支撑、人才保障、政策集成、服务环境、能力提升6项创新工程。",
        "力争用5年或更长一段时间,每季度调度一次,3个工作日内办结。",
        "每完成一项计2分,每增(减)1个百分点加(扣)0.5分。",
        "抓实五项重点,实现四个增长,推行六种服务模式。",
        "目前,全县共有高新技术企业18家,省级以上研发平台6个。",
        "甘州区人民政府办公室217年9月28日",
    ],
)
def test_numbers_that_are_not_targets(text: str):
    assert targets(text) == []


def test_past_year_statistics_of_a_work_plan_are_background():
    text = (
        "青岚县2024年科技工作要点\n"
        "2023年,全县高新技术企业达到12家。2024年,全县高新技术企业达到15家。\n"
    )
    assert [(t["value"], t["year"]) for t in targets(text)] == [(15, 2024)]


def test_year_governs_its_sentence_and_recurring_targets_have_none():
    found = targets(
        "到2020年,县域技术交易额年均增长5%,每个县建设1个科技园区。“十三五”时期,每年建设5个创新型乡镇。"
        "建成孵化器2个。"
    )
    assert [t["year"] for t in found] == [2020, 2020, None, None]


def test_goal_section_year_and_template_years():
    text = (
        "二、目标任务\n力争到“十三五”末,基本建成创新型城市。完成原始创新成果8项以上。\n"
        "三、重点任务\n到20xx年,培育企业10家。5年内新增平台3个。\n"
    )
    assert [t["year"] for t in targets(text)] == [2020, None, None]


def test_work_plan_year_applies_to_every_target():
    text = "某县2023年科技创新工作要点\n年内,论证储备科技项目20项以上,引进招商引资项目2项。\n"
    assert [(t["year"], t["comparator"]) for t in targets(text)] == [(2023, ">="), (2023, "=")]


def test_fundraising_is_a_target_and_payments_are_not():
    text = "争取国家、省、市科技项目资金及奖补资金200万元以上。对新认定的省级孵化器补助1万元。"
    assert [(t["subject"], t["value"], t["unit"]) for t in targets(text)] == [
        ("国家、省、市科技项目资金及奖补资金", 200, "万元")
    ]


def test_background_sections_and_past_periods():
    text = (
        "某市“十四五”科技创新规划\n成文日期:2022-04-19\n"
        "一、发展基础\n(一)创新能力持续提升\n全市高新技术企业达到780家。\n"
        "二、发展目标\n“十三五”期间,全市研发人员从5758名增至6006名。"
        "“十四五”期间,力争全市高新技术企业达到1200家。\n"
    )
    assert [(t["value"], t["task_path"]) for t in targets(text)] == [(1200, ["二"])]


def test_a_dash_opens_the_clause_and_the_clause_before_names_the_subject():
    found = targets(
        "“两个倍增”——高新技术企业数量增加一倍,达到2000家;技术合同成交额翻一番,三年累计突破100亿元。"
    )
    assert [(t["subject"], t["text"], t["value"]) for t in found] == [
        ("高新技术企业数量", "高新技术企业数量增加一倍,达到2000家", 2000),
        ("技术合同成交额", "技术合同成交额翻一番,三年累计突破100亿元", 100),
    ]
