"""Peer groups: ranks within groups and deterministic clustering of profiles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kechuang.evaluation.engine import peers
from kechuang.evaluation.engine.pipeline import build
from kechuang.evaluation.engine.table import DataTable

from .conftest import spec_of, table_for, tree_framework

FEW = settings(max_examples=50, deadline=None)


@FEW
@given(
    arrays(np.float64, st.integers(1, 30), elements=st.integers(0, 5).map(float)),
    st.data(),
)
def test_group_ranks_are_min_tie_ranks_within_each_group(
    scores: np.ndarray, data: st.DataObject
) -> None:
    labels = np.array(
        [data.draw(st.sampled_from(["城市化地区", "农产品主产区", None])) for _ in scores],
        dtype=object,
    )
    scores = np.where(np.arange(len(scores)) % 7 == 6, np.nan, scores)
    ranks = peers.rank_within_groups(scores, labels)
    for i, (score, label) in enumerate(zip(scores, labels, strict=True)):
        if label is None or np.isnan(score):
            assert np.isnan(ranks[i])
            continue
        same = (labels == label) & ~np.isnan(scores)
        assert ranks[i] == 1 + np.sum(scores[same] > score)


def test_group_ranks_within_each_year_of_a_panel() -> None:
    scores = np.array([5.0, 3.0, 4.0, 1.0, 2.0, 6.0])
    labels = ["A", "A", "B", "A", "A", "B"]
    times = np.array([2022, 2022, 2022, 2023, 2023, 2023])
    ranks = peers.rank_within_groups(scores, labels, times)
    assert ranks.tolist() == [1, 2, 1, 2, 1, 1]
    with pytest.raises(ValueError, match="应与单位数"):
        peers.rank_within_groups(scores, labels[:3])


def test_group_ranks_of_a_build_follow_its_rows() -> None:
    framework = tree_framework([2, 2])
    x = np.random.default_rng(0).uniform(0, 10, size=(9, 4))
    x[0] = np.nan  # screened out
    table = table_for(framework, x)
    result = build(table, framework, spec_of({"screen": {}}, {"normalise": {}}, {"aggregate": {}}))
    labels = np.array(["东部", "西部", "东部"] * 3, dtype=object)
    ranks = peers.group_ranks(result, labels)
    assert len(ranks) == len(result.rows) == 8
    for label in ("东部", "西部"):
        members = labels[result.rows] == label
        assert sorted(ranks[members].tolist()) == list(range(1, members.sum() + 1))


def blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated groups of 12 profiles in 5 indicators, shuffled."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0, 0, 0], [10, 10, 0, 0, 5], [0, 10, 10, 10, 0]], dtype=float)
    truth = np.repeat([0, 1, 2], 12)
    x = centres[truth] + rng.normal(0, 0.5, size=(36, 5))
    order = rng.permutation(36)
    return x[order], truth[order]


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return all(len(set(b[a == label])) == 1 for label in set(a)) and len(set(a)) == len(set(b))


@pytest.mark.parametrize("method", ["kmeans", "ward"])
def test_clustering_finds_separated_groups_with_canonical_labels(method: str) -> None:
    x, truth = blobs()
    x[3, 2] = np.nan  # a missing cell counts as the column mean, it does not break anything
    labels = peers.cluster_profiles(x, 3, method=method, rng=np.random.default_rng(1))
    assert same_partition(labels, truth)
    assert labels[0] == 0
    first = [int(np.flatnonzero(labels == k)[0]) for k in range(3)]
    assert first == sorted(first)  # labels numbered by each group's first unit


def test_kmeans_is_deterministic_given_the_seed() -> None:
    x = np.random.default_rng(5).normal(size=(60, 4))  # no real structure: seeds matter
    one = peers.cluster_profiles(x, 4, rng=np.random.default_rng(9))
    two = peers.cluster_profiles(x, 4, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(one, two)
    assert set(one.tolist()) == {0, 1, 2, 3}


def test_standardise_drops_constant_columns_and_centres_the_rest() -> None:
    x = np.array([[1.0, 5.0, 2.0], [2.0, 5.0, np.nan], [3.0, 5.0, 4.0]])
    z = peers.standardise(x)
    assert z.shape == (3, 2)
    np.testing.assert_allclose(z[:, 0], [-1, 0, 1])
    assert z[1, 1] == 0  # missing → the mean


def test_clustering_edge_cases_and_errors() -> None:
    x, _ = blobs()
    assert peers.cluster_profiles(x, 1).tolist() == [0] * 36
    assert (
        peers.cluster_profiles(np.ones((4, 3)), 2, rng=np.random.default_rng(0)).tolist() == [0] * 4
    )
    with pytest.raises(ValueError, match="分组数 k"):
        peers.cluster_profiles(x, 0)
    with pytest.raises(ValueError, match="rng"):
        peers.cluster_profiles(x, 2)
    with pytest.raises(ValueError, match="未知的聚类方法"):
        peers.cluster_profiles(x, 2, method="dbscan")


def test_cluster_build_clusters_each_year_on_the_normalised_data() -> None:
    framework = tree_framework([3, 2])
    x, truth = blobs(seed=2)
    table = table_for(framework, np.abs(x) + 1)
    panel = DataTable(
        unit_codes=np.tile(table.unit_codes, 2),
        indicators=framework.indicators,
        values=np.vstack([table.values, table.values]),
        times=np.repeat([2022.0, 2023.0], 36),
    )
    result = build(panel, framework, spec_of({"normalise": {}}, {"aggregate": {}}))
    labels = peers.cluster_build(result, 3, method="ward")
    assert same_partition(labels[:36], truth)
    np.testing.assert_array_equal(labels[:36], labels[36:])
    with pytest.raises(ValueError, match="没有数据集"):
        peers.cluster_build(result, 3, dataset="Treated")
