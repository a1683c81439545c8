from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kechuang.evaluation.models import IndexRun
from kechuang.evaluation.services import runs

pytestmark = pytest.mark.django_db
YEAR = 2024


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def run(shipped, cast) -> IndexRun:
    return runs.compute(shipped["CSPI_COUNTY"], YEAR, within=cast.unit("gansu"), actor=None)[0]


def test_the_ranking_page_lists_the_counties_with_their_first_levels(run, cast) -> None:
    page = client_for(cast.user("jingchuan", "clerk")).get(reverse("evaluation:ranking"))
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("泾川县", "崇信县", "城关区", "科技进步环境", "科技促进经济社会发展"):
        assert name in html
    assert "等权" in html  # the methodology's note about unofficial weights is shown
    assert "计算指数" not in html  # a clerk cannot compute


def test_a_city_view_ranks_its_own_counties(run, cast) -> None:
    page = client_for(cast.user("gansu", "leader")).get(
        reverse("evaluation:ranking"), {"run": run.pk, "within": cast.unit("pingliang").pk}
    )
    rows = page.context["rows"]
    assert sorted((r.result.org_unit.code, r.result.rank) for r in rows)[0][0] == "620821"
    assert sorted(r.result.rank for r in rows) == [1, 2]


def test_a_county_sees_its_own_profile_and_not_its_neighbours(run, cast) -> None:
    client = client_for(cast.user("jingchuan", "clerk"))
    own = client.get(reverse("evaluation:profile", args=[run.pk, "620821"]))
    assert own.status_code == 200
    assert "优势指标" in own.content.decode()
    assert client.get(reverse("evaluation:profile", args=[run.pk, "620823"])).status_code == 404
    city = client_for(cast.user("pingliang", "reviewer"))
    assert city.get(reverse("evaluation:profile", args=[run.pk, "620823"])).status_code == 200


def test_what_if_answers_on_the_profile_page(run, cast) -> None:
    client = client_for(cast.user("jingchuan", "leader"))
    url = reverse("evaluation:profile", args=[run.pk, "620821"])
    response = client.post(url, {"RD_INTENSITY": "2.5", "GOV_ST_SHARE": "5"})
    assert response.status_code == 200
    outcome = response.context["outcome"]
    assert outcome.score > outcome.score_before
    assert "→" in response.content.decode()
    # A what-if writes nothing.
    assert IndexRun.objects.count() == 1


def test_a_leader_computes_from_the_page_and_a_clerk_cannot(shipped, cast) -> None:
    data = {"methodology": shipped["CSPI_MINMAX"].pk, "year": YEAR}
    clerk = client_for(cast.user("pingliang", "clerk"))
    clerk.post(reverse("evaluation:compute"), data)
    assert not IndexRun.objects.exists()
    leader = client_for(cast.user("pingliang", "leader"))
    response = leader.post(reverse("evaluation:compute"), data)
    run = IndexRun.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"?run={run.pk}")
    assert run.within == cast.unit("pingliang")


def test_the_methodology_page_explains_each_step(run, cast) -> None:
    page = client_for(cast.user("chongxin", "clerk")).get(
        reverse("evaluation:methodology", args=[run.methodology.pk])
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "标准值法" in html
    assert "加权算术平均" in html
    assert "示例标准值" in html


def test_the_profile_proposes_an_improvement_path(run, cast) -> None:
    client = client_for(cast.user("jingchuan", "leader"))
    url = reverse("evaluation:profile", args=[run.pk, "620821"])
    current = run.results.get(org_unit=cast.unit("jingchuan"), year=YEAR).rank
    target = max(1, current - 1)
    response = client.post(url, {"target_rank": str(target)})
    assert response.status_code == 200
    path = response.context["path"]
    if current == 1:
        assert path.changes == []
    else:
        assert path.reached
        assert path.rank_after <= target
        assert path.changes  # at least one indicator has to move
        assert "提升路径" in response.content.decode()


def test_a_province_administrator_imports_the_official_table_from_the_page(shipped, cast) -> None:
    import io

    import openpyxl
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kechuang.evaluation.models import Methodology

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (
        ["层级", "代码", "名称", "上级代码", "方向", "权重", "标准值"],
        [2, "T", "甘肃省县域科技创新指数", "", "", "", ""],
        [1, "RD_INTENSITY", "研发经费投入强度", "T", "正向", "60%", 2.5],
        [1, "GOV_ST_SHARE", "财政科技支出占比", "T", "正向", "40%", 5],
    ):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    base = shipped["CSPI_COUNTY"]
    client = client_for(cast.user("gansu", "admin"))
    page = client.get(reverse("evaluation:methodology", args=[base.pk]))
    assert "导入本省正式指标体系及权重表" in page.content.decode()
    response = client.post(
        reverse("evaluation:methodology-import", args=[base.pk]),
        {"file": SimpleUploadedFile("甘肃省.xlsx", buffer.getvalue()), "version": 2026},
    )
    imported = Methodology.objects.get(code=base.code, version=2026)
    assert response["Location"] == reverse("evaluation:methodology", args=[imported.pk])
    assert imported.nodes.get(code="RD_INTENSITY").weight == pytest.approx(0.6)
