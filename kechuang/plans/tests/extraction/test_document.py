"""Title, issuer, document number and signing date."""

from __future__ import annotations

from kechuang.plans.extraction import extract


def document(text: str) -> dict:
    return extract(text)["document"]


def test_the_plan_title_not_the_notice_and_a_garbled_header():
    text = (
        "网站首页 > 科技创新\n"
        "中共甘肃省委办公厅  甘肃省人民政府办公厅关于印发甘肃省推进县域创新驱动发展实施方案的通知\n"
        "  时间:2019-06-12 08:35\n甘办发〔20188\n"
        "《甘肃省推进县域创新驱动发展实施方案》已经省委、省政府同意,现印发给你们。\n"
        "中共甘肃省委办公厅\n甘肃省人民政府办公厅\n201824\n"
        "甘肃省推进县域创新驱动发展实施方案\n为贯彻落实(国办发〔2017〕43号)精神,制定本方案。\n一、总体要求\n"
    )
    assert document(text) == {
        "title": "甘肃省推进县域创新驱动发展实施方案",
        "issuer": "中共甘肃省委办公厅 甘肃省人民政府办公厅",
        "doc_number": "甘办发〔2018〕8号",
        "date": "2018-02-04",
    }


def test_flattened_notice_with_a_three_digit_year():
    text = (
        "甘州区人民政府办公室关于印发《甘州区贯彻落实若干措施实施方案》的通知\n2017-09-29\n"
        "…请认真抓好贯彻落实。甘州区人民政府办公室217年9月28日甘州区贯彻落实若干措施实施方案为深入贯彻…"
        "一、指导思想坚持创新。"
    )
    assert document(text) == {
        "title": "甘州区贯彻落实若干措施实施方案",
        "issuer": "甘州区人民政府办公室",
        "doc_number": None,
        "date": "2017-09-28",
    }


def test_a_notice_that_is_itself_the_document():
    text = "关于2020年度科技创新重点工作任务分解的通知\n局属各单位:\n1、局办公室负责统筹。\n"
    assert document(text)["title"] == "关于2020年度科技创新重点工作任务分解的通知"


def test_work_plan_without_an_issuer_line_and_empty_portal_fields():
    text = (
        "索引号: 所属主题:\n发文字号: 发文机关:\n成文时间: 发布时间:\n\n"
        "泾川县2023年科技创新工作要点\n\n2023年是开局之年。\n"
    )
    assert document(text) == {
        "title": "泾川县2023年科技创新工作要点",
        "issuer": None,
        "doc_number": None,
        "date": None,
    }


def test_portal_fields_and_chinese_numeral_dates():
    text = (
        "发文字号:华政办发〔2017〕12号\n生成日期:2017-03-02\n华容县科技局2017年工作任务分解表\n"
        "工作任务\n"
    )
    assert document(text)["doc_number"] == "华政办发〔2017〕12号"
    assert document(text)["date"] == "2017-03-02"
    signed = "某县科学技术局\n二〇二三年三月一日\n某县科技创新工作方案\n一、目标\n"
    assert document(signed)["date"] == "2023-03-01"


def test_a_news_item_names_the_plan_and_its_issuers():
    text = (
        "首页 > 新闻中心\n永仁县出台科技创新实施方案\n发布时间:2022-05-06\n"
        "近日,中共永仁县委、永仁县人民政府印发《永仁县科技创新实施方案(2022—2025年)》,"
        "明确到2025年全县高新技术企业达到10家。\n"
    )
    assert document(text) == {
        "title": "永仁县科技创新实施方案(2022—2025年)",
        "issuer": "中共永仁县委、永仁县人民政府",
        "doc_number": None,
        "date": None,
    }


def test_a_signature_at_the_end():
    text = "某县2023年科技工作要点\n一、重点工作\n建设平台。\n\n某县科学技术局\n2023年2月10日\n"
    assert document(text)["issuer"] == "某县科学技术局"
    assert document(text)["date"] == "2023-02-10"


def test_portal_tables_and_a_parenthesised_number():
    text = (
        "[ 索引号 ] | 001/2021-00103 | [ 发文字号 ] | 某府发〔2021〕17号 |\n"
        "[ 成文日期 ] | 2021-08-17 | [ 发布日期 ] | 2021-11-23 |\n"
        "某区发展和改革局 某区科学技术局 关于印发《某区科技创新规划》的 通知 |\n"
        "各镇人民政府:现将《某区科技创新规划》印发给你们。\n"
    )
    assert document(text) == {
        "title": "某区科技创新规划",
        "issuer": "某区发展和改革局 某区科学技术局",
        "doc_number": "某府发〔2021〕17号",
        "date": "2021-08-17",
    }
    bracketed = "某市人民政府关于印发某市创新计划实施方案的通知\n(某政发〔2012〕3号)\n一、目标\n"
    assert document(bracketed)["doc_number"] == "某政发〔2012〕3号"


def test_the_signers_above_the_date_and_the_printed_title():
    text = (
        "某市人民政府办公室\n\n某市人民政府\n\n关于印发某市创新计划2011至2015年实施方案的通知\n\n"
        "各县人民政府:\n现将方案印发给你们。\n\n某市人民政府\n二○一二年一月二十九日\n\n"
        "某市创新计划(2011至2015年)实施方案\n为加快创新,制定本方案。\n一、指导思想\n"
    )
    assert document(text) == {
        "title": "某市创新计划(2011至2015年)实施方案",
        "issuer": "某市人民政府",
        "doc_number": None,
        "date": "2012-01-29",
    }
