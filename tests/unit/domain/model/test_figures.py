"""The model report's figures (domain/model/figures.py) on cases small enough to count by hand,
and permutation importance (estimators.permutation_importance)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from modelops.domain.model import estimators, figures, metrics
from modelops.domain.spec import Campaign

Y4 = np.array([1.0, 0.0, 1.0, 0.0])
S4 = np.array([0.9, 0.8, 0.7, 0.1])
# 20 rows, scores descending, 5 positives: 2 in the top decile, 1 in the 2nd, 4th and 9th.
Y20 = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], dtype=float)
S20 = np.linspace(0.95, 0.0, 20)


def test_roc_curve_runs_from_the_origin_through_each_threshold_to_one_one():
    curve = figures.roc_curve(Y4, S4)
    assert curve == {"fpr": [0.0, 0.0, 0.5, 0.5, 1.0], "tpr": [0.0, 0.5, 0.5, 1.0, 1.0]}


def test_the_area_under_the_roc_curve_is_the_auc_ties_included():
    rng = np.random.default_rng(3)
    y = (rng.random(150) < 0.3).astype(float)
    score = np.round(rng.random(150) * 0.6 + 0.4 * y, 1)  # few distinct values: many ties
    curve = figures.roc_curve(y, score)
    area = float(np.sum(np.diff(curve["fpr"]) * (np.array(curve["tpr"][1:]) + curve["tpr"][:-1]) / 2))
    assert area == pytest.approx(metrics.roc_auc(y, score), abs=1e-12)


def test_a_long_curve_is_thinned_keeping_its_ends():
    rng = np.random.default_rng(4)
    y = (rng.random(5000) < 0.2).astype(float)
    score = rng.random(5000)
    curve = figures.roc_curve(y, score)
    assert len(curve["fpr"]) == figures.MAX_CURVE_POINTS
    assert (curve["fpr"][0], curve["tpr"][0], curve["fpr"][-1], curve["tpr"][-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(curve["fpr"]) >= 0) and np.all(np.diff(curve["tpr"]) >= 0)


def test_precision_recall_at_each_threshold_from_the_highest_score():
    curve = figures.precision_recall_curve(Y4, S4)
    assert curve["recall"] == [0.5, 0.5, 1.0, 1.0]
    assert curve["precision"] == pytest.approx([1.0, 0.5, 2 / 3, 0.5])
    assert curve["threshold"] == [0.9, 0.8, 0.7, 0.1]


def test_one_class_has_no_curve():
    with pytest.raises(ValueError, match="both classes"):
        figures.roc_curve(np.zeros(3), np.array([0.1, 0.2, 0.3]))


def test_reliability_bins_hold_the_mean_score_and_the_observed_rate():
    y = np.array([0.0, 0.0, 1.0, 1.0, 1.0])
    score = np.array([0.05, 0.1, 0.15, 0.95, 1.0])  # 0.1 opens the second bin; 1.0 is in the last
    assert figures.reliability(y, score) == [
        {"low": 0.0, "high": 0.1, "mean_score": 0.05, "outcome_rate": 0.0, "rows": 1.0},
        {"low": 0.1, "high": 0.2, "mean_score": pytest.approx(0.125), "outcome_rate": 0.5, "rows": 2.0},
        {"low": 0.9, "high": 1.0, "mean_score": pytest.approx(0.975), "outcome_rate": 1.0, "rows": 2.0},
    ]


def test_the_score_histogram_counts_positives_and_negatives_apart():
    found = figures.score_histogram(Y20, S20)
    assert len(found["edges"]) == figures.HISTOGRAM_BINS + 1
    assert sum(found["positives"]) == 5 and sum(found["negatives"]) == 15
    three = figures.score_histogram(np.array([1.0, 0.0, 0.0]), np.array([0.97, 0.02, 0.52]))
    assert three["positives"] == [0.0] * 19 + [1.0]
    assert three["negatives"] == [1.0] + [0.0] * 9 + [1.0] + [0.0] * 9


def test_lift_and_gain_by_decile_highest_scores_first():
    found = figures.deciles(Y20, S20)
    assert [d["positives"] for d in found] == [2, 1, 0, 1, 0, 0, 0, 0, 1, 0]
    assert [d["lift"] for d in found][:4] == [4.0, 2.0, 0.0, 2.0]  # rate over the sample's 0.25
    gains = [0.4, 0.6, 0.6, 0.8, 0.8, 0.8, 0.8, 0.8, 1, 1]
    assert [d["cumulative_gain"] for d in found] == pytest.approx(gains)
    assert found[1]["cumulative_lift"] == pytest.approx((3 / 4) / 0.25)
    assert found[-1]["cumulative_lift"] == pytest.approx(1.0)
    assert found[0]["min_score"] == pytest.approx(S20[1])


def test_the_campaign_rule_is_applied_per_period_as_scoring_applies_it():
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    score = np.array([0.9, 0.6, 0.2, 0.4, 0.3])
    periods = np.array(["2025-01-01"] * 3 + ["2025-02-01"] * 2, dtype="datetime64[D]")
    found = figures.at_campaign_rule(y, score, periods, Campaign(top_n=1, min_score=0.5))
    assert (found["volume"], found["precision"], found["recall"]) == (1.0, 1.0, pytest.approx(1 / 3))
    assert found["share"] == pytest.approx(0.2) and found["enabled"] is True
    january, february = found["periods"]
    assert (january["period"], january["volume"], january["recall"]) == ("2025-01-01", 1.0, 0.5)
    assert february["volume"] == 0.0 and math.isnan(february["precision"]) and february["recall"] == 0.0
    # top_n alone takes the highest score of each period
    top = figures.at_campaign_rule(y, score, periods, Campaign(top_n=1, min_score=None, enabled=False))
    assert (top["volume"], top["precision"], top["enabled"]) == (2.0, 1.0, False)


class UsesColumn:
    """A fitted model whose score is one column of X."""

    def __init__(self, column: int) -> None:
        self.column = column

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-X[:, self.column]))
        return np.column_stack([1 - p, p])


def test_permutation_importance_finds_the_column_the_model_reads_and_no_other():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 1] + rng.normal(scale=0.5, size=400) > 0).astype(float)
    found = estimators.permutation_importance(UsesColumn(1), X, y, ["a", "b", "c"], seed=1)
    assert found["features"][0]["feature"] == "b" and found["features"][0]["importance"] > 0.3
    assert len(found["features"][0]["drops"]) == 3
    assert all(f["importance"] == 0.0 for f in found["features"][1:])  # shuffling them changes nothing
    assert found["baseline"] == pytest.approx(metrics.roc_auc(y, X[:, 1]))
    again = estimators.permutation_importance(UsesColumn(1), X, y, ["a", "b", "c"], seed=1)
    assert again == found  # deterministic for a seed
    capped = estimators.permutation_importance(UsesColumn(1), X, y, ["a", "b", "c"], max_rows=50, repeats=2)
    assert capped["rows"] == 50 and capped["repeats"] == 2


def test_every_figure_is_strict_json_and_the_auc_is_the_metric():
    periods = np.array(["2025-01-01"] * 20, dtype="datetime64[D]")
    found = figures.figures(Y20, S20, periods, Campaign(top_n=3, min_score=0.99))  # selects nobody
    assert found["roc_auc"] == metrics.roc_auc(Y20, S20)
    assert math.isnan(found["campaign"]["precision"])
    text = json.dumps(figures.json_ready(found), allow_nan=False)
    assert json.loads(text)["campaign"]["precision"] is None
