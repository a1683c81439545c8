"""The extractor against the hand annotations: the seeds and our own synthetic plans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kechuang.plans.extraction import extract, read_text, score_document, summarise

from .conftest import DATA

GOALS = {"tasks": 0.95, "units": 0.95, "targets": 0.90, "subsidies": 0.95}
SYNTHETIC = sorted(DATA.glob("*.txt"))


def _score(name: str, text: Path, gold: Path):
    return score_document(json.loads(gold.read_text("utf-8")), extract(read_text(text)), name)


def test_seeds_meet_the_goals(seed_pairs):
    summary = summarise([_score(name, text, gold) for name, text, gold in seed_pairs])
    for category, goal in GOALS.items():
        assert summary["micro"][category]["f1"] >= goal, (category, summary["micro"][category])
    assert summary["micro"]["targets_distinct"]["f1"] >= GOALS["targets"]
    assert all(value >= 0.75 for value in summary["document_accuracy"].values())
    assert summary["non_target_errors"] == 0


@pytest.mark.parametrize("text", SYNTHETIC, ids=[path.stem for path in SYNTHETIC])
def test_synthetic_plans_meet_the_goals(text: Path):
    score = _score(text.stem, text, text.with_suffix(".json"))
    for category, goal in GOALS.items():
        assert getattr(score, category).f1 >= goal, (category, getattr(score, category))
    assert all(ratio.value == 1 for ratio in score.document.values()), score.document


@pytest.mark.parametrize("text", SYNTHETIC, ids=[path.stem for path in SYNTHETIC])
def test_every_string_is_a_slice_of_the_input(text: Path):
    source = read_text(text)
    result = extract(source)
    strings = [task["title"] for task in result["tasks"]]
    strings += [
        unit
        for task in result["tasks"]
        for role in ("lead_units", "responsible_units", "cooperating_units")
        for unit in task[role]
    ]
    strings += [item["text"] for item in result["targets"] + result["subsidies"]]
    assert all(string and string in source for string in strings)


def test_the_seeds_yield_exact_substrings(seed_pairs):
    for _, text, _ in seed_pairs:
        source = read_text(text)
        result = extract(source)
        for target in result["targets"]:
            assert target["text"] in source
            assert target["task_path"] is None or any(
                task["path"] == target["task_path"] for task in result["tasks"]
            )


_FULL_WIDTH = str.maketrans({",": "，", ":": "：", "(": "（", ")": "）", ";": "；", "?": "？"})


@pytest.mark.parametrize("text", SYNTHETIC, ids=[path.stem for path in SYNTHETIC])
def test_full_width_punctuation_and_crlf_change_nothing(text: Path):
    plain = extract(read_text(text))
    wide = extract(read_text(text).translate(_FULL_WIDTH).replace("\n", "\r\n"))
    score = score_document(plain, wide)
    assert score.tasks.f1 == score.units.f1 == score.targets.f1 == score.subsidies.f1 == 1
