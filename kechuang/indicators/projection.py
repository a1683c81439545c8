"""Targets in numbers (no Django): completion, trend projection, chance of meeting, light.

Four steps, each usable alone:

1. ``completion`` — how far the latest value has come towards the target.
2. ``project`` / ``project_many`` — a trend through the unit's history,
   carried to the target year, with a predictive distribution.
3. ``probability_met`` / ``probabilities_between`` — the chance that the
   target-year value satisfies the target under that distribution.
4. ``light`` / ``lights`` — on track, at risk, off track or no data.

Comparator, direction and light codes are the plain strings of
``kechuang.indicators.choices`` (this module must not import Django, so it
repeats them; a test checks they agree).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

AT_LEAST, AT_MOST, RANGE, GROWTH, CAGR = "gte", "lte", "range", "growth", "cagr"
COMPARATORS = (AT_LEAST, AT_MOST, RANGE, GROWTH, CAGR)
POSITIVE, NEGATIVE = "positive", "negative"
ON_TRACK, AT_RISK, OFF_TRACK, NO_DATA = "on_track", "at_risk", "off_track", "no_data"

# Over-achievement counts up to twice the target: enough to show "well ahead",
# not so much that one runaway figure hides other shortfalls in an average.
COMPLETION_CAP = 2.0
# Completion is a ratio of floats; a value typed exactly at the target must count as met.
MET_TOLERANCE = 1e-9
ON_TRACK_PROBABILITY = 0.7
OFF_TRACK_PROBABILITY = 0.3
INTERVAL_LEVEL = 0.9
# Burnham & Anderson: a difference in AIC below 2 is no real evidence, so the
# log-linear trend must beat the straight line by more than that to be used.
LOG_LINEAR_AIC_MARGIN = 2.0

NONE, FLAT, LINEAR, LOG_LINEAR = "none", "flat", "linear", "log_linear"


# ---------------------------------------------------------------- completion


def completion(
    comparator: str,
    target: float,
    value: float | None,
    *,
    high: float | None = None,
    base: float | None = None,
    years: float | None = None,
    direction: str = POSITIVE,
) -> float | None:
    """The fraction of the target reached by ``value``: 1 means met, 0 nothing.

    Formulas (v the value, t the target):

    - ``gte`` (v ≥ t): v / t. A target ≤ 0 has no meaningful ratio, so it
      scores 1 if met and 0 if not.
    - ``lte`` (v ≤ t): t / v, the mirror image (half again too high scores
      2/3). v ≤ 0 < t is comfortably below the ceiling and scores the cap; a
      target ≤ 0 scores 1 or 0.
    - ``range`` (t ≤ v ≤ high): 1 inside; below it v / t, above it high / v
      (0 where that ratio has no meaning). Never above 1.
    - ``growth`` (growth over the base-year value ``base`` ≥ t %):
      g / g*, with g = v / base − 1 achieved so far and g* = t / 100 required.
      None without a positive base. A required growth ≤ 0 ("no decline")
      scores 1 or 0.
    - ``cagr`` (compound annual growth ≥ t % a year): r / r*, with
      r = (v / base)^(1 / years) − 1 over ``years`` years since the base year
      and r* = t / 100. A value ≤ 0 counts as r = −1; ``years`` 0 as no
      growth yet. None without a positive base or with negative ``years``.

    The result is clipped to [0, cap]. Over-achievement earns credit above 1
    (up to ``COMPLETION_CAP``) only when the comparator points the same way
    as the indicator's ``direction`` (≥, growth and CAGR on a positive
    indicator, ≤ on a negative one). A ≥ floor on a quantity that should be
    small, or a ≤ ceiling on one that should be large, is a limit: once on
    the right side of it there is nothing more to earn, so the cap is 1.
    None when the value (or a needed base) is missing.
    """
    if value is None or not math.isfinite(value) or not math.isfinite(target):
        return None
    agrees = (comparator in (AT_LEAST, GROWTH, CAGR) and direction == POSITIVE) or (
        comparator == AT_MOST and direction == NEGATIVE
    )
    cap = COMPLETION_CAP if agrees else 1.0
    if comparator == AT_LEAST:
        raw = value / target if target > 0 else float(value >= target)
    elif comparator == AT_MOST:
        if target <= 0:
            raw = float(value <= target)
        elif value > 0:
            raw = target / value
        else:
            raw = math.inf
    elif comparator == RANGE:
        raw = _range_completion(target, value, high)
    elif comparator in (GROWTH, CAGR):
        if base is None or not math.isfinite(base) or base <= 0:
            return None
        required = target / 100.0
        if comparator == GROWTH:
            achieved = value / base - 1.0
        else:
            if years is None or years < 0:
                return None
            achieved = _annual_rate(value / base, years)
        raw = achieved / required if required > 0 else float(achieved >= required - MET_TOLERANCE)
    else:
        raise ValueError(f"unknown comparator {comparator!r}")
    if math.isnan(raw):
        return None
    return min(max(raw, 0.0), cap)


def _range_completion(low: float, value: float, high: float | None) -> float:
    if high is None or not math.isfinite(high):
        raise ValueError("a range target needs its upper bound")
    if low <= value <= high:
        return 1.0
    if value < low:
        return value / low if low > 0 and value > 0 else 0.0
    return high / value if high > 0 else 0.0


def _annual_rate(ratio: float, years: float) -> float:
    if years == 0:
        return 0.0
    return ratio ** (1.0 / years) - 1.0 if ratio > 0 else -1.0


def is_met(fraction: float | None) -> bool:
    """Whether a completion fraction says the target is met."""
    return fraction is not None and fraction >= 1.0 - MET_TOLERANCE


def threshold(
    comparator: str,
    target: float,
    high: float | None = None,
    *,
    base: float | None = None,
    base_year: int | None = None,
    target_year: int | None = None,
) -> tuple[float, float] | None:
    """The target as an interval [lower, upper] the target-year value must fall in.

    ``gte`` → [t, ∞), ``lte`` → (−∞, t], ``range`` → [t, high];
    ``growth`` → [base·(1 + t/100), ∞);
    ``cagr`` → [base·(1 + t/100)^(target_year − base_year), ∞).
    None when a growth target lacks a positive base value.
    """
    if comparator == AT_LEAST:
        return target, math.inf
    if comparator == AT_MOST:
        return -math.inf, target
    if comparator == RANGE:
        if high is None:
            raise ValueError("a range target needs its upper bound")
        return target, high
    if base is None or not math.isfinite(base) or base <= 0:
        return None
    if comparator == GROWTH:
        return base * (1.0 + target / 100.0), math.inf
    if comparator == CAGR:
        if base_year is None or target_year is None:
            return None
        return base * (1.0 + target / 100.0) ** (target_year - base_year), math.inf
    raise ValueError(f"unknown comparator {comparator!r}")


# ---------------------------------------------------------------- projection


@dataclass(frozen=True)
class Projection:
    """The forecast of one series for one year, with its uncertainty.

    ``location`` and ``scale`` describe the predictive distribution on the
    model's own scale (logarithms for ``log_linear``): location + scale · T
    with T Student's t on ``df`` degrees of freedom. ``scale`` is infinite
    when the history cannot say how noisy the series is (fewer than three
    points), and ``point`` is then only a guess. ``point`` is the median
    forecast and [``low``, ``high``] the central ``level`` interval.
    """

    target_year: int
    model: str  # none | flat | linear | log_linear
    n: int
    point: float
    low: float
    high: float
    location: float
    scale: float
    df: float
    level: float = INTERVAL_LEVEL

    @property
    def is_log(self) -> bool:
        return self.model == LOG_LINEAR

    @property
    def has_spread(self) -> bool:
        """Whether the uncertainty is known (a probability can be given)."""
        return self.model != NONE and math.isfinite(self.scale)


@dataclass(frozen=True)
class Projections:
    """``project_many``'s result: one entry per series, as arrays of length m."""

    target_years: np.ndarray
    model: np.ndarray  # str
    n: np.ndarray
    point: np.ndarray
    low: np.ndarray
    high: np.ndarray
    location: np.ndarray
    scale: np.ndarray
    df: np.ndarray
    level: float = INTERVAL_LEVEL

    def __len__(self) -> int:
        return len(self.model)

    def __getitem__(self, i: int) -> Projection:
        return Projection(
            target_year=int(self.target_years[i]),
            model=str(self.model[i]),
            n=int(self.n[i]),
            point=float(self.point[i]),
            low=float(self.low[i]),
            high=float(self.high[i]),
            location=float(self.location[i]),
            scale=float(self.scale[i]),
            df=float(self.df[i]),
            level=self.level,
        )


