from __future__ import annotations

import statistics
from typing import Any

import pytest

from conftest import PASSWORD
from kechuang.accounts import services as accounts
from kechuang.audit.models import LogEntry
from kechuang.core.errors import Forbidden, InvalidInput
from kechuang.evaluation.models import IndexResult, IndexRun
from kechuang.evaluation.services import results, runs
from kechuang.indicators.models import DataValue
from kechuang.indicators.services.rollup import rollup

pytestmark = pytest.mark.django_db
YEAR = 2024


def standard_value_index(methodology: Any, unit: Any, year: int) -> float:
    """The 标准值法 written out independently: capped ratios, equal-weight means up the tree."""
    nodes = list(methodology.nodes.all())
    leaves = [n for n in nodes if n.level == 1]
    values = rollup([n.code for n in leaves], unit, year)
    score: dict[str, float] = {}
    for leaf in leaves:
        x = values[leaf.code]
        if x is None:
            continue
        ratio = x / leaf.target if leaf.direction == 1 else (leaf.target / x if x else 1.0)
        score[leaf.code] = 100 * min(max(ratio, 0.0), 1.0)
    for level in range(2, max(n.level for n in nodes) + 1):
        for node in (n for n in nodes if n.level == level):
            children = [
                score[c.code] for c in nodes if c.parent_code == node.code and c.code in score
            ]
            if children:
                score[node.code] = statistics.fmean(children)
    top = max(nodes, key=lambda n: n.level)
    return score[top.code]


def test_a_run_scores_every_county_by_the_standard_value_method(shipped, cast) -> None:
    cspi = shipped["CSPI_COUNTY"]
    run, new = runs.compute(
        cspi, YEAR, within=cast.unit("gansu"), actor=cast.user("gansu", "admin")
    )
    assert new
    latest = {r.org_unit.code: r for r in run.results.filter(year=YEAR)}
    assert set(latest) == {"620821", "620823", "620102"}
    for result in latest.values():
        expected = standard_value_index(cspi, result.org_unit, YEAR)
        assert result.score == pytest.approx(expected, abs=1e-9)
        # The contributions explain the score exactly.
        assert sum(v for v in result.contributions.values() if v is not None) == pytest.approx(
            result.score, abs=1e-9
        )
    ordered = sorted(latest.values(), key=lambda r: -r.score)
    assert [r.rank for r in ordered] == [1, 2, 3]
    # Earlier years of the window are stored too, each ranked within its year.
    assert sorted(set(run.results.values_list("year", flat=True))) == list(
        range(YEAR - 4, YEAR + 1)
    )
    entry = LogEntry.objects.get(action="evaluation.run.compute")
    assert entry.after["data_digest"] == run.data_digest


def test_the_same_data_gives_the_same_run_and_new_data_a_new_one(shipped, cast) -> None:
    cspi = shipped["CSPI_COUNTY"]
    first, _ = runs.compute(cspi, YEAR, within=cast.unit("gansu"), actor=None)
    again, new = runs.compute(cspi, YEAR, within=cast.unit("gansu"), actor=None)
    assert (again.pk, new) == (first.pk, False)
    cell = DataValue.objects.filter(
        org_unit=cast.unit("jingchuan"),
        year=YEAR,
        indicator__code="RD_EXP",
        submission__status="approved",
    ).get()
    cell.value *= 2
    cell.save()
    changed, new = runs.compute(cspi, YEAR, within=cast.unit("gansu"), actor=None)
    assert new
    assert changed.data_digest != first.data_digest
    # The first run still shows what it showed: its inputs and results are its own.
    assert (
        IndexResult.objects.filter(run=first).count()
        == IndexResult.objects.filter(run=changed).count()
    )
    before = first.results.get(org_unit=cast.unit("jingchuan"), year=YEAR).score
    after = changed.results.get(org_unit=cast.unit("jingchuan"), year=YEAR).score
    assert after >= before


def test_a_rerun_from_the_stored_inputs_reproduces_every_number(shipped, cast) -> None:
    for methodology in shipped.values():
        run, _ = runs.compute(methodology, YEAR, within=cast.unit("gansu"), actor=None)
        rebuilt = runs.run_engine(methodology, runs.Inputs.from_json(run.inputs))
        stored = {
            (r.org_unit.code, r.year): r.score for r in run.results.select_related("org_unit")
        }
        inputs = runs.Inputs.from_json(run.inputs)
        for position, row in enumerate(rebuilt.rows):
            key = (inputs.unit_codes[row], inputs.years[row])
            assert rebuilt.index[position] == pytest.approx(stored[key], abs=0, rel=0)


def test_who_may_compute(shipped, cast) -> None:
    cspi = shipped["CSPI_COUNTY"]
    for role in ("clerk", "reviewer"):
        with pytest.raises(Forbidden):
            runs.compute(cspi, YEAR, within=cast.unit("gansu"), actor=cast.user("gansu", role))
    with pytest.raises(InvalidInput, match="评价层级"):
        runs.compute(
            cspi, YEAR, within=cast.unit("jingchuan"), actor=cast.user("jingchuan", "leader")
        )
    run, _ = runs.compute(
        cspi, YEAR, within=cast.unit("pingliang"), actor=cast.user("pingliang", "leader")
    )
    assert set(run.results.values_list("org_unit__code", flat=True)) == {"620821", "620823"}
    with pytest.raises(InvalidInput, match="没有已审定的数据"):
        runs.compute(cspi, 1990, within=cast.unit("gansu"), actor=None)
    assert IndexRun.objects.count() == 1


