"""Data entry and review pages: the clerk's form, the reviewer's matrix.

Thin: services do the work.
"""

from __future__ import annotations

import datetime
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kechuang.core.authorization import Action, has_action, require
from kechuang.core.errors import DomainError
from kechuang.core.scoping import access_object
from kechuang.core.views import paginate, run_service
from kechuang.indicators import exchange as exchange_errors
from kechuang.indicators import services
from kechuang.indicators.choices import SubmissionStatus, TargetLight
from kechuang.indicators.errors import ValidationFailed
from kechuang.indicators.expressions import parse
from kechuang.indicators.forms import OpenForm, ReasonForm, TargetForm, ValuesForm
from kechuang.indicators.models import (
    DataSet,
    DataValue,
    Submission,
    Target,
)
from kechuang.indicators.services import ValueChange, exchange, paper, targets
from kechuang.indicators.services.workflow import approval_chain, digest_of
from kechuang.regions.choices import Level, UnitKind
from kechuang.regions.models import OrgUnit


def due_date(dataset: DataSet, year: int) -> datetime.date:
    return datetime.date(year + 1, dataset.due_month, dataset.due_day)


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """The clerk's start page: this year's forms of their unit; the reviewer's queue."""
    user = request.user
    year = int(request.GET.get("year") or timezone.localdate().year - 1)
    datasets = list(DataSet.objects.filter(is_active=True))
    own = {s.dataset_id: s for s in Submission.objects.filter(org_unit=user.org_unit, year=year)}
    rows = [
        {"dataset": ds, "submission": own.get(ds.pk), "due": due_date(ds, year)}
        for ds in datasets
        if not ds.reporting_levels or user.org_unit.level in ds.reporting_levels
    ]
    queue = []
    if has_action(user, Action.REVIEW_DATA):
        queue = list(
            Submission.objects.visible_to(user)
            .filter(status=SubmissionStatus.SUBMITTED, next_level=user.org_unit.level)
            .select_related("org_unit", "dataset")
            .order_by("submitted_at")
        )
    return render(
        request,
        "indicators/my_data.html",
        {
            "year": year,
            "rows": rows,
            "queue": queue,
            "today": timezone.localdate(),
            "can_enter": has_action(user, Action.ENTER_DATA),
        },
    )


@login_required
@require_POST
def open_form(request: HttpRequest) -> HttpResponse:
    form = OpenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择填报表和年度。"))
        return redirect("indicators:my-data")
    dataset = get_object_or_404(DataSet, code=form.cleaned_data["dataset"], is_active=True)
    submission = services.open_submission(
        dataset, request.user.org_unit, form.cleaned_data["year"], actor=request.user
    )
    return redirect("indicators:submission", pk=submission.pk)


def _editable(user: Any, submission: Submission) -> bool:
    return submission.status in (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED) and has_action(
        user, Action.ENTER_DATA
    )


def _initial(submission: Submission, members: list[Any]) -> tuple[dict, dict]:
    codes = [m.indicator.code for m in members]
    current = {
        v.indicator.code: v
        for v in DataValue.objects.filter(
            org_unit=submission.org_unit, year=submission.year, indicator__code__in=codes
        ).select_related("indicator")
    }
    previous = dict(
        DataValue.objects.filter(
            org_unit=submission.org_unit, year=submission.year - 1, indicator__code__in=codes
        ).values_list("indicator__code", "value")
    )
    initial: dict[str, Any] = {}
    for code, cell in current.items():
        initial[f"v_{code}"] = cell.value
        initial[f"c_{code}"] = cell.comment
    # Derived indicators are shown computed, never typed.
    values = {code: cell.value for code, cell in current.items()}
    for member in members:
        if member.indicator.is_derived:
            result = parse(member.indicator.formula).evaluate(values)
            initial[f"v_{member.indicator.code}"] = (
                None if result is None else round(result, member.indicator.decimals)
            )
    return initial, previous


