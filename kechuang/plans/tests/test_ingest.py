"""Ingesting a plan text: the proposal, publishing it, the decomposition table in Excel and Word."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kechuang.audit.models import LogEntry
from kechuang.core.errors import Forbidden, InvalidInput
from kechuang.demo.plan_data import PLANS_DIR
from kechuang.plans.choices import Role
from kechuang.plans.extraction.extract import extract
from kechuang.plans.models import Assignment, Plan, PlanTarget, Subsidy, Task
from kechuang.plans.services import ingest, tables
from kechuang.regions import services as regions
from kechuang.regions.divisions import Division
from kechuang.regions.models import OrgUnit

pytestmark = pytest.mark.django_db
SEED_004 = PLANS_DIR / "004_ganzhou_st_measures.txt"


@pytest.fixture
def ganzhou(cast: Any) -> Any:
    """张掖市甘州区 under the cast's 甘肃省, with a few departments its plan names."""
    regions.load_divisions(
        [
            Division("6207", "张掖市", 2, "62", "administrative"),
            Division("620702", "甘州区", 3, "6207", "administrative"),
        ],
        retire_missing=False,
    )
    unit = OrgUnit.objects.get(code="620702")
    for name in ("甘州区科学技术局", "甘州区财政局"):
        regions.create_department(actor=None, org_unit=unit, name=name)
    return unit


def test_seed_004_is_published_with_every_task_unit_and_target(ganzhou) -> None:
    text = SEED_004.read_text(encoding="utf-8")
    expected = extract(text)
    proposal = ingest.propose(text, ganzhou)
    plan = ingest.publish(proposal, org_unit=ganzhou, actor=None, text=text)
    assert plan.title == expected["document"]["title"]
    assert Task.objects.filter(plan=plan).count() == len(expected["tasks"]) > 10
    written = {
        (tuple(a.task.path), a.role, a.name) for a in Assignment.objects.filter(task__plan=plan)
    }
    wanted = {
        (tuple(t["path"]), role, name)
        for t in expected["tasks"]
        for role, key in ingest.ROLE_KEYS.items()
        for name in t[key]
    }
    assert written == wanted
    assert len(wanted) > 10
    assert PlanTarget.objects.filter(plan=plan).count() == len(expected["targets"]) > 5
    assert Subsidy.objects.filter(plan=plan).count() == len(expected["subsidies"]) > 0
    # The tree follows the numbering: every task below the first level has its parent.
    for task in Task.objects.filter(plan=plan):
        if task.parent is not None:
            assert task.path[: len(task.parent.path)] == task.parent.path
    assert LogEntry.objects.filter(action="plans.plan.publish").count() == 1


def test_unit_names_are_matched_to_departments_or_left_for_the_reviewer(ganzhou) -> None:
    assert ingest.match_unit("区科技局", ganzhou).department.name == "甘州区科学技术局"
    assert ingest.match_unit("甘州区财政局", ganzhou).department.name == "甘州区财政局"
    assert ingest.match_unit("甘州区", ganzhou).org_unit == ganzhou
    assert not ingest.match_unit("区市场监管局", ganzhou).matched


def test_the_reviewer_may_create_the_unknown_departments(ganzhou) -> None:
    text = SEED_004.read_text(encoding="utf-8")
    proposal = ingest.propose(text, ganzhou)
    unknown = proposal.unmatched
    assert unknown
    plan = ingest.publish(proposal, org_unit=ganzhou, actor=None, create_departments=unknown[:1])
    created = Assignment.objects.filter(task__plan=plan, name=unknown[0])
    assert created.exists()
    assert all(a.department is not None for a in created)


def test_who_may_publish(ganzhou, cast) -> None:
    proposal = ingest.propose(SEED_004.read_text(encoding="utf-8"), ganzhou)
    with pytest.raises(Forbidden):
        ingest.publish(proposal, org_unit=ganzhou, actor=cast.user("gansu", "clerk"))
    with pytest.raises(InvalidInput):
        ingest.propose("   ", ganzhou)
    assert not Plan.objects.exists()
    plan = ingest.publish(proposal, org_unit=ganzhou, actor=cast.user("gansu", "leader"))
    assert plan.org_unit == ganzhou


@pytest.fixture
def plan(ganzhou) -> Plan:
    text = SEED_004.read_text(encoding="utf-8")
    return ingest.publish(ingest.propose(text, ganzhou), org_unit=ganzhou, actor=None, text=text)


def test_the_decomposition_table_in_excel(plan) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(tables.excel(plan)))
    sheet = workbook.active
    assert [c.value for c in sheet[2]] == list(tables.HEADERS)
    body = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(body) == plan.tasks.count()
    leads = [row[3] for row in body if row[3]]
    assert leads  # 004 names 牵头单位
    assert any(row[2] for row in body)  # and targets on their tasks


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_the_decomposition_table_in_word_opens_in_libreoffice(plan, tmp_path: Path) -> None:
    path = tmp_path / "分解表.docx"
    path.write_bytes(tables.word(plan))
    result = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    pdf = tmp_path / "分解表.pdf"
    assert result.returncode == 0, result.stderr
    assert pdf.is_file()
    assert pdf.stat().st_size > 5_000
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "牵头单位" in text
    assert plan.tasks.filter(assignments__role=Role.LEAD).exists()
