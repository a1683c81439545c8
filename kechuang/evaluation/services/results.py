"""Reading runs: who may see which ranking, the ranking table, a unit's profile and what-if.

Rankings are published among peers: a run over a province is visible to
every user inside that province (a county sees where it stands) and to the
levels above it.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Q
from django.utils.translation import gettext as _

from kechuang.core.errors import InvalidInput, NotFound
from kechuang.core.scoping import subtree_q
from kechuang.evaluation.engine.improve import improvement_path
from kechuang.evaluation.engine.stats import rank_min
from kechuang.evaluation.models import IndexResult, IndexRun, MethodologyNode
from kechuang.evaluation.services.methodologies import framework_of, spec_of
from kechuang.evaluation.services.runs import Inputs, run_engine
from kechuang.regions.models import OrgUnit

STRENGTHS = 3
# A flat index has every indicator under the top: too many to show as columns.
MAX_COLUMNS = 8


def published(queryset: Any, user: Any, lookup: str) -> Any:
    """Rows published over a scope (``lookup`` its tree path): the user's subtree and above.

    A ranking or an assessment round over a province is seen by everyone
    inside the province (a county sees where it stands among its peers) and
    by the levels above it; one over a city, by nobody in a sibling city.
    """
    if getattr(user, "is_superuser", False):
        return queryset
    path = getattr(user, "scope_path", None)
    if not path:
        return queryset.none()
    ancestors = [path[:end] for end in range(0, len(path) + 1, 4)]
    return queryset.filter(subtree_q(lookup, path) | Q(**{f"{lookup}__in": ancestors}))


def visible_runs(user: Any) -> Any:
    """Runs over the user's subtree, or over a scope the user's unit lies in."""
    return published(IndexRun.objects.select_related("methodology", "within"), user, "within__path")


def access_run(user: Any, pk: Any) -> IndexRun:
    try:
        return visible_runs(user).get(pk=pk)
    except (IndexRun.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


@dataclass
class RankRow:
    result: IndexResult
    change: int | None  # positive: climbed that many places since the previous year
    firsts: list[float | None]  # first-level scores, in the methodology's order


def first_level(run: IndexRun) -> list[MethodologyNode]:
    """The children of the top node (一级指标), in order."""
    nodes = list(run.methodology.nodes.order_by("order", "pk"))
    top = max(nodes, key=lambda n: n.level)
    return [n for n in nodes if n.parent_code == top.code]


def ranking_columns(run: IndexRun) -> list[MethodologyNode]:
    """The first-level nodes shown beside each unit's score (none for a flat index)."""
    nodes = first_level(run)
    return nodes if len(nodes) <= MAX_COLUMNS else []


def ranking(
    run: IndexRun,
    year: int | None = None,
    *,
    within: OrgUnit | None = None,
    peer_group: int | None = None,
) -> list[RankRow]:
    """The run's ranking for ``year`` (its own year by default), optionally within a city
    or among a peer group.

    Within a city the ranks are recomputed among its units (ties share the lowest
    rank); within a peer group they are the stored ranks among the group.
    """
    year = year or run.year
    results = list(
        run.results.filter(year__in=(year, year - 1)).select_related("org_unit").order_by("rank")
    )
    if within is not None:
        results = [r for r in results if r.org_unit.path.startswith(within.path)]
    if peer_group is not None:
        results = [r for r in results if r.peer_group == peer_group]
        for result in results:
            result.rank = result.peer_rank
    current = [r for r in results if r.year == year]
    before = {r.org_unit_id: r for r in results if r.year == year - 1}
    if within is not None:
        _rerank(current)
        _rerank(list(before.values()))
    firsts = [n.code for n in ranking_columns(run)]
    rows = []
    for result in sorted(current, key=lambda r: (r.rank is None, r.rank or 0, r.org_unit.code)):
        previous = before.get(result.org_unit_id)
        change = (
            previous.rank - result.rank
            if previous is not None and previous.rank and result.rank
            else None
        )
        rows.append(RankRow(result, change, [result.scores.get(code) for code in firsts]))
    return rows


def peer_groups(run: IndexRun) -> list[int]:
    return sorted(
        g
        for g in run.results.filter(year=run.year).values_list("peer_group", flat=True).distinct()
        if g is not None
    )


def _rerank(results: list[IndexResult]) -> None:
    scored = [r for r in results if r.score is not None]
    ranks = rank_min(np.array([-r.score for r in scored], dtype=float)) if scored else []
    for result, rank in zip(scored, ranks, strict=True):
        result.rank = int(rank)


@dataclass
class Profile:
    run: IndexRun
    unit: OrgUnit
    years: list[IndexResult]  # oldest first
    latest: IndexResult
    peers: int
    firsts: list[tuple[MethodologyNode, float | None, float | None]]  # node, score, contribution
    strengths: list[tuple[MethodologyNode, float, float]]  # node, score, peer median
    weaknesses: list[tuple[MethodologyNode, float, float]]
    indicators: list[tuple[MethodologyNode, float | None, float | None, float | None]] = field(
        default_factory=list
    )  # node, raw value, score, contribution