@login_required
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The form: sections, last year beside each box, findings on top; review buttons."""
    submission = access_object(
        Submission.objects.select_related("org_unit", "dataset"), request.user, pk
    )
    members = list(submission.dataset.members.select_related("indicator"))
    editable = _editable(request.user, submission)
    initial, previous = _initial(submission, members)
    form = ValuesForm(request.POST or None, initial=initial, members=members, locked=not editable)
    problems: dict[str, list[str]] = {}
    if request.method == "POST" and editable and form.is_valid():
        changes = [
            ValueChange(
                m.indicator.code,
                form.cleaned_data[f"v_{m.indicator.code}"],
                form.cleaned_data[f"c_{m.indicator.code}"],
            )
            for m in members
            if not m.indicator.is_derived
        ]
        try:
            services.set_values(
                submission, changes, actor=request.user, reason=form.cleaned_data["reason"]
            )
            if "submit" in request.POST:
                services.submit_submission(submission, actor=request.user)
                messages.success(request, _("已上报，等待审核。"))
            else:
                messages.success(request, _("已保存。"))
            return redirect("indicators:submission", pk=submission.pk)
        except ValidationFailed as error:
            problems = {code: list(msgs) for code, msgs in error.fields.items()}
            messages.error(request, str(error.message) + _("（已保存，修改后再上报）"))
        except DomainError as error:
            messages.error(request, str(error.message))
    findings = services.validate_submission(submission)
    by_indicator: dict[str, list[str]] = defaultdict(list)
    for finding in findings:
        for code in finding.indicators or (finding.code,):
            by_indicator[code].append(finding.message)
    for code, msgs in problems.items():
        by_indicator[code].extend(m for m in msgs if m not in by_indicator[code])
    sections: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for member in members:
        code = member.indicator.code
        sections[member.section or _("指标")].append(
            {
                "member": member,
                "indicator": member.indicator,
                "previous": previous.get(code),
                "value_field": form[f"v_{code}"],
                "comment_field": form[f"c_{code}"],
                "problems": by_indicator.get(code, []),
            }
        )
    return render(
        request,
        "indicators/submission.html",
        {
            "submission": submission,
            "form": form,
            "sections": dict(sections),
            "findings": findings,
            "editable": editable,
            "can_review": _can_review(request.user, submission),
            "can_upload_scan": has_action(request.user, Action.ENTER_DATA)
            and submission.status != SubmissionStatus.DRAFT,
            "can_reopen": _can_reopen(request.user, submission),
            "reason_form": ReasonForm(),
            "due": due_date(submission.dataset, submission.year),
            "changed_since_approval": bool(submission.approved_digest)
            and submission.approved_digest != services.values_digest(submission),
        },
    )


def _can_review(user: Any, submission: Submission) -> bool:
    return (
        submission.status == SubmissionStatus.SUBMITTED
        and has_action(user, Action.REVIEW_DATA)
        and (user.is_superuser or user.org_unit.level == submission.next_level)
        and user.org_unit_id != submission.org_unit_id
    )


def _can_reopen(user: Any, submission: Submission) -> bool:
    return (
        submission.status == SubmissionStatus.APPROVED
        and has_action(user, Action.REVIEW_DATA)
        and (user.is_superuser or user.org_unit.level <= approval_chain(submission)[-1])
    )


def _transition(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    submission = access_object(
        Submission.objects.select_related("org_unit", "dataset"), request.user, pk
    )
    if step == "approve":
        services.approve_submission(submission, actor=request.user)
        messages.success(request, _("已审核通过。"))
    else:
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请填写理由。"))
            return redirect("indicators:submission", pk=pk)
        call = services.return_submission if step == "return" else services.reopen_submission
        call(submission, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(
            request,
            _("已退回填报单位。") if step == "return" else _("已重新打开，填报单位可以修改。"),
        )
    return redirect("indicators:submission", pk=pk)


@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, "approve")


@login_required
@require_POST
def return_(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, "return")


@login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, "reopen")


def _current_digests(dataset: DataSet, year: int, unit_ids: list[int]) -> dict[int, str]:
    """Each unit's values digest now, in one query for all of them (values_digest per unit)."""
    rows: dict[int, list[tuple[str, float | None]]] = defaultdict(list)
    for start in range(0, len(unit_ids), 500):
        for unit_id, code, value in DataValue.objects.filter(
            org_unit_id__in=unit_ids[start : start + 500],
            year=year,
            indicator__in=dataset.indicators.all(),
        ).values_list("org_unit_id", "indicator__code", "value"):
            rows[unit_id].append((code, value))
    return {unit_id: digest_of(rows[unit_id]) for unit_id in unit_ids}


