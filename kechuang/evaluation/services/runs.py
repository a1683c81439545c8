"""Computing an index from approved data and keeping what was computed from what.

A run reads the finally approved values of every current unit of one level
inside a scope (a province, or a city for a within-city ranking) for a window
of years, builds the methodology's spec with the engine, and stores the input
matrix, its digest and each unit-year's score, rank, node scores and
contributions. A rerun on unchanged data returns the stored run instead of a
copy, so the same data always shows the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from django.utils.translation import gettext as _

from kechuang.audit import services as audit
from kechuang.core.authorization import Action, require
from kechuang.core.errors import InvalidInput
from kechuang.core.scoping import subtree_q
from kechuang.evaluation.engine.peers import cluster_profiles, rank_within_groups
from kechuang.evaluation.engine.pipeline import BuildResult, build
from kechuang.evaluation.engine.table import DataTable
from kechuang.evaluation.engine.uncertainty import uncertainty
from kechuang.evaluation.models import IndexResult, IndexRun, Methodology
from kechuang.evaluation.services.methodologies import framework_of, spec_of
from kechuang.indicators.models import DataValue
from kechuang.indicators.services.rollup import rollup_table
from kechuang.regions.choices import Level
from kechuang.regions.models import OrgUnit

# Years read before the ranked year: enough for a trend line and for pooled
# (EIS-style) normalisation to make the years comparable.
DEFAULT_SPAN = 5
# Monte Carlo runs behind each rank interval: ±25 % noise on every weight.
UNCERTAINTY_RUNS = 200
WEIGHT_NOISE = 0.25
# Peer groups (like the three 主体功能区 types) once there are enough units to split.
PEER_GROUPS = 3
MIN_UNITS_PER_GROUP = 3


@dataclass(frozen=True)
class Inputs:
    """The data snapshot of a run: one row per unit-year that has any value."""

    unit_codes: list[str]
    unit_names: list[str]
    years: list[int]
    indicators: list[str]
    values: list[list[float | None]]

    def as_json(self) -> dict[str, Any]:
        return {
            "unit_codes": self.unit_codes,
            "unit_names": self.unit_names,
            "years": self.years,
            "indicators": self.indicators,
            "values": self.values,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Inputs:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__})

    def digest(self) -> str:
        text = json.dumps(self.as_json(), ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def table(self, overrides: dict[tuple[int, int], float] | None = None) -> DataTable:
        """The engine's table; ``overrides`` maps (row, indicator column) → value (what-if)."""
        values = np.array(
            [[math.nan if v is None else v for v in row] for row in self.values], dtype=float
        ).reshape(len(self.values), len(self.indicators))
        for (row, column), value in (overrides or {}).items():
            values[row, column] = value
        return DataTable(
            unit_codes=np.array(self.unit_codes, dtype=object),
            indicators=tuple(self.indicators),
            values=values,
            unit_names=np.array(self.unit_names, dtype=object),
            times=np.array(self.years, dtype=float),
        )


def units_in(within: OrgUnit, level: int) -> list[OrgUnit]:
    """Current units of ``level`` inside ``within`` (every kind: see indicators.services.rollup)."""
    return list(
        OrgUnit.objects.current()
        .filter(subtree_q("path", within.path), level=level)
        .order_by("code")
    )


def read_inputs(methodology: Methodology, units: Sequence[OrgUnit], years: Sequence[int]) -> Inputs:
    """Approved values (derived indicators computed) of the methodology's indicators."""
    framework = framework_of(methodology)
    codes = list(framework.indicators)
    table = rollup_table(codes, units, years)
    rows: list[tuple[OrgUnit, int, list[float | None]]] = []
    for year in years:
        for unit in units:
            row = [table[(unit.pk, code, year)] for code in codes]
            if any(v is not None for v in row):
                rows.append((unit, year, row))
    return Inputs(
        unit_codes=[unit.code for unit, _y, _r in rows],
        unit_names=[unit.name for unit, _y, _r in rows],
        years=[year for _u, year, _r in rows],
        indicators=codes,
        values=[[None if v is None else float(v) for v in row] for _u, _y, row in rows],
    )


def run_engine(methodology: Methodology, inputs: Inputs, overrides: Any = None) -> BuildResult:
    try:
        return build(inputs.table(overrides), framework_of(methodology), spec_of(methodology))
    except ValueError as error:
        raise InvalidInput(_("指数计算失败：%(error)s") % {"error": error}) from None


