from datetime import date

import numpy as np
import pytest

from modelops.domain.data.features import FeatureInfo, FeatureMatrix, FeatureSchema
from modelops.domain.monitoring.profiles import (
    DECILES,
    bounded_sample,
    categorical_profile,
    numeric_profile,
    profile_features,
    profile_scores,
)


def test_numeric_deciles_are_the_middles_of_each_tenth():
    values = np.arange(1, 101, dtype=float)  # 1..100
    profile = numeric_profile(np.append(values, [np.nan] * 25))
    assert profile["count"] == 125 and profile["missing"] == pytest.approx(0.2)
    assert profile["mean"] == pytest.approx(50.5)
    expected = np.quantile(values, [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95])
    assert [profile[d] for d in DECILES] == pytest.approx(expected.tolist())


def test_an_all_missing_column_has_count_and_missing_only():
    assert numeric_profile(np.full(5, np.nan)) == {"count": 5.0, "missing": 1.0}


def test_categorical_profile_is_category_shares():
    profile = categorical_profile(np.array([0, 0, 1, np.nan]), ["a", "b", "c"])
    assert profile == {"count": 4.0, "missing": 0.25, "share:a": 0.5, "share:b": 0.25, "share:c": 0.0}


def test_features_are_profiled_per_period_with_the_outcome():
    schema = FeatureSchema([FeatureInfo("x", "numeric"), FeatureInfo("c", "categorical", ["u", "v"])])
    matrix = FeatureMatrix(
        entity=np.array(["1", "2", "3", "4"]),
        timestamp=np.array(["2025-01-01", "2025-01-01", "2025-02-01", "2025-02-01"], dtype="datetime64[D]"),
        X=np.array([[1.0, 0], [3.0, 1], [10.0, 1], [20.0, 1]]),
        y=np.array([0.0, 1.0, 1.0, 1.0]),
        feature_names=["x", "c"],
    )
    profiles = {(p.metric, p.timestamp): p.values for p in profile_features(matrix, schema)}
    assert set(profiles) == {(m, date(2025, month, 1)) for m in ("outcome", "x", "c") for month in (1, 2)}
    assert profiles[("outcome", date(2025, 1, 1))]["mean"] == 0.5
    assert profiles[("x", date(2025, 2, 1))]["mean"] == 15.0
    assert profiles[("c", date(2025, 2, 1))]["share:v"] == 1.0


def test_score_profile_has_outcome_rate_per_score_decile():
    scores = np.linspace(0, 1, 100)
    outcome = (scores > 0.5).astype(float)
    profiles = profile_scores(scores, outcome, date(2025, 8, 1))
    by_metric = {p.metric: p.values for p in profiles}
    assert by_metric["score"]["d1"] == pytest.approx(np.quantile(scores, 0.05))
    rates = [by_metric["outcome_by_score_decile"][d] for d in DECILES]
    assert rates[:5] == [0.0] * 5 and rates[5:] == [1.0] * 5


def test_a_test_sample_over_several_periods_gets_a_score_profile_per_period():
    scores = np.concatenate([np.linspace(0, 0.5, 50), np.linspace(0.5, 1, 30)])
    outcome = (scores > 0.7).astype(float)
    timestamp = np.array([np.datetime64("2025-07-01")] * 50 + [np.datetime64("2025-08-01")] * 30)
    profiles = profile_scores(scores, outcome, timestamp)
    by_key = {(p.metric, p.timestamp): p for p in profiles}
    assert set(by_key) == {
        (metric, day)
        for metric in ("score", "outcome_by_score_decile")
        for day in (date(2025, 7, 1), date(2025, 8, 1))
    }
    assert by_key[("score", date(2025, 7, 1))].values["count"] == 50
    assert by_key[("score", date(2025, 8, 1))].values["d1"] == pytest.approx(np.quantile(scores[50:], 0.05))
    assert by_key[("outcome_by_score_decile", date(2025, 7, 1))].values["d10"] == 0.0
    assert by_key[("score", date(2025, 8, 1))].sample.size == 30


def test_a_sample_keeps_every_value_up_to_its_size_and_drops_missing_ones():
    values = np.array([3.0, np.nan, 1.0, 2.0])
    sample = bounded_sample(values, 3)
    assert sample.tolist() == [3.0, 1.0, 2.0] and sample.dtype == np.float32


