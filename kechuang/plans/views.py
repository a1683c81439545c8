"""Pages of plans: the list and my tasks, a plan with its task table, ingestion, downloads."""

from __future__ import annotations

import datetime
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kechuang.core.authorization import Action, can, has_action, require
from kechuang.core.errors import DomainError, InvalidInput
from kechuang.core.scoping import access_object
from kechuang.core.views import run_service
from kechuang.plans.choices import TaskStatus
from kechuang.plans.forms import IngestForm, PublishForm
from kechuang.plans.models import Plan, Task
from kechuang.plans.services import bulletin, ingest, supervision, tables
from kechuang.plans.services import targets as plan_targets
from kechuang.plans.services.status import board as task_board
from kechuang.plans.services.status import task_status

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """Plans of the user's subtree and the tasks assigned to the user's units (我的任务)."""
    user = request.user
    today = timezone.localdate()
    own = (
        Task.objects.visible_to(user)
        .exclude(plan__in=Plan.objects.visible_to(user))
        .select_related("plan")
        .prefetch_related("reports")
    )
    return render(
        request,
        "plans/list.html",
        {
            "plans": Plan.objects.visible_to(user).select_related("org_unit", "parent"),
            "assigned": [(t, TaskStatus(task_status(t, today)).label) for t in own[:200]],
            "can_publish": has_action(user, Action.MANAGE_PLANS),
        },
    )


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = access_object(Plan.objects.select_related("org_unit", "parent"), request.user, pk)
    today = timezone.localdate()
    tasks = list(plan.tasks.prefetch_related("reports", "assignments").select_related("plan"))
    statuses = {t.pk: task_status(t, today) for t in tasks}
    labels = dict(TaskStatus.choices)
    rows = [
        (row, statuses[task.pk], labels[statuses[task.pk]])
        for row, task in zip(tables.rows(plan), tasks, strict=True)
    ]
    since = None
    if request.GET.get("since"):
        try:
            since = datetime.date.fromisoformat(request.GET["since"])
        except ValueError:
            messages.error(request, _("日期格式应为 YYYY-MM-DD。"))
    changes = (
        supervision.changes_since(
            plan, datetime.datetime.combine(since, datetime.time(), tzinfo=datetime.UTC)
        )
        if since
        else []
    )
    months, board = task_board(tasks, today)
    return render(
        request,
        "plans/detail.html",
        {
            "since": since,
            "changes": changes,
            "months": months,
            "board": board,
            "plan": plan,
            "rows": rows,
            "children": plan.children.visible_to(request.user),
            "targets": plan_targets.readings(plan, today.year - 1),
            "subsidies": plan.subsidies.all(),
        },
    )


