import numpy as np
import pytest

from modelops.domain.data.features import FeatureMatrix
from modelops.domain.model import estimators
from modelops.domain.spec import Estimator, Split


def synthetic(rows: int = 3000, periods: int = 4, seed: int = 0) -> FeatureMatrix:
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=rows), rng.integers(0, 3, rows).astype(float)])
    logit = 2.5 * X[:, 0] + (X[:, 1] == 2) * 1.5 - 1
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(float)
    month = np.array([f"2025-0{1 + i % periods}-01" for i in range(rows)], dtype="datetime64[D]")
    return FeatureMatrix(np.arange(rows).astype(str), month, X, y, ["signal", "group"])


def test_out_of_time_split_tests_on_the_last_period_only():
    matrix = synthetic()
    index = estimators.split_rows(matrix, Split(test="out_of_time", test_periods=1))
    assert set(matrix.timestamp[index.test]) == {np.datetime64("2025-04-01")}
    assert np.datetime64("2025-04-01") not in set(matrix.timestamp[index.train])
    together = np.concatenate([index.train, index.validation, index.test])
    assert sorted(together.tolist()) == list(range(matrix.rows))


def test_a_single_class_sample_is_a_training_error():
    matrix = synthetic()
    matrix.y[matrix.timestamp == np.datetime64("2025-04-01")] = 0.0
    with pytest.raises(estimators.TrainingError, match="test sample has 750 rows and a single class"):
        estimators.split_rows(matrix, Split())


def test_grid_and_random_search_candidates():
    grid = Estimator(
        kind="hist_gradient_boosting",
        params={"max_iter": 50},
        search={"space": {"learning_rate": [0.1, 0.2], "max_depth": [2, 3, 4]}},
    )
    assert len(estimators.candidates(grid)) == 6
    assert all(c["max_iter"] == 50 for c in estimators.candidates(grid))
    sampled = Estimator(
        kind="hist_gradient_boosting",
        search={
            "method": "random",
            "n_iter": 4,
            "space": {"learning_rate": [0.1, 0.2], "max_depth": [2, 3, 4]},
        },
    )
    chosen = estimators.candidates(sampled)
    assert len(chosen) == 4 and len({tuple(sorted(c.items())) for c in chosen}) == 4


@pytest.mark.parametrize("kind", ["hist_gradient_boosting", "logistic_regression"])
def test_fit_picks_the_best_candidate_and_measures_the_test_sample(kind):
    matrix = synthetic()
    space = (
        {"learning_rate": [0.1], "max_iter": [5, 60]}
        if kind == "hist_gradient_boosting"
        else {"C": [0.001, 1.0]}
    )
    estimator = Estimator(kind=kind, search={"space": space})
    result = estimators.fit(matrix, estimator, Split(), categorical=[False, True])
    assert len(result.candidates) == 2
    best = max(result.candidates, key=lambda c: c["validation"]["roc_auc"])
    assert result.params == best["params"]
    assert result.metrics["test"]["roc_auc"] > 0.8
    assert result.metrics["test"]["rows"] == result.test_index.size == result.test_scores.size
    assert np.all((result.test_scores > 0) & (result.test_scores < 1))
