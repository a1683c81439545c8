"""A submission's review: draft → submitted → (each approving level) → approved.

A reviewer may return it to the unit at any step.

The chain of approving levels comes from the data set (e.g. 市 then 省) and
skips levels at or below the submitting unit, so a county never approves its
own data. See docs/adr/0004-submission-workflow.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kechuang.audit import services as audit
from kechuang.core.authorization import Action, require
from kechuang.core.errors import Forbidden, InvalidInput
from kechuang.indicators.choices import Importance, SubmissionStatus
from kechuang.indicators.errors import InvalidTransition, ValidationFailed
from kechuang.indicators.expressions import parse
from kechuang.indicators.models import DataValue, Indicator, Submission, ValidationRule
from kechuang.indicators.validation import (
    BoundSpec,
    Finding,
    RuleSpec,
    check_bounds,
    check_completeness,
    check_outliers,
    check_rules,
)
from kechuang.regions.choices import Level

OUTLIER_HISTORY_YEARS = 8


def approval_chain(submission: Submission) -> list[int]:
    """The levels that still have to approve, nearest first, for this unit."""
    own = submission.org_unit.level
    chain = sorted({lvl for lvl in submission.dataset.approval_levels if lvl < own}, reverse=True)
    # Data of a unit with no approving level above it is approved nationally.
    return chain or [Level.NATION]


def _reviewing_unit(submission: Submission, level: int) -> Any:
    return next((a for a in submission.org_unit.ancestors() if a.level == level), None)


def _lock(submission: Submission) -> Submission:
    return (
        Submission.objects.select_for_update(of=("self",))
        .select_related("org_unit", "dataset")
        .get(pk=submission.pk)
    )


def _snapshot(submission: Submission) -> dict[str, Any]:
    return {
        "status": submission.status,
        "next_level": submission.next_level,
        "approved_levels": list(submission.approved_levels),
    }


def _log(
    actor: Any, action: str, submission: Submission, before: dict[str, Any], **data: Any
) -> None:
    audit.record(
        actor,
        f"indicators.submission.{action}",
        submission,
        before=before,
        after=_snapshot(submission),
        data=data,
    )


# ---------------------------------------------------------------- validation


def validate_submission(submission: Submission) -> list[Finding]:
    """Everything wrong or unusual with the submission's values, errors first."""
    dataset = submission.dataset
    members = list(dataset.members.select_related("indicator"))
    values = dict(
        DataValue.objects.filter(org_unit=submission.org_unit, year=submission.year).values_list(
            "indicator__code", "value"
        )
    )
    names = dict(Indicator.objects.values_list("code", "name"))
    required = {
        m.indicator.code: m.indicator.name
        for m in members
        if m.is_required and not m.indicator.is_derived
    }
    bounds = [
        BoundSpec(
            m.indicator.code,
            m.indicator.name,
            m.indicator.min_value,
            m.indicator.max_value,
            m.indicator.value_type == "integer",
        )
        for m in members
    ]
    members_codes = {m.indicator.code for m in members}
    rules = [
        RuleSpec(r.code, r.name, r.left, r.operator, r.right, r.importance)
        for r in ValidationRule.objects.filter(is_active=True).filter(dataset__isnull=True)
        | ValidationRule.objects.filter(is_active=True, dataset=dataset)
        # A rule of no data set checks every data set it touches, and only those:
        # a clerk is never blocked by numbers their form does not hold.
        if r.dataset_id is not None or (parse(r.left).codes | parse(r.right).codes) & members_codes
    ]
    history: dict[str, list[float]] = {}
    past = (
        DataValue.objects.filter(
            org_unit=submission.org_unit,
            year__gte=submission.year - OUTLIER_HISTORY_YEARS,
            year__lt=submission.year,
            indicator__code__in=list(required),
            value__isnull=False,
        )
        .order_by("year")
        .values_list("indicator__code", "value")
    )
    for code, value in past:
        history.setdefault(code, []).append(value)
    findings = (
        check_completeness(required, values)
        + check_bounds(bounds, values)
        + check_rules(rules, values, names)
        + check_outliers(history, {m.indicator.code: m.indicator.name for m in members}, values)
    )
    return sorted(findings, key=lambda f: (f.severity != Importance.ERROR, f.code))


def _check_before_submit(submission: Submission) -> list[Finding]:
    findings = validate_submission(submission)
    errors = [f for f in findings if f.severity == Importance.ERROR]
    comments = dict(
        DataValue.objects.filter(org_unit=submission.org_unit, year=submission.year).values_list(
            "indicator__code", "comment"
        )
    )
    unexplained = [
        f
        for f in findings
        if f.severity == Importance.WARNING
        and not any(comments.get(code, "").strip() for code in f.indicators)
    ]
    if errors or unexplained:
        fields: dict[str, list[str]] = {}
        for finding in errors + unexplained:
            note = (
                finding.message
                if finding.severity == Importance.ERROR
                else _("%(msg)s（请在该项的说明中解释后再上报）") % {"msg": finding.message}
            )
            fields.setdefault(finding.code, []).append(note)
        raise ValidationFailed(
            _("有 %(e)d 个错误、%(w)d 个警告未说明，暂不能上报。")
            % {"e": len(errors), "w": len(unexplained)},
            fields=fields,
        )
    return findings


