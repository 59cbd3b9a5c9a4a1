"""What sampling alone moves a value (domain/monitoring/sampling.py), against hand-computed
cases: the rows a value stands on, each kind of value's floor at the period's size and at the
reference's median size, and a decile's p-value as a sample quantile."""

from datetime import date

import numpy as np
import pytest

from modelops.domain.monitoring import sampling, statistics
from modelops.domain.monitoring.profiles import DECILE_LEVELS
from modelops.domain.monitoring.reference import Observation

DAY = date(2025, 1, 1)
SAMPLE = np.arange(1.0, 11.0)  # 1..10: variance 8.25


def period(count: float, missing: float, sample: np.ndarray | None = SAMPLE, **values: float) -> Observation:
    return Observation(DAY, {"count": count, "missing": missing, **values}, sample)


def test_a_decile_or_mean_stands_on_the_present_rows():
    assert sampling.present_rows(period(200.0, 0.25)) == 150.0
    assert sampling.present_rows(Observation(DAY, {"count": 8.0})) == 8.0
    assert sampling.present_rows(Observation(DAY, {"mean": 1.0})) == 0.0


def test_each_values_floor_at_the_periods_size_and_the_references_median_size():
    # Reference: counts 100, 300, 500 (median 300) with 10 %, 50 %, 20 % missing: present 90,
    # 150, 400 (median 150). Current: 50 rows, 20 % missing: 40 present.
    periods = [period(100.0, 0.1), period(300.0, 0.5), period(500.0, 0.2)]
    current = period(50.0, 0.2)
    names = ["missing", "mean", "d5", "share:x"]
    matrix = np.array([[0.1, 5.0, 5.0, 0.2], [0.0, 5.5, 5.5, 0.4], [0.2, 5.2, 5.0, 0.3]])
    now, reference = sampling.sampling_floors("x", names, matrix, periods, current)
    pooled = np.sort(np.concatenate([SAMPLE] * 3))
    missing = 0.1 * 0.9  # the reference's mean share 0.1
    assert now[0] == pytest.approx(missing / 50) and reference[0] == pytest.approx(missing / 300)
    assert now[1] == pytest.approx(pooled.var() / 40) and reference[1] == pytest.approx(pooled.var() / 150)
    d5 = statistics.quantile_floor(pooled, DECILE_LEVELS[[4]], 40)[0]
    assert now[2] == pytest.approx(d5) and d5 > 0
    assert reference[2] == pytest.approx(statistics.quantile_floor(pooled, DECILE_LEVELS[[4]], 150)[0])
    share = 0.3 * 0.7  # a category's share stands on every row, missing ones too
    assert now[3] == pytest.approx(share / 50) and reference[3] == pytest.approx(share / 300)


def test_the_outcome_rate_stands_on_the_rows_that_have_an_outcome_and_two_values_are_enough():
    # The outcome's mean is a rate, p(1 - p), over the rows whose outcome is known.
    periods = [period(100.0, 0.5, np.array([1.0, 3.0])), period(100.0, 0.5, None)]
    matrix = np.array([[0.2, 1.0, 2.0], [0.4, 3.0, 2.0]])
    now, _ = sampling.sampling_floors("outcome", ["mean"], matrix[:, :1], periods, period(2.0, 0.5))
    assert now[0] == pytest.approx(0.3 * 0.7)  # one row known of two
    # Two pooled values (1 and 3: variance 1) give a mean's and a decile's floor.
    now, _ = sampling.sampling_floors("x", ["mean", "d10"], matrix[:, 1:], periods, period(4.0, 0.0))
    assert now[0] == pytest.approx(1.0 / 4) and now[1] > 0
    p = sampling.decile_sampling_p("x", ["d10"], np.array([9.0]), periods, period(4.0, 0.0))
    assert p[0] == pytest.approx(
        statistics.quantile_sampling_p(np.array([1.0, 3.0]), DECILE_LEVELS[[9]], np.array([9.0]), 4)[0]
    )


def test_the_outcome_is_a_rate_and_nothing_is_told_without_rows_or_samples():
    periods = [period(100.0, 0.0, None), period(100.0, 0.0, None)]
    matrix = np.array([[0.2, 3.0], [0.4, 3.0]])
    now, reference = sampling.sampling_floors(
        "outcome", ["mean", "d5"], matrix, periods, period(0.0, 0.0, None)
    )
    assert now[0] == 0.0 and reference[0] == pytest.approx(0.3 * 0.7 / 100)  # 0 rows now: no floor
    assert now[1] == 0.0 and reference[1] == 0.0  # no samples: a decile's floor cannot be told
    now, _ = sampling.sampling_floors("y", ["mean"], matrix[:, :1], periods, period(10.0, 0.0, None))
    assert now[0] == 0.0  # a mean's variance needs samples
    one = [period(100.0, 0.0, np.array([4.0]))]
    assert sampling.sampling_floors("y", ["mean"], matrix[:1, :1], one, period(10.0, 0.0))[0][0] == 0.0


def test_a_deciles_sampling_p_comes_from_the_current_periods_present_rows():
    periods = [period(10.0, 0.0, np.array([0.0, 0.0, 0.0, 1.0]))]
    names = ["mean", "d5"]
    # d5 is the 0.45 quantile; 4 present rows of 8 (half missing): position 0.45 * 3 = 1.35.
    current = period(8.0, 0.5)
    p = sampling.decile_sampling_p("x", names, np.array([0.5, 1.0]), periods, current)
    expected = statistics.quantile_sampling_p(
        np.array([0.0, 0.0, 0.0, 1.0]), DECILE_LEVELS[[4]], np.array([1.0]), 4
    )
    assert np.isnan(p[0]) and p[1] == pytest.approx(expected[0]) and p[1] < 1.0
    rates = sampling.decile_sampling_p("outcome_by_score_decile", ["d5"], np.array([1.0]), periods, current)
    assert np.isnan(rates).all()  # a rate metric's deciles are shares, not sample quantiles
    alone = [period(10.0, 0.0, np.array([1.0]))]  # one sampled value tells nothing
    assert np.isnan(sampling.decile_sampling_p("x", names, np.array([0.5, 1.0]), alone, current)).all()
    assert sampling.pooled_sample(
        [period(1.0, 0.0, None), period(1.0, 0.0, np.array([3.0, 1.0]))]
    ).tolist() == [1.0, 3.0]
    assert sampling.pooled_sample([period(1.0, 0.0, None)]).size == 0
