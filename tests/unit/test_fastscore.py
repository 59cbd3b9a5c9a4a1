"""The NumPy scorer reproduces scikit-learn's predict_proba, batch and single-row."""

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from modelops.domain.fastscore import FastModel, export, max_difference


def fitted(
    categorical_signal: float, seed: int = 0
) -> tuple[HistGradientBoostingClassifier, np.random.Generator]:
    rng = np.random.default_rng(seed)
    n = 4000
    X = np.c_[rng.normal(size=(n, 4)), rng.integers(0, 5, (n, 2)).astype(float)]
    X[rng.random(X.shape) < 0.05] = np.nan
    logit = X[:, 0] - 0.5 * np.nan_to_num(X[:, 1]) + categorical_signal * (X[:, 4] == 3)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    model = HistGradientBoostingClassifier(
        max_iter=60, max_leaf_nodes=15, categorical_features=[4, 5], random_state=0
    )
    return model.fit(X, y), rng


@pytest.mark.parametrize("categorical_signal", [0.0, 0.3, 2.0])  # weak: late trees lack categorical splits
def test_matches_predict_proba_on_odd_rows(categorical_signal):
    model, rng = fitted(categorical_signal)
    fast = FastModel.from_bytes(FastModel(export(model)).to_bytes())
    X = np.c_[
        rng.normal(size=(3000, 4)) * 3, rng.integers(-2, 8, (3000, 2)).astype(float)
    ]  # unseen categories
    X[rng.random(X.shape) < 0.1] = np.nan
    reference = model.predict_proba(X)[:, 1]
    assert max_difference(fast, X, reference) < 1e-12
    single = np.array([fast.predict_proba(X[i : i + 1])[0] for i in range(300)])
    assert np.abs(single - reference[:300]).max() < 1e-12


def test_other_estimators_have_no_numpy_scorer():
    X, y = np.random.default_rng(1).normal(size=(100, 3)), np.arange(100) % 2
    assert export(LogisticRegression().fit(X, y)) is None


def test_matches_on_the_demo_churn_data_where_late_trees_have_no_categorical_split():
    from modelops.domain.features import infer_schema, transform
    from modelops.domain.spec import parse_spec
    from modelops_local.demo_data import DemoConfig, generate
    from tests.helpers import CHURN_SPEC

    spec = parse_spec(CHURN_SPEC.read_text())
    months = generate(DemoConfig(customers=800, months=4))
    columns = {name: np.concatenate([table[name] for _, table in months]) for name in months[0][1]}
    schema = infer_schema(columns, spec)
    matrix = transform(columns, spec, schema, with_outcome=True)
    model = HistGradientBoostingClassifier(
        max_iter=150,
        max_leaf_nodes=15,
        categorical_features=np.array(schema.categorical_mask),
        random_state=42,
        early_stopping=False,
    ).fit(matrix.X, matrix.y)
    assert model._predictors[-1][0].raw_left_cat_bitsets.size == 0  # the case that needs care
    fast = FastModel(export(model))
    assert max_difference(fast, matrix.X, model.predict_proba(matrix.X)[:, 1]) < 1e-12
