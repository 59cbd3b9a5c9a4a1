"""The batch side of the online API's 422s: which values the schema refuses, and each
feature's policy for them."""

import numpy as np
import pytest

from modelops.domain.data import validity
from modelops.domain.data.features import FeatureInfo, FeatureSchema, encode_column

AGE = FeatureInfo("age", "numeric", minimum=20.0, maximum=60.0, missing_share=0.0)
PLAN = FeatureInfo("plan", "categorical", ["basic", "premium"], missing_share=0.1)


def masks(raw: np.ndarray, info: FeatureInfo, margin: float = 0.5) -> list[bool]:
    return validity.invalid_mask(raw, encode_column(raw, info), info, margin).tolist()


def test_numbers_beyond_the_widened_training_range_and_unexpected_missing_values_are_refused():
    # Accepted: [20 - 0.5 x 40, 60 + 0.5 x 40] = [0, 80]; never missing in training.
    raw = np.array([0.0, 80.0, -0.01, 80.01, np.nan, 45.0])
    assert masks(raw, AGE) == [False, False, True, True, True, False]
    assert masks(raw, AGE, margin=0.0) == [True, True, True, True, True, False]
    assert validity.accepted_range(AGE, 0.25) == (10.0, 70.0)


def test_unseen_categories_are_refused_and_missing_is_fine_where_training_saw_it():
    raw = np.array(["basic", "gold", None, "premium"], dtype=object)
    assert masks(raw, PLAN) == [False, True, False, False]
    never_missing = FeatureInfo("plan", "categorical", ["basic", "premium"], missing_share=0.0)
    assert masks(raw, never_missing) == [False, True, True, False]


def test_policies_leave_fail_alone_blank_missing_and_clip_numbers():
    schema = FeatureSchema([AGE, PLAN])
    X = np.array([[95.0, 0.0], [-30.0, np.nan], [40.0, 1.0]])
    refused = {"age": np.array([True, True, False]), "plan": np.array([False, True, False])}
    assert np.array_equal(
        validity.apply_policies(X, refused, schema, {}, 0.5), X, equal_nan=True
    )  # default: fail
    blanked = validity.apply_policies(X, refused, schema, {"age": "missing", "plan": "missing"}, 0.5)
    assert np.isnan(blanked[:2, 0]).all() and blanked[2, 0] == 40.0 and np.isnan(blanked[1, 1])
    clipped = validity.apply_policies(X, refused, schema, {"age": "clip", "plan": "clip"}, 0.5)
    assert clipped[:, 0].tolist() == [80.0, 0.0, 40.0]  # into [0, 80]
    assert np.isnan(clipped[1, 1]) and clipped[0, 1] == 0.0  # a category cannot be clipped: missing
    assert X[0, 0] == 95.0  # the input is not changed in place


def test_only_fail_features_past_the_threshold_stop_a_run():
    shares = {"age": 0.02, "plan": 0.5, "income": 0.005}
    policies = {"plan": "missing"}
    assert validity.refused_features(shares, policies, 0.01) == ["age"]
    assert validity.refused_features(shares, policies, 0.02) == []  # "passes" means strictly above
    assert validity.refused_features({"age": 0.0}, {}, 0.0) == []


def test_validate_data_sums_each_features_refused_values_over_the_chunks():
    counts = [{"age": 3, "plan": 0}, {"age": 1, "income": 2}, {}]
    assert validity.invalid_shares(counts, 200) == {"age": 0.02, "income": 0.01}
    assert validity.invalid_shares([], 10) == {}


def test_validate_data_refuses_a_run_naming_each_refused_feature_its_share_and_the_way_out():
    shares = {"plan": 0.5, "age": 0.025, "tenure": 0.011, "income": 0.5}
    refusal = validity.refusal(shares, {"income": "clip"}, 0.01)
    assert refusal == (
        "values the model's schema refuses pass 1.00% of the rows: age 2.50%, plan 50.00%, tenure 1.10% "
        "(unseen categories, numbers outside the accepted range, or missing where training had none; "
        "set features.<name>.on_invalid to 'missing' or 'clip' to score them anyway)"
    )
    everything = {"plan": "missing", "age": "clip", "tenure": "missing", "income": "clip"}
    assert validity.refusal(shares, everything, 0.01) is None
    assert validity.refusal({"age": 0.01}, {}, 0.01) is None  # at the threshold: accepted


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.ma.masked_array([1.0, 2.0], mask=[0, 1]), [False, True]),
        (np.array([1, None], dtype=object), [False, True]),
        (np.array([1.0, np.nan]), [False, True]),
        (np.array([1, 2]), [False, False]),
    ],
)
def test_missing_values_in_every_column_kind(values, expected):
    from modelops.domain.data.features import is_missing

    assert is_missing(values).tolist() == expected
