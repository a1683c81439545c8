"""The clerk's form and the reviewer's buttons, through Django's test client."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kechuang.indicators import services
from kechuang.indicators.models import DataValue, Submission
from kechuang.indicators.services import ValueChange

GOOD = {"v_RD_EXP": "0.16", "v_GOV_ST_EXP": "0.18", "v_GOV_EXP": "12.5", "v_HTE_NEW": "1"}


@pytest.fixture
def clerk_client(cast):
    client = Client()
    client.force_login(cast.user("jingchuan", "clerk"))
    return client


def open_form(client: Client, year: int = 2023) -> Submission:
    response = client.post(reverse("indicators:open"), {"dataset": "COUNTY_ANNUAL", "year": year})
    assert response.status_code == 302
    return Submission.objects.get(year=year)


def test_the_clerk_saves_sees_last_year_and_derived_values(cast, catalogue, clerk_client) -> None:
    last = open_form(clerk_client, 2022)
    services.set_values(last, [ValueChange("RD_EXP", 0.11)], actor=cast.user("jingchuan", "clerk"))
    submission = open_form(clerk_client, 2023)
    url = reverse("indicators:submission", args=[submission.pk])
    assert clerk_client.post(url, {**GOOD, "save": "1"}).status_code == 302
    assert DataValue.objects.get(year=2023, indicator__code="RD_EXP").value == 0.16
    page = clerk_client.get(url).content.decode()
    assert "0.11" in page  # last year, beside this year's box
    assert 'value="1.44"' in page  # 财政科技支出占比 = 0.18 / 12.5 × 100, computed


def test_an_error_keeps_the_values_and_says_what_to_fix(cast, catalogue, clerk_client) -> None:
    submission = open_form(clerk_client)
    url = reverse("indicators:submission", args=[submission.pk])
    response = clerk_client.post(url, {**GOOD, "v_GOV_ST_EXP": "30", "submit": "1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "一般公共预算支出" in page
    submission.refresh_from_db()
    assert submission.status == "draft"
    assert DataValue.objects.get(indicator__code="GOV_ST_EXP").value == 30.0  # saved, not lost
    fixed = clerk_client.post(url, {**GOOD, "submit": "1"})
    assert fixed.status_code == 302
    submission.refresh_from_db()
    assert submission.status == "submitted"


def test_the_reviewer_returns_with_a_reason_then_the_history_shows_every_change(
    cast, catalogue, clerk_client
) -> None:
    submission = open_form(clerk_client)
    url = reverse("indicators:submission", args=[submission.pk])
    clerk_client.post(url, {**GOOD, "submit": "1"})
    reviewer = Client()
    reviewer.force_login(cast.user("pingliang", "reviewer"))
    page = reviewer.get(url).content.decode()
    assert "审核通过" in page
    assert (
        reviewer.post(
            reverse("indicators:return", args=[submission.pk]), {"reason": "研发经费口径有误"}
        ).status_code
        == 302
    )
    clerk_client.post(url, {**GOOD, "v_RD_EXP": "0.2", "reason": "按年报更正", "submit": "1"})
    history = clerk_client.get(
        reverse("indicators:submission-history", args=[submission.pk])
    ).content.decode()
    assert "按年报更正" in history
    assert "0.16" in history
    assert "0.2" in history
    submission.refresh_from_db()
    assert submission.status == "submitted"
    assert submission.return_reason == ""


def test_the_progress_matrix_flags_values_changed_after_approval(
    cast, catalogue, clerk_client
) -> None:
    submission = open_form(clerk_client)
    url = reverse("indicators:submission", args=[submission.pk])
    clerk_client.post(url, {**GOOD, "submit": "1"})
    submission.refresh_from_db()
    services.approve_submission(submission, actor=cast.user("pingliang", "reviewer"))
    services.approve_submission(submission, actor=cast.user("gansu", "reviewer"))
    province = Client()
    province.force_login(cast.user("gansu", "reviewer"))
    matrix = reverse("indicators:review")
    query = {"dataset": "COUNTY_ANNUAL", "year": 2023}
    assert "审定后有变动" not in province.get(matrix, query).content.decode()
    # A change behind the workflow's back (a database repair, say) must show.
    DataValue.objects.filter(indicator__code="RD_EXP", year=2023).update(value=9.9)
    assert "审定后有变动" in province.get(matrix, query).content.decode()
