from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kechuang.plans.models import Plan
from kechuang.plans.services import ingest

pytestmark = pytest.mark.django_db

TEXT = """泾川县2024年科技创新工作方案
一、重点任务
(一)培育创新主体
1.新增高新技术企业2家以上。(牵头单位:县科技局;责任单位:县工信局、县财政局)
2.建设省级科技创新平台1个。(牵头单位:县科技局)
二、保障措施
(一)加强组织领导(责任单位:县科技局)
"""


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def plan(cast) -> Plan:
    unit = cast.unit("jingchuan")
    return ingest.publish(ingest.propose(TEXT, unit), org_unit=unit, actor=None, text=TEXT)


def test_a_leader_pastes_reviews_and_publishes_a_plan(cast) -> None:
    client = client_for(cast.user("jingchuan", "leader"))
    review = client.post(reverse("plans:ingest"), {"text": TEXT})
    assert review.status_code == 200
    html = review.content.decode()
    assert "培育创新主体" in html
    assert "县工信局" in html
    form = review.context["form"]
    data = {**{k: v for k, v in form.initial.items() if v is not None}, "publish": "1"}
    data["title"] = "泾川县2024年科技创新工作方案（修订）"
    data["create"] = ["县科技局"]
    response = client.post(reverse("plans:ingest"), data)
    plan = Plan.objects.get()
    assert response.status_code == 302
    assert plan.title == "泾川县2024年科技创新工作方案（修订）"
    assert plan.tasks.count() >= 5
    lead = plan.tasks.get(path=["一", "(一)", "1"]).assignments.get(role="lead")
    assert lead.department is not None  # created on the reviewer's word
    assert lead.department.org_unit == cast.unit("jingchuan")


def test_an_uploaded_gbk_file_is_read(cast) -> None:
    client = client_for(cast.user("jingchuan", "admin"))
    upload = SimpleUploadedFile("方案.txt", TEXT.encode("gb18030"))
    response = client.post(reverse("plans:ingest"), {"file": upload})
    assert "培育创新主体" in response.content.decode()


def test_clerks_cannot_publish(cast) -> None:
    client = client_for(cast.user("jingchuan", "clerk"))
    assert client.get(reverse("plans:ingest")).status_code == 403
    assert client.post(reverse("plans:ingest"), {"text": TEXT}).status_code == 403
    assert not Plan.objects.exists()


def test_the_plan_page_and_its_downloads(plan, cast) -> None:
    client = client_for(cast.user("jingchuan", "clerk"))
    page = client.get(reverse("plans:detail", args=[plan.pk]))
    assert page.status_code == 200
    assert "考核指标任务分解表" in page.content.decode()
    excel = client.get(reverse("plans:table", args=[plan.pk, "xlsx"]))
    sheet = openpyxl.load_workbook(io.BytesIO(excel.content)).active
    assert any(row[3] == "县科技局" for row in sheet.iter_rows(min_row=3, values_only=True))
    word = client.get(reverse("plans:table", args=[plan.pk, "docx"]))
    assert word.content[:2] == b"PK"
    assert client.get(reverse("plans:table", args=[plan.pk, "pdf"])).status_code == 404
    # Outside the subtree the plan does not exist.
    other = client_for(cast.user("chongxin", "clerk"))
    assert other.get(reverse("plans:detail", args=[plan.pk])).status_code == 404


def test_a_task_page_takes_progress_and_supervision(plan, cast) -> None:
    task = plan.tasks.get(path=["一", "(一)", "1"])
    clerk = client_for(cast.user("jingchuan", "clerk"))
    url = reverse("plans:task", args=[task.pk])
    assert clerk.get(url).status_code == 200
    clerk.post(url, {"action": "report", "period": "2024-Q2", "percent": "60", "text": "已认定1家"})
    report = task.reports.get()
    assert report.confirmed_at is None
    clerk.post(url, {"action": "confirm", "report": report.pk})
    report.refresh_from_db()
    assert report.confirmed_at is None  # a clerk does not confirm
    leader = client_for(cast.user("jingchuan", "leader"))
    leader.post(url, {"action": "confirm", "report": report.pk})
    report.refresh_from_db()
    assert report.confirmed_at is not None
    response = leader.post(url, {"action": "report", "percent": "300", "text": "x"}, follow=True)
    assert "0 到 100" in response.content.decode()
    assert task.reports.count() == 1


def test_the_board_and_the_changes_since_a_date(plan, cast) -> None:
    import datetime

    from django.utils import timezone

    from kechuang.plans.services import supervision

    task = plan.tasks.get(path=["一", "(一)", "1"])
    task.deadline = datetime.date(2024, 3, 31)
    task.save()
    supervision.urge(task, actor=None, text="请加快", now=timezone.now())
    client = client_for(cast.user("jingchuan", "reviewer"))
    page = client.get(reverse("plans:detail", args=[plan.pk]), {"since": "2020-01-01"})
    html = page.content.decode()
    assert "挂图作战" in html
    months = page.context["months"]
    assert months == ["2024-03"]
    units = dict(page.context["board"])
    assert [t.pk for t, _status in units["县科技局"][0]] == [task.pk]
    assert "请加快" in html
    assert [text for *_rest, text in page.context["changes"]] == ["请加快"]