def project(
    years: Sequence[float],
    values: Sequence[float | None],
    target_year: int,
    *,
    level: float = INTERVAL_LEVEL,
) -> Projection:
    """Forecast ``target_year`` from one unit's history (see ``project_many``)."""
    row = np.array([np.nan if v is None else v for v in values], dtype=float)
    return project_many(years, row[np.newaxis, :], [target_year], level=level)[0]


def project_many(
    years: Sequence[float] | np.ndarray,
    values: np.ndarray,
    target_years: Sequence[float] | np.ndarray,
    *,
    level: float = INTERVAL_LEVEL,
) -> Projections:
    """Forecast each row of ``values`` (shape m × k, NaN = no value) at its target year.

    ``years`` (length k) labels the columns. Each row gets an ordinary
    least-squares trend y = a + b·year over its own points:

    - 0 points: no projection (``model`` none, everything NaN).
    - 1 point: ``flat`` at that value, infinite uncertainty.
    - 2 points: the line through both, infinite uncertainty (no residual
      left to estimate the noise from; guessing one would be dishonest).
    - 3 or more: the predictive distribution of a new observation,
      t on n − 2 degrees of freedom with standard error
      s·√(1 + 1/n + (x₀ − x̄)² / Sxx), s² = RSS / (n − 2).

    With three or more points, all positive, the same fit on log y (constant
    percentage growth, common for money and counts) is also tried. It is used
    when its AIC, taken on the original scale (the log fit's likelihood
    corrected by the Jacobian, Σ log y), beats the straight line's by more
    than ``LOG_LINEAR_AIC_MARGIN``. Both models have three parameters, so AIC
    reduces to n·log(RSS/n), plus 2·Σ log y for the log model. Its forecast
    is the median exp(location), and its interval is exp(location ± q·scale).
    A series the straight line fits exactly stays linear.
    """
    x = np.asarray(years, dtype=float)
    y = np.asarray(values, dtype=float)
    x0 = np.asarray(target_years, dtype=float)
    if y.ndim != 2 or y.shape[1] != x.shape[0] or x0.shape != (y.shape[0],):
        raise ValueError("values must be m × len(years) and target_years of length m")
    observed = np.isfinite(y)
    n = observed.sum(axis=1)

    linear_location, linear_rss, leverage = _fit(x, y, observed, x0)
    positive = np.where(observed, y, 1.0) > 0
    logy = np.log(np.where(observed & positive, y, 1.0))
    log_location, log_rss, _ = _fit(x, logy, observed, x0)

    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.where(observed, np.abs(y), 0.0).max(axis=1, initial=0.0)
        exact = linear_rss <= n * (1e-10 * np.maximum(magnitude, 1.0)) ** 2
        tiny = np.finfo(float).tiny
        aic_linear = n * np.log(np.maximum(linear_rss, tiny) / np.maximum(n, 1))
        aic_log = n * np.log(np.maximum(log_rss, tiny) / np.maximum(n, 1)) + 2.0 * np.where(
            observed, logy, 0.0
        ).sum(axis=1)
    use_log = (
        (n >= 3) & positive.all(axis=1) & ~exact & (aic_log + LOG_LINEAR_AIC_MARGIN < aic_linear)
    )

    location = np.where(use_log, log_location, linear_location)
    rss = np.where(use_log, log_rss, linear_rss)
    df = np.where(n >= 3, n - 2, 0).astype(float)
    # np.where evaluates both branches: exp() of a linear row's location may overflow unused.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scale = np.where(n >= 3, np.sqrt(rss / np.maximum(df, 1.0)) * leverage, np.inf)
        quantile = np.where(df >= 1, special.stdtrit(np.maximum(df, 1.0), (1.0 + level) / 2), 0)
        spread = np.where(np.isfinite(scale), quantile * scale, np.inf)
        low, high = location - spread, location + spread
        point = np.where(use_log, np.exp(location), location)
        low = np.where(use_log, np.exp(low), low)
        high = np.where(use_log, np.exp(high), high)

    model = np.select([n == 0, n == 1, use_log], [NONE, FLAT, LOG_LINEAR], default=LINEAR).astype(
        object
    )
    nothing = n == 0
    return Projections(
        target_years=x0.astype(int),
        model=model,
        n=n,
        point=np.where(nothing, np.nan, point),
        low=np.where(nothing, np.nan, low),
        high=np.where(nothing, np.nan, high),
        location=np.where(nothing, np.nan, location),
        scale=np.where(nothing, np.nan, scale),
        df=df,
        level=level,
    )


