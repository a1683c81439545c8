"""Download the template from the page, fill it, upload it; a bad file changes nothing."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kechuang.indicators import services
from kechuang.indicators.models import DataValue
from kechuang.indicators.services import cell_history

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def clerk(cast):
    client = Client()
    client.force_login(cast.user("jingchuan", "clerk"))
    return client


@pytest.fixture
def draft(cast, catalogue):
    return services.open_submission(
        catalogue.dataset, cast.unit("jingchuan"), 2023, actor=cast.user("jingchuan", "clerk")
    )


def filled_template(clerk: Client, draft, values: dict[str, object]) -> bytes:
    response = clerk.get(reverse("indicators:submission-template", args=[draft.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook["填报表"]
    for row in sheet.iter_rows(min_row=6):
        code = row[2].value
        if code in values:
            row[6].value = values[code]
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_a_filled_template_uploads_through_the_page(clerk, draft) -> None:
    data = filled_template(
        clerk, draft, {"RD_EXP": 0.16, "GOV_ST_EXP": 0.18, "GOV_EXP": 12.5, "HTE_NEW": 1}
    )
    response = clerk.post(
        reverse("indicators:upload"),
        {"file": SimpleUploadedFile("泾川县.xlsx", data, content_type=XLSX)},
    )
    assert response.status_code == 302
    assert DataValue.objects.get(indicator__code="GOV_EXP").value == 12.5
    history = cell_history(DataValue.objects.all())
    assert {(r.channel, r.value_before) for r in history} == {("upload", None)}
    assert len(history) == 4


def test_a_bad_upload_lists_every_problem_and_imports_nothing(clerk, draft) -> None:
    data = filled_template(clerk, draft, {"RD_EXP": "很多", "HTE_NEW": -3})
    response = clerk.post(
        reverse("indicators:upload"),
        {"file": SimpleUploadedFile("bad.xlsx", data, content_type=XLSX)},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "bad.xlsx:填报表:" in page
    assert page.count('class="finding error"') >= 2
    assert not DataValue.objects.exists()


def test_a_dry_run_checks_without_writing(clerk, draft) -> None:
    data = filled_template(clerk, draft, {"RD_EXP": 0.2})
    response = clerk.post(
        reverse("indicators:upload"), {"file": SimpleUploadedFile("t.xlsx", data), "dry_run": "on"}
    )
    assert response.status_code == 200
    assert "检查通过" in response.content.decode()
    assert not DataValue.objects.exists()


def test_the_template_is_only_for_those_who_may_see_the_submission(cast, draft) -> None:
    other = Client()
    other.force_login(cast.user("chongxin", "clerk"))
    assert other.get(reverse("indicators:submission-template", args=[draft.pk])).status_code == 404