@login_required
def plan_table(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    plan = access_object(Plan.objects.all(), request.user, pk)
    if fmt not in ("xlsx", "docx"):
        raise Http404()
    data, content_type = (tables.excel(plan), XLSX) if fmt == "xlsx" else (tables.word(plan), DOCX)
    response = HttpResponse(data, content_type=content_type)
    name = f"plan-{plan.pk}-任务分解表.{fmt}"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@login_required
def plan_ingest(request: HttpRequest) -> HttpResponse:
    """Paste or upload → the proposal to correct → publish (ingestion, issue 5)."""
    require(request.user, Action.MANAGE_PLANS, request.user.org_unit)
    unit = request.user.org_unit
    if request.method == "POST" and "publish" in request.POST:
        text = request.POST.get("text", "")
        proposal = run_service(PublishForm(), lambda: ingest.propose(text, unit))
        form = PublishForm(request.POST, unmatched=proposal.unmatched if proposal else [])
        if proposal is not None and form.is_valid():
            document = proposal.data["document"]
            document.update(
                title=form.cleaned_data["title"],
                issuer=form.cleaned_data["issuer"],
                doc_number=form.cleaned_data["doc_number"],
                date=(d.isoformat() if (d := form.cleaned_data["issued_on"]) else None),
            )
            plan = run_service(
                form,
                lambda: ingest.publish(
                    proposal,
                    org_unit=unit,
                    actor=request.user,
                    text=text,
                    create_departments=form.cleaned_data["create"],
                ),
            )
            if plan is not None:
                messages.success(request, _("已发布：%(title)s") % {"title": plan.title})
                return redirect("plans:detail", plan.pk)
        return render(request, "plans/review.html", {"form": form, "proposal": proposal})
    form = IngestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["text"]
        proposal = run_service(form, lambda: ingest.propose(text, unit))
        if proposal is not None:
            document = proposal.data["document"]
            review = PublishForm(
                initial={
                    "text": text,
                    "title": document.get("title") or "",
                    "issuer": document.get("issuer") or "",
                    "doc_number": document.get("doc_number") or "",
                    "issued_on": document.get("date"),
                },
                unmatched=proposal.unmatched,
            )
            return render(request, "plans/review.html", {"form": review, "proposal": proposal})
    return render(request, "plans/ingest.html", {"form": form})


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One task: who does it, its progress and its supervision record, and what one can do."""
    task = access_object(
        Task.objects.select_related("plan__org_unit").prefetch_related("assignments", "reports"),
        request.user,
        pk,
    )
    if request.method == "POST":
        _task_action(request, task)
        return redirect("plans:task", task.pk)
    today = timezone.localdate()
    return render(
        request,
        "plans/task.html",
        {
            "task": task,
            "status": TaskStatus(task_status(task, today)).label,
            "reports": task.reports.select_related("reported_by", "confirmed_by"),
            "events": task.events.order_by("-at", "-id"),
            "pending": supervision.pending_extension(task),
            "can_supervise": can(request.user, Action.MANAGE_PLANS, task.plan.org_unit.path),
        },
    )


def _task_action(request: HttpRequest, task: Task) -> None:
    post, user, now = request.POST, request.user, timezone.now()
    action = post.get("action")
    try:
        if action == "report":
            supervision.report_progress(
                task,
                actor=user,
                period=post.get("period", "").strip() or str(now.year),
                percent=float(post.get("percent") or "nan"),
                text=post.get("text", ""),
                now=now,
            )
        elif action == "confirm":
            report = task.reports.get(pk=post.get("report"))
            supervision.confirm_progress(report, actor=user, now=now)
        elif action in ("urge", "instruct"):
            call = supervision.urge if action == "urge" else supervision.instruct
            call(task, actor=user, text=post.get("text", ""), now=now)
        elif action == "extend":
            supervision.request_extension(
                task,
                actor=user,
                new_deadline=datetime.date.fromisoformat(post.get("new_deadline", "")),
                reason=post.get("text", ""),
                now=now,
            )
        elif action == "milestone":
            supervision.add_milestone(
                task,
                actor=user,
                title=post.get("title", ""),
                due=datetime.date.fromisoformat(post.get("due", "")),
            )
        elif action == "milestone_done":
            supervision.complete_milestone(
                task.milestones.get(pk=post.get("milestone")), actor=user, on=now.date()
            )
        elif action in ("approve", "refuse"):
            request_event = task.events.get(pk=post.get("event"))
            supervision.decide_extension(
                request_event,
                actor=user,
                approve=action == "approve",
                note=post.get("text", ""),
                now=now,
            )
        else:
            raise InvalidInput(_("未知的操作。"))
    except DomainError as error:
        messages.error(request, str(error.message))
        return
    except (ValueError, ObjectDoesNotExist):
        messages.error(request, _("填写的内容无效，请检查后重试。"))
        return
    messages.success(request, _("已保存。"))


@login_required
def plan_bulletin(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """督查通报 of the plan as of ``?day=`` (today by default)."""
    plan = access_object(Plan.objects.all(), request.user, pk)
    if fmt not in ("pdf", "docx"):
        raise Http404()
    try:
        day = datetime.date.fromisoformat(
            request.GET.get("day") or timezone.localdate().isoformat()
        )
    except ValueError:
        raise Http404() from None
    data = bulletin.bulletin(plan, day)
    body, content_type = (
        (bulletin.pdf(data), "application/pdf") if fmt == "pdf" else (bulletin.docx(data), DOCX)
    )
    response = HttpResponse(body, content_type=content_type)
    name = f"督查通报-{plan.pk}-{day.isoformat()}.{fmt}"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response