def _fit(
    x: np.ndarray, y: np.ndarray, observed: np.ndarray, x0: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise OLS: the fitted value at x0, the residual sum of squares, the leverage factor.

    The leverage factor is √(1 + 1/n + (x₀ − x̄)² / Sxx); it is infinite
    where Sxx is 0 (fewer than two distinct years).
    """
    count = np.maximum(observed.sum(axis=1), 1)
    xs = np.where(observed, x[np.newaxis, :], 0.0)
    x_mean = xs.sum(axis=1) / count
    # Centring on the mean year keeps the sums small (years are ~2020).
    dx = np.where(observed, x[np.newaxis, :] - x_mean[:, np.newaxis], 0.0)
    y_mean = np.where(observed, y, 0.0).sum(axis=1) / count
    dy = np.where(observed, y - y_mean[:, np.newaxis], 0.0)
    sxx = (dx * dx).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(sxx > 0, (dx * dy).sum(axis=1) / np.where(sxx > 0, sxx, 1.0), 0.0)
        residual = np.where(observed, dy - slope[:, np.newaxis] * dx, 0.0)
        leverage = np.sqrt(1.0 + 1.0 / count + (x0 - x_mean) ** 2 / sxx)
    return y_mean + slope * (x0 - x_mean), (residual * residual).sum(axis=1), leverage


# ---------------------------------------------------------------- probability


def probability_met(
    projection: Projection,
    comparator: str,
    target: float,
    high: float | None = None,
    *,
    base: float | None = None,
    base_year: int | None = None,
) -> float | None:
    """P(the target-year value meets the target) under the projection.

    The target becomes an interval by ``threshold`` (growth and CAGR targets
    need the base-year value ``base``) and ``probabilities_between`` gives the
    chance mass inside it. None when there is nothing to project from, the
    uncertainty is unknown (fewer than three points) or a base is missing.
    """
    bounds = threshold(
        comparator,
        target,
        high,
        base=base,
        base_year=base_year,
        target_year=projection.target_year,
    )
    if bounds is None or not projection.has_spread:
        return None
    result = probabilities_between(
        np.array([projection.location]),
        np.array([projection.scale]),
        np.array([projection.df]),
        np.array([projection.is_log]),
        np.array([bounds[0]]),
        np.array([bounds[1]]),
    )[0]
    return None if math.isnan(result) else float(result)


def probabilities_between(
    location: np.ndarray,
    scale: np.ndarray,
    df: np.ndarray,
    is_log: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> np.ndarray:
    """P(lower ≤ Y ≤ upper) for each predictive distribution; NaN where unknown.

    Y = location + scale·T on the model's scale, T Student's t on ``df``
    degrees of freedom (normal where ``df`` is infinite). Bounds of a
    log-scale model are taken to logs; a bound ≤ 0 lies below every positive
    value. A zero scale (a series fitted exactly) gives 1 when the forecast
    lies in the interval and 0 when it does not. NaN bounds give NaN.
    """
    location, scale, df = (np.asarray(a, dtype=float) for a in (location, scale, df))
    is_log = np.asarray(is_log, dtype=bool)
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(is_log, np.where(lower > 0, np.log(np.abs(lower)), -np.inf), lower)
        upper = np.where(is_log, np.where(upper > 0, np.log(np.abs(upper)), -np.inf), upper)
        safe_df = np.where(df >= 1, df, 1.0)
        safe_scale = np.where(scale > 0, scale, 1.0)
        mass = special.stdtr(safe_df, (upper - location) / safe_scale) - special.stdtr(
            safe_df, (lower - location) / safe_scale
        )
    inside = (lower <= location) & (location <= upper)
    result = np.where(scale > 0, np.clip(mass, 0.0, 1.0), inside.astype(float))
    known = (
        np.isfinite(location)
        & np.isfinite(scale)
        & (scale >= 0)
        & (df >= 1)
        & ~np.isnan(lower)
        & ~np.isnan(upper)
    )
    return np.where(known & (upper >= lower), result, np.where(known, 0.0, np.nan))


# ---------------------------------------------------------------- lights


def light(fraction: float | None, probability: float | None) -> str:
    """The traffic light for a target.

    - With a probability of meeting it: on track when P ≥ 0.7, at risk when
      0.3 ≤ P < 0.7, off track below 0.3. Once the target year's own value is
      in, the caller passes P = 1 (met) or 0 (missed), so met is on track.
    - Without one (fewer than three years of history): on track if the
      latest value already meets the target, else at risk. Too little
      history to project is not evidence of falling behind.
    - Neither: no data.
    """
    if probability is not None and math.isfinite(probability):
        if probability >= ON_TRACK_PROBABILITY:
            return ON_TRACK
        return AT_RISK if probability >= OFF_TRACK_PROBABILITY else OFF_TRACK
    if fraction is not None:
        return ON_TRACK if is_met(fraction) else AT_RISK
    return NO_DATA


def lights(fractions: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """``light`` for many targets at once (NaN marks a missing fraction or probability)."""
    fractions = np.asarray(fractions, dtype=float)
    probabilities = np.asarray(probabilities, dtype=float)
    known_p = np.isfinite(probabilities)
    known_c = np.isfinite(fractions)
    return np.select(
        [
            known_p & (probabilities >= ON_TRACK_PROBABILITY),
            known_p & (probabilities >= OFF_TRACK_PROBABILITY),
            known_p,
            known_c & (fractions >= 1.0 - MET_TOLERANCE),
            known_c,
        ],
        [ON_TRACK, AT_RISK, OFF_TRACK, ON_TRACK, AT_RISK],
        default=NO_DATA,
    ).astype(object)
