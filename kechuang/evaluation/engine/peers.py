"""Peer groups: ranks within given groups, and groups found from the units' profiles.

A county is fairly compared with counties like it: the same 主体功能区
(a label per unit, given) or a similar indicator profile (found here). Ranks
within a group follow the engine's ranking (1 = highest, ties "min", NaN gets
none), within each Time value as well in a panel. A unit without a label
gets no group rank, as COINr's rank_df(use_group) leaves it NA.

Clustering works on standardised columns (z-scores, sd with n − 1; a
missing cell counts as the column mean, a constant column is dropped), so
no indicator dominates by its unit of measure:

* ``kmeans``: Lloyd's algorithm from k-means++ seeds drawn with the given
  numpy Generator, `n_init` starts, the lowest within-cluster sum of squares
  kept (the first on a tie);
* ``ward``: Ward's hierarchical clustering (scipy), cut into k groups; no
  randomness.

Labels are renumbered 0, 1, … in order of each group's first unit, so the
same grouping always has the same labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.cluster import hierarchy

from kechuang.evaluation.engine import stats
from kechuang.evaluation.engine.pipeline import BuildResult, rank_descending
from kechuang.evaluation.engine.steps.base import Context

CLUSTER_METHODS = ("kmeans", "ward")


def rank_within_groups(
    scores: np.ndarray,
    labels: Sequence[object] | np.ndarray,
    times: np.ndarray | None = None,
) -> np.ndarray:
    """Rank of each unit among those with the same label (and the same Time, if given)."""
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=object)
    if labels.shape != scores.shape:
        raise ValueError(f"分组标签的个数（{len(labels)}）应与单位数（{len(scores)}）相同")
    if times is not None and len(times) != len(scores):
        raise ValueError(f"年份的个数（{len(times)}）应与单位数（{len(scores)}）相同")
    codes, _ = stats.group_codes(labels)
    if times is not None:
        _, year = np.unique(np.asarray(times, dtype=float), return_inverse=True)
        codes = np.where(codes >= 0, codes * (int(year.max()) + 1) + year.reshape(-1), -1)
    blocks = [np.flatnonzero(codes == code) for code in np.unique(codes[codes >= 0])]
    return rank_descending(scores, blocks)


def group_ranks(result: BuildResult, labels: Sequence[object] | np.ndarray) -> np.ndarray:
    """Ranks on the index within each group and year, over the build's rows.

    `labels` are per table row (as the table's group columns are).
    """
    labels = np.asarray(labels, dtype=object)
    if len(labels) != result.table.n_rows:
        raise ValueError(
            f"分组标签的个数（{len(labels)}）应与数据行数（{result.table.n_rows}）相同"
        )
    times = None
    if result.table.is_panel:
        assert result.table.times is not None
        times = result.table.times[result.rows]
    return rank_within_groups(result.index, labels[result.rows], times)


def standardise(values: np.ndarray) -> np.ndarray:
    """z-scores per column (sd with n − 1), NaN as 0 (the mean); constant columns dropped."""
    x = np.asarray(values, dtype=float)
    sd = stats.sd(x)
    keep = np.isfinite(sd) & (sd > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x[:, keep] - stats.mean(x)[keep]) / sd[keep]
    return np.where(np.isnan(z), 0.0, z)


def cluster_profiles(
    values: np.ndarray,
    k: int,
    *,
    method: str = "kmeans",
    rng: np.random.Generator | None = None,
    n_init: int = 10,
    max_iter: int = 300,
) -> np.ndarray:
    """A label 0…k−1 per unit (row of `values`, units × indicators) from its profile."""
    if method not in CLUSTER_METHODS:
        raise ValueError(f"未知的聚类方法 '{method}'（可用：{'、'.join(CLUSTER_METHODS)}）")
    n = len(values)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n:
        raise ValueError(f"分组数 k 应在 1 到单位数 {n} 之间，实际为 {k!r}")
    z = standardise(values)
    if k == 1 or z.shape[1] == 0:
        return np.zeros(n, dtype=np.intp)
    if method == "ward":
        tree = hierarchy.linkage(z, method="ward")
        labels = hierarchy.fcluster(tree, t=k, criterion="maxclust")
    else:
        if rng is None:
            raise ValueError("k-means 聚类需要随机数生成器 rng（保证结果可重现）")
        labels = _kmeans(z, int(k), rng, n_init, max_iter)
    return _canonical(labels)


def cluster_build(
    result: BuildResult,
    k: int,
    *,
    dataset: str = "Normalised",
    method: str = "kmeans",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Labels over a build's rows from one of its data sets, clustered per year in a panel."""
    if dataset not in result.datasets:
        raise ValueError(f"没有数据集 '{dataset}'（可用：{'、'.join(result.datasets)}）")
    values = result.datasets[dataset].values
    if dataset == "Aggregated":
        values = values[:, : len(result.framework.indicators)]
    labels = np.zeros(len(result.rows), dtype=np.intp)
    for _, block in Context(result.table, result.framework).blocks(result.rows):
        labels[block] = cluster_profiles(values[block], min(k, len(block)), method=method, rng=rng)
    return labels


def _kmeans(
    z: np.ndarray, k: int, rng: np.random.Generator, n_init: int, max_iter: int
) -> np.ndarray:
    best_labels: np.ndarray | None = None
    best_inertia = np.inf
    squared = np.einsum("ij,ij->i", z, z)
    for _ in range(max(1, n_init)):
        centres = _plus_plus(z, squared, k, rng)
        labels = np.full(len(z), -1, dtype=np.intp)
        for _ in range(max_iter):
            distances = _distances(z, squared, centres)
            new = np.argmin(distances, axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            for c in range(k):
                members = labels == c
                if members.any():
                    centres[c] = z[members].mean(axis=0)
                else:
                    # An empty cluster restarts at the unit farthest from its centre.
                    far = int(np.argmax(distances[np.arange(len(z)), labels]))
                    centres[c] = z[far]
        inertia = float(_distances(z, squared, centres)[np.arange(len(z)), labels].sum())
        if inertia < best_inertia:
            best_inertia, best_labels = inertia, labels.copy()
    assert best_labels is not None
    return best_labels


def _distances(z: np.ndarray, squared: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (units × centres), never below 0."""
    d = squared[:, None] - 2 * z @ centres.T + np.einsum("ij,ij->i", centres, centres)[None, :]
    return np.maximum(d, 0.0)


def _plus_plus(z: np.ndarray, squared: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeds: each next one drawn with probability ∝ squared distance to the nearest."""
    centres = np.empty((k, z.shape[1]))
    centres[0] = z[rng.integers(len(z))]
    nearest = _distances(z, squared, centres[:1])[:, 0]
    for c in range(1, k):
        total = nearest.sum()
        if total > 0:
            pick = int(np.searchsorted(np.cumsum(nearest), rng.random() * total, side="right"))
            pick = min(pick, len(z) - 1)
        else:
            pick = int(rng.integers(len(z)))
        centres[c] = z[pick]
        nearest = np.minimum(nearest, _distances(z, squared, centres[c : c + 1])[:, 0])
    return centres


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0, 1, … by first appearance."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse.reshape(-1)].astype(np.intp)
