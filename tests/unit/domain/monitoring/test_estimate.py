"""Performance estimated before the outcomes (CBPE-style) against hand-computed cases, and the
calibration it reads (scikit-learn as the reference)."""

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from modelops.domain.model import metrics
from modelops.domain.monitoring import calibration, estimate

# Four rows, two of them tied: scores and the calibrated probabilities of their outcomes.
S = np.array([0.8, 0.7, 0.7, 0.1])
P = np.array([0.9, 0.6, 0.3, 0.2])


def test_the_expected_auc_by_hand():
    # Expected pairs in order, p_i (1 - p_j) for each ordered pair of distinct rows, ties half:
    # row 0 above rows 1, 2, 3: .9 (.4 + .7 + .8) = 1.71
    # row 1 above row 3, tied with row 2: .6 (.8 + .7 / 2) = .69
    # row 2 above row 3, tied with row 1: .3 (.8 + .4 / 2) = .30
    # All pairs: sum p · sum (1 - p) - sum p (1 - p) = 2 · 2 - .70 = 3.30.
    found = estimate.expected_auc(P, S)
    assert found.value == pytest.approx(2.70 / 3.30)  # 9/11
    assert found.count == 4
    # Probabilities of 0 or 1 are known outcomes: the realized AUC, DeLong's error, nothing to wait for.
    y = np.array([1.0, 0, 1, 0])
    known = estimate.expected_auc(y, S)
    assert known.value == pytest.approx(roc_auc_score(y, S)) and known.realized_se == 0.0


def test_the_estimates_errors_match_delong_a_bootstrap_and_the_outcomes_draws():
    rng = np.random.default_rng(0)
    rows = 3000
    s = 1 / (1 + np.exp(-(rng.normal(size=rows) - 2)))
    y = (rng.random(rows) < s).astype(float)
    assert estimate.expected_auc(y, s).se == pytest.approx(metrics.auc_with_error(y, s)[1], rel=0.01)
    found = estimate.expected_auc(s, s)  # a calibrated scorer: p = s
    draws = [roc_auc_score(rng.random(rows) < s, s) for _ in range(300)]
    assert found.value == pytest.approx(np.mean(draws), abs=0.002)
    assert found.realized_se == pytest.approx(np.std(draws), rel=0.15)  # the outcomes' spread
    resampled = []
    for _ in range(200):
        rows_drawn = rng.integers(0, rows, rows)
        resampled.append(estimate.expected_auc(s[rows_drawn], s[rows_drawn]).value)
    assert found.se == pytest.approx(np.std(resampled), rel=0.2)  # other rows of the population
    # From a uniform sample of a ten times larger population: the errors of the population.
    sampled = estimate.expected_auc(s, s, population=10 * rows)
    assert sampled.value == found.value and sampled.count == 10 * rows
    assert sampled.se == pytest.approx(found.se / np.sqrt(10))
    assert sampled.realized_se == pytest.approx(found.realized_se / np.sqrt(10))


def test_the_expected_rate_and_precision_by_hand():
    rate = estimate.expected_rate(P)
    assert rate.value == pytest.approx(0.5)
    assert rate.realized_se == pytest.approx(np.sqrt(0.09 + 0.24 + 0.21 + 0.16) / 4)  # sum p(1-p), over n
    assert rate.se == pytest.approx(np.std(P, ddof=1) / 2)
    # The campaign's two highest scores: row 0, and of the tied rows the first.
    assert estimate.selected(S, 2, None).tolist() == [True, True, False, False]
    assert estimate.selected(S, None, 0.5).tolist() == [True, True, True, False]
    assert estimate.selected(S, 1, 0.85).tolist() == [False] * 4
    precision = estimate.expected_precision(P, S, 2, None)
    assert (precision.value, precision.count) == (pytest.approx(0.75), 2)
    assert precision.realized_se == pytest.approx(np.sqrt(0.09 + 0.24) / 2)
    # A sample of a population ten times larger keeps the top tenth of top_n = 20: two rows.
    scaled = estimate.expected_precision(P, S, 20, None, population=40)
    assert (scaled.value, scaled.count) == (pytest.approx(0.75), 20)
    assert estimate.expected_precision(P, S, 1, 0.85).count == 0
    assert estimate.realized_rate(np.array([1.0, 0, 0, 1])).se == pytest.approx(0.25)


def test_an_estimate_of_nothing_is_not_a_number():
    assert np.isnan(estimate.expected_auc(np.array([0.3]), np.array([0.5])).value)
    assert np.isnan(estimate.expected_rate(np.array([])).value)


def test_isotonic_calibration_is_scikit_learns():
    rng = np.random.default_rng(1)
    score = np.round(rng.random(2000), 2)  # many ties
    y = (rng.random(2000) < score**2).astype(float)
    fitted = calibration.fit(score, y, "isotonic")
    reference = IsotonicRegression(out_of_bounds="clip").fit(score, y)
    grid = np.linspace(-0.2, 1.2, 701)
    assert fitted.apply(grid) == pytest.approx(reference.predict(grid), abs=1e-12)
    again = calibration.Calibration.from_dict(fitted.to_dict())
    assert again == fitted


def test_platt_calibration_is_a_logistic_regression_on_the_log_odds():
    rng = np.random.default_rng(2)
    score = np.clip(rng.random(3000), 0.01, 0.99)
    y = (rng.random(3000) < score**1.5).astype(float)
    fitted = calibration.fit(score, y, "platt")
    odds = np.log(score / (1 - score))[:, None]
    reference = LogisticRegression(C=1e12, tol=1e-10, max_iter=1000).fit(odds, y)
    assert fitted.slope == pytest.approx(reference.coef_[0, 0], rel=1e-3)
    assert fitted.intercept == pytest.approx(reference.intercept_[0], rel=1e-3)
    assert fitted.apply(score) == pytest.approx(reference.predict_proba(odds)[:, 1], abs=1e-4)
    assert calibration.Calibration.from_dict(fitted.to_dict()) == fitted


def test_auto_calibration_is_isotonic_with_enough_of_each_outcome_and_ignores_unknown_ones():
    rng = np.random.default_rng(3)
    score = rng.random(5000)
    y = (rng.random(5000) < score).astype(float)
    assert calibration.fit(score, y).method == "isotonic"
    few = np.zeros(5000)
    few[:150] = 1.0  # 150 positives: below ISOTONIC_MIN_CLASS
    assert calibration.fit(score, few).method == "platt"
    y[:10] = np.nan
    assert calibration.fit(score, y).apply(np.array([0.5]))[0] == pytest.approx(
        calibration.fit(score[10:], y[10:]).apply(np.array([0.5]))[0]
    )
    with pytest.raises(ValueError, match="needs scores with known outcomes"):
        calibration.fit(score[:3], np.full(3, np.nan))