@login_required
def review_matrix(request: HttpRequest) -> HttpResponse:
    """Units × status for one data set and year, with due/overdue and changed-since-approval."""
    user = request.user
    datasets = list(DataSet.objects.filter(is_active=True))
    dataset = next(
        (d for d in datasets if d.code == request.GET.get("dataset")),
        datasets[0] if datasets else None,
    )
    year = int(request.GET.get("year") or timezone.localdate().year - 1)
    rows = []
    if dataset is not None:
        levels = dataset.reporting_levels or [3]
        units = (
            OrgUnit.objects.visible_to(user)
            .current()
            .filter(level__in=levels)
            .exclude(pk=user.org_unit_id)
            .order_by("path")
        )
        submissions = {
            s.org_unit_id: s
            for s in Submission.objects.visible_to(user).filter(dataset=dataset, year=year)
        }
        current = _current_digests(
            dataset,
            year,
            [s.org_unit_id for s in submissions.values() if s.status == SubmissionStatus.APPROVED],
        )
        # Units whose submission the viewer cannot see yet still appear, as "not yet submitted".
        due = due_date(dataset, year)
        today = timezone.localdate()
        for unit in units[:3000]:
            submission = submissions.get(unit.pk)
            final = submission is not None and submission.status == SubmissionStatus.APPROVED
            rows.append(
                {
                    "unit": unit,
                    "submission": submission,
                    "overdue": today > due and not final,
                    "changed": final
                    and submission.approved_digest
                    and submission.approved_digest != current.get(unit.pk),
                }
            )
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["submission"].status if row["submission"] else "none"] += 1
    return render(
        request,
        "indicators/review_matrix.html",
        {
            "datasets": datasets,
            "dataset": dataset,
            "year": year,
            "rows": rows,
            "counts": dict(counts),
            "due": due_date(dataset, year) if dataset else None,
        },
    )


@login_required
def submission_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The paper copy to print, sign and stamp."""
    submission = access_object(
        Submission.objects.select_related("org_unit", "dataset"), request.user, pk
    )
    pdf = paper.print_submission(submission, actor=request.user)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"{submission.org_unit.code}-{submission.year}-{submission.dataset.code}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
@require_POST
def submission_scan_upload(request: HttpRequest, pk: int) -> HttpResponse:
    submission = access_object(
        Submission.objects.select_related("org_unit", "dataset"), request.user, pk
    )
    upload = request.FILES.get("scan")
    if upload is None:
        messages.error(request, _("请选择扫描件文件。"))
    else:
        paper.attach_scan(submission, upload, actor=request.user)
        messages.success(request, _("已上传盖章扫描件。"))
    return redirect("indicators:submission", pk=pk)


@login_required
def submission_scan(request: HttpRequest, pk: int) -> FileResponse:
    """The stamped scan, served only to those who may see the submission."""
    submission = access_object(Submission.objects.all(), request.user, pk)
    if not submission.scan:
        raise Http404
    return FileResponse(
        submission.scan.open("rb"),
        as_attachment=False,
        filename=submission.scan.name.rsplit("/", 1)[-1],
    )


@login_required
def targets_overview(request: HttpRequest) -> HttpResponse:
    """A unit's targets at a glance with their lights; below a city, its counties ranked."""
    user = request.user
    unit = (
        access_object(OrgUnit.objects.all(), user, request.GET["unit"])
        if request.GET.get("unit")
        else user.org_unit
    )
    years = sorted(
        set(Target.objects.visible_to(user).filter(org_unit=unit).values_list("year", flat=True))
    )
    default_year = next(
        (y for y in years if y >= timezone.localdate().year - 1),
        years[-1] if years else timezone.localdate().year,
    )
    year = int(request.GET.get("year") or default_year)
    statuses = targets.target_status(
        Target.objects.visible_to(user)
        .filter(org_unit=unit, year=year)
        .select_related("indicator", "org_unit")
    )
    counties = (
        OrgUnit.objects.visible_to(user)
        .current()
        .descendants_of(unit)
        .filter(level=Level.COUNTY, kind=UnitKind.ADMINISTRATIVE)
    )
    ranking = targets.rank_by_completion(counties, year) if unit.level < Level.COUNTY else []
    counts = defaultdict(int)
    for status in statuses:
        counts[status.light] += 1
    labels = dict(TargetLight.choices)
    lights = [(code, labels[code], counts[code]) for code in labels if counts[code]]
    rows = [{"status": status, "label": labels[status.light]} for status in statuses]
    return render(
        request,
        "indicators/targets.html",
        {
            "unit": unit,
            "year": year,
            "years": years,
            "rows": rows,
            "ranking": ranking,
            "lights": lights,
            "can_set": has_action(user, Action.SET_TARGETS),
        },
    )


