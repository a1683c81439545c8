"""Entering values and the review chain: county enters and submits, city reviews, province approves.

Each transition is tried by every role at the units that matter; what is
refused changes nothing (values, submissions, revisions and the audit log).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from kechuang.audit import services as audit
from kechuang.audit.models import LogEntry
from kechuang.core.errors import Forbidden, InvalidInput, NotFound
from kechuang.indicators import services
from kechuang.indicators.choices import Channel, SubmissionStatus
from kechuang.indicators.errors import InvalidTransition, ValidationFailed, ValuesLocked
from kechuang.indicators.models import (
    DataSet,
    DataSetMember,
    DataValue,
    DataValueRevision,
    Indicator,
    Submission,
    ValidationRule,
)
from kechuang.indicators.services import ValueChange

YEAR = 2023
GOOD = {"RD_EXP": 0.16, "GOV_ST_EXP": 0.18, "GOV_EXP": 12.5, "HTE_NEW": 1}


def state() -> str:
    """A digest of every row a workflow step could touch."""
    rows = [
        list(
            DataValue.objects.order_by("pk").values_list("pk", "value", "comment", "submission_id")
        ),
        list(
            Submission.objects.order_by("pk").values_list(
                "pk", "status", "next_level", "visible_level", "approved_levels", "return_reason"
            )
        ),
        DataValueRevision.objects.count(),
        LogEntry.objects.count(),
    ]
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


def fill(
    cast: Any,
    catalogue: Any,
    unit: str = "jingchuan",
    values: dict | None = None,
    comments: dict | None = None,
) -> Submission:
    clerk = cast.user(unit, "clerk")
    submission = services.open_submission(catalogue.dataset, cast.unit(unit), YEAR, actor=clerk)
    comments = comments or {}
    services.set_values(
        submission,
        [ValueChange(code, value, comments.get(code)) for code, value in (values or GOOD).items()],
        actor=clerk,
    )
    return submission


def submitted(cast: Any, catalogue: Any, unit: str = "jingchuan") -> Submission:
    return services.submit_submission(fill(cast, catalogue, unit), actor=cast.user(unit, "clerk"))


# ---------------------------------------------------------------- entering values


def test_new_values_are_their_own_first_entry_with_one_audit_entry(cast, catalogue) -> None:
    before = LogEntry.objects.count()
    submission = fill(cast, catalogue)
    cells = DataValue.objects.filter(submission=submission)
    assert cells.count() == 4
    # A first fill writes no revision rows; the history shows each cell's own entry.
    assert DataValueRevision.objects.count() == 0
    history = services.cell_history(cells)
    assert len(history) == 4
    assert {(r.value_before, r.actor_name, r.channel) for r in history} == {
        (None, audit.actor_label(cast.user("jingchuan", "clerk")), Channel.FORM)
    }
    assert LogEntry.objects.filter(action="indicators.values.set").count() == 1
    assert LogEntry.objects.count() == before + 2  # opening the submission, then the values
    cell = DataValue.objects.get(indicator__code="RD_EXP")
    assert (cell.value, cell.channel, cell.updated_by) == (
        0.16,
        Channel.FORM,
        cast.user("jingchuan", "clerk"),
    )


def test_a_change_keeps_the_old_value_in_the_history_and_an_unchanged_one_writes_nothing(
    cast, catalogue
) -> None:
    submission = fill(cast, catalogue)
    clerk = cast.user("jingchuan", "clerk")
    changed = services.set_values(
        submission,
        [ValueChange("RD_EXP", 0.2, "复核后更正"), ValueChange("GOV_EXP", 12.5)],
        actor=clerk,
        reason="统计局复核",
    )
    assert changed == 1
    first, revision = DataValueRevision.objects.filter(data_value__indicator__code="RD_EXP")
    # The first entry was kept as a revision just before the first change overwrote it.
    assert (first.value_before, first.value_after, first.actor_id) == (None, 0.16, clerk.pk)
    assert first.time < revision.time
    assert (revision.value_before, revision.value_after, revision.reason) == (
        0.16,
        0.2,
        "统计局复核",
    )
    history = services.cell_history(DataValue.objects.filter(submission=submission))
    assert [r.value_after for r in history if r.data_value.indicator.code == "RD_EXP"] == [
        0.2,
        0.16,
    ]
    assert len(history) == 5  # four first entries and one change
    assert services.set_values(submission, [ValueChange("GOV_EXP", 12.5)], actor=clerk) == 0


@pytest.mark.parametrize(
    "change",
    [
        ValueChange("NOPE", 1.0),
        ValueChange("RD_EXP", "abc"),
        ValueChange("RD_EXP", float("inf")),
        ValueChange("GOV_ST_SHARE", 1.5),
    ],
)
def test_bad_cells_are_refused_whole(cast, catalogue, change) -> None:
    submission = fill(cast, catalogue)
    before = state()
    with pytest.raises(InvalidInput):
        services.set_values(
            submission, [ValueChange("RD_EXP", 9.0), change], actor=cast.user("jingchuan", "clerk")
        )
    assert state() == before


@pytest.mark.parametrize(
    ("unit", "role", "error"),
    [
        ("chongxin", "clerk", NotFound),  # a sibling county
        ("jingchuan", "leader", Forbidden),  # own county, role without data entry
        ("jingchuan", "reviewer", Forbidden),
        ("pingliang", "reviewer", Forbidden),  # the city reviews, it does not type
    ],
)
def test_only_the_units_clerks_enter_values(cast, catalogue, unit, role, error) -> None:
    submission = fill(cast, catalogue)
    before = state()
    with pytest.raises(error):
        services.set_values(submission, [ValueChange("RD_EXP", 1.0)], actor=cast.user(unit, role))
    assert state() == before


# ---------------------------------------------------------------- submitting


def test_errors_block_submission_and_name_the_indicator(cast, catalogue) -> None:
    submission = fill(cast, catalogue, values={**GOOD, "GOV_ST_EXP": 20.0})
    before = state()
    with pytest.raises(ValidationFailed) as raised:
        services.submit_submission(submission, actor=cast.user("jingchuan", "clerk"))
    assert "ST_LE_BUDGET" in raised.value.fields
    assert state() == before


def test_missing_required_values_block_submission(cast, catalogue) -> None:
    submission = fill(cast, catalogue, values={"RD_EXP": 0.16})
    with pytest.raises(ValidationFailed) as raised:
        services.submit_submission(submission, actor=cast.user("jingchuan", "clerk"))
    assert {"GOV_ST_EXP", "GOV_EXP", "HTE_NEW"} <= set(raised.value.fields)


def test_a_warning_needs_a_comment_before_submission(cast, catalogue) -> None:
    clerk = cast.user("jingchuan", "clerk")
    # Five calm years, then a jump: an outlier warning.
    for year, rd in zip(range(2017, 2023), (0.10, 0.11, 0.12, 0.13, 0.14, 0.15), strict=True):
        past = services.open_submission(
            catalogue.dataset, cast.unit("jingchuan"), year, actor=clerk
        )
        services.set_values(
            past, [ValueChange(c, v) for c, v in {**GOOD, "RD_EXP": rd}.items()], actor=clerk
        )
    submission = fill(cast, catalogue, values={**GOOD, "RD_EXP": 3.0})
    with pytest.raises(ValidationFailed) as raised:
        services.submit_submission(submission, actor=clerk)
    assert "RD_EXP" in raised.value.fields
    services.set_values(
        submission, [ValueChange("RD_EXP", 3.0, "新建研发中心一次性投入")], actor=clerk
    )
    assert services.submit_submission(submission, actor=clerk).status == SubmissionStatus.SUBMITTED


def test_submitted_values_are_locked(cast, catalogue) -> None:
    submission = submitted(cast, catalogue)
    before = state()
    with pytest.raises(ValuesLocked):
        services.set_values(
            submission, [ValueChange("RD_EXP", 1.0)], actor=cast.user("jingchuan", "clerk")
        )
    assert state() == before


# ---------------------------------------------------------------- the review chain


def test_the_full_chain_county_city_province(cast, catalogue) -> None:
    submission = submitted(cast, catalogue)
    assert (submission.next_level, submission.visible_level) == (2, 2)
    submission = services.approve_submission(submission, actor=cast.user("pingliang", "reviewer"))
    assert submission.status == SubmissionStatus.SUBMITTED
    assert (submission.next_level, submission.approved_levels) == (1, [2])
    submission = services.approve_submission(submission, actor=cast.user("gansu", "reviewer"))
    assert submission.status == SubmissionStatus.APPROVED
    assert submission.visible_level == 0
    assert submission.approved_digest == services.values_digest(submission)
    actions = list(
        LogEntry.objects.filter(
            object_id=str(submission.pk), action__startswith="indicators.submission."
        )
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "indicators.submission.open",
        "indicators.submission.submit",
        "indicators.submission.approve",
        "indicators.submission.approve",
    ]


@pytest.mark.parametrize(
    ("unit", "role", "error"),
    [
        ("jingchuan", "reviewer", NotFound),  # a county cannot approve its own data
        ("jingchuan", "clerk", NotFound),
        ("chongxin", "reviewer", NotFound),  # nor can a sibling county
        ("pingliang", "clerk", Forbidden),  # the city, but not a reviewer
        ("pingliang", "leader", Forbidden),
        ("pingliang", "admin", Forbidden),
        ("gansu", "reviewer", Forbidden),  # the province may not skip the city
    ],
)
def test_who_may_not_approve_at_the_city_step(cast, catalogue, unit, role, error) -> None:
    submission = submitted(cast, catalogue)
    before = state()
    with pytest.raises(error):
        services.approve_submission(submission, actor=cast.user(unit, role))
    assert state() == before


def test_the_city_returns_with_a_reason_and_the_county_fixes_and_resubmits(cast, catalogue) -> None:
    submission = submitted(cast, catalogue)
    reviewer = cast.user("pingliang", "reviewer")
    with pytest.raises(InvalidInput):
        services.return_submission(submission, actor=reviewer, reason="  ")
    submission = services.return_submission(submission, actor=reviewer, reason="研发经费口径有误")
    assert submission.status == SubmissionStatus.RETURNED
    assert submission.return_reason == "研发经费口径有误"
    assert submission.visible_level == cast.unit("jingchuan").level
    clerk = cast.user("jingchuan", "clerk")
    services.set_values(submission, [ValueChange("RD_EXP", 0.17)], actor=clerk)
    assert services.submit_submission(submission, actor=clerk).status == SubmissionStatus.SUBMITTED


def test_approved_data_reopens_only_with_a_reason_by_the_final_level(cast, catalogue) -> None:
    submission = submitted(cast, catalogue)
    submission = services.approve_submission(submission, actor=cast.user("pingliang", "reviewer"))
    submission = services.approve_submission(submission, actor=cast.user("gansu", "reviewer"))
    before = state()
    for actor in (cast.user("pingliang", "reviewer"), cast.user("jingchuan", "clerk")):
        with pytest.raises((Forbidden, NotFound)):
            services.reopen_submission(submission, actor=actor, reason="更正")
    with pytest.raises(InvalidInput):
        services.reopen_submission(submission, actor=cast.user("gansu", "reviewer"), reason="")
    assert state() == before
    reopened = services.reopen_submission(
        submission, actor=cast.user("gansu", "reviewer"), reason="统计局年报更正"
    )
    assert reopened.status == SubmissionStatus.RETURNED
    entry = LogEntry.objects.filter(action="indicators.submission.reopen").get()
    assert entry.data["reason"] == "统计局年报更正"
    assert entry.before["status"] == "approved"


def test_transitions_out_of_order_are_refused(cast, catalogue) -> None:
    draft = fill(cast, catalogue)
    with pytest.raises(InvalidTransition):
        services.approve_submission(draft, actor=cast.user("pingliang", "reviewer"))
    with pytest.raises(InvalidTransition):
        services.reopen_submission(draft, actor=cast.user("gansu", "reviewer"), reason="x")
    sent = services.submit_submission(draft, actor=cast.user("jingchuan", "clerk"))
    with pytest.raises(InvalidTransition):
        services.submit_submission(sent, actor=cast.user("jingchuan", "clerk"))


# ---------------------------------------------------------------- who sees what


def visible(user: Any) -> set[str]:
    return set(DataValue.objects.visible_to(user).values_list("org_unit__code", flat=True))


def test_drafts_stay_with_the_county_until_submitted_then_climb_with_each_approval(
    cast, catalogue
) -> None:
    submission = fill(cast, catalogue)
    county, city, province = (
        cast.user("jingchuan", "leader"),
        cast.user("pingliang", "leader"),
        cast.user("gansu", "leader"),
    )
    assert "620821" in visible(county)
    assert "620821" not in visible(city)
    assert "620821" not in visible(province)
    submission = services.submit_submission(submission, actor=cast.user("jingchuan", "clerk"))
    assert "620821" in visible(city)
    assert "620821" not in visible(province)
    submission = services.approve_submission(submission, actor=cast.user("pingliang", "reviewer"))
    assert "620821" in visible(province)
    # A sibling county never sees it, whatever its state.
    assert "620821" not in visible(cast.user("chongxin", "leader"))


def test_a_city_cannot_see_a_sibling_citys_drafts_or_submissions(cast, catalogue) -> None:
    submitted(cast, catalogue)
    from kechuang.accounts import services as accounts

    lanzhou_reviewer = accounts.create_user(
        actor=None,
        username="lanzhou_reviewer",
        password="Test-Passw0rd!",
        org_unit=cast.unit("lanzhou"),
        role="reviewer",
    )
    assert visible(lanzhou_reviewer) == set()
    assert not Submission.objects.visible_to(lanzhou_reviewer).exists()


def _second_dataset(catalogue: Any, *codes: str) -> DataSet:
    """Another data set sharing some indicators with COUNTY_ANNUAL."""
    other = DataSet.objects.create(
        code="COUNTY_EXTRA", name="县域专项调查", approval_levels=[2], reporting_levels=[3]
    )
    for order, code in enumerate(codes):
        DataSetMember.objects.create(
            dataset=other, indicator=catalogue.indicators[code], order=order
        )
    return other


def test_a_shared_indicator_cannot_change_under_an_approved_submission(cast, catalogue) -> None:
    clerk = cast.user("jingchuan", "clerk")
    annual = fill(cast, catalogue)
    services.submit_submission(annual, actor=clerk)
    other = services.open_submission(
        _second_dataset(catalogue, "RD_EXP"), cast.unit("jingchuan"), YEAR, actor=clerk
    )
    with pytest.raises(ValuesLocked, match="县域科技创新年度监测"):
        services.set_values(other, [ValueChange("RD_EXP", 0.3)], actor=clerk)
    cell = DataValue.objects.get(indicator__code="RD_EXP")
    assert (cell.value, cell.submission_id) == (0.16, annual.pk)


def test_a_shared_indicator_changes_through_either_open_form(cast, catalogue) -> None:
    clerk = cast.user("jingchuan", "clerk")
    annual = fill(cast, catalogue)
    other = services.open_submission(
        _second_dataset(catalogue, "RD_EXP"), cast.unit("jingchuan"), YEAR, actor=clerk
    )
    assert services.set_values(other, [ValueChange("RD_EXP", 0.3)], actor=clerk) == 1
    assert DataValue.objects.get(indicator__code="RD_EXP").value == 0.3
    # The annual submission still has the cell (no completeness finding): one fact,
    # whichever form wrote it last.
    findings = services.validate_submission(annual)
    assert not [f for f in findings if "RD_EXP" in (f.code, *f.indicators)]
    assert DataValue.objects.filter(indicator__code="RD_EXP").count() == 1


def test_a_rule_of_no_data_set_checks_only_the_data_sets_it_touches(cast, catalogue) -> None:
    clerk = cast.user("jingchuan", "clerk")
    extra = Indicator.objects.create(code="EXTRA_N", name="专项调查数", unit="个", order=20)
    catalogue.indicators["EXTRA_N"] = extra
    other_set = _second_dataset(catalogue, "EXTRA_N")
    ValidationRule.objects.create(
        code="EXTRA_SMALL", name="专项调查数不超过10", left="EXTRA_N", operator="<=", right="10"
    )
    annual = fill(cast, catalogue)
    other = services.open_submission(other_set, cast.unit("jingchuan"), YEAR, actor=clerk)
    services.set_values(other, [ValueChange("EXTRA_N", 12)], actor=clerk)
    assert "EXTRA_SMALL" not in {f.code for f in services.validate_submission(annual)}
    assert "EXTRA_SMALL" in {f.code for f in services.validate_submission(other)}
