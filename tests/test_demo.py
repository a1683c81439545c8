"""The demo's indicator data: plausible, consistent with the catalogue's rules, in every state."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from kechuang.indicators.choices import Importance
from kechuang.indicators.models import DataValue, Submission, Target
from kechuang.indicators.services import validate_submission, values_digest

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> None:
    call_command("demo", "--scale", "county")


def test_demo_counties_have_ten_years_of_labelled_values_and_targets(demo) -> None:
    years = set(DataValue.objects.filter(org_unit__code="620821").values_list("year", flat=True))
    assert years == set(range(2016, 2026))
    assert not DataValue.objects.filter(is_demo=False).exists()
    assert Target.objects.filter(
        org_unit__code="620821", year=2023, indicator__code="RD_EXP"
    ).get().value == pytest.approx(0.17)
    assert Target.objects.filter(is_demo=True).count() > 0


def test_every_workflow_state_has_something_to_show(demo) -> None:
    states = set(Submission.objects.filter(year=2025).values_list("status", flat=True))
    # With two demo counties at county scale: the clerk's open draft and the sibling's
    # submission; the province scale spreads all five states (see the service).
    assert {"draft", "submitted"} <= states
    assert (
        Submission.objects.get(
            org_unit__code="620821", year=2025, dataset__code="COUNTY_ANNUAL"
        ).status
        == "draft"
    )


def test_approved_demo_years_pass_validation_and_carry_their_digest(demo) -> None:
    approved = Submission.objects.filter(status="approved", dataset__code="COUNTY_ANNUAL")
    assert approved.count() >= 9
    for submission in approved:
        errors = [f for f in validate_submission(submission) if f.severity == Importance.ERROR]
        assert errors == [], (submission, errors[:3])
        assert submission.approved_digest == values_digest(submission)


def test_a_second_load_keeps_what_was_done_and_refresh_regenerates(demo) -> None:
    draft = Submission.objects.get(
        org_unit__code="620821", year=2025, dataset__code="COUNTY_ANNUAL"
    )
    Submission.objects.filter(pk=draft.pk).update(return_reason="演示中的修改")
    call_command("demo", "--scale", "county")
    assert Submission.objects.get(pk=draft.pk).return_reason == "演示中的修改"
    call_command("demo", "--scale", "county", "--refresh")
    assert not Submission.objects.filter(return_reason="演示中的修改").exists()