# ---------------------------------------------------------------- transitions


@transaction.atomic
def submit_submission(submission: Submission, *, actor: Any) -> Submission:
    """Send a draft or returned submission up for review (errors block, warnings need comments)."""
    submission = _lock(submission)
    require(actor, Action.ENTER_DATA, submission.org_unit)
    if submission.status not in (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED):
        raise InvalidTransition()
    findings = _check_before_submit(submission)
    before = _snapshot(submission)
    chain = approval_chain(submission)
    submission.status = SubmissionStatus.SUBMITTED
    submission.approved_levels = []
    submission.next_level = chain[0]
    submission.visible_level = chain[0]
    submission.submitted_at = timezone.now()
    submission.return_reason = ""
    submission.save()
    _log(actor, "submit", submission, before, warnings=[f.message for f in findings])
    return submission


@transaction.atomic
def approve_submission(submission: Submission, *, actor: Any) -> Submission:
    """Approve at the actor's level; the last level's approval locks the values."""
    submission = _lock(submission)
    _require_reviewer(submission, actor)
    before = _snapshot(submission)
    chain = approval_chain(submission)
    done = [*submission.approved_levels, submission.next_level]
    remaining = [lvl for lvl in chain if lvl not in done]
    submission.approved_levels = done
    if remaining:
        submission.next_level = remaining[0]
        submission.visible_level = remaining[0]
    else:
        submission.status = SubmissionStatus.APPROVED
        submission.next_level = None
        submission.visible_level = Level.NATION
        submission.approved_at = timezone.now()
        submission.approved_digest = values_digest(submission)
    submission.save()
    _log(actor, "approve", submission, before)
    return submission


@transaction.atomic
def return_submission(submission: Submission, *, actor: Any, reason: str) -> Submission:
    """Send a submitted data set back to the unit with the reason, for correction."""
    submission = _lock(submission)
    _require_reviewer(submission, actor)
    reason = _require_reason(reason)
    before = _snapshot(submission)
    _back_to_unit(submission, reason)
    _log(actor, "return", submission, before, reason=reason)
    return submission


@transaction.atomic
def reopen_submission(submission: Submission, *, actor: Any, reason: str) -> Submission:
    """Unlock finally approved data for correction; needs a reason, and is logged."""
    submission = _lock(submission)
    if submission.status != SubmissionStatus.APPROVED:
        raise InvalidTransition()
    final = approval_chain(submission)[-1]
    reviewer_unit = _reviewing_unit(submission, final)
    require(actor, Action.REVIEW_DATA, reviewer_unit or submission.org_unit)
    if actor is not None and not actor.is_superuser and actor.org_unit.level > final:
        raise Forbidden(_("只有最终审定层级的审核员可以重新打开已审定的数据。"))
    reason = _require_reason(reason)
    before = _snapshot(submission)
    _back_to_unit(submission, reason)
    _log(actor, "reopen", submission, before, reason=reason)
    return submission


def _back_to_unit(submission: Submission, reason: str) -> None:
    submission.status = SubmissionStatus.RETURNED
    submission.return_reason = reason
    submission.next_level = None
    submission.approved_levels = []
    submission.visible_level = submission.org_unit.level
    submission.save()


def _require_reviewer(submission: Submission, actor: Any) -> None:
    if submission.status != SubmissionStatus.SUBMITTED or submission.next_level is None:
        raise InvalidTransition()
    reviewer_unit = _reviewing_unit(submission, submission.next_level)
    require(actor, Action.REVIEW_DATA, reviewer_unit or submission.org_unit)
    # A reviewer acts at their own level only: the county never approves itself,
    # the province does not skip the city.
    if (
        actor is not None
        and not actor.is_superuser
        and actor.org_unit.level != submission.next_level
    ):
        raise Forbidden(
            _("该填报当前应由%(level)s审核。") % {"level": Level(submission.next_level).label}
        )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写理由。"), fields={"reason": [_("必填")]})
    return reason


def values_digest(submission: Submission) -> str:
    """A stable digest of the submission's values (for "changed since approval" and the print)."""
    return digest_of(
        DataValue.objects.filter(
            org_unit=submission.org_unit,
            year=submission.year,
            indicator__in=submission.dataset.indicators.all(),
        ).values_list("indicator__code", "value")
    )


def digest_of(rows: Iterable[tuple[str, float | None]]) -> str:
    """SHA-256 over the (indicator code, value) pairs, in code order."""
    ordered = sorted(rows, key=lambda row: row[0])
    return hashlib.sha256(json.dumps(ordered, separators=(",", ":")).encode()).hexdigest()
