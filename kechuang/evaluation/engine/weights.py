"""Weights: normalisation within parents, effective weights, and data-driven weight sets.

The data-driven methods take the scores of one level's children (rows = units,
columns = children) and the parent of each child (`groups`, any labels), and
return weights that sum to 1 within each parent:

* entropy (熵权法): d_j = 1 − E_j with E_j = −Σ p ln p / ln n, p = x / Σx; needs x ≥ 0;
* CRITIC: C_j = σ_j Σ_k (1 − r_jk) over the siblings, on rows complete within the group;
* PCA: loadings of the first principal component of the standardised siblings
  (COINr get_PCA: prcomp(center = TRUE, scale = TRUE), rows with NaN dropped),
  with the sign chosen so that they sum to a positive number, then scaled to sum to 1
  (scaling does not change a weighted mean);
* equal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from kechuang.evaluation.engine.framework import Framework


def _group_positions(groups: np.ndarray) -> list[np.ndarray]:
    return [np.flatnonzero(groups == label) for label in dict.fromkeys(groups.tolist())]


def normalise_within(weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Scale weights to sum to 1 within each group (NaN for a group summing to 0)."""
    out = np.asarray(weights, dtype=float).copy()
    for members in _group_positions(np.asarray(groups)):
        total = out[members].sum()
        out[members] = out[members] / total if total != 0 else np.nan
    return out


def normalised_by_parent(framework: Framework, weights: np.ndarray | None = None) -> np.ndarray:
    """Each node's weight divided by the sum over its siblings (the top node gets 1)."""
    w = framework.weights if weights is None else np.asarray(weights, dtype=float)
    out = np.ones_like(w)
    for plan in framework.plans:
        out[plan.children] = normalise_within(w[plan.children], plan.parent_position)
    return out


def effective_weights(framework: Framework, weights: np.ndarray | None = None) -> np.ndarray:
    """Product of the normalised weights from each node up to the top (COINr get_eff_weights).

    `weights` may be one vector over nodes or a matrix with one such row per unit.
    """
    w = framework.weights if weights is None else np.asarray(weights, dtype=float)
    if w.ndim == 2:
        return np.vstack([effective_weights(framework, row) for row in w])
    out = normalised_by_parent(framework, w)
    for plan in reversed(framework.plans):
        out[plan.children] = out[plan.children] * out[plan.parents[plan.parent_position]]
    return out


def equal(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    return normalise_within(np.ones(x.shape[1]), groups)


def entropy(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    if np.any(x < 0):
        raise ValueError("熵权法要求数据非负（请先归一化，例如 minmax）")
    n = np.count_nonzero(~np.isnan(x), axis=0)
    filled = np.where(np.isnan(x), 0.0, x)
    totals = filled.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = filled / totals
        terms = np.where(p > 0, p * np.log(p), 0.0)
        e = -terms.sum(axis=0) / np.log(n)
    # No spread (one value, or all zeros) carries no information.
    # Rounding can put a constant column's entropy a hair above 1.
    d = np.where((n > 1) & (totals > 0), np.maximum(1 - e, 0.0), 0.0)
    return _normalise_or_equal(d, groups)


def critic(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    scores = np.zeros(x.shape[1])
    for members in _group_positions(np.asarray(groups)):
        if len(members) == 1:
            scores[members] = 1.0
            continue
        block = _complete_rows(x[:, members])
        if len(block) < 2:
            raise ValueError("CRITIC 权重至少需要两个数据完整的单位")
        sd = block.std(axis=0, ddof=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.corrcoef(block, rowvar=False)
        r = np.where(np.isnan(r), 0.0, r)
        scores[members] = sd * (1 - r).sum(axis=0)
    return _normalise_or_equal(scores, groups)


def pca_loadings(x: np.ndarray) -> np.ndarray:
    """First-PC loadings of the standardised columns (rows with NaN dropped), summing ≥ 0."""
    block = _complete_rows(x)
    if block.shape[1] == 1:
        return np.ones(1)
    if len(block) < 2:
        raise ValueError("主成分权重至少需要两个数据完整的单位")
    sd = block.std(axis=0, ddof=1)
    if np.any(sd == 0):
        raise ValueError("主成分权重：有指标在所有单位上取值相同，无法标准化")
    z = (block - block.mean(axis=0)) / sd
    _, _, vt = np.linalg.svd(z, full_matrices=False)
    loadings = vt[0]
    # prcomp's sign is arbitrary; a positive sum keeps "more is better".
    return -loadings if loadings.sum() < 0 else loadings


def pca(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    out = np.zeros(x.shape[1])
    for members in _group_positions(np.asarray(groups)):
        loadings = pca_loadings(x[:, members])
        # Opposed loadings (negatively correlated siblings) can cancel out.
        if loadings.sum() < 1e-6 * np.abs(loadings).sum():
            raise ValueError("主成分载荷之和接近 0（下级指标负相关），不能用作权重")
        out[members] = loadings / loadings.sum()
    return out


METHODS: Mapping[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "equal": equal,
    "entropy": entropy,
    "critic": critic,
    "pca": pca,
}


def _complete_rows(x: np.ndarray) -> np.ndarray:
    return x[~np.isnan(x).any(axis=1)]


def _normalise_or_equal(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Normalise within groups; a group whose scores are all 0 gets equal weights."""
    out = np.asarray(scores, dtype=float).copy()
    for members in _group_positions(np.asarray(groups)):
        total = out[members].sum()
        out[members] = out[members] / total if total > 0 else 1 / len(members)
    return out
