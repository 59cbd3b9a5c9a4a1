"""Model fitting: split, hyperparameter search, metrics. Plain arrays in, plain data out."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelops.domain.data.features import FeatureMatrix
from modelops.domain.spec import Estimator, Split


class TrainingError(ValueError):
    """The data cannot train a model (too few rows, a single class, ...)."""


@dataclass(frozen=True)
class SplitIndex:
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


@dataclass
class TrainingResult:
    estimator: Any
    params: dict[str, Any]
    candidates: list[dict[str, Any]]
    metrics: dict[str, dict[str, float]]
    test_scores: np.ndarray
    test_index: np.ndarray


def _outcome(matrix: FeatureMatrix) -> np.ndarray:
    if matrix.y is None:
        raise TrainingError("training needs the outcome, and these rows have none")
    return matrix.y


def split_rows(matrix: FeatureMatrix, split: Split) -> SplitIndex:
    """Train / validation / test indices; the test sample is the last periods when out of time."""
    y = _outcome(matrix)
    labelled = np.flatnonzero(~np.isnan(y))
    rng = np.random.default_rng(split.seed)
    if split.test == "out_of_time":
        periods = np.unique(matrix.timestamp[labelled])
        if periods.size <= split.test_periods:
            raise TrainingError(
                f"out-of-time test needs more than {split.test_periods} labelled periods, "
                f"the window has {periods.size}"
            )
        first_test = periods[-split.test_periods]
        in_test = matrix.timestamp[labelled] >= first_test
        test, rest = labelled[in_test], labelled[~in_test]
    else:
        shuffled = rng.permutation(labelled)
        cut = int(len(shuffled) * split.test_fraction)
        test, rest = np.sort(shuffled[:cut]), shuffled[cut:]
    shuffled = rng.permutation(rest)
    cut = int(len(shuffled) * split.validation_fraction)
    index = SplitIndex(train=np.sort(shuffled[cut:]), validation=np.sort(shuffled[:cut]), test=test)
    for name in ("train", "validation", "test"):
        outcome = y[getattr(index, name)]
        if np.unique(outcome).size < 2:
            raise TrainingError(f"the {name} sample has {outcome.size} rows and a single class")
    return index


def candidates(estimator: Estimator) -> list[dict[str, Any]]:
    """Every point of the grid, or ``n_iter`` of them drawn without replacement."""
    space = estimator.search.space
    names = sorted(space)
    grid = [dict(zip(names, values, strict=True)) for values in itertools.product(*(space[n] for n in names))]
    if estimator.search.method == "random" and len(grid) > estimator.search.n_iter:
        grid = random.Random(0).sample(grid, estimator.search.n_iter)
    return [{**estimator.params, **point} for point in grid]


def build_estimator(kind: str, params: dict[str, Any], categorical: list[bool], seed: int) -> Any:
    if kind == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            categorical_features=np.array(categorical) if any(categorical) else None,
            early_stopping=False,
            random_state=seed,
            **params,
        )
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [j for j, is_cat in enumerate(categorical) if not is_cat]
    categories = [j for j, is_cat in enumerate(categorical) if is_cat]
    prepare = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()),
                numeric,
            ),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=-1),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categories,
            ),
        ]
    )
    return make_pipeline(prepare, LogisticRegression(**params))


def score_metrics(y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    return {
        "roc_auc": float(roc_auc_score(y, scores)),
        "log_loss": float(log_loss(y, scores, labels=[0, 1])),
        "brier": float(brier_score_loss(y, scores)),
        "rows": float(y.size),
        "outcome_rate": float(y.mean()),
    }


def positive_scores(estimator: Any, X: np.ndarray) -> np.ndarray:
    scores: np.ndarray = estimator.predict_proba(X)[:, 1]
    return scores


def fit(matrix: FeatureMatrix, estimator: Estimator, split: Split, categorical: list[bool]) -> TrainingResult:
    """Search the space on train/validation, refit the best on both, measure on test."""
    index = split_rows(matrix, split)
    X, y = matrix.X, _outcome(matrix)
    tried = []
    for params in candidates(estimator):
        model = build_estimator(estimator.kind, params, categorical, split.seed)
        model.fit(X[index.train], y[index.train])
        validation = score_metrics(y[index.validation], positive_scores(model, X[index.validation]))
        tried.append({"params": params, "validation": validation})
    best = max(tried, key=lambda candidate: candidate["validation"]["roc_auc"])
    fit_rows = np.concatenate([index.train, index.validation])
    final = build_estimator(estimator.kind, best["params"], categorical, split.seed)
    final.fit(X[fit_rows], y[fit_rows])
    test_scores = positive_scores(final, X[index.test])
    return TrainingResult(
        estimator=final,
        params=best["params"],
        candidates=tried,
        metrics={"validation": best["validation"], "test": score_metrics(y[index.test], test_scores)},
        test_scores=test_scores,
        test_index=index.test,
    )


IMPORTANCE_ROWS = 5_000  # permutation importance reads at most this many test rows
IMPORTANCE_REPEATS = 3
IMPORTANCE_CELLS = 4_000_000  # at most this many values scored in one prediction call (32 MB)


def permutation_importance(
    estimator: Any,
    X: np.ndarray,
    y: np.ndarray,
    names: list[str],
    *,
    repeats: int = IMPORTANCE_REPEATS,
    max_rows: int = IMPORTANCE_ROWS,
    seed: int = 0,
) -> dict[str, Any]:
    """Each feature's permutation importance on the rows: how much the ROC AUC drops when its
    column is shuffled (the mean of ``repeats`` shuffles, and their spread), most important
    first. At most ``max_rows`` rows, drawn without replacement; deterministic for a seed."""
    from modelops.domain.model import metrics

    rng = np.random.default_rng(seed)
    if y.size > max_rows:
        rows = np.sort(rng.choice(y.size, max_rows, replace=False))
        X, y = X[rows], y[rows]
    baseline = metrics.roc_auc(y, positive_scores(estimator, X))
    copies = [(j, r) for j in range(len(names)) for r in range(repeats)]  # each shuffled copy of X
    per_call = max(1, IMPORTANCE_CELLS // max(X.size, 1))  # copies scored in one prediction call
    drops = np.empty((len(names), repeats))
    for start in range(0, len(copies), per_call):
        batch = copies[start : start + per_call]
        shuffled = np.tile(X, (len(batch), 1))
        for k, (j, _) in enumerate(batch):
            shuffled[k * y.size : (k + 1) * y.size, j] = rng.permutation(X[:, j])
        scores = positive_scores(estimator, shuffled).reshape(len(batch), y.size)
        for (j, r), score in zip(batch, scores, strict=True):
            drops[j, r] = baseline - metrics.roc_auc(y, score)
    found = [
        {
            "feature": name,
            "importance": float(drops[j].mean()),
            "std": float(drops[j].std(ddof=1)) if repeats > 1 else 0.0,
            "drops": drops[j].tolist(),
        }
        for j, name in enumerate(names)
    ]
    found.sort(key=lambda item: (-item["importance"], item["feature"]))
    return {"metric": "roc_auc", "baseline": baseline, "rows": y.size, "repeats": repeats, "features": found}
