"""Column statistics that skip NaN without warnings, as R does with na.rm = TRUE.

Arrays are (rows × columns) and statistics are per column. Callers on a hot
path pass Fortran-ordered arrays, which makes every column reduction run over
contiguous memory.
"""

from __future__ import annotations

import numpy as np


def count(x: np.ndarray) -> np.ndarray:
    return np.count_nonzero(~np.isnan(x), axis=0)


def nanmin(x: np.ndarray) -> np.ndarray:
    # fmin skips NaN and gives NaN for an all-NaN column, silently (np.nanmin warns).
    return np.fmin.reduce(x, axis=0)


def nanmax(x: np.ndarray) -> np.ndarray:
    return np.fmax.reduce(x, axis=0)


def filled(
    x: np.ndarray, out: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x with NaN as 0, validity as 0/1 floats, count per column), optionally into `out`."""
    missing = np.isnan(x)
    if out is None:
        return np.where(missing, 0.0, x), (~missing).astype(float), x.shape[0] - missing.sum(axis=0)
    zeroed, valid = out
    np.copyto(zeroed, x)
    np.copyto(zeroed, 0.0, where=missing)
    np.logical_not(missing, out=valid)
    return zeroed, valid, x.shape[0] - missing.sum(axis=0)


def mean_filled(zeroed: np.ndarray, valid: np.ndarray, n: np.ndarray) -> np.ndarray:
    """R's mean(): sum / n, then one correction pass (so a constant column's mean is exact)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        m = zeroed.sum(axis=0) / n
        return m + np.einsum("ij,ij->j", zeroed - m, valid) / n


def mean(x: np.ndarray) -> np.ndarray:
    return mean_filled(*filled(x))


def sd(x: np.ndarray) -> np.ndarray:
    """Sample standard deviation (n − 1), NaN below two values."""
    zeroed, valid, n = filled(x)
    deviations = (zeroed - mean_filled(zeroed, valid, n)) * valid
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1, np.sqrt((deviations * deviations).sum(axis=0) / (n - 1)), np.nan)


def median(x: np.ndarray) -> np.ndarray:
    """R's median() per column; NaN sorts last, so the middle of the valid part is read."""
    if x.shape[0] == 0:
        return np.full(x.shape[1], np.nan)
    n = count(x)
    ordered = np.sort(x, axis=0)
    columns = np.arange(x.shape[1])
    low = np.maximum((n - 1) // 2, 0)
    high = np.maximum(n // 2, 0)
    middle = (ordered[low, columns] + ordered[high, columns]) / 2
    return np.where(n > 0, middle, np.nan)


def skew_kurt_filled(
    x: np.ndarray,
    zeroed: np.ndarray,
    valid: np.ndarray,
    n: np.ndarray,
    work: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """skew_kurt with the NaN mask already computed (see `filled`).

    `work` are two scratch arrays of x's shape, for callers that repeat this in
    a loop (a fresh multi-megabyte array costs more in page faults than the
    arithmetic done on it).
    """
    deviations, squares = work if work is not None else (np.empty_like(x), np.empty_like(x))
    with np.errstate(invalid="ignore", divide="ignore"):
        first = zeroed.sum(axis=0) / n
        np.subtract(zeroed, first, out=deviations)
        deviations *= valid
        # R's mean() correction pass, reusing the deviations array.
        deviations -= deviations.sum(axis=0) / n
        deviations *= valid
    np.multiply(deviations, deviations, out=squares)
    m2 = squares.sum(axis=0)
    m3 = np.einsum("ij,ij->j", squares, deviations)
    m4 = np.einsum("ij,ij->j", squares, squares)
    nf = n.astype(float)
    constant = nanmax(x) == nanmin(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        skew = np.sqrt(nf) * m3 / m2**1.5 * np.sqrt(nf * (nf - 1)) / (nf - 2)
        r = nf * m4 / (m2 * m2)
        kurt = ((nf + 1) * (r - 3) + 6) * (nf - 1) / ((nf - 2) * (nf - 3))
    skew[(n < 3) | constant] = np.nan
    kurt[(n < 4) | constant] = np.nan
    return skew, kurt


def skew_kurt(
    x: np.ndarray, work: tuple[np.ndarray, ...] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sample skewness and excess kurtosis, type 2 (e1071, as COINr's skew()/kurt()).

    NaN where COINr gives NA/NaN: fewer than 3 (skew) or 4 (kurtosis) values,
    or a constant column. `work`: four scratch arrays of x's shape.
    """
    if work is None:
        return skew_kurt_filled(x, *filled(x))
    zeroed, valid, n = filled(x, (work[0], work[1]))
    return skew_kurt_filled(x, zeroed, valid, n, (work[2], work[3]))


def rank_min(x: np.ndarray) -> np.ndarray:
    """Ascending ranks of a vector, ties sharing the lowest rank; NaN stays NaN.

    Same as R's rank(x, ties.method = "min", na.last = "keep").
    """
    out = np.full(x.shape, np.nan)
    valid = ~np.isnan(x)
    present = x[valid]
    out[valid] = np.searchsorted(np.sort(present), present, side="left") + 1
    return out


def rank_min_columns(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x, dtype=float)
    for j in range(x.shape[1]):
        out[:, j] = rank_min(x[:, j])
    return out


def cells(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the True cells; much faster than np.nonzero on 2-D arrays."""
    if mask.flags.f_contiguous and not mask.flags.c_contiguous:
        columns, rows = np.divmod(np.flatnonzero(mask.ravel(order="F")), mask.shape[0])
    else:
        rows, columns = np.divmod(np.flatnonzero(mask), mask.shape[1])
    return rows, columns


def group_codes(labels: np.ndarray) -> tuple[np.ndarray, list[object]]:
    """Integer code per row (−1 where the label is None) and the labels in first-seen order."""
    index: dict[object, int] = {}
    codes = np.fromiter(
        (-1 if label is None else index.setdefault(label, len(index)) for label in labels),
        dtype=np.intp,
        count=len(labels),
    )
    return codes, list(index)
