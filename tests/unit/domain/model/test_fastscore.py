"""The NumPy scorer reproduces scikit-learn's predict_proba, batch and single-row."""

import functools
import io
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from modelops.domain.model.fastscore import TOLERANCE, FastModel, export, max_difference


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


def test_a_value_exactly_at_a_split_threshold_goes_left_as_in_scikit_learn():
    model = small_model()
    fast = FastModel(export(model))
    a = fast.arrays
    numeric = ~a["is_leaf"] & ~a["is_categorical"]
    rows = np.zeros((int(numeric.sum()), 3))
    # Node features count in scikit-learn's column order (categorical first): back to ours.
    rows[np.arange(len(rows)), a["order"][a["feature"][numeric]]] = a["threshold"][numeric]
    assert np.abs(fast.predict_proba(rows) - model.predict_proba(rows)[:, 1]).max() < 1e-12
    assert abs(fast.predict_proba(rows[:1])[0] - model.predict_proba(rows[:1])[0, 1]) < 1e-12


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
    from modelops.domain.data.features import infer_schema, transform
    from modelops.domain.spec import parse_spec
    from modelops_dev.demo.synthetic import DemoConfig, generate
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


def test_a_tampered_scorer_with_python_objects_is_refused_not_unpickled():
    buffer = io.BytesIO()
    np.savez(buffer, order=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle=False"):
        FastModel.from_bytes(buffer.getvalue())


def assert_scores_as_scikit_learn(model: HistGradientBoostingClassifier, X: np.ndarray) -> None:
    """The NumPy scorer's scores of X equal scikit-learn's: in one batch, in every batch size
    up to five, and row by row."""
    fast = FastModel(export(model))
    reference = model.predict_proba(X)[:, 1]
    assert max_difference(fast, X, reference) < 1e-12
    for size in range(1, 6):
        assert max_difference(fast, X[:size], reference[:size]) < 1e-12
    alone = np.array([fast.predict_proba(X[i : i + 1])[0] for i in range(len(X))])
    assert np.abs(alone - reference).max() < 1e-12


def test_the_deploy_tolerance_lies_between_float_noise_and_a_visible_difference():
    # The scorer agrees to about 1e-15; one row down the wrong branch moves its score by far more.
    assert 1e-12 < TOLERANCE < 1e-6


def test_a_model_of_one_categorical_feature():
    rng = np.random.default_rng(6)
    raw = rng.choice([3.0, 8.0, 20.0], 800)
    y = ((raw == 8) ^ (rng.random(800) < 0.2)).astype(float)
    model = HistGradientBoostingClassifier(max_iter=5, categorical_features=[0], random_state=0)
    assert_scores_as_scikit_learn(
        model.fit(raw[:, None], y), np.array([[8.0], [3.0], [20.0], [5.0], [np.nan], [8.0]])
    )


def test_a_category_beyond_the_first_32_is_found_in_the_second_bitset_word():
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 64, 4000).astype(float)
    y = ((codes >= 40) ^ (rng.random(4000) < 0.1)).astype(float)
    model = HistGradientBoostingClassifier(max_iter=5, categorical_features=[0], random_state=0).fit(
        codes[:, None], y
    )
    assert_scores_as_scikit_learn(model, np.arange(64, dtype=float)[:, None])


def test_a_tree_that_mixes_a_categorical_split_and_a_leaf_on_one_level():
    # One tree: x > 0 first, then a category split on one side and a leaf on the other, so the
    # model has a single categorical bitset and the walk looks it up beside a leaf.
    rng = np.random.default_rng(0)
    x, category = rng.normal(size=2000), rng.integers(0, 4, 2000).astype(float)
    y = ((x > 0) & (category != 3)).astype(float)
    model = HistGradientBoostingClassifier(
        max_iter=1, max_leaf_nodes=3, categorical_features=[1], random_state=0
    )
    model.fit(np.c_[x, category], y)
    assert FastModel(export(model)).arrays["left_bitsets"].shape[0] == 1
    assert_scores_as_scikit_learn(model, np.c_[[1.0, 1.0, -1.0, 1.0, np.nan], [3.0, 1.0, 3.0, np.nan, 0.0]])