def profile(run: IndexRun, unit: OrgUnit) -> Profile:
    """A unit's index over the run's years, what it is made of, its strong and weak indicators."""
    years = list(run.results.filter(org_unit=unit).order_by("year"))
    latest = next((r for r in years if r.year == run.year), None)
    if latest is None:
        raise NotFound(_("%(unit)s 不在这次计算的参评范围内。") % {"unit": unit.name})
    nodes = list(run.methodology.nodes.order_by("order", "pk"))
    tree = {n.code: n for n in nodes}
    top = max(nodes, key=lambda n: n.level)
    leaves = [n for n in nodes if n.level == 1]
    contribution_of: dict[str, float] = {}
    for leaf in leaves:
        branch = _first_level_of(leaf, tree, top.code)
        value = latest.contributions.get(leaf.code)
        if value is not None:
            contribution_of[branch] = contribution_of.get(branch, 0.0) + value
    firsts = [
        (n, latest.scores.get(n.code), contribution_of.get(n.code))
        for n in nodes
        if n.parent_code == top.code
    ]
    peers = list(run.results.filter(year=run.year).values_list("scores", flat=True))
    medians = {
        leaf.code: statistics.median(values)
        for leaf in leaves
        if (values := [p[leaf.code] for p in peers if p.get(leaf.code) is not None])
    }
    gaps = sorted(
        (
            (latest.scores[leaf.code] - medians[leaf.code], leaf)
            for leaf in leaves
            if latest.scores.get(leaf.code) is not None and leaf.code in medians
        ),
        key=lambda pair: pair[0],
    )
    inputs = Inputs.from_json(run.inputs)
    raw = _raw_values(inputs, unit.code, run.year)
    return Profile(
        run=run,
        unit=unit,
        years=years,
        latest=latest,
        peers=len(peers),
        firsts=firsts,
        strengths=[
            (leaf, latest.scores[leaf.code], medians[leaf.code])
            for _g, leaf in gaps[::-1][:STRENGTHS]
        ],
        weaknesses=[
            (leaf, latest.scores[leaf.code], medians[leaf.code]) for _g, leaf in gaps[:STRENGTHS]
        ],
        indicators=[
            (
                leaf,
                raw.get(leaf.code),
                latest.scores.get(leaf.code),
                latest.contributions.get(leaf.code),
            )
            for leaf in leaves
        ],
    )


def _first_level_of(node: MethodologyNode, tree: dict[str, MethodologyNode], top: str) -> str:
    while node.parent_code and node.parent_code != top:
        node = tree[node.parent_code]
    return node.code


def _raw_values(inputs: Inputs, unit_code: str, year: int) -> dict[str, float | None]:
    row = _row_of(inputs, unit_code, year)
    return {} if row is None else dict(zip(inputs.indicators, inputs.values[row], strict=True))


@dataclass
class WhatIf:
    score: float | None
    rank: int | None
    score_before: float | None
    rank_before: int | None
    units: int


def what_if(run: IndexRun, unit: OrgUnit, changes: dict[str, float]) -> WhatIf:
    """The unit's score and rank in the run's year had its values been ``changes``.

    Everything else (other units, other years, the methodology) stays as the
    run used it, so only the changed values explain the difference.
    """
    inputs = Inputs.from_json(run.inputs)
    row = _row_of(inputs, unit.code, run.year)
    if row is None:
        raise NotFound(_("%(unit)s 不在这次计算的参评范围内。") % {"unit": unit.name})
    overrides = {}
    for code, value in changes.items():
        if code not in inputs.indicators:
            raise InvalidInput(_("这个评价方法不含指标「%(code)s」") % {"code": code})
        if not math.isfinite(value):
            raise InvalidInput(_("「%(code)s」的假设值无效") % {"code": code})
        overrides[(row, inputs.indicators.index(code))] = value
    result = run_engine(run.methodology, inputs, overrides)
    position = list(result.rows).index(row) if row in set(result.rows.tolist()) else None
    stored = run.results.get(org_unit=unit, year=run.year)
    score = rank = None
    if position is not None:
        score = float(result.index[position])
        rank = None if math.isnan(result.ranks[position]) else int(result.ranks[position])
    return WhatIf(
        score=None if score is None or math.isnan(score) else score,
        rank=rank,
        score_before=stored.score,
        rank_before=stored.rank,
        units=run.results.filter(year=run.year).count(),
    )


@dataclass
class Improvement:
    target_rank: int
    reached: bool
    reason: str
    rank_after: int | None
    score_after: float | None
    # node, value before, value after (raw indicator values, in the order first changed)
    changes: list[tuple[MethodologyNode, float, float]]


def improvement(run: IndexRun, unit: OrgUnit, target_rank: int) -> Improvement:
    """The least-effort changes that lift the unit to ``target_rank`` in the run's year.

    Greedy on the score gained per unit of relative change (engine.improve);
    an indicator at its standard value (or the best any unit reached) gains nothing.
    """
    if target_rank < 1:
        raise InvalidInput(_("目标名次应为正整数"))
    inputs = Inputs.from_json(run.inputs)
    row = _row_of(inputs, unit.code, run.year)
    if row is None:
        raise NotFound(_("%(unit)s 不在这次计算的参评范围内。") % {"unit": unit.name})
    try:
        path = improvement_path(
            inputs.table(),
            framework_of(run.methodology),
            spec_of(run.methodology),
            row,
            target_rank=target_rank,
        )
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    nodes = {n.code: n for n in run.methodology.nodes.all()}
    last = path.steps[-1] if path.steps else None
    return Improvement(
        target_rank=target_rank,
        reached=path.reached,
        reason=path.reason,
        rank_after=None if last is None or math.isnan(last.rank) else int(last.rank),
        score_after=None if last is None else float(last.score),
        changes=[(nodes[code], a, b) for code, (a, b) in path.changes.items()],
    )


def _row_of(inputs: Inputs, unit_code: str, year: int) -> int | None:
    return next(
        (
            i
            for i, (code, row_year) in enumerate(zip(inputs.unit_codes, inputs.years, strict=True))
            if code == unit_code and row_year == year
        ),
        None,
    )
