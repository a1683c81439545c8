"""Property tests of every step on random data (Hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kechuang.evaluation.engine import stats, weights
from kechuang.evaluation.engine.pipeline import build, rank_descending
from kechuang.evaluation.engine.steps.aggregate import LevelMethod, aggregate_level
from kechuang.evaluation.engine.steps.denominate import denominate
from kechuang.evaluation.engine.steps.impute import impute
from kechuang.evaluation.engine.steps.normalise import goalposts, minmax, zscore
from kechuang.evaluation.engine.steps.screen import screen_mask
from kechuang.evaluation.engine.steps.treat import passes, treat

from .conftest import spec_of, table_for, tree_framework

FEW = settings(max_examples=50, deadline=None)
SOME = settings(max_examples=80, deadline=None)

values = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.5, max_value=1e3, allow_nan=False, allow_infinity=False)
# Small integers give many ties, which the rank and winsorise rules must handle.
tied = st.integers(min_value=0, max_value=6).map(float)


@st.composite
def matrix(draw, elements=values, rows=(3, 30), columns=(1, 6), nan_share=0.15):  # type: ignore[no-untyped-def]
    n = draw(st.integers(*rows))
    m = draw(st.integers(*columns))
    x = draw(arrays(np.float64, (n, m), elements=elements))
    holes = draw(arrays(np.bool_, (n, m), elements=st.booleans()))
    if nan_share:
        keep = draw(arrays(np.float64, (n, m), elements=st.floats(0, 1)))
        x = np.where(holes & (keep < nan_share * 2), np.nan, x)
    return x


def check_ranks(scores: np.ndarray, ranks: np.ndarray) -> None:
    present = ~np.isnan(scores)
    assert np.all(np.isnan(ranks[~present]))
    for score, rank in zip(scores[present], ranks[present], strict=True):
        # "min" ties: 1 + the number of strictly better scores.
        assert rank == 1 + np.sum(scores[present] > score)


# ---------------------------------------------------------------- denominate


@FEW
@given(matrix(nan_share=0.1), st.data())
def test_denominate_divides_only_columns_with_a_denominator(
    x: np.ndarray, data: st.DataObject
) -> None:
    denominators = data.draw(arrays(np.float64, (x.shape[0], 2), elements=positive))
    columns = np.array([data.draw(st.integers(-1, 1)) for _ in range(x.shape[1])])
    scale = np.array([data.draw(st.sampled_from([1.0, 1000.0])) for _ in range(x.shape[1])])
    out = denominate(x, denominators, columns, scale)
    assert out.shape == x.shape
    for j, column in enumerate(columns):
        expected = x[:, j] if column < 0 else x[:, j] / (denominators[:, column] / scale[j])
        np.testing.assert_array_equal(out[:, j], expected)


# ---------------------------------------------------------------- impute


@SOME
@given(matrix(), st.sampled_from(["mean", "median"]), st.booleans(), st.data())
def test_impute_keeps_observed_values_and_fills_from_the_group(
    x: np.ndarray, centre: str, grouped: bool, data: st.DataObject
) -> None:
    labels = np.array(
        [data.draw(st.sampled_from(["A", "B", None])) for _ in range(len(x))], dtype=object
    )
    method = f"{centre}_group" if grouped else centre
    out = impute(x, method, labels if grouped else None)
    observed = ~np.isnan(x)
    np.testing.assert_array_equal(out[observed], x[observed])
    statistic = np.nanmean if centre == "mean" else np.nanmedian
    for i, j in zip(*np.nonzero(~observed), strict=True):
        if grouped:
            if labels[i] is None:
                assert np.isnan(out[i, j])  # COINr skips units without a group
                continue
            pool = x[labels == labels[i], j]
        else:
            pool = x[:, j]
        if np.all(np.isnan(pool)):
            assert np.isnan(out[i, j])  # nothing to impute from: stays missing, never 0
        else:
            assert out[i, j] == pytest.approx(statistic(pool), rel=1e-12, abs=1e-9)


# ---------------------------------------------------------------- screen


@FEW
@given(matrix(elements=tied, nan_share=0.3), st.floats(0, 1), st.floats(0, 1))
def test_screen_keeps_rows_meeting_the_thresholds(
    x: np.ndarray, share: float, nonzero: float
) -> None:
    available = 1 - np.isnan(x).mean(axis=1)
    observed = (~np.isnan(x)).sum(axis=1)
    zeros = (x == 0).sum(axis=1)
    nonzero_share = np.where(observed > 0, 1 - zeros / np.maximum(observed, 1), 0)
    by_na = screen_mask(x, min_share=share)
    by_zeros = screen_mask(x, rule="zeros", min_nonzero_share=nonzero)
    both = screen_mask(x, min_share=share, rule="na_and_zeros", min_nonzero_share=nonzero)
    np.testing.assert_array_equal(by_na, available >= share)
    np.testing.assert_array_equal(by_zeros, nonzero_share >= nonzero)
    np.testing.assert_array_equal(both, by_na & by_zeros)


# ---------------------------------------------------------------- treat


@SOME
@given(
    matrix(elements=st.one_of(tied, st.floats(0, 1e3)), rows=(4, 40)),
    st.one_of(st.none(), st.integers(0, 6)),
)
def test_treat_preserves_missing_values_and_never_widens_the_range(
    x: np.ndarray, winmax: int | None
) -> None:
    codes = tuple(f"I{j}" for j in range(x.shape[1]))
    out, records = treat(x, codes, winmax=winmax)
    assert out.shape == x.shape
    np.testing.assert_array_equal(np.isnan(out), np.isnan(x))
    logged = {record.code: record for record in records}
    for j, code in enumerate(codes):
        record = logged.get(code)
        if record is None or record.pass0:
            np.testing.assert_array_equal(out[:, j], x[:, j])  # untouched
        elif record.stage == 1 and (record.pass1 or record.pass1 is None):
            present = ~np.isnan(x[:, j])
            if record.pass1:
                assert np.nanmin(out[:, j]) >= np.nanmin(x[:, j])
                assert np.nanmax(out[:, j]) <= np.nanmax(x[:, j])
                # only the extreme values moved
                changed = present & (out[:, j] != x[:, j])
                assert changed.sum() == record.nwin
            else:
                np.testing.assert_array_equal(out[:, j], x[:, j])
        if record is not None and record.stage >= 1 and winmax is not None:
            assert record.nwin is not None
            assert record.nwin <= np.count_nonzero(~np.isnan(x[:, j]))


@FEW
@given(matrix(elements=st.floats(0, 1e3), rows=(5, 40), nan_share=0))
def test_treat_outcome_passes_the_check_when_the_log_says_so(x: np.ndarray) -> None:
    codes = tuple(f"I{j}" for j in range(x.shape[1]))
    out, records = treat(x, codes)
    skew, kurt = stats.skew_kurt(out)
    verdict = passes(skew, kurt, 2.0, 3.5)
    for record in records:
        j = codes.index(record.code)
        final = (
            record.pass2 if record.stage == 2 else (record.pass1 if record.stage else record.pass0)
        )
        if final is not None and not (record.stage == 2 and not final):
            assert bool(verdict[j]) is final


# ---------------------------------------------------------------- normalise


@SOME
@given(
    matrix(rows=(2, 30)),
    st.floats(0.01, 100),
    st.floats(-1e3, 1e3),
)
def test_minmax_is_invariant_to_positive_rescaling_and_shifts(
    x: np.ndarray, factor: float, shift: float
) -> None:
    spread = stats.nanmax(x) - stats.nanmin(x)
    scale = np.maximum(stats.nanmax(np.abs(x)), 1)
    assume(np.all((spread > 1e-6 * scale) | np.isnan(spread)))
    a, b = minmax(x), minmax(x * factor + shift)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(x))
    np.testing.assert_allclose(a, b, atol=1e-6)
    present = ~np.isnan(x).all(axis=0)
    np.testing.assert_allclose(np.nanmin(a[:, present], axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(np.nanmax(a[:, present], axis=0), 100, atol=1e-9)


@SOME
@given(matrix(rows=(3, 30)), st.floats(-100, 100), st.floats(0.1, 50))
def test_zscore_has_the_requested_mean_and_sd(x: np.ndarray, mean: float, sd: float) -> None:
    spread = stats.nanmax(x) - stats.nanmin(x)
    assume(np.all((stats.count(x) >= 2) & (spread > 1e-3)))
    z = zscore(x, mean, sd)
    np.testing.assert_array_equal(np.isnan(z), np.isnan(x))
    np.testing.assert_allclose(np.nanmean(z, axis=0), mean, atol=1e-6 * max(1, abs(mean)))
    np.testing.assert_allclose(np.nanstd(z, axis=0, ddof=1), sd, rtol=1e-6)


@SOME
@given(matrix(rows=(1, 20)), st.data())
def test_goalposts_stay_between_0_and_scale(x: np.ndarray, data: st.DataObject) -> None:
    m = x.shape[1]
    lower = np.array([data.draw(st.floats(-100, 100)) for _ in range(m)])
    width = np.array([data.draw(st.floats(0.5, 1e3)) for _ in range(m)])
    directions = np.array([data.draw(st.sampled_from([1.0, -1.0])) for _ in range(m)])
    scale = data.draw(st.floats(1, 1000))
    negative = data.draw(st.sampled_from(["inverse_ratio", "reflect"]))
    y = goalposts(x, lower, lower + width, directions, scale=scale, negative=negative)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(x))
    assert np.all((y[~np.isnan(y)] >= 0) & (y[~np.isnan(y)] <= scale))


@FEW
@given(
    matrix(rows=(2, 25), nan_share=0.2),
    st.sampled_from(
        [
            "minmax",
            "zscore",
            "rank",
            "percentile_rank",
            "borda",
            "fraction_of_max",
            "distance_to_max",
        ]
    ),
)
def test_every_normalisation_keeps_missing_values_missing(x: np.ndarray, method: str) -> None:
    framework = tree_framework([x.shape[1]])
    result = build(table_for(framework, x), framework, spec_of({"normalise": {"method": method}}))
    out = result.datasets["Normalised"].values
    assert out.shape == x.shape
    assert np.all(np.isnan(out[np.isnan(x)]))


# ---------------------------------------------------------------- rank


@SOME
@given(arrays(np.float64, st.integers(1, 60), elements=st.one_of(tied, st.just(np.nan))))
def test_ranks_are_a_permutation_with_min_ties(scores: np.ndarray) -> None:
    ranks = rank_descending(scores, [np.arange(len(scores))])
    check_ranks(scores, ranks)
    present = ranks[~np.isnan(ranks)]
    if len(present):
        assert present.min() == 1
        # With ties sharing the lowest rank, rank r is used by exactly the ties at r.
        for rank in np.unique(present):
            assert np.sum(present < rank) == rank - 1


# ---------------------------------------------------------------- weights


@st.composite
def groups_and_data(draw):  # type: ignore[no-untyped-def]
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    groups = np.repeat(np.arange(len(sizes)), sizes)
    x = draw(
        arrays(np.float64, (draw(st.integers(3, 25)), len(groups)), elements=st.floats(0, 100))
    )
    return groups, x


@SOME
@given(groups_and_data(), st.sampled_from(["equal", "entropy", "critic", "pca"]))
def test_data_driven_weights_sum_to_one_per_parent(case, method: str) -> None:  # type: ignore[no-untyped-def]
    groups, x = case
    try:
        w = weights.METHODS[method](x, groups)
    except ValueError:
        # PCA refuses constant columns (prcomp cannot scale them) and cancelling loadings.
        assert method == "pca"
        return
    assert w.shape == (x.shape[1],)
    for g in np.unique(groups):
        assert w[groups == g].sum() == pytest.approx(1.0)
    if method != "pca":
        assert np.all(w >= 0)


@FEW
@given(st.lists(st.integers(1, 4), min_size=1, max_size=5), st.data())
def test_effective_weights_multiply_down_the_tree(sizes: list[int], data: st.DataObject) -> None:
    n = sum(sizes)
    w = [data.draw(st.floats(0.1, 10)) for _ in range(n)]
    framework = tree_framework(sizes, weights=w)
    normalised = weights.normalised_by_parent(framework)
    plan = framework.plans[0]
    for j in range(len(plan.parents)):
        assert normalised[plan.children[plan.parent_position == j]].sum() == pytest.approx(1)
    effective = weights.effective_weights(framework)
    assert effective[:n].sum() == pytest.approx(1.0)
    assert effective[framework.top] == 1.0


# ---------------------------------------------------------------- aggregate

METHODS = [
    LevelMethod("arithmetic"),
    LevelMethod("geometric"),
    LevelMethod("harmonic"),
    LevelMethod("generalised_mean", 2.0),
    LevelMethod("generalised_mean", -0.5),
]


@SOME
@given(
    matrix(elements=positive, rows=(1, 15), columns=(2, 6), nan_share=0.2),
    st.sampled_from(METHODS),
    st.data(),
)
def test_aggregate_is_monotone_and_drops_missing_children(
    x: np.ndarray, method: LevelMethod, data: st.DataObject
) -> None:
    parents = np.array([0] + [data.draw(st.integers(0, 1)) for _ in range(x.shape[1] - 1)])
    parents[-1] = 1 if parents.max() == 0 else parents[-1]
    w = np.array([data.draw(st.floats(0.1, 5)) for _ in range(x.shape[1])])
    scores, shares = aggregate_level(x, parents, w, method)
    assert scores.shape == (len(x), 2)
    for p in (0, 1):
        children = parents == p
        empty = np.isnan(x[:, children]).all(axis=1)
        assert np.all(np.isnan(scores[empty, p]))  # nothing present: NaN, never 0
        assert np.all(~np.isnan(scores[~empty, p]))
        # Shares of the present children add up to 1.
        np.testing.assert_allclose(shares[~empty][:, children].sum(axis=1), 1, rtol=1e-9)
    # Raising one present child never lowers its parent.
    i = data.draw(st.integers(0, len(x) - 1))
    j = data.draw(st.integers(0, x.shape[1] - 1))
    assume(not np.isnan(x[i, j]))
    higher = x.copy()
    higher[i, j] *= data.draw(st.floats(1.0, 10.0))
    raised, _ = aggregate_level(higher, parents, w, method)
    assert raised[i, parents[j]] >= scores[i, parents[j]] * (1 - 1e-12)


@SOME
@given(
    matrix(elements=positive, rows=(2, 20), columns=(4, 8), nan_share=0.2),
    st.sampled_from(["arithmetic", "geometric", "harmonic", "generalised_mean"]),
    st.one_of(st.none(), st.floats(0.2, 0.9)),
)
def test_contributions_add_up_to_the_index_for_every_method(
    x: np.ndarray, method: str, threshold: float | None
) -> None:
    m = x.shape[1]
    framework = tree_framework([m // 2, m - m // 2])
    aggregate: dict[str, object] = {"method": method}
    if threshold is not None:
        aggregate["data_threshold"] = threshold
    result = build(table_for(framework, x), framework, spec_of({"aggregate": aggregate}))
    index, contributions = result.index, result.contributions
    present = ~np.isnan(index)
    np.testing.assert_allclose(np.nansum(contributions[present], axis=1), index[present], rtol=1e-9)
    assert np.all(np.isnan(contributions[np.isnan(x)]))  # a missing indicator contributes NaN
    assert np.all(np.isnan(contributions[~present]))


@FEW
@given(matrix(elements=st.floats(0, 100), rows=(2, 20), columns=(2, 6), nan_share=0), st.data())
def test_index_is_monotone_in_each_positive_indicator(x: np.ndarray, data: st.DataObject) -> None:
    m = x.shape[1]
    framework = tree_framework([m // 2 or 1, m - (m // 2 or 1)] if m > 1 else [1])
    spec = spec_of({"normalise": {"method": "minmax"}}, {"aggregate": {"method": "arithmetic"}})
    before = build(table_for(framework, x), framework, spec).index
    i = data.draw(st.integers(0, len(x) - 1))
    j = data.draw(st.integers(0, m - 1))
    higher = x.copy()
    higher[i, j] += data.draw(st.floats(0.1, 50))
    after = build(table_for(framework, higher), framework, spec).index
    if not np.isnan(before[i]) and not np.isnan(after[i]):
        assert after[i] >= before[i] - 1e-9


@FEW
@given(matrix(elements=st.floats(1, 100), rows=(4, 20), columns=(2, 5), nan_share=0), st.data())
def test_panel_ranks_per_year_and_pooled_minmax(x: np.ndarray, data: st.DataObject) -> None:
    n = len(x)
    years = np.array([2020.0 + (i % 2) for i in range(n)])
    units = np.array([f"U{i // 2:03d}" for i in range(n)], dtype=object)
    framework = tree_framework([x.shape[1]])
    table = table_for(framework, x, times=years)
    table = type(table)(
        unit_codes=units, indicators=table.indicators, values=x, times=years, groups=table.groups
    )
    pooled = data.draw(st.booleans())
    spec = spec_of({"normalise": {"method": "minmax", "pooled": pooled}}, {"aggregate": {}})
    result = build(table, framework, spec)
    normalised = result.datasets["Normalised"].values
    for year in (2020.0, 2021.0):
        rows = years == year
        check_ranks(result.index[rows], result.ranks[rows])  # type: ignore[index]
        if not pooled:
            np.testing.assert_allclose(normalised[rows], minmax(x[rows]), equal_nan=True)
    if pooled:
        np.testing.assert_allclose(normalised, minmax(x), equal_nan=True)
