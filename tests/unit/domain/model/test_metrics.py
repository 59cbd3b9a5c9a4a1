"""Scores against outcomes with NumPy only, checked against scikit-learn, and the paired tests
the promotion gate relies on."""

import numpy as np
import pytest
from sklearn import metrics as reference

from modelops.domain.model import metrics


def sample(rows: int = 2000, seed: int = 0, noise: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=rows)
    y = (rng.random(rows) < 1 / (1 + np.exp(-(2 * signal - 2)))).astype(float)
    score = 1 / (1 + np.exp(-(2 * signal + rng.normal(0, noise, rows) - 2)))
    return y, score


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_measures_equal_scikit_learns(seed):
    y, score = sample(seed=seed)
    score = np.round(score, 2)  # ties, as real scores have them
    assert metrics.roc_auc(y, score) == pytest.approx(reference.roc_auc_score(y, score), abs=1e-12)
    assert metrics.average_precision(y, score) == pytest.approx(
        reference.average_precision_score(y, score), abs=1e-12
    )
    assert metrics.log_loss(y, score) == pytest.approx(reference.log_loss(y, score), abs=1e-12)
    assert metrics.brier(y, score) == pytest.approx(reference.brier_score_loss(y, score), abs=1e-12)


def test_hand_computed_auc_and_deciles():
    y = np.array([0, 0, 1, 1, 0, 1])
    score = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.4])
    # Positives 0.35, 0.8, 0.4 against negatives 0.1, 0.4, 0.4: wins 1+0+0, 1+1+1, 1+.5+.5 = 6 of 9.
    assert metrics.roc_auc(y, score) == pytest.approx(6 / 9)
    assert metrics.calibration(y, score) == pytest.approx(np.mean(score) / 0.5)
    rates = metrics.decile_rates(np.tile([0, 1], 50).astype(float), np.arange(100.0))
    assert rates == [0.5] * 10
    with pytest.raises(ValueError, match="both classes"):
        metrics.roc_auc(np.ones(5), np.arange(5.0))


def test_delong_knows_a_worse_scorer_on_the_same_rows():
    y, good = sample(seed=3, noise=0.3)
    _, noisy = sample(seed=3, noise=2.5)
    worse = metrics.delong(y, noisy, good)
    assert worse.difference < 0 and worse.p_worse < 0.001
    better = metrics.delong(y, good, noisy)
    assert better.difference == pytest.approx(-worse.difference) and better.p_worse > 0.999
    same = metrics.delong(y, good, good)
    assert same.difference == 0 and same.p_worse == 1.0  # no variance: not worse
    against_nothing = metrics.delong(y, good, None)
    assert against_nothing.reference == 0.5 and against_nothing.p_worse > 0.999


def test_the_auc_standard_error_matches_resampling():
    y, score = sample(rows=1500, seed=4)
    auc, error = metrics.auc_with_error(y, score)
    rng = np.random.default_rng(0)
    resampled = []
    for _ in range(300):
        rows = rng.choice(y.size, y.size)
        if 0 < y[rows].sum() < y.size:
            resampled.append(metrics.roc_auc(y[rows], score[rows]))
    assert auc == pytest.approx(metrics.roc_auc(y, score))
    assert error == pytest.approx(np.std(resampled), rel=0.25)


def test_the_paired_bootstrap_is_one_sided_on_the_metrics_direction():
    y, good = sample(seed=5, noise=0.3)
    _, noisy = sample(seed=5, noise=2.0)
    worse = metrics.paired_bootstrap("log_loss", y, noisy, good, rounds=200)
    assert worse.difference < 0 and worse.p_worse < 0.05  # higher log loss is worse
    better = metrics.paired_bootstrap("log_loss", y, good, noisy, rounds=200)
    assert better.difference > 0 and better.p_worse > 0.95
    assert metrics.compare("brier", y, good, noisy).method.startswith("paired bootstrap")
    assert metrics.compare("roc_auc", y, good, noisy).method == "DeLong"
