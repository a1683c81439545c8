"""The plan-gold scoring rules."""

from __future__ import annotations

import pytest

from kechuang.plans.extraction.scoring import (
    dice,
    jaccard,
    match_tasks,
    normalise,
    score_document,
    summarise,
)


def task(path, title, **roles):
    return {
        "path": path,
        "title": title,
        "lead_units": [],
        "responsible_units": [],
        "cooperating_units": [],
        **roles,
    }


def target(text, subject, value, unit, **extra):
    base = {"comparator": ">=", "year": None, "scope": None, "task_path": None, "repeat_of": None}
    return {"text": text, "subject": subject, "value": value, "value_max": None, "unit": unit,
            **base, **extra}  # fmt: skip


def test_normalisation():
    assert normalise("（一）全县\n R&D ，；：〔2018〕") == "(一)全县R&D,;:[2018]"
    assert dice("科技园区", "科技园区") == 1.0
    assert dice("高新技术企业", "企业") == pytest.approx(2 / 6)
    assert jaccard("ab", "abc") == pytest.approx(2 / 3)


def test_tasks_pair_by_path_then_by_title():
    gold = [task(["一"], "总体要求"), task(["抓实五项重点", "二"], "推进创新平台建设")]
    pred = [task(["一"], "总体"), task(["二"], "推进创新平台建设")]
    assert match_tasks(gold, pred) == [(0, 0), (1, 1)]
    assert match_tasks(gold, [task(["9"], "完全不同的标题")]) == []


def test_units_treat_a_split_party_and_government_pair_as_one():
    gold = {"tasks": [task(["一"], "建设", responsible_units=["各县(市)党委、政府", "省科技厅等"])]}
    pred = {
        "tasks": [
            task(["一"], "建设", responsible_units=["各县(市)党委", "各县(市)政府", "省科技厅"])
        ]
    }
    score = score_document(gold, pred)
    assert (score.units.tp, score.units.fp, score.units.fn) == (2, 0, 0)


def test_targets_need_equal_values_and_units():
    gold = {"targets": [target("高新技术企业达到10家", "高新技术企业", 10, "家")]}
    assert (
        score_document(
            gold, {"targets": [target("高新技术企业10家", "高新技术企业", 10, "家")]}
        ).targets.f1
        == 1
    )
    assert (
        score_document(
            gold, {"targets": [target("高新技术企业10个", "高新技术企业", 10, "个")]}
        ).targets.f1
        == 0
    )
    assert (
        score_document(gold, {"targets": [target("其他10家", "完全不同", 10, "家")]}).targets.f1
        == 0
    )


def test_uncertain_predictions_are_dropped_and_background_is_counted():
    gold = {
        "targets": [],
        "uncertain_targets": [{"text": "部署的27项重点任务", "note": ""}],
        "non_targets": [{"text": "平均技术交易额0.92亿元"}],
    }
    pred = {"targets": [target("27项重点任务落实", "重点任务", 27, "项"),
                        target("技术交易额0.92亿元", "技术交易额", 0.92, "亿元")]}  # fmt: skip
    score = score_document(gold, pred)
    assert (score.targets.tp, score.targets.fp, score.non_target_errors) == (0, 1, 1)


def test_distinct_level_merges_restated_targets():
    first = target("本级财政科技支出达到0.18亿元以上", "本级财政科技支出", 0.18, "亿元")
    again = target(
        "县级财政科技支出达到0.18亿元以上", "县级财政科技支出", 0.18, "亿元", repeat_of=0
    )
    gold = {"targets": [first, again]}
    once = {
        "targets": [target("本级财政科技支出达到0.18亿元以上", "本级财政科技支出", 0.18, "亿元")]
    }
    score = score_document(gold, once)
    assert (score.targets.tp, score.targets.fn) == (1, 1)
    assert (score.targets_distinct.tp, score.targets_distinct.fn, score.targets_distinct.fp) == (
        1,
        0,
        0,
    )


def test_garbled_document_number_is_accepted_as_written():
    gold = {
        "document": {
            "title": None,
            "issuer": "甲 乙",
            "doc_number": "甘办发〔2018〕8号",
            "date": None,
        }
    }
    pred = {
        "document": {"title": None, "issuer": "甲、乙", "doc_number": "甘办发〔20188", "date": None}
    }
    summary = summarise([score_document(gold, pred)])
    assert summary["document_accuracy"] == {"title": 1, "issuer": 1, "doc_number": 1, "date": 1}


def test_empty_categories_count_as_perfect():
    summary = summarise([score_document({}, {})])
    assert summary["micro"]["subsidies"]["f1"] == 1