def test_a_larger_column_is_sampled_without_repeats_in_its_order_and_reproducibly():
    values = np.arange(10_000, dtype=float)
    sample = bounded_sample(values, 500)
    assert sample.size == 500 and np.unique(sample).size == 500
    assert (np.diff(sample) > 0).all()  # drawn rows keep the column's order
    np.testing.assert_array_equal(bounded_sample(values, 500), sample)


def test_a_boolean_feature_gets_its_share_of_ones_but_no_deciles():
    schema = FeatureSchema([FeatureInfo("flag", "boolean"), FeatureInfo("x", "count")])
    matrix = FeatureMatrix(
        entity=np.array(["1", "2", "3", "4"]),
        timestamp=np.full(4, np.datetime64("2025-03-01", "D")),
        X=np.array([[1.0, 2], [0.0, 4], [1.0, 6], [np.nan, 8]]),
        y=None,
        feature_names=["flag", "x"],
    )
    profiles = {p.metric: p for p in profile_features(matrix, schema, sample_size=2)}
    assert set(profiles) == {"flag", "x"}  # no outcome without y
    assert profiles["flag"].values == {"count": 4.0, "missing": 0.25, "mean": pytest.approx(2 / 3)}
    assert profiles["x"].values["d10"] == pytest.approx(np.quantile([2, 4, 6, 8], 0.95))
    assert profiles["x"].sample.size == 2  # bounded by sample_size
    assert profiles["flag"].timestamp == date(2025, 3, 1)


def test_a_categorical_feature_has_no_sample():
    schema = FeatureSchema([FeatureInfo("c", "categorical", ["u", "v"])])
    matrix = FeatureMatrix(
        entity=np.array(["1", "2"]),
        timestamp=np.full(2, np.datetime64("2025-03-01", "D")),
        X=np.array([[0.0], [1.0]]),
        y=None,
        feature_names=["c"],
    )
    (profile,) = profile_features(matrix, schema)
    assert profile.sample is None and profile.values["share:u"] == 0.5


def test_without_outcomes_or_scores_only_the_score_profile_is_made():
    scores = np.array([0.2, 0.4])
    assert [p.metric for p in profile_scores(scores, None, date(2025, 8, 1))] == ["score"]
    empty = profile_scores(np.array([]), np.array([]), date(2025, 8, 1))
    assert [p.metric for p in empty] == ["score"] and empty[0].values == {"count": 0.0, "missing": 0.0}


def test_fewer_than_ten_scores_give_only_the_deciles_that_have_rows():
    scores = np.array([0.9, 0.1, 0.5, 0.3])
    outcome = np.array([1.0, 0.0, 1.0, 0.0])
    profiles = {p.metric: p for p in profile_scores(scores, outcome, date(2025, 8, 1), sample_size=3)}
    # Sorted by score: 0.1 (0), 0.3 (0), 0.5 (1), 0.9 (1), one row in each of the first four tenths.
    assert profiles["outcome_by_score_decile"].values == {"d1": 0.0, "d2": 0.0, "d3": 1.0, "d4": 1.0}
    assert profiles["score"].sample.size == 3
    assert profiles["outcome_by_score_decile"].timestamp == date(2025, 8, 1)


def test_an_empty_column_has_nothing_missing_and_no_shares():
    assert numeric_profile(np.array([])) == {"count": 0.0, "missing": 0.0}
    assert categorical_profile(np.array([]), ["a", "b"]) == {
        "count": 0.0,
        "missing": 0.0,
        "share:a": 0.0,
        "share:b": 0.0,
    }


def test_a_profile_samples_at_most_1000_values_by_default_and_cannot_be_changed():
    values = np.arange(1500, dtype=float)
    assert bounded_sample(values, 1000).size == 1000
    (score,) = profile_scores(values / 1500, None, date(2025, 8, 1))
    assert score.sample.size == 1000
    schema = FeatureSchema([FeatureInfo("x", "numeric")])
    matrix = FeatureMatrix(
        entity=np.arange(1500).astype(str),
        timestamp=np.full(1500, np.datetime64("2025-03-01", "D")),
        X=values[:, None],
        y=np.zeros(1500),
        feature_names=["x"],
    )
    profiles = {p.metric: p for p in profile_features(matrix, schema)}
    assert profiles["x"].sample.size == 1000
    assert set(profiles["outcome"].values) == {"count", "missing", "mean"}  # a rate has no deciles
    with pytest.raises(AttributeError):
        profiles["x"].metric = "y"  # type: ignore[misc]
