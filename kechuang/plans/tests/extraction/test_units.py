"""Role labels and their unit lists."""

from __future__ import annotations

from kechuang.plans.extraction import extract


def roles(text: str) -> list[tuple[list[str], list[str], list[str]]]:
    return [
        (t["lead_units"], t["responsible_units"], t["cooperating_units"])
        for t in extract(text)["tasks"]
    ]


def test_labels_on_their_own_lines():
    text = (
        "(一)建设平台\n建设一批平台。\n责任单位:省科技厅,各市(州)党委、政府,各县(市)党委、政府。\n"
        "配合单位:省财政厅、省发展改革委等。\n"
    )
    assert roles(text) == [
        ([], ["省科技厅", "各市(州)党委、政府", "各县(市)党委、政府"], ["省财政厅", "省发展改革委"])
    ]


def test_labels_in_parentheses_and_run_together():
    text = (
        "1.培育企业。加大力度。(牵头单位:市科技局;配合单位:市财政局、市税务局)\n"
        "2.建设园区。牵头单位:区科技局、绿洲办配合单位:区财政局 区农业局3.引进人才。\n"
    )
    assert roles(text) == [
        (["市科技局"], [], ["市财政局", "市税务局"]),
        (["区科技局", "绿洲办"], [], ["区财政局", "区农业局"]),
        ([], [], []),
    ]


def test_label_with_its_list_on_the_next_line():
    text = "1.发展服务机构。\n牵头单位:\n市科技局\n配合单位:\n市市场监管局、市财政局\n"
    assert roles(text) == [(["市科技局"], [], ["市市场监管局", "市财政局"])]


def test_lead_office_label_variant():
    text = "1.完善制度。\n牵头科室(单位):办公室、政策法规科\n"
    assert roles(text) == [(["办公室", "政策法规科"], [], [])]


def test_standalone_lead_clause():
    text = (
        "1.加大督查考核。建立评价机制,区督查考核局牵头,对落实情况进行督促检查。\n"
        "2.强化投入。市财政每年安排资金。(市财政局牵头,市科技局配合)\n"
        "3.组建队伍。由各级科技部门牵头组建专家队伍,支持龙头企业牵头组建创新联合体。\n"
    )
    assert roles(text) == [
        (["区督查考核局"], [], []),
        (["市财政局"], [], ["市科技局"]),
        ([], [], []),
    ]


def test_persons_and_duties_are_not_units():
    text = (
        "1.落实责任。县级党委和政府是责任主体,各县(区)政府要制定方案,会同工信、统计等部门推进。\n"
        "责任领导:李建雄\n责任人:张三\n督促各责任单位、实施单位出台细则。\n"
    )
    assert roles(text) == [([], [], [])]


def test_units_keep_the_source_spelling():
    text = "1.推进建设。\n牵头单位:张掖经济技术经开区管委会、各市)党委、政府\n"
    assert roles(text) == [(["张掖经济技术经开区管委会", "各市)党委、政府"], [], [])]


def test_trailing_etc_and_role_notes_leave_the_name():
    text = "1.建设平台。\n责任单位:市科技局(牵头)、市税务局等有关单位\n配合单位:各县区人民政府等\n"
    assert roles(text) == [([], ["市科技局", "市税务局"], ["各县区人民政府"])]
