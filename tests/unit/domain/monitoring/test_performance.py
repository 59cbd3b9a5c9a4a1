"""Realized performance: the metadata rows of a source's scores against their outcomes, and
the decision to flag a realized AUC below the model's test AUC."""

from datetime import date

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from modelops.domain.model import metrics
from modelops.domain.monitoring import performance
from modelops.domain.monitoring.profiles import DECILES

SEPTEMBER = date(2025, 9, 1)


def outcomes(rng: np.random.Generator, rows: int, signal: float) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes and probabilities whose AUC grows with ``signal`` (0: a coin)."""
    latent = rng.normal(size=rows)
    y = (latent + rng.normal(size=rows) > 1.0).astype(float)
    score = 1 / (1 + np.exp(-(signal * latent - 1.5)))
    return y, score


def test_realized_profiles_name_each_measure_for_the_source_and_its_version():
    y, score = outcomes(np.random.default_rng(1), 4000, 1.5)
    profiles = performance.realized_profiles(SEPTEMBER, "batch", "1.2.0", y, score)
    by_name = {p.metric: p for p in profiles}
    measures = ("roc_auc", "log_loss", "brier", "calibration", "response_rate")
    assert sorted(by_name) == sorted(f"{prefix}:{m}" for prefix in ("batch", "batch@1.2.0") for m in measures)
    assert all(p.timestamp == SEPTEMBER and p.values["count"] == 4000.0 for p in profiles)
    for prefix in ("batch", "batch@1.2.0"):
        assert by_name[f"{prefix}:roc_auc"].values["value"] == pytest.approx(roc_auc_score(y, score))
        assert by_name[f"{prefix}:log_loss"].values["value"] == pytest.approx(log_loss(y, score))
        assert by_name[f"{prefix}:brier"].values["value"] == pytest.approx(brier_score_loss(y, score))
        assert by_name[f"{prefix}:calibration"].values["value"] == pytest.approx(score.mean() / y.mean())
        rates = by_name[f"{prefix}:response_rate"].values
        assert [rates[d] for d in DECILES] == pytest.approx(metrics.decile_rates(y, score))
        assert rates["d10"] > rates["d1"]  # the highest scores respond most


def test_a_realized_auc_well_below_the_test_auc_is_flagged_with_its_evidence():
    y, score = outcomes(np.random.default_rng(2), 4000, 1.5)
    auc, error = metrics.auc_with_error(y, score)
    expected = auc + 0.123456  # the model promised 0.12 more than it delivered
    evidence = performance.performance_drop("batch", y, score, expected, level=0.01, tolerance=0.02)
    assert evidence is not None
    assert (evidence.stage, evidence.metric, evidence.value, evidence.test) == (
        "validate_outcomes",
        "batch:roc_auc",
        "value",
        "realized",
    )
    # Rounded for the alert: the AUCs to 6 places, the drop to 4.
    assert (evidence.statistic, evidence.effect, evidence.expected) == (
        round(auc, 6),
        round(expected - auc, 4),
        round(expected, 6),
    )
    assert evidence.p_value == pytest.approx(metrics.normal_sf(0.123456 / error), rel=1e-3)
    assert evidence.p_value is not None and evidence.p_value < 0.01


def test_a_drop_within_the_tolerance_or_not_significant_is_not_flagged():
    y, score = outcomes(np.random.default_rng(3), 4000, 1.5)
    auc, error = metrics.auc_with_error(y, score)
    drop = performance.performance_drop
    # Significant (many standard errors) but inside the tolerance the spec allows.
    assert drop("batch", y, score, auc + 0.019, level=0.01, tolerance=0.02) is None
    assert drop("batch", y, score, auc + 0.021, level=0.01, tolerance=0.02) is not None
    # Larger than the tolerance but within noise: half a standard error is no evidence.
    assert drop("batch", y, score, auc + error / 2, level=0.01, tolerance=0.0) is None
    # Better than promised is never a drop.
    assert drop("batch", y, score, auc - 0.05, level=0.5, tolerance=0.0) is None


def test_the_level_is_the_bar_for_the_drops_p_value():
    y, score = outcomes(np.random.default_rng(4), 2000, 1.5)
    auc, error = metrics.auc_with_error(y, score)
    expected = auc + 2 * error  # p = P(Z > 2) = 0.0228
    p_value = metrics.normal_sf(2.0)
    drop = performance.performance_drop
    assert drop("online", y, score, expected, level=p_value * 1.01, tolerance=0.0) is not None
    assert drop("online", y, score, expected, level=p_value * 0.99, tolerance=0.0) is None


def test_a_perfectly_separating_score_has_no_error_and_any_drop_is_certain():
    y = np.array([0.0] * 50 + [1.0] * 50)
    score = np.linspace(0.01, 0.99, 100)  # every positive above every negative: AUC 1, SE 0
    assert metrics.auc_with_error(y, score) == (1.0, 0.0)
    # A test AUC above 1 cannot happen; a drop of 0 with no error is not flagged either.
    assert performance.performance_drop("batch", y, score, 1.0, level=0.01, tolerance=0.0) is None
    reversed_score = score[::-1]  # AUC 0, SE 0: a certain drop from the promised 0.8
    evidence = performance.performance_drop("batch", y, reversed_score, 0.8, level=0.01, tolerance=0.1)
    assert evidence is not None and evidence.p_value == 0.0 and evidence.effect == pytest.approx(0.8)


def test_a_drop_of_exactly_the_tolerance_or_a_p_value_of_exactly_the_level_is_not_flagged():
    # Both bars are the caller's (the tolerance, the spec's level): a drop must exceed the
    # tolerance, and its p-value be below the level.
    y, score = outcomes(np.random.default_rng(4), 2000, 1.5)
    auc, error = metrics.auc_with_error(y, score)
    expected = auc + 3 * error
    drop, p_value = expected - auc, metrics.normal_sf((expected - auc) / error)
    flagged = performance.performance_drop
    assert flagged("batch", y, score, expected, level=0.05, tolerance=drop) is None
    assert flagged("batch", y, score, expected, level=0.05, tolerance=drop * 0.999) is not None
    assert flagged("batch", y, score, expected, level=p_value, tolerance=0.0) is None
    assert flagged("batch", y, score, expected, level=p_value * 1.001, tolerance=0.0) is not None
