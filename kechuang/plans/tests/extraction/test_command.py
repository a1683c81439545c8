"""kechuang plan extract / score."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from .conftest import DATA

PLAN = "某县2023年科技工作要点\n一、培育企业\n年内,新增高新技术企业5家以上。\n牵头单位:县科技局\n"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("plan", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.parametrize(
    ("encoding", "prefix"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b"")]
)
def test_extract_reads_the_usual_encodings(tmp_path: Path, encoding: str, prefix: bytes):
    path = tmp_path / "plan.txt"
    path.write_bytes(prefix + PLAN.encode(encoding))
    result = json.loads(run("extract", str(path), "--format", "json"))
    assert result["document"]["title"] == "某县2023年科技工作要点"
    assert result["tasks"][0]["lead_units"] == ["县科技局"]
    assert result["targets"][0]["year"] == 2023


def test_extract_prints_one_list_element_per_line(tmp_path: Path):
    path = tmp_path / "plan.txt"
    path.write_text(PLAN, encoding="utf-8")
    lines = run("extract", str(path)).splitlines()
    assert any(line.strip().startswith('{"path": ["一"]') for line in lines)


def test_extract_table_format(tmp_path: Path):
    path = tmp_path / "plan.txt"
    path.write_text(PLAN, encoding="utf-8")
    assert "| 一 | 培育企业 | 县科技局 |" in run("extract", str(path), "--format", "table")


def test_errors_name_the_file(tmp_path: Path):
    missing = tmp_path / "missing.txt"
    with pytest.raises(CommandError, match=r"missing\.txt"):
        run("extract", str(missing))
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81\x30\x81")
    with pytest.raises(CommandError, match=r"binary\.txt"):
        run("extract", str(binary))


def test_score_a_file_and_a_folder(tmp_path: Path):
    gold = DATA / "news_item.json"
    pred = tmp_path / "news_item.json"
    pred.write_text(run("extract", str(DATA / "news_item.txt")), encoding="utf-8")
    assert "targets (occurrence)" in run("score", str(gold), str(pred))
    summary = json.loads(run("score", str(DATA), str(DATA), "--format", "json"))
    assert summary["micro"]["tasks"]["f1"] >= 0.95
