"""Treat: outliers by COINr's default rule (skew/kurtosis check, winsorise, log_CT fallback).

Per indicator (all columns at once):

0. pass if |skew| < skew_threshold OR kurtosis < kurtosis_threshold, with R's
   three-valued logic (NA when neither test is decided: fewer than four
   values, or a constant column; COINr then leaves the column and logs nothing);
1. if failing, winsorise: while failing and nwin < winmax, replace every value
   equal to the current max (positive skew) or min (negative skew) by the next
   one; nwin counts like COINr (the points replaced in the last pass on each
   side, which include the earlier ones since they tie with the new extreme);
2. if still failing, apply the fallback (log_CT) to the ORIGINAL column
   (or to the winsorised one with combine: true) and check once more.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from kechuang.evaluation.engine import stats
from kechuang.evaluation.engine.params import StepParams
from kechuang.evaluation.engine.steps.base import Context, State, per_block

FALLBACKS = ("log_CT", "log_CT_plus", "log_CT_orig", "none")


@dataclass(frozen=True)
class TreatRecord:
    """One line of treat_details.csv (COINr's Dets_Table); None = NA / stage not reached."""

    code: str
    time: float | None
    pass0: bool | None
    skew0: float
    kurt0: float
    nwin: int | None = None
    pass1: bool | None = None
    skew1: float | None = None
    kurt1: float | None = None
    pass2: bool | None = None
    skew2: float | None = None
    kurt2: float | None = None

    @property
    def stage(self) -> int:
        """0 passed at once, 1 winsorised, 2 transformed by the fallback."""
        return 0 if self.nwin is None else (1 if self.skew2 is None and self.pass2 is None else 2)


@dataclass(frozen=True)
class TreatLog:
    records: tuple[TreatRecord, ...]

    @property
    def reached_fallback(self) -> bool:
        return any(record.stage == 2 for record in self.records)


def passes(
    skew: np.ndarray, kurt: np.ndarray, skew_threshold: float, kurt_threshold: float
) -> np.ndarray:
    """1.0 pass, 0.0 fail, NaN undecided — R's `(abs(sk) < s) | (kt < k)` with NA."""
    with np.errstate(invalid="ignore"):
        skew_ok = np.where(np.isnan(skew), np.nan, (np.abs(skew) < skew_threshold).astype(float))
        kurt_ok = np.where(np.isnan(kurt), np.nan, (kurt < kurt_threshold).astype(float))
    result = np.where((skew_ok == 1) | (kurt_ok == 1), 1.0, np.nan)
    return np.where((skew_ok == 0) & (kurt_ok == 0), 0.0, result)


def fallback_transform(x: np.ndarray, name: str) -> np.ndarray:
    """COINr's log_CT family, per column."""
    low, high = stats.nanmin(x), stats.nanmax(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        if name == "log_CT":
            return np.log(x - low + 0.01 * (high - low))
        if name == "log_CT_orig":
            return np.log(x - low + 1)
        if name == "log_CT_plus":
            skew, _ = stats.skew_kurt(x)
            shift = 0.01 * (high - low)
            return np.where(skew > 0, np.log(x - low + shift), -np.log(high + shift - x))
    raise ValueError(f"未知的变换 {name}")


def _winsorise(
    x: np.ndarray,
    skew: np.ndarray,
    winmax: int | None,
    skew_threshold: float,
    kurt_threshold: float,
    work: tuple[np.ndarray, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Winsorise failing columns together; returns x, nwin, pass, skew, kurt, errored.

    `errored` marks COINr's `while (NA)` error (the check became undecided while
    more points were allowed): such columns are returned untreated, unlogged.
    `work` are four Fortran-ordered scratch arrays at least as wide as x.
    """
    x = np.array(x, order="F")
    n_cols = x.shape[1]
    if work is None:
        work = tuple(np.empty_like(x, order="F") for _ in range(4))
    # The first columns of a Fortran-ordered array are a contiguous view.
    zeroed, valid, deviations, squares = (array[:, :n_cols] for array in work)
    # Winsorising never creates or removes NaN, so the mask is computed once.
    zeroed, valid, n = stats.filled(x, (zeroed, valid))
    high_count = np.zeros(n_cols, dtype=np.intp)
    low_count = np.zeros(n_cols, dtype=np.intp)
    passing = np.zeros(n_cols)
    skew = skew.copy()
    kurt = np.full(n_cols, np.nan)
    errored = np.zeros(n_cols, dtype=bool)
    if winmax is not None and winmax <= 0:
        _, kurt = stats.skew_kurt_filled(x, zeroed, valid, n, (deviations, squares))
        return x, high_count, passing, skew, kurt, errored
    active = np.arange(n_cols)
    while len(active):
        every = len(active) == n_cols
        block = x if every else x[:, active]
        high = skew[active] >= 0
        extreme = np.where(high, stats.nanmax(block), stats.nanmin(block))
        rows, columns = stats.cells(block == extreme)
        # Only the tied extremes change: hide them, read the next extreme, write it there.
        block[rows, columns] = np.where(high[columns], -np.inf, np.inf)
        replacement = np.where(high, stats.nanmax(block), stats.nanmin(block))
        block[rows, columns] = replacement[columns]
        if not every:
            x[rows, active[columns]] = replacement[columns]
        zeroed[rows, active[columns]] = replacement[columns]
        replaced = np.bincount(columns, minlength=len(active))
        high_count[active] = np.where(high, replaced, high_count[active])
        low_count[active] = np.where(high, low_count[active], replaced)
        scratch = (deviations[:, : len(active)], squares[:, : len(active)])
        if every:
            new_skew, new_kurt = stats.skew_kurt_filled(x, zeroed, valid, n, scratch)
        else:
            new_skew, new_kurt = stats.skew_kurt_filled(
                block, zeroed[:, active], valid[:, active], n[active], scratch
            )
        skew[active], kurt[active] = new_skew, new_kurt
        passing[active] = passes(new_skew, new_kurt, skew_threshold, kurt_threshold)
        nwin = high_count[active] + low_count[active]
        below = np.ones(len(active), bool) if winmax is None else nwin < winmax
        errored[active] = np.isnan(passing[active]) & below
        active = active[(passing[active] == 0) & below]
    return x, high_count + low_count, passing, skew, kurt, errored


# Columns are treated a few at a time: the temporaries stay small (a fresh
# multi-megabyte array costs more in page faults than the arithmetic on it).
CHUNK = 16


def treat(
    x: np.ndarray,
    codes: tuple[str, ...],
    *,
    winmax: int | None = 5,
    skew_threshold: float = 2.0,
    kurt_threshold: float = 3.5,
    fallback: str = "log_CT",
    combine: bool = False,
    time: float | None = None,
) -> tuple[np.ndarray, list[TreatRecord]]:
    """Treat every column of `x` (rows = units); returns the data and one record per column."""
    out = np.empty_like(x)
    records: list[TreatRecord] = []
    for start in range(0, x.shape[1], CHUNK):
        columns = slice(start, start + CHUNK)
        out[:, columns], chunk_records = _treat_columns(
            x[:, columns],
            codes[columns],
            winmax=winmax,
            skew_threshold=skew_threshold,
            kurt_threshold=kurt_threshold,
            fallback=fallback,
            combine=combine,
            time=time,
        )
        records.extend(chunk_records)
    return out, records


def _treat_columns(
    x: np.ndarray,
    codes: tuple[str, ...],
    *,
    winmax: int | None,
    skew_threshold: float,
    kurt_threshold: float,
    fallback: str,
    combine: bool,
    time: float | None,
) -> tuple[np.ndarray, list[TreatRecord]]:
    x = np.asfortranarray(x)
    n_cols = x.shape[1]
    # One set of scratch arrays serves every check of these columns.
    work = tuple(np.empty_like(x, order="F") for _ in range(4))
    skew0, kurt0 = stats.skew_kurt(x, work)
    pass0 = passes(skew0, kurt0, skew_threshold, kurt_threshold)
    failing = np.flatnonzero(pass0 == 0)
    if not len(failing):
        return x, _records(codes, time, pass0, skew0, kurt0)

    out = x.copy(order="F")
    stage1 = np.full((4, n_cols), np.nan)  # nwin, pass, skew, kurt
    stage2 = np.full((4, n_cols), np.nan)  # reached, pass, skew, kurt
    logged = ~np.isnan(pass0)
    original = x[:, failing]
    winsorised, nwin, pass1, skew1, kurt1, errored = _winsorise(
        original, skew0[failing], winmax, skew_threshold, kurt_threshold, work
    )
    stage1[:, failing] = nwin, pass1, skew1, kurt1
    logged[failing[errored]] = False
    keep = ~errored & ((pass1 == 1) | ((pass1 == 0) & (fallback == "none")))
    out[:, failing[keep]] = winsorised[:, keep]
    again = ~errored & (pass1 == 0) & (fallback != "none")
    if again.any():
        base = winsorised[:, again] if combine else original[:, again]
        transformed = np.asfortranarray(fallback_transform(base, fallback))
        width = transformed.shape[1]
        skew2, kurt2 = stats.skew_kurt(transformed, tuple(a[:, :width] for a in work))
        pass2 = passes(skew2, kurt2, skew_threshold, kurt_threshold)
        stage2[:, failing[again]] = np.ones_like(pass2), pass2, skew2, kurt2
        # An undecided check makes COINr keep the original column.
        decided = ~np.isnan(pass2)
        out[:, failing[again][decided]] = transformed[:, decided]
    return out, _records(codes, time, pass0, skew0, kurt0, stage1, stage2, logged)


def _flag(value: float) -> bool | None:
    return None if np.isnan(value) else bool(value)


def _records(
    codes: tuple[str, ...],
    time: float | None,
    pass0: np.ndarray,
    skew0: np.ndarray,
    kurt0: np.ndarray,
    stage1: np.ndarray | None = None,
    stage2: np.ndarray | None = None,
    logged: np.ndarray | None = None,
) -> list[TreatRecord]:
    """One record per column COINr logs (its check was decided at least once)."""
    if logged is None:
        logged = ~np.isnan(pass0)
    records = []
    for j in np.flatnonzero(logged).tolist():
        first = (codes[j], time, bool(pass0[j]), float(skew0[j]), float(kurt0[j]))
        if stage1 is None or np.isnan(stage1[0, j]):
            records.append(TreatRecord(*first))
            continue
        nwin, pass1, skew1, kurt1 = stage1[:, j].tolist()
        second = (int(nwin), _flag(pass1), skew1, kurt1)
        if stage2 is None or stage2[0, j] != 1:
            records.append(TreatRecord(*first, *second))
            continue
        _, pass2, skew2, kurt2 = stage2[:, j].tolist()
        records.append(TreatRecord(*first, *second, _flag(pass2), skew2, kurt2))
    return records


@dataclass(frozen=True)
class TreatStep:
    name: ClassVar[str] = "treat"
    dataset: ClassVar[str] = "Treated"
    number: int
    winmax: int | None = 5
    skew: float = 2.0
    kurtosis: float = 3.5
    fallback: str = "log_CT"
    combine: bool = False

    @classmethod
    def parse(cls, params: StepParams, *, base_dir: Path | None) -> TreatStep:
        params.only(("winmax", "skew", "kurtosis", "fallback", "combine"))
        return cls(
            params.number,
            winmax=params.integer("winmax", 5, minimum=0),
            skew=params.real("skew", 2.0, positive=True),
            kurtosis=params.real("kurtosis", 3.5),
            fallback=params.choice("fallback", "log_CT", FALLBACKS),
            combine=params.boolean("combine", False),
        )

    def apply(self, state: State, context: Context) -> State:
        records: list[TreatRecord] = []

        def treat_block(time: float | None, _: object, block: np.ndarray) -> np.ndarray:
            treated, block_records = treat(
                block,
                context.framework.indicators,
                winmax=self.winmax,
                skew_threshold=self.skew,
                kurt_threshold=self.kurtosis,
                fallback=self.fallback,
                combine=self.combine,
                time=time,
            )
            records.extend(block_records)
            return treated

        values = per_block(state.values, state.rows, context, treat_block)
        return replace(state, values=values, treat_log=TreatLog(tuple(records)))