def test_rankings_are_published_among_peers(shipped, cast) -> None:
    run, _ = runs.compute(shipped["CSPI_COUNTY"], YEAR, within=cast.unit("gansu"), actor=None)
    for key in ("gansu", "pingliang", "jingchuan", "chengguan_town"):
        assert run in results.visible_runs(cast.user(key, "clerk"))
    city_run, _ = runs.compute(
        shipped["CSPI_COUNTY"], YEAR, within=cast.unit("pingliang"), actor=None
    )
    assert city_run in results.visible_runs(cast.user("gansu", "clerk"))
    assert city_run in results.visible_runs(cast.user("jingchuan", "clerk"))
    # A ranking inside 平凉市 is none of 兰州市's business.
    outsider = accounts.create_user(
        actor=None,
        username="lanzhou_clerk",
        password=PASSWORD,
        org_unit=cast.unit("lanzhou"),
        role="clerk",
    )
    assert city_run not in results.visible_runs(outsider)
    assert run in results.visible_runs(outsider)


def test_a_ranking_within_a_city_ranks_its_counties_among_themselves(shipped, cast) -> None:
    run, _ = runs.compute(shipped["CSPI_COUNTY"], YEAR, within=cast.unit("gansu"), actor=None)
    rows = results.ranking(run, within=cast.unit("pingliang"))
    assert {r.result.org_unit.code for r in rows} == {"620821", "620823"}
    assert sorted(r.result.rank for r in rows) == [1, 2]
    assert all(len(r.firsts) == 5 for r in rows)


def test_what_if_changes_only_what_was_changed(shipped, cast) -> None:
    run, _ = runs.compute(shipped["CSPI_COUNTY"], YEAR, within=cast.unit("gansu"), actor=None)
    unit = cast.unit("jingchuan")
    nothing = results.what_if(run, unit, {})
    assert (nothing.score, nothing.rank) == (nothing.score_before, nothing.rank_before)
    profile = results.profile(run, unit)
    weakest = profile.weaknesses[0][0]
    raw = next(r for node, r, _s, _c in profile.indicators if node.code == weakest.code)
    better = raw * 10 if weakest.direction == 1 else raw / 10
    outcome = results.what_if(run, unit, {weakest.code: better})
    assert outcome.score > outcome.score_before
    assert outcome.rank <= outcome.rank_before
    with pytest.raises(InvalidInput):
        results.what_if(run, unit, {"NO_SUCH": 1.0})


def test_a_profile_explains_the_score(shipped, cast) -> None:
    run, _ = runs.compute(shipped["CSPI_COUNTY"], YEAR, within=cast.unit("gansu"), actor=None)
    profile = results.profile(run, cast.unit("chongxin"))
    assert [r.year for r in profile.years] == list(range(YEAR - 4, YEAR + 1))
    assert sum(c for _n, _s, c in profile.firsts if c) == pytest.approx(profile.latest.score)
    strengths = [score - median for _n, score, median in profile.strengths]
    weaknesses = [score - median for _n, score, median in profile.weaknesses]
    assert min(strengths) >= max(weaknesses)


def test_each_rank_has_an_interval_and_reruns_agree(shipped, cast) -> None:
    methodology = shipped["CSPI_MINMAX"]
    run, _ = runs.compute(methodology, YEAR, within=cast.unit("gansu"), actor=None)
    for result in run.results.all():
        assert 1 <= result.rank_low <= result.rank_high <= 3
    # The seed is the data's digest: the same inputs give the same intervals.
    stored = {(r.org_unit_id, r.year): (r.rank_low, r.rank_high) for r in run.results.all()}
    rows = runs._results(
        run,
        runs.run_engine(methodology, runs.Inputs.from_json(run.inputs)),
        runs.Inputs.from_json(run.inputs),
        {u.code: u for u in runs.units_in(cast.unit("gansu"), 3)},
    )
    runs._add_intervals(
        rows,
        methodology,
        runs.Inputs.from_json(run.inputs),
        runs.run_engine(methodology, runs.Inputs.from_json(run.inputs)),
        run.data_digest,
    )
    assert {(r.org_unit_id, r.year): (r.rank_low, r.rank_high) for r in rows} == stored


def test_peer_groups_rank_units_among_similar_ones(shipped, cast, monkeypatch) -> None:
    # Three counties only: lower the bar so the three form groups.
    monkeypatch.setattr(runs, "MIN_UNITS_PER_GROUP", 1)
    run, _ = runs.compute(shipped["CSPI_COUNTY"], YEAR, within=cast.unit("gansu"), actor=None)
    latest = list(run.results.filter(year=YEAR))
    assert {r.peer_group for r in latest} == {1, 2, 3}
    assert all(r.peer_rank == 1 for r in latest)  # one unit per group
    # A unit keeps its group in every year of the run.
    for result in run.results.all():
        assert result.peer_group == next(
            r.peer_group for r in latest if r.org_unit_id == result.org_unit_id
        )
    rows = results.ranking(run, peer_group=latest[0].peer_group)
    assert [r.result.org_unit_id for r in rows] == [latest[0].org_unit_id]