@transaction.atomic
def compute(
    methodology: Methodology,
    year: int,
    *,
    within: OrgUnit,
    level: int = Level.COUNTY,
    span: int = DEFAULT_SPAN,
    actor: Any,
) -> tuple[IndexRun, bool]:
    """The run of ``methodology`` for ``year`` over ``within``; (run, whether it is new)."""
    require(actor, Action.COMPUTE_INDEX, within)
    if level <= within.level:
        raise InvalidInput(_("评价层级应低于评价范围「%(unit)s」") % {"unit": within.name})
    units = units_in(within, level)
    inputs = read_inputs(methodology, units, list(range(year - span + 1, year + 1)))
    if year not in inputs.years:
        raise InvalidInput(
            _("%(unit)s %(year)s年没有已审定的数据，无法计算指数。")
            % {"unit": within.name, "year": year}
        )
    digest = inputs.digest()
    previous = IndexRun.objects.filter(
        methodology=methodology, year=year, within=within, level=level
    ).first()
    if previous is not None and previous.data_digest == digest:
        return previous, False
    result = run_engine(methodology, inputs)
    run = IndexRun.objects.create(
        methodology=methodology,
        year=year,
        level=level,
        within=within,
        inputs=inputs.as_json(),
        data_digest=digest,
        units=len(set(inputs.unit_codes)),
        created_by=actor if getattr(actor, "pk", None) else None,
        # Demo values feed the run: it carries the 示例数据 mark wherever it shows.
        is_demo=DataValue.objects.filter(is_demo=True).exists(),
    )
    by_code = {unit.code: unit for unit in units}
    rows = _results(run, result, inputs, by_code)
    _add_intervals(rows, methodology, inputs, result, digest)
    _add_peer_groups(rows, result)
    IndexResult.objects.bulk_create(rows, batch_size=1000)
    audit.record(
        actor,
        "evaluation.run.compute",
        run,
        org_unit=within,
        after={
            "methodology": str(methodology),
            "year": year,
            "units": run.units,
            "data_digest": digest,
        },
    )
    return run, True


def _results(
    run: IndexRun, result: BuildResult, inputs: Inputs, units: dict[str, OrgUnit]
) -> list[IndexResult]:
    aggregation = result.aggregation
    if aggregation is None:
        raise InvalidInput(_("评价方法缺少汇总（aggregate）步骤"))
    framework = result.framework
    nodes = framework.nodes
    index = result.index
    rows = []
    for position, table_row in enumerate(result.rows):
        rank = result.ranks[position] if result.ranks is not None else math.nan
        rows.append(
            IndexResult(
                run=run,
                org_unit=units[inputs.unit_codes[table_row]],
                year=inputs.years[table_row],
                score=_number(index[position]),
                rank=None if math.isnan(rank) else int(rank),
                scores={
                    code: _number(aggregation.values[position, column])
                    for column, code in enumerate(nodes)
                },
                contributions={
                    code: _number(aggregation.contributions[position, column])
                    for column, code in enumerate(framework.indicators)
                },
            )
        )
    return rows


def _number(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _add_intervals(
    rows: list[IndexResult],
    methodology: Methodology,
    inputs: Inputs,
    result: BuildResult,
    digest: str,
) -> None:
    """Each unit-year's rank interval; the seed comes from the data, so a rerun agrees."""
    try:
        analysis = uncertainty(
            inputs.table(),
            result.framework,
            result.spec,
            runs=UNCERTAINTY_RUNS,
            rng=np.random.default_rng(int(digest[:16], 16)),
            weight_noise=WEIGHT_NOISE,
        )
    except ValueError:
        # Data-driven weights (entropy, PCA …) have no noise model: no interval, not no run.
        return
    where = {int(row): position for position, row in enumerate(analysis.rows)}
    for row, table_row in zip(rows, result.rows, strict=True):
        position = where.get(int(table_row))
        if position is not None:
            row.rank_low = _number(analysis.q05[position])
            row.rank_high = _number(analysis.q95[position])


def _add_peer_groups(rows: list[IndexResult], result: BuildResult) -> None:
    """Group units by their profile in the latest year and rank each year within the group.

    One grouping per unit for every year, so a county keeps its peers when
    its trend is shown; clustering is Ward's (deterministic, no seed).
    """
    if len({r.org_unit_id for r in rows}) < PEER_GROUPS * MIN_UNITS_PER_GROUP:
        return
    scores = result.datasets["Normalised"].values if "Normalised" in result.datasets else None
    if scores is None:
        return
    latest = max(r.year for r in rows)
    positions = [i for i, r in enumerate(rows) if r.year == latest]
    labels = cluster_profiles(scores[positions], PEER_GROUPS, method="ward")
    group_of = {
        rows[i].org_unit_id: int(label) + 1 for i, label in zip(positions, labels, strict=True)
    }
    for row in rows:
        row.peer_group = group_of.get(row.org_unit_id)
    grouped = [i for i, r in enumerate(rows) if r.peer_group is not None]
    ranks = rank_within_groups(
        np.array([result.index[i] for i in grouped], dtype=float),
        [rows[i].peer_group for i in grouped],
        np.array([rows[i].year for i in grouped], dtype=float),
    )
    for i, rank in zip(grouped, ranks, strict=True):
        rows[i].peer_rank = None if math.isnan(rank) else int(rank)