@login_required
def submission_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change to the submission's values: who, when, old → new, why, by which channel."""
    submission = access_object(
        Submission.objects.select_related("org_unit", "dataset"), request.user, pk
    )
    revisions = services.cell_history(
        DataValue.objects.filter(
            org_unit=submission.org_unit,
            year=submission.year,
            indicator__in=submission.dataset.indicators.all(),
        )
    )
    page, querystring = paginate(request, revisions, per_page=100)
    return render(
        request,
        "indicators/history.html",
        {"submission": submission, "page_obj": page, "querystring": querystring},
    )


@login_required
def submission_template(request: HttpRequest, pk: int) -> HttpResponse:
    """The Excel template of this submission's unit, year and data set, to fill offline."""
    submission = access_object(
        Submission.objects.select_related("org_unit", "dataset"), request.user, pk
    )
    data = exchange.template_for(
        submission.org_unit, submission.year, actor=request.user, dataset=submission.dataset
    )
    name = f"{submission.org_unit.code}-{submission.year}-{submission.dataset.code}.xlsx"
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_SUFFIXES = (".xlsx", ".csv", ".json")


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """Upload a filled template (or CSV / DHIS2 JSON): everything or nothing is imported."""
    problems: list[str] = []
    report = None
    if request.method == "POST":
        file = request.FILES.get("file")
        if file is None or not file.name.lower().endswith(UPLOAD_SUFFIXES):
            problems = [_("请选择 .xlsx、.csv 或 .json 文件。")]
        else:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / Path(file.name).name
                with path.open("wb") as out:
                    for chunk in file.chunks():
                        out.write(chunk)
                try:
                    report = exchange.import_file(
                        path, actor=request.user, name=file.name, dry_run="dry_run" in request.POST
                    )
                except exchange_errors.ImportFailed as error:
                    problems = [str(p) for p in error.problems]
            if report is not None and not report.dry_run:
                messages.success(request, report.summary())
                return redirect("indicators:upload")
    return render(request, "indicators/upload.html", {"problems": problems, "report": report})


@login_required
def target_set(request: HttpRequest) -> HttpResponse:
    """The level above (or the unit itself) sets a target; the service checks who may."""
    require(request.user, Action.SET_TARGETS, request.user.org_unit)
    initial = {"year": timezone.localdate().year, "comparator": "gte"}
    if request.GET.get("unit"):
        initial["org_unit"] = access_object(
            OrgUnit.objects.all(), request.user, request.GET["unit"]
        )
    form = TargetForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        target = run_service(form, lambda: targets.set_target(actor=request.user, **data))
        if target is not None:
            messages.success(request, _("已下达目标。"))
            return redirect(
                f"{reverse('indicators:targets')}?unit={target.org_unit_id}&year={target.year}"
            )
    return render(request, "indicators/target_form.html", {"form": form})
