"""Numbering levels, run-in headings, indicator lists and group labels."""

from __future__ import annotations

from kechuang.plans.extraction import extract


def tasks(text: str) -> list[tuple[list[str], str]]:
    return [(task["path"], task["title"]) for task in extract(text)["tasks"]]


def test_five_levels_nest_by_style():
    text = (
        "一、总体要求\n全面贯彻新发展理念。\n二、重点任务\n(一)壮大创新主体\n"
        "1.培育科技型企业。每年新增科技型中小企业100家以上。\n(1)建立培育库。\n①完善政策。\n"
        "(二)建设创新平台\n三、保障措施:\n"
    )
    assert tasks(text) == [
        (["一"], "总体要求"),
        (["二"], "重点任务"),
        (["二", "(一)"], "壮大创新主体"),
        (["二", "(一)", "1"], "培育科技型企业"),
        (["二", "(一)", "1", "(1)"], "建立培育库"),
        (["二", "(一)", "1", "(1)", "①"], "完善政策"),
        (["二", "(二)"], "建设创新平台"),
        (["三"], "保障措施"),
    ]


def test_full_width_brackets_and_points():
    assert tasks("一．总体要求\n（一）指导思想\n１、坚持创新\n（１）强化企业") == [
        (["一"], "总体要求"),
        (["一", "(一)"], "指导思想"),
        (["一", "(一)", "1"], "坚持创新"),
        (["一", "(一)", "1", "(1)"], "强化企业"),
    ]


def test_run_in_headings_of_a_text_without_line_breaks():
    text = (
        "为加快创新,制定本方案。一、指导思想全面贯彻党的二十大精神,坚持创新驱动。二、主要任务"
        "(一)完善平台1.建设园区。支持园区发展。2.培育企业。加大培育力度。(二)强化保障3.加大投入。"
        "增加财政投入。三、工作要求1.加强领导。各部门要加强组织领导。"
    )
    assert tasks(text) == [
        (["一"], "指导思想"),
        (["二"], "主要任务"),
        (["二", "(一)"], "完善平台"),
        (["二", "(一)", "1"], "建设园区"),
        (["二", "(一)", "2"], "培育企业"),
        (["二", "(二)"], "强化保障"),
        (["二", "(二)", "3"], "加大投入"),
        (["三"], "工作要求"),
        (["三", "1"], "加强领导"),
    ]


def test_first_clause_is_the_title_up_to_the_full_stop():
    text = "(一)加快科技成果转化,推动产学研深度融合。围绕主导产业,建设中试基地。"
    assert tasks(text) == [(["(一)"], "加快科技成果转化,推动产学研深度融合")]


def test_run_in_body_is_cut_where_the_body_sentence_starts():
    assert tasks("(二)优化创新生态围绕创新链布局产业链,构建完整的创新体系。") == [
        (["(二)"], "优化创新生态")
    ]


def test_enumerations_are_not_headings():
    text = "一、目标任务\n一、二、三、四季度,完成率分别达20%、50%、80%、100%。统一、规范管理。\n"
    assert tasks(text) == [(["一"], "目标任务")]


def test_decimals_and_codes_are_not_headings():
    text = "一、总体要求\n研发投入达到0.16亿元,ISO9001.认证企业3家,2.5万人次参加。\n"
    assert tasks(text) == [(["一"], "总体要求")]


def test_indicator_lists_are_targets_not_tasks():
    text = (
        "预期指标是:\n1.综合科技进步水平指数达到60%以上。\n2.高新技术企业达到10家。\n"
        "一、重点工作\n(一)主要目标\n①技术合同成交额达到2亿元;\n②新增专利100件。\n(二)重点任务\n"
    )
    assert tasks(text) == [
        (["一"], "重点工作"),
        (["一", "(一)"], "主要目标"),
        (["一", "(二)"], "重点任务"),
    ]
    targets = extract(text)["targets"]
    assert [t["value"] for t in targets] == [60, 10, 2, 100]
    assert targets[0]["task_path"] is None
    assert targets[2]["task_path"] == ["一", "(一)"]


def test_yishi_inside_a_numbered_heading_is_not_a_task():
    text = "一、强化企业主体\n一是加大培育力度。二是推动研发全覆盖。\n二、建设平台\n"
    assert tasks(text) == [(["一"], "强化企业主体"), (["二"], "建设平台")]


def test_group_labels_with_yishi_items():
    text = (
        "工作重点是:\n"
        "紧扣一条主线。以强科技行动为主线,形成合力。\n"
        "抓实两项重点:一是加强项目建设。精准施策。是推进平台建设。加快建设。\n"
        "实现两个增长:财政科技投入实现快速增长以贯彻落实行动为契机,加大投入。二是研发经费实现增长。\n"
    )
    assert tasks(text) == [
        (["紧扣一条主线"], "紧扣一条主线"),
        (["抓实两项重点"], "抓实两项重点"),
        (["抓实两项重点", "一"], "加强项目建设"),
        (["抓实两项重点", "二"], "推进平台建设"),
        (["实现两个增长"], "实现两个增长"),
        (["实现两个增长", "一"], "财政科技投入实现快速增长"),
        (["实现两个增长", "二"], "研发经费实现增长"),
    ]


def test_dash_bullets_are_not_tasks():
    text = "到2027年,主要目标是:\n——高新技术企业达到50家;\n——技术合同成交额达到3亿元。\n"
    result = extract(text)
    assert result["tasks"] == []
    assert [(t["value"], t["year"]) for t in result["targets"]] == [(50, 2027), (3, 2027)]


def test_trailing_role_note_and_cross_reference_leave_the_title():
    text = "1.建设农业科技园区(牵头单位:县科技局)\n2.培育高新技术企业(县政府主要工作任务第111项)\n"
    assert tasks(text) == [(["1"], "建设农业科技园区"), (["2"], "培育高新技术企业")]


def test_wrapped_heading_keeps_its_line_break():
    text = (
        "1、局办公室负责统筹协调全局科技创新工作任务的分解落实和督促检查工作及时汇总各项工作\n"
        "进展情况。\n2、局政策法规科负责政策研究。\n"
    )
    titles = [title for _, title in tasks(text)]
    assert titles[0] == (
        "局办公室负责统筹协调全局科技创新工作任务的分解落实和督促检查工作及时汇总各项工作\n进展情况"
    )


def test_web_chrome_is_ignored():
    text = (
        "首页 > 政务公开 > 规划计划\n设为首页 | 加入收藏\n"
        "某县科技创新实施方案\n一、总体要求\n坚持创新驱动。\n二、重点任务\n建设平台。\n"
        "上一篇:关于召开会议的通知\n下一篇:1、下载文档前请自行甄别\n"
        "- 1、下载文档前请自行甄别文档内容\n"
    )
    assert tasks(text) == [(["一"], "总体要求"), (["二"], "重点任务")]


def test_flattened_table_rows_get_synthetic_paths():
    text = (
        "工作任务\t责任单位\t责任人\t完成时限\n"
        "推进科技园区建设(县政府主要工作任务第3项)\t县科技局、县农业农村局\t张三\t12月底\n"
        "培育高新技术企业5家\t县科技局\t李四\t全年\n"
    )
    result = extract(text)
    assert [(t["path"], t["title"], t["responsible_units"]) for t in result["tasks"]] == [
        (["#1"], "推进科技园区建设", ["县科技局", "县农业农村局"]),
        (["#2"], "培育高新技术企业5家", ["县科技局"]),
    ]
    assert result["targets"][0]["task_path"] == ["#2"]
