"""Realized performance per period and its test against the version's own periods: the metadata
rows of a source's measures, the per-period reference of the test sample (a month's AUC is not
the pooled year's), the random-effects prediction by hand, and what is flagged."""

from datetime import date

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from modelops.domain.model import metrics
from modelops.domain.monitoring import evaluation, performance
from modelops.domain.monitoring.calibration import Calibration
from modelops.domain.monitoring.performance import Measured
from modelops.domain.monitoring.profiles import DECILES
from modelops.domain.spec import Campaign, Drift

SEPTEMBER = date(2025, 9, 1)
SETTINGS = Drift()


def months(count: int, start: int = 2024) -> list[date]:
    return [date(start + i // 12, i % 12 + 1, 1) for i in range(count)]


def outcomes(rng: np.random.Generator, rows: int, signal: float) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes and probabilities whose AUC grows with ``signal`` (0: a coin)."""
    latent = rng.normal(size=rows)
    y = (latent + rng.normal(size=rows) > 1.0).astype(float)
    score = 1 / (1 + np.exp(-(signal * latent - 1.5)))
    return y, score


def test_realized_profiles_name_each_measure_for_the_source_and_its_version():
    y, score = outcomes(np.random.default_rng(1), 4000, 1.5)
    campaign = Campaign(top_n=100)
    profiles = performance.realized_profiles(SEPTEMBER, "batch", "1.2.0", y, score, campaign)
    by_name = {p.metric: p for p in profiles}
    measures = ("roc_auc", "precision", "outcome_rate", "log_loss", "brier", "calibration", "response_rate")
    assert sorted(by_name) == sorted(f"{prefix}:{m}" for prefix in ("batch", "batch@1.2.0") for m in measures)
    assert all(p.timestamp == SEPTEMBER for p in profiles)
    for prefix in ("batch", "batch@1.2.0"):
        auc = by_name[f"{prefix}:roc_auc"].values
        assert auc["value"] == pytest.approx(roc_auc_score(y, score))
        assert auc["se"] == pytest.approx(metrics.auc_with_error(y, score)[1])
        assert (auc["count"], auc["positives"]) == (4000.0, y.sum())
        top = np.argsort(-score, kind="stable")[:100]
        precision = by_name[f"{prefix}:precision"].values
        assert (precision["value"], precision["count"]) == (pytest.approx(y[top].mean()), 100.0)
        assert precision["se"] == pytest.approx(np.sqrt(y[top].mean() * (1 - y[top].mean()) / 100))
        rate = by_name[f"{prefix}:outcome_rate"].values
        assert rate["se"] == pytest.approx(np.sqrt(y.mean() * (1 - y.mean()) / 4000))
        assert by_name[f"{prefix}:log_loss"].values["value"] == pytest.approx(log_loss(y, score))
        assert by_name[f"{prefix}:brier"].values["value"] == pytest.approx(brier_score_loss(y, score))
        assert by_name[f"{prefix}:calibration"].values["value"] == pytest.approx(score.mean() / y.mean())
        rates = by_name[f"{prefix}:response_rate"].values
        assert [rates[d] for d in DECILES] == pytest.approx(metrics.decile_rates(y, score))
    # A switched-off campaign selects nobody: no precision.
    off = performance.realized_profiles(SEPTEMBER, "batch", "1.2.0", y, score, Campaign(enabled=False))
    assert not any(p.metric.endswith(":precision") for p in off)


# ------------------------------------------------------------------ the per-period reference


def test_the_reference_is_each_test_periods_own_auc_not_the_pooled_one():
    # Each month is ranked on its own rows; pooled, the months' levels mix.
    # Month 1: scores .1 .2 .3 .4 .5, outcomes 0 1 0 1 0: positives above 1 and 2 of 3 negatives.
    # Month 2: scores .6 .7 .8 .9 1, outcomes 0 1 0 1 1: positives above 1, 2 and 2 of 2 negatives.
    score = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    y = np.array([0.0, 1, 0, 1, 0, 0, 1, 0, 1, 1])
    stamp = np.array(["2024-01-01"] * 5 + ["2024-02-01"] * 5, dtype="datetime64[D]")
    calibration = Calibration("platt", slope=1.0, intercept=0.0)  # scores taken as probabilities
    periods = performance.reference_periods(calibration, score, y, stamp, Campaign(top_n=1))
    assert [p["period"] for p in periods] == ["2024-01-01", "2024-02-01"]
    assert [p["roc_auc"]["value"] for p in periods] == [pytest.approx(3 / 6), pytest.approx(5 / 6)]
    # Pooled: 1 + 2 + 4 + 5 + 5 of the 25 pairs in order, more than the months' mean of 2/3.
    assert roc_auc_score(y, score) == pytest.approx(17 / 25)
    assert [p["outcome_rate"]["value"] for p in periods] == [0.4, 0.6]
    assert [p["precision"]["value"] for p in periods] == [0.0, 1.0]  # the top score of each month
    # Each period's estimates read its calibrated scores: month 2 expects the mean of its scores.
    assert periods[1]["estimated_outcome_rate"]["value"] == pytest.approx(0.8)
    measured = performance.measured_of(periods, "roc_auc")
    assert [(m.timestamp, m.value) for m in measured] == [
        (date(2024, 1, 1), pytest.approx(3 / 6)),
        (date(2024, 2, 1), pytest.approx(5 / 6)),
    ]


def test_the_reference_adds_settled_history_that_was_never_flagged():
    test = [Measured(day, 0.8, 0.02, 1000) for day in months(3)]
    history = [Measured(day, 0.8, 0.02, 1000, flagged=(i == 1)) for i, day in enumerate(months(10, 2025))]
    current = date(2025, 11, 1)
    # Ten earlier periods; the newest six are what is under test (recent), of the four older
    # ones the flagged one is left out.
    chosen = performance.reference(test, history, current, recent=6)
    assert chosen[:3] == test
    assert [m.timestamp for m in chosen[3:]] == [date(2025, 1, 1), date(2025, 3, 1), date(2025, 4, 1)]
    assert performance.reference(test, history, date(2025, 3, 1), recent=6) == test  # too recent yet


def test_the_random_effects_prediction_by_hand():
    values = np.array([0.80, 0.84, 0.82, 0.90])
    variances = np.array([0.02, 0.02, 0.01, 0.02]) ** 2
    w = 1 / variances
    mean = (w * values).sum() / w.sum()
    q = (w * (values - mean) ** 2).sum()
    c = w.sum() - (w**2).sum() / w.sum()
    tau2 = (q - 3) / c  # DerSimonian-Laird: Q beyond its 3 degrees of freedom
    assert tau2 > 0
    star = 1 / (variances + tau2)
    expected = (star * values).sum() / star.sum()
    predicted = performance.predict(values, variances, 0.03**2)
    assert predicted is not None
    assert predicted.tau2 == pytest.approx(tau2)
    assert predicted.expected == pytest.approx(expected)
    assert predicted.variance == pytest.approx(tau2 + 0.03**2 + 1 / star.sum())
    assert predicted.freedom == 2  # R - G - 1
    # Values as close as their sampling errors say they should be: no spread between periods.
    calm = performance.predict(np.array([0.80, 0.81, 0.80, 0.81]), variances, 0.0)
    assert calm is not None and calm.tau2 == 0.0
    # By season: each season's own mean, the spread pooled within seasons.
    seasonal = performance.predict(values, variances, 0.0, np.array([0, 1, 0, 1]), own=1)
    assert seasonal is not None and seasonal.freedom == 1 and seasonal.seasonal
    star = 1 / (variances[[1, 3]] + seasonal.tau2)
    assert seasonal.expected == pytest.approx((star * values[[1, 3]]).sum() / star.sum())
    assert performance.predict(values[:2], variances[:2], 0.0, np.array([0, 1])) is None  # nothing left


def reference_of(level: float, count: int = 12, se: float = 0.015) -> list[Measured]:
    rng = np.random.default_rng(3)
    return [Measured(day, level + rng.normal(0, se), se, 5000) for day in months(count)]


def test_a_real_drop_is_flagged_with_its_band_and_the_p_value_of_student_t():
    periods = reference_of(0.81)
    current = Measured(date(2025, 3, 1), 0.74, 0.015, 5000)
    finding = performance.judge_period("batch:roc_auc", "realized", current, periods, SETTINGS)
    assert isinstance(finding, evaluation.Finding)
    predicted = performance.predict(
        np.array([p.value for p in periods]), np.array([p.se**2 for p in periods]), 0.015**2
    )
    assert predicted is not None and finding.expected == pytest.approx(predicted.expected)
    t = (0.74 - predicted.expected) / np.sqrt(predicted.variance)
    assert finding.p_value == pytest.approx(stats.t.cdf(t, predicted.freedom))  # one-sided: a drop
    half = stats.t.ppf(0.975, predicted.freedom) * np.sqrt(predicted.variance)
    assert (finding.low, finding.high) == (
        pytest.approx(finding.expected - half),
        pytest.approx(finding.expected + half),
    )
    assert finding.effect == pytest.approx(predicted.expected - 0.74)
    assert finding.series[-1] == 0.74 and len(finding.series) == 12
    [decided] = evaluation.decide([finding], SETTINGS)
    assert decided.flagged and decided.adjusted_p == pytest.approx(finding.p_value)


def test_a_small_period_gets_a_wide_band_not_a_false_alarm():
    periods = reference_of(0.81)
    # The same AUC 0.05 down, measured on a handful of rows (a standard error of 0.06).
    small = Measured(date(2025, 3, 1), 0.76, 0.06, 150)
    finding = performance.judge_period("batch:roc_auc", "realized", small, periods, SETTINGS)
    assert isinstance(finding, evaluation.Finding)
    assert finding.high - finding.low > 0.2 and finding.p_value > 0.1
    assert not evaluation.decide([finding], SETTINGS)[0].flagged
    large = Measured(date(2025, 3, 1), 0.76, 0.005, 50_000)
    assert evaluation.decide(
        [performance.judge_period("batch:roc_auc", "realized", large, periods, SETTINGS)], SETTINGS
    )[0].flagged  # type: ignore[list-item]


def test_a_better_auc_is_no_drop_and_a_rate_is_tested_both_ways():
    periods = reference_of(0.81)
    better = performance.judge_period(
        "batch:roc_auc", "realized", Measured(date(2025, 3, 1), 0.9, 0.01, 5000), periods, SETTINGS
    )
    assert isinstance(better, evaluation.Finding) and better.effect == 0.0 and better.p_value > 0.99
    rates = [Measured(day, 0.10, 0.004, 5000) for day in months(12)]
    up = performance.judge_period(
        "batch:outcome_rate", "realized", Measured(date(2025, 3, 1), 0.16, 0.005, 5000), rates, SETTINGS
    )
    down = performance.judge_period(
        "batch:outcome_rate", "realized", Measured(date(2025, 3, 1), 0.04, 0.003, 5000), rates, SETTINGS
    )
    assert isinstance(up, evaluation.Finding) and isinstance(down, evaluation.Finding)
    assert up.effect == pytest.approx(0.06) and down.effect == pytest.approx(0.06)
    assert all(f.flagged for f in evaluation.decide([up, down], SETTINGS))


def test_the_minimum_effect_of_a_drop_is_min_auc_drop_and_rates_use_min_share_change():
    periods = [Measured(day, 0.81, 0.001, 10**6) for day in months(12)]
    for drop, flagged in ((0.019, False), (0.021, True)):
        finding = performance.judge_period(
            "batch:roc_auc",
            "realized",
            Measured(date(2025, 3, 1), 0.81 - drop, 0.001, 10**6),
            periods,
            SETTINGS,
        )
        assert isinstance(finding, evaluation.Finding) and finding.p_value < 1e-6
        assert evaluation.decide([finding], SETTINGS)[0].flagged is flagged
    rates = [Measured(day, 0.10, 0.0003, 10**6) for day in months(12)]
    small = performance.judge_period(
        "batch:estimated_outcome_rate",
        "estimated",
        Measured(date(2025, 3, 1), 0.115, 0.0003, 10**6),
        rates,
        SETTINGS,
    )
    assert isinstance(small, evaluation.Finding) and not evaluation.decide([small], SETTINGS)[0].flagged


def test_too_few_reference_periods_or_rows_are_said_not_judged():
    periods = reference_of(0.81, count=2)
    said = performance.judge_period(
        "batch:roc_auc", "realized", Measured(SEPTEMBER, 0.5, 0.01, 5000), periods, SETTINGS
    )
    assert said == "batch:roc_auc: 2 reference period(s), too few to judge (3 needed)"
    assert performance.too_small("roc_auc", {"count": 300.0, "positives": 4.0}, SETTINGS)
    assert not performance.too_small("roc_auc", {"count": 300.0, "positives": 5.0}, SETTINGS)
    assert performance.too_small("outcome_rate", {"count": 19.0}, SETTINGS)
    assert not performance.too_small("estimated_outcome_rate", {"count": 20.0}, SETTINGS)
    assert performance.too_small("precision", {"count": 4.0}, SETTINGS)


def test_a_seasonal_measure_is_compared_with_its_own_season():
    # Three years of months: AUC 0.70 every December, 0.82 otherwise (a holiday mix).
    days = months(36)
    periods = [
        Measured(d, (0.70 if d.month == 12 else 0.82) + 0.002 * (i % 3), 0.01, 5000)
        for i, d in enumerate(days)
    ]
    december = Measured(date(2027, 12, 1), 0.70, 0.01, 5000)
    finding = performance.judge_period("batch:roc_auc", "realized", december, periods, SETTINGS)
    assert isinstance(finding, evaluation.Finding)
    assert finding.reference == "seasonal" and finding.expected == pytest.approx(0.704)  # Decembers
    assert not evaluation.decide([finding], SETTINGS)[0].flagged
    pooled = performance.judge_period(
        "batch:roc_auc", "realized", december, periods, Drift(seasonality="none")
    )
    assert isinstance(pooled, evaluation.Finding) and pooled.reference == "pooled"
    assert pooled.expected == pytest.approx(0.81, abs=0.005)
