"""Pages of the composite index (rankings, profile with what-if, methodology) and assessments."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kechuang.core.authorization import Action, has_action
from kechuang.core.errors import DomainError, NotFound
from kechuang.core.scoping import access_object
from kechuang.core.views import run_service
from kechuang.evaluation.explain import explain
from kechuang.evaluation.forms import AssessForm, ComputeForm, ImportTableForm, WhatIfForm
from kechuang.evaluation.models import Methodology
from kechuang.evaluation.services import assessment, methodologies, results, runs
from kechuang.regions.models import OrgUnit


@login_required
def ranking(request: HttpRequest) -> HttpResponse:
    """The latest visible run of a methodology: units ranked, with rank change and first levels."""
    visible = results.visible_runs(request.user)
    run = None
    if request.GET.get("run"):
        run = results.access_run(request.user, request.GET["run"])
    else:
        run = visible.first()
    within = None
    if run is not None and request.GET.get("within"):
        within = access_object(OrgUnit.objects.all(), request.user, request.GET["within"])
    group = request.GET.get("group")
    group = int(group) if group and group.isdigit() else None
    return render(
        request,
        "evaluation/ranking.html",
        {
            "run": run,
            "runs": visible[:30],
            "rows": results.ranking(run, within=within, peer_group=group) if run else [],
            "groups": results.peer_groups(run) if run else [],
            "group": group,
            "firsts": results.ranking_columns(run) if run else [],
            "within": within,
            "cities": OrgUnit.objects.filter(parent=run.within).order_by("code") if run else [],
            "can_compute": has_action(request.user, Action.COMPUTE_INDEX),
            "form": ComputeForm(),
        },
    )


@login_required
@require_POST
def compute(request: HttpRequest) -> HttpResponse:
    form = ComputeForm(request.POST)
    if form.is_valid():
        outcome = run_service(
            form,
            lambda: runs.compute(
                form.cleaned_data["methodology"],
                form.cleaned_data["year"],
                within=request.user.org_unit,
                actor=request.user,
            ),
        )
        if outcome is not None:
            run, new = outcome
            messages.success(
                request,
                _("已计算 %(n)s 个单位的指数。") % {"n": run.units}
                if new
                else _("数据没有变化，沿用上次的计算结果。"),
            )
            return redirect(f"{reverse('evaluation:ranking')}?run={run.pk}")
    for error in form.errors.values():
        messages.error(request, "；".join(error))
    return redirect("evaluation:ranking")


@login_required
def unit_profile(request: HttpRequest, run_pk: int, code: str) -> HttpResponse:
    """A unit in a run: index over years, its make-up, strengths and weaknesses, what-if."""
    run = results.access_run(request.user, run_pk)
    # Scores are published among peers; the values behind them only to the unit and above it.
    unit = (
        OrgUnit.objects.visible_to(request.user)
        .filter(code=code, path__startswith=run.within.path)
        .first()
    )
    if unit is None:
        raise NotFound()
    profile = results.profile(run, unit)
    indicators = [
        (node.code, f"{node.name}（{node.indicator.unit if node.indicator else ''}）", raw)
        for node, raw, _score, _c in profile.indicators
    ]
    form = WhatIfForm(request.POST or None, indicators=indicators)
    outcome = path = None
    if request.method == "POST" and "target_rank" in request.POST:
        form = WhatIfForm(None, indicators=indicators)
        try:
            path = results.improvement(run, unit, int(request.POST["target_rank"] or 0))
        except ValueError:
            messages.error(request, _("目标名次应为正整数"))
        except DomainError as error:
            messages.error(request, str(error.message))
    elif request.method == "POST" and form.is_valid():
        try:
            outcome = results.what_if(run, unit, form.changes())
        except DomainError as error:
            form.add_error(None, str(error.message))
    return render(
        request,
        "evaluation/profile.html",
        {"run": run, "profile": profile, "form": form, "outcome": outcome, "path": path},
    )


@login_required
def methodology_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The methodology explained: each step's formula in Chinese, the tree with its goalposts."""
    methodology = get_object_or_404(Methodology, pk=pk)
    nodes = list(methodology.nodes.select_related("indicator").order_by("order", "pk"))
    return render(
        request,
        "evaluation/methodology.html",
        {
            "methodology": methodology,
            "nodes": nodes,
            "steps": [explain(step) for step in methodology.steps],
            "versions": Methodology.objects.filter(code=methodology.code).order_by("-version"),
            "import_form": ImportTableForm(initial={"version": methodology.version + 1}),
            "can_import": has_action(request.user, Action.MANAGE_CATALOGUE),
        },
    )


@login_required
def assessment_rounds(request: HttpRequest) -> HttpResponse:
    """Assessment rounds the user may see; leaders and administrators run one over their unit."""
    can_run = has_action(request.user, Action.COMPUTE_INDEX)
    form = AssessForm(request.POST or None, initial={"year": timezone.localdate().year - 1})
    if request.method == "POST" and form.is_valid():
        outcome = run_service(
            form,
            lambda: assessment.assess(
                form.cleaned_data["scheme"],
                form.cleaned_data["year"],
                within=request.user.org_unit,
                actor=request.user,
            ),
        )
        if outcome is not None:
            round_, new = outcome
            messages.success(
                request,
                _("已评价 %(n)s 个单位。") % {"n": round_.candidates}
                if new
                else _("数据没有变化，沿用上次的评价结果。"),
            )
            return redirect("evaluation:assessment-round", pk=round_.pk)
    return render(
        request,
        "evaluation/assessment.html",
        {
            "rounds": assessment.visible_rounds(request.user)[:50],
            "can_run": can_run,
            "form": form,
        },
    )


@login_required
def assessment_round(request: HttpRequest, pk: int) -> HttpResponse:
    """A round: candidates ranked, the shortlist marked, each candidate's evidence."""
    round_ = assessment.access_round(request.user, pk)
    return render(
        request,
        "evaluation/assessment_round.html",
        {
            "round": round_,
            "rows": assessment.round_table(round_, request.user),
            "summary": assessment.describe(round_.scheme),
            "label": round_.scheme.parsed().shortlist.label,
        },
    )


@login_required
@require_POST
def methodology_import(request: HttpRequest, pk: int) -> HttpResponse:
    """A province's official table (Excel) as a new version of this methodology."""
    base = get_object_or_404(Methodology, pk=pk)
    form = ImportTableForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, "；".join(errors))
        return redirect("evaluation:methodology", base.pk)
    upload = form.cleaned_data["file"]
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as stored:
        for chunk in upload.chunks():
            stored.write(chunk)
        stored.flush()
        try:
            imported = methodologies.import_excel(
                Path(stored.name),
                base=base,
                version=form.cleaned_data["version"],
                actor=request.user,
                name=upload.name,
            )
        except DomainError as error:
            messages.error(request, str(error.message))
            return redirect("evaluation:methodology", base.pk)
    messages.success(request, _("已导入 %(m)s。") % {"m": imported})
    return redirect("evaluation:methodology", imported.pk)
