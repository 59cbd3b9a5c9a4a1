"""The NumPy scorer reproduces scikit-learn's predict_proba, batch and single-row."""

import functools

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from modelops.domain.fastscore import FastModel, export, max_difference


@functools.cache
def small_model() -> HistGradientBoostingClassifier:
    """A quick model with one categorical feature (codes 0..3) in the last column."""
    rng = np.random.default_rng(5)
    X = np.c_[rng.normal(size=(600, 2)), rng.integers(0, 4, 600)]
    y = (X[:, 0] + (X[:, 2] == 2) + rng.normal(size=600) > 0.5).astype(float)
    return HistGradientBoostingClassifier(max_iter=10, categorical_features=[2], random_state=0).fit(X, y)


ROWS = np.array([[0.3, -1.0, 0.0], [-0.2, 0.5, 2.0], [1.5, np.nan, 3.0], [-1.0, 2.0, np.nan]])


def test_max_difference_is_the_largest_absolute_gap_to_the_reference():
    model = small_model()
    fast = FastModel(export(model))
    exact = model.predict_proba(ROWS)[:, 1]
    assert max_difference(fast, ROWS, exact) < 1e-12
    # Gaps of either sign: the largest in absolute value is 0.25, below the reference.
    shifted = exact + np.array([0.1, -0.25, 0.2, 0.0])
    assert max_difference(fast, ROWS, shifted) == pytest.approx(0.25, abs=1e-12)
    assert max_difference(fast, ROWS[:1], exact[:1] + 0.125) == pytest.approx(0.125, abs=1e-12)


def test_each_row_alone_scores_as_in_scikit_learn():
    model = small_model()
    fast = FastModel(export(model))
    exact = model.predict_proba(ROWS)[:, 1]
    alone = [fast.predict_proba(ROWS[i : i + 1])[0] for i in range(len(ROWS))]
    assert np.abs(np.array(alone) - exact).max() < 1e-12


def test_no_rows_means_no_difference():
    assert max_difference(FastModel(export(small_model())), np.empty((0, 3)), np.empty(0)) == 0.0


def test_scoring_leaves_the_callers_rows_unchanged():
    fast = FastModel(export(small_model()))
    X = ROWS.copy()
    fast.predict_proba(X)
    fast.predict_proba(X[1:2])
    np.testing.assert_array_equal(X, ROWS)


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


def test_categories_that_are_not_0_to_k_minus_1_score_as_in_scikit_learn():
    # Raw categories {2, 5, 9, 40}, and codes {0, 1, 3} as the feature encoder gives them when a
    # category of the schema never occurs in the training rows.
    rng = np.random.default_rng(3)
    n = 3000
    sparse = rng.choice([2.0, 5.0, 9.0, 40.0], n)
    gapped = rng.choice([0.0, 1.0, 3.0], n)
    X = np.c_[rng.normal(size=n), sparse, gapped]
    logit = X[:, 0] + 1.5 * (sparse == 9) - 1.0 * (sparse == 40) + 1.2 * (gapped == 3)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    model = HistGradientBoostingClassifier(max_iter=40, categorical_features=[1, 2], random_state=0).fit(X, y)
    fast = FastModel(export(model))
    m = 400
    unseen = np.c_[
        rng.normal(size=m),
        rng.choice([2.0, 5.0, 9.0, 40.0, 0.0, 3.0, 41.0, 300.0, -1.0, np.nan], m),
        rng.choice([0.0, 1.0, 3.0, 2.0, 4.0, -1.0, np.nan], m),
    ]
    reference = model.predict_proba(unseen)[:, 1]
    assert max_difference(fast, unseen, reference) < 1e-12
    single = np.array([fast.predict_proba(unseen[i : i + 1])[0] for i in range(m)])
    assert np.abs(single - reference).max() < 1e-12
    # The categories matter: 9 and 40 score differently, all else equal.
    rows = np.array([[0.0, 9.0, 0.0], [0.0, 40.0, 0.0]])
    assert np.abs(np.diff(fast.predict_proba(rows))) > 0.1


def test_a_model_without_categorical_features_matches_too():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(2000, 3))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (X[:, 0] + np.nan_to_num(X[:, 2]) + rng.normal(size=2000) > 0).astype(float)
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    fast = FastModel(export(model))
    reference = model.predict_proba(X[:500])[:, 1]
    assert max_difference(fast, X[:500], reference) < 1e-12
    assert abs(fast.predict_proba(X[7:8])[0] - reference[7]) < 1e-12


def test_a_multiclass_or_unfitted_model_has_no_numpy_scorer():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 2))
    three_classes = HistGradientBoostingClassifier(max_iter=5).fit(X, np.arange(300) % 3)
    assert export(three_classes) is None
    assert export(HistGradientBoostingClassifier()) is None


def test_the_serialized_scorer_is_the_same_scorer():
    fast = FastModel(export(small_model()))
    back = FastModel.from_bytes(fast.to_bytes())
    assert sorted(back.arrays) == sorted(fast.arrays)
    for name, array in fast.arrays.items():
        np.testing.assert_array_equal(back.arrays[name], array)
        assert back.arrays[name].dtype == array.dtype
    np.testing.assert_array_equal(back.predict_proba(ROWS), fast.predict_proba(ROWS))
