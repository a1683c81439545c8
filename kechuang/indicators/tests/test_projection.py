"""indicators.projection: completion, trend projection, probability and lights (no database)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kechuang.indicators import projection as p

YEARS = [2018, 2019, 2020, 2021, 2022]
positive = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
probability = st.floats(min_value=0.0, max_value=1.0)


def test_the_module_needs_no_django() -> None:
    code = "import sys, kechuang.indicators.projection; print('django' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_codes_agree_with_the_choices() -> None:
    from kechuang.indicators.choices import Comparator, Direction, TargetLight

    assert set(p.COMPARATORS) == set(Comparator.values)
    assert {p.POSITIVE, p.NEGATIVE} == set(Direction.values)
    assert {p.ON_TRACK, p.AT_RISK, p.OFF_TRACK, p.NO_DATA} == set(TargetLight.values)


# ---------------------------------------------------------------- completion


@pytest.mark.parametrize(
    ("comparator", "target", "value", "extra", "expected"),
    [
        (p.AT_LEAST, 10, 5, {}, 0.5),
        (p.AT_LEAST, 10, 15, {}, 1.5),
        (p.AT_LEAST, 10, 50, {}, p.COMPLETION_CAP),
        (p.AT_LEAST, 10, -3, {}, 0.0),
        (p.AT_LEAST, 0, 0, {}, 1.0),
        (p.AT_LEAST, 0, -1, {}, 0.0),
        (p.AT_MOST, 10, 20, {"direction": p.NEGATIVE}, 0.5),
        (p.AT_MOST, 10, 8, {"direction": p.NEGATIVE}, 1.25),
        (p.AT_MOST, 10, 0, {"direction": p.NEGATIVE}, p.COMPLETION_CAP),
        (p.AT_MOST, -1, -2, {}, 1.0),
        (p.RANGE, 5, 6, {"high": 8}, 1.0),
        (p.RANGE, 5, 4, {"high": 8}, 0.8),
        (p.RANGE, 5, 10, {"high": 8}, 0.8),
        (p.GROWTH, 10, 105, {"base": 100}, 0.5),
        (p.GROWTH, 10, 95, {"base": 100}, 0.0),
        (p.GROWTH, 0, 100, {"base": 100}, 1.0),
        (p.GROWTH, 10, 105, {"base": None}, None),
        (p.GROWTH, 10, 105, {"base": 0}, None),
        (p.CAGR, 10, 121, {"base": 100, "years": 2}, 1.0),
        (p.CAGR, 10, 110.25, {"base": 100, "years": 2}, 0.5),
        (p.CAGR, 10, 100, {"base": 100, "years": 0}, 0.0),
        (p.CAGR, 10, 121, {"base": 100, "years": None}, None),
        (p.AT_LEAST, 10, None, {}, None),
        (p.AT_LEAST, 10, math.nan, {}, None),
    ],
)
def test_completion_formulas(
    comparator: str, target: float, value: float | None, extra: dict, expected: float | None
) -> None:
    result = p.completion(comparator, target, value, **extra)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_a_limit_against_the_direction_earns_nothing_past_it() -> None:
    # ≤ on a positive indicator (a ceiling on a good thing), ≥ on a negative one: capped at 1.
    assert p.completion(p.AT_MOST, 10, 5, direction=p.POSITIVE) == 1.0
    assert p.completion(p.AT_LEAST, 10, 20, direction=p.NEGATIVE) == 1.0
    assert p.completion(p.AT_LEAST, 10, 20, direction=p.POSITIVE) == 2.0


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="upper bound"):
        p.completion(p.RANGE, 1, 2)
    with pytest.raises(ValueError, match="unknown comparator"):
        p.completion("eq", 1, 2)


@given(target=positive, a=finite, b=finite, comparator=st.sampled_from([p.AT_LEAST, p.GROWTH]))
def test_completion_is_monotone_in_the_value(
    target: float, a: float, b: float, comparator: str
) -> None:
    low, high = sorted((a, b))
    extra = {"base": 100.0} if comparator == p.GROWTH else {}
    assert p.completion(comparator, target, low, **extra) <= p.completion(
        comparator, target, high, **extra
    )


@given(base=positive, rate=st.floats(0.1, 50), years=st.integers(1, 10), a=positive, b=positive)
def test_cagr_completion_is_monotone_in_the_value(
    base: float, rate: float, years: int, a: float, b: float
) -> None:
    low, high = sorted((a, b))
    assert p.completion(p.CAGR, rate, low, base=base, years=years) <= p.completion(
        p.CAGR, rate, high, base=base, years=years
    )


@given(target=positive)
def test_exactly_at_the_target_is_met(target: float) -> None:
    fraction = p.completion(p.AT_LEAST, target, target)
    assert fraction == 1.0
    assert p.is_met(fraction)
    assert p.is_met(p.completion(p.AT_MOST, target, target, direction=p.NEGATIVE))


@given(
    comparator=st.sampled_from(p.COMPARATORS),
    target=finite,
    value=finite,
    direction=st.sampled_from([p.POSITIVE, p.NEGATIVE]),
)
def test_completion_stays_between_zero_and_the_cap(
    comparator: str, target: float, value: float, direction: str
) -> None:
    fraction = p.completion(
        comparator, target, value, high=target + 1, base=50.0, years=3, direction=direction
    )
    assert fraction is not None
    assert 0.0 <= fraction <= p.COMPLETION_CAP


# ---------------------------------------------------------------- projection


@given(
    intercept=st.floats(-1e4, 1e4),
    slope=st.floats(-1e3, 1e3),
    n=st.integers(3, 10),
    ahead=st.integers(0, 5),
)
def test_exact_linear_data_reproduces_the_line(
    intercept: float, slope: float, n: int, ahead: int
) -> None:
    years = list(range(2010, 2010 + n))
    values = [intercept + slope * (y - 2010) for y in years]
    target_year = years[-1] + ahead
    result = p.project(years, values, target_year)
    expected = intercept + slope * (target_year - 2010)
    scale = max(1.0, abs(intercept), abs(slope) * 20)
    assert result.model == p.LINEAR
    assert result.point == pytest.approx(expected, abs=1e-6 * scale)
    assert result.scale <= 1e-6 * scale
    assert result.high - result.low <= 1e-5 * scale


def test_steady_percentage_growth_picks_the_log_linear_trend() -> None:
    values = [100 * 1.15**i * (1 + 0.01 * (-1) ** i) for i in range(8)]
    result = p.project(range(2015, 2023), values, 2025)
    assert result.model == p.LOG_LINEAR
    assert result.point == pytest.approx(100 * 1.15**10, rel=0.05)
    assert result.low < result.point < result.high
    straight = p.project(range(2015, 2023), [10, 12.1, 13.9, 16.2, 17.8, 20.1, 22, 23.9], 2025)
    assert straight.model == p.LINEAR


def test_noisy_data_has_a_t_interval() -> None:
    result = p.project(YEARS, [1.0, 2.2, 2.9, 4.1, 5.0], 2025)
    assert result.model == p.LINEAR
    assert result.df == 3
    assert result.point == pytest.approx(7.99)
    assert 0 < result.scale < 1
    assert result.low < result.point < result.high


def test_too_few_points_are_honest() -> None:
    nothing = p.project(YEARS, [None] * 5, 2025)
    assert nothing.model == p.NONE
    assert math.isnan(nothing.point)
    assert not nothing.has_spread
    one = p.project(YEARS, [None, None, 3.0, None, None], 2025)
    assert (one.model, one.point, one.scale) == (p.FLAT, 3.0, math.inf)
    two = p.project(YEARS, [None, None, 3.0, 4.0, None], 2025)
    assert (two.model, two.point) == (p.LINEAR, 8.0)
    assert math.isinf(two.scale)
    assert (two.low, two.high) == (-math.inf, math.inf)
    for result in (nothing, one, two):
        assert p.probability_met(result, p.AT_LEAST, 5.0) is None


def test_many_series_at_once_match_one_by_one() -> None:
    rng = np.random.default_rng(7)
    matrix = rng.normal(10, 2, size=(40, 6)) + np.arange(6) * rng.uniform(-1, 3, size=(40, 1))
    matrix[rng.random(matrix.shape) < 0.2] = np.nan
    matrix[0] = np.nan
    years = np.arange(2017, 2023)
    target_years = rng.integers(2023, 2027, size=40)
    batch = p.project_many(years, matrix, target_years)
    assert len(batch) == 40
    for i in range(40):
        single = p.project(years, list(matrix[i]), int(target_years[i]))
        assert batch[i].model == single.model
        np.testing.assert_allclose(
            [batch[i].point, batch[i].scale], [single.point, single.scale], equal_nan=True
        )


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="m × len"):
        p.project_many([2020, 2021], np.zeros((2, 3)), [2025, 2025])


# ---------------------------------------------------------------- probability


def noisy() -> p.Projection:
    return p.project(YEARS, [1.0, 2.2, 2.9, 4.1, 5.0], 2025)


def test_probability_by_comparator() -> None:
    forecast = noisy()
    assert p.probability_met(forecast, p.AT_LEAST, forecast.point) == pytest.approx(0.5)
    assert p.probability_met(forecast, p.AT_MOST, forecast.point) == pytest.approx(0.5)
    assert p.probability_met(forecast, p.AT_LEAST, 1.0) > 0.99
    assert p.probability_met(forecast, p.AT_LEAST, 20.0) < 0.01
    assert p.probability_met(forecast, p.RANGE, forecast.low, forecast.high) == pytest.approx(0.9)
    # Growth over the base: 5.0 in 2022, +60 % → 8.0, a little above the forecast.
    grow = p.probability_met(forecast, p.GROWTH, 60.0, base=5.0, base_year=2022)
    assert grow == pytest.approx(p.probability_met(forecast, p.AT_LEAST, 8.0))
    cagr = p.probability_met(forecast, p.CAGR, 10.0, base=5.0, base_year=2020)
    assert cagr == pytest.approx(p.probability_met(forecast, p.AT_LEAST, 5.0 * 1.1**5))
    assert p.probability_met(forecast, p.GROWTH, 10.0, base=None, base_year=2020) is None


def test_an_exact_fit_gives_certainty() -> None:
    line = p.project([2020, 2021, 2022], [1.0, 2.0, 3.0], 2025)
    assert p.probability_met(line, p.AT_LEAST, 5.5) == 1.0
    assert p.probability_met(line, p.AT_LEAST, 6.5) == 0.0


def test_log_scale_probability_uses_log_bounds() -> None:
    values = [100 * 1.15**i * (1 + 0.01 * (-1) ** i) for i in range(8)]
    forecast = p.project(range(2015, 2023), values, 2025)
    assert forecast.is_log
    assert p.probability_met(forecast, p.AT_LEAST, forecast.point) == pytest.approx(0.5)
    assert p.probability_met(forecast, p.AT_LEAST, -5.0) == 1.0
    assert p.probability_met(forecast, p.AT_MOST, 0.0) == 0.0


@settings(max_examples=60)
@given(
    values=st.lists(st.floats(-100, 100), min_size=3, max_size=8),
    a=st.floats(-500, 500),
    b=st.floats(-500, 500),
)
def test_probability_is_a_probability_and_monotone_in_the_target(
    values: list[float], a: float, b: float
) -> None:
    forecast = p.project(range(2015, 2015 + len(values)), values, 2026)
    assume(forecast.has_spread)
    low, high = sorted((a, b))
    at_least = [p.probability_met(forecast, p.AT_LEAST, t) for t in (low, high)]
    at_most = [p.probability_met(forecast, p.AT_MOST, t) for t in (low, high)]
    inside = p.probability_met(forecast, p.RANGE, low, high)
    for value in (*at_least, *at_most, inside):
        assert 0.0 <= value <= 1.0
    assert at_least[0] >= at_least[1]
    assert at_most[0] <= at_most[1]


def test_many_probabilities_at_once_match_one_by_one() -> None:
    forecasts = [
        noisy(),
        p.project([2020, 2021, 2022], [1.0, 2.0, 3.0], 2025),
        p.project(
            range(2015, 2023), [100 * 1.15**i * (1 + 0.01 * (-1) ** i) for i in range(8)], 2025
        ),
    ]
    lower = np.array([7.5, 5.0, 400.0, np.nan])
    upper = np.array([np.inf, np.inf, 500.0, np.inf])
    forecasts.append(forecasts[0])
    result = p.probabilities_between(
        np.array([f.location for f in forecasts]),
        np.array([f.scale for f in forecasts]),
        np.array([f.df for f in forecasts]),
        np.array([f.is_log for f in forecasts]),
        lower,
        upper,
    )
    expected = [
        p.probability_met(forecasts[0], p.AT_LEAST, 7.5),
        p.probability_met(forecasts[1], p.AT_LEAST, 5.0),
        p.probability_met(forecasts[2], p.RANGE, 400.0, 500.0),
    ]
    np.testing.assert_allclose(result[:3], expected)
    assert np.isnan(result[3])  # an unknown bound gives no probability, not 0


# ---------------------------------------------------------------- lights


@given(fraction=st.one_of(st.none(), st.floats(0, 2)), chance=st.one_of(st.none(), probability))
def test_light_follows_the_thresholds(fraction: float | None, chance: float | None) -> None:
    result = p.light(fraction, chance)
    if chance is not None:
        expected = (
            p.ON_TRACK
            if chance >= p.ON_TRACK_PROBABILITY
            else p.AT_RISK
            if chance >= p.OFF_TRACK_PROBABILITY
            else p.OFF_TRACK
        )
    elif fraction is not None:
        expected = p.ON_TRACK if fraction >= 1 - p.MET_TOLERANCE else p.AT_RISK
    else:
        expected = p.NO_DATA
    assert result == expected
    vectorised = p.lights(
        np.array([np.nan if fraction is None else fraction]),
        np.array([np.nan if chance is None else chance]),
    )
    assert vectorised[0] == result


def test_light_edges() -> None:
    assert p.light(None, None) == p.NO_DATA
    assert p.light(0.2, 0.7) == p.ON_TRACK
    assert p.light(2.0, 0.2999) == p.OFF_TRACK
    assert p.light(0.5, 0.3) == p.AT_RISK
    assert p.light(1.0, None) == p.ON_TRACK
    assert p.light(0.99, None) == p.AT_RISK
