"""The worked example of docs/plans-scoring.md, number by number."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kechuang.plans.models import Assignment, Plan, ProgressReport, Task
from kechuang.plans.services.scoring import unit_scores

pytestmark = pytest.mark.django_db
DAY = datetime.date(2024, 9, 1)


@pytest.fixture
def example(cast) -> Plan:
    plan = Plan.objects.create(
        org_unit=cast.unit("jingchuan"), title="示例方案", issued_on=datetime.date(2024, 1, 1)
    )
    rows = [
        ("T1", 2, ["县科技局"], ["县财政局"], 100, datetime.date(2024, 6, 30)),
        ("T2", 1, ["县科技局"], [], 50, datetime.date(2024, 8, 1)),
        ("T3", 1, [], ["县财政局", "县工信局"], 80, datetime.date(2024, 12, 31)),
    ]
    for order, (title, weight, leads, responsible, percent, deadline) in enumerate(rows):
        task = Task.objects.create(
            plan=plan, path=[title], title=title, weight=weight, deadline=deadline, order=order
        )
        for name in leads:
            Assignment.objects.create(task=task, role="lead", name=name)
        for name in responsible:
            Assignment.objects.create(task=task, role="responsible", name=name)
        Assignment.objects.create(task=task, role="cooperating", name="县统计局")
        now = timezone.now()
        ProgressReport.objects.create(
            task=task, period="2024-H1", percent=percent, text="", reported_at=now, confirmed_at=now
        )
    return plan


def test_the_worked_example(example) -> None:
    scores = {s.unit: s for s in unit_scores(example, DAY)}
    assert set(scores) == {"县科技局", "县财政局", "县工信局"}  # cooperating units are not scored
    finance, industry, science = scores["县财政局"], scores["县工信局"], scores["县科技局"]
    assert finance.completion == pytest.approx(2.8 / 3)
    assert finance.timeliness == pytest.approx(1.0)
    assert finance.score == pytest.approx(96.0)
    assert industry.score == pytest.approx(88.0)
    assert science.completion == pytest.approx(2.5 / 3)
    assert science.timeliness == pytest.approx(2 / 3)
    assert science.score == pytest.approx(100 * (0.6 * 2.5 / 3 + 0.4 * 2 / 3))
    assert [(s.unit, s.rank) for s in unit_scores(example, DAY)] == [
        ("县财政局", 1),
        ("县工信局", 2),
        ("县科技局", 3),
    ]


def test_an_unconfirmed_report_does_not_count(example) -> None:
    task = example.tasks.get(title="T2")
    ProgressReport.objects.create(
        task=task, period="2024-Q3", percent=100, text="", reported_at=timezone.now()
    )
    assert {s.unit: s.score for s in unit_scores(example, DAY)}["县科技局"] == pytest.approx(
        76.6666666667
    )


def test_the_bulletin_lists_lagging_tasks_and_ranks_units(example, tmp_path) -> None:
    import shutil
    import subprocess

    from kechuang.plans.services import bulletin

    data = bulletin.bulletin(example, DAY)
    assert [(item.task.title, item.light) for item in data.lagging] == [("T2", "red")]
    assert [s.unit for s in data.scores] == ["县财政局", "县工信局", "县科技局"]
    pdf = tmp_path / "通报.pdf"
    pdf.write_bytes(bulletin.pdf(data))
    from pypdf import PdfReader

    text = PdfReader(pdf).pages[0].extract_text()
    assert "督查通报" in text
    assert "县财政局" in text
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-r", "30", "-gray", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
            check=True,
            timeout=60,
        )
        image = next(tmp_path.glob("p*.pgm")).read_bytes()
        pixels = image[image.index(b"255\n") + 4 :]
        assert sum(1 for b in pixels if b < 128) > 200  # ink on the page: the glyphs rendered
    docx = tmp_path / "通报.docx"
    docx.write_bytes(bulletin.docx(data))
    assert docx.read_bytes()[:2] == b"PK"