def test_a_category_seen_alone_in_training_and_one_never_seen():
    # Training saw the category 7 or nothing; the split is "7 or missing".
    rng = np.random.default_rng(0)
    only = np.where(rng.random(1000) < 0.5, 7.0, np.nan)
    y = (np.isnan(only) ^ (rng.random(1000) < 0.2)).astype(float)
    model = HistGradientBoostingClassifier(max_iter=5, categorical_features=[1], random_state=0)
    model.fit(np.c_[rng.normal(size=1000), only], y)
    assert_scores_as_scikit_learn(model, np.c_[np.zeros(5), [7.0, np.nan, 8.0, 3.0, 7.0]])


def test_a_categorical_feature_never_seen_in_training():
    rng = np.random.default_rng(1)
    x = rng.normal(size=800)
    model = HistGradientBoostingClassifier(max_iter=5, categorical_features=[1], random_state=0)
    model.fit(np.c_[x, np.full(800, np.nan)], (x > 0).astype(float))
    assert_scores_as_scikit_learn(model, np.c_[[0.5, -0.5, 2.0], [1.0, np.nan, 0.0]])


def test_extreme_numbers_score_as_in_scikit_learn():
    extreme = np.array([[-1e300, 1e9, 0.0], [1e300, -1e9, 2.0], [-1e9, np.nan, 3.0], [1e9, -1e300, 1.0]])
    assert_scores_as_scikit_learn(small_model(), extreme)


def test_a_scorer_cannot_be_changed_once_made():
    fast = FastModel(export(small_model()))
    with pytest.raises(FrozenInstanceError):
        fast.arrays = {}  # type: ignore[misc]


@pytest.mark.parametrize("deepest", [1, 2, 7, 8, 9, 16, 17])
def test_one_row_reaches_every_leaf_of_a_chain_as_deep_as_the_walk_allows(deepest):
    # A chain of numeric splits (x <= k + 0.5 goes to leaf k, otherwise on), so its leaves lie
    # at every depth down to `deepest`: a single row jumps to its leaf by doubling, and too
    # few doublings would leave the deep rows short of their leaf. Batches walk level by level.
    internal, leaves = np.arange(deepest), deepest + np.arange(deepest + 1)
    size = 2 * deepest + 1
    left, right = np.arange(size), np.arange(size)  # a leaf is its own child
    left[internal] = leaves[:-1]
    right[internal] = np.r_[internal[1:], leaves[-1]]
    arrays = {
        "order": np.array([0]),
        "categories": np.full((0, 1), np.nan),
        "roots": np.array([0]),
        "feature": np.zeros(size, dtype=np.int64),
        "threshold": np.r_[internal + 0.5, np.zeros(deepest + 1)],
        "missing_left": np.zeros(size, dtype=bool),
        "left": left,
        "right": right,
        "is_leaf": np.r_[np.zeros(deepest, dtype=bool), np.ones(deepest + 1, dtype=bool)],
        "value": np.r_[np.zeros(deepest), np.arange(deepest + 1, dtype=float)],
        "is_categorical": np.zeros(size, dtype=bool),
        "bitset": np.zeros(size, dtype=np.int64),
        "left_bitsets": np.zeros((1, 8), dtype=np.uint32),
        "known_bitsets": np.zeros((1, 8), dtype=np.uint32),
        "f_idx_map": np.zeros(1, dtype=np.int64),
        "baseline": np.zeros(1),
        "depth": np.array([deepest + 1]),
    }
    fast = FastModel(arrays)
    rows = np.arange(deepest + 2, dtype=float)[:, None]  # x = k reaches leaf k; the last, the deepest
    expected = np.minimum(np.arange(deepest + 2), deepest).astype(float)
    np.testing.assert_array_equal(fast.raw(rows), expected)  # the level walk
    np.testing.assert_array_equal([fast.raw(rows[i : i + 1])[0] for i in range(len(rows))], expected)
