"""Training/serving skew, decided on counts (pure): each check by hand-made cases."""

import numpy as np
import pytest

from modelops.domain.data.features import FeatureInfo, FeatureSchema
from modelops.domain.data.skew import (
    MIN_ROWS_FOR_CONSTANT,
    Tally,
    findings,
    from_requests,
    merge,
    request_flags,
    tally,
)
from modelops.domain.spec import Skew

LAG = FeatureInfo("lag_value", "numeric", minimum=0.0, maximum=100.0, missing_share=0.019, varies_share=1.0)
PLAN = FeatureInfo("plan", "categorical", ["basic", "premium"], missing_share=0.0, varies_share=1.0)
SCHEMA = FeatureSchema([LAG, PLAN])
RULES = Skew()


def judged(**tallies):
    return findings(SCHEMA, tallies, RULES)


def test_a_lag_feature_empty_in_scoring_is_a_high_finding_naming_both_shares():
    empty = tally(np.full(150, np.nan), np.full(150, np.nan), LAG)
    assert (empty.rows, empty.missing, empty.outside) == (150, 150, 0)
    [finding] = judged(lag_value=empty)
    assert (finding.feature, finding.check, finding.severity) == ("lag_value", "missing", "high")
    assert finding.scored == 1.0 and finding.trained == pytest.approx(0.019)
    assert finding.message == "lag_value is missing in 100.0% of the scored rows against 1.9% in training"


def test_the_missing_bar_is_points_above_training_and_spec_tunable():
    # 21.8 % missing against 1.9 % in training: 19.9 points, under the default 20
    values = np.r_[np.full(218, np.nan), np.linspace(1, 99, 782)]
    assert judged(lag_value=tally(values, values, LAG)) == []
    tighter = findings(SCHEMA, {"lag_value": tally(values, values, LAG)}, Skew(max_missing_increase=0.1))
    assert [f.check for f in tighter] == ["missing"]


def test_values_outside_training_and_unseen_categories():
    numbers = np.r_[np.full(90, 50.0), np.full(10, 150.0)]  # 10 % above training's maximum
    counted = tally(numbers, numbers, LAG)
    assert counted.outside == 10
    [finding] = judged(lag_value=counted)
    assert (finding.check, finding.severity, round(finding.scored, 2)) == ("outside", "medium", 0.1)
    assert "outside training's range [0, 100]" in finding.message
    raw = np.array(["basic"] * 90 + ["gold"] * 10, dtype=object)
    encoded = np.r_[np.zeros(90), np.full(10, np.nan)]
    [unseen] = judged(plan=tally(raw, encoded, PLAN))
    assert unseen.check == "outside" and "categories training never saw" in unseen.message
    five = np.r_[np.full(95, 50.0), np.full(5, 150.0)]  # 5 %: not more than the bar
    assert judged(lag_value=tally(five, five, LAG)) == []


def test_a_constant_column_where_training_varied_in_every_period():
    same = np.full(MIN_ROWS_FOR_CONSTANT, 7.0)
    [finding] = judged(lag_value=tally(same, same, LAG))
    assert (finding.check, finding.message) == (
        "constant",
        "lag_value is 7 in every scored row; it varied within every training period",
    )
    fewer = same[:-1]  # too few rows to say
    assert judged(lag_value=tally(fewer, fewer, LAG)) == []
    monthly = FeatureInfo("month", "categorical", ["Jan", "Feb"], varies_share=0.0)  # a month name
    raw = np.array(["Jan"] * 30, dtype=object)
    assert findings(FeatureSchema([monthly]), {"month": tally(raw, np.zeros(30), monthly)}, RULES) == []
    older = FeatureInfo("lag_value", "numeric", minimum=0.0, maximum=100.0)  # no varies_share recorded
    assert findings(FeatureSchema([older]), {"lag_value": tally(same, same, older)}, RULES) == []
    raw_plan = np.array(["basic"] * 25, dtype=object)
    [plan] = judged(plan=tally(raw_plan, np.zeros(25), PLAN))
    assert plan.message.startswith("plan is 'basic' in every scored row")


def test_tallies_merge_across_chunks_as_one_would_count_them_whole():
    values = np.r_[np.full(30, np.nan), np.arange(70.0)]
    whole = tally(values, values, LAG)
    parts = [tally(values[:40], values[:40], LAG), tally(values[40:], values[40:], LAG)]
    assert merge([{"x": p} for p in parts])["x"] == whole
    assert Tally.from_list(whole.to_list()) == whole
    assert merge([]) == {}
    only_missing = tally(np.full(3, np.nan), np.full(3, np.nan), LAG)
    assert (only_missing.low, only_missing.high) == (None, None)
    assert whole.merge(only_missing).low == whole.low


def test_online_requests_are_flagged_and_counted_the_same_way():
    vector = np.array([[np.nan, 1.0]])
    assert request_flags(vector, SCHEMA) == {"missing": ["lag_value"], "outside": []}
    assert request_flags(np.array([[120.0, 0.0]]), SCHEMA) == {"missing": [], "outside": ["lag_value"]}
    flags = [{"missing": ["lag_value"], "outside": []}] * 3 + [{"missing": [], "outside": []}]
    counted = from_requests(flags, SCHEMA)
    assert (counted["lag_value"].rows, counted["lag_value"].missing) == (4, 3)
    [finding] = findings(SCHEMA, counted, RULES)
    assert (finding.check, finding.scored) == ("missing", 0.75)


def test_most_severe_first():
    empty = tally(np.full(50, np.nan), np.full(50, np.nan), LAG)
    raw = np.array(["gold"] * 50, dtype=object)
    found = judged(plan=tally(raw, np.full(50, np.nan), PLAN), lag_value=empty)
    assert [(f.feature, f.severity) for f in found] == [("lag_value", "high"), ("plan", "medium")]


def numeric(name: str, missing_share: float = 0.0) -> FeatureInfo:
    return FeatureInfo(
        name, "numeric", minimum=0.0, maximum=100.0, missing_share=missing_share, varies_share=1.0
    )


def test_twenty_present_values_are_enough_to_call_a_column_constant():
    twenty = np.full(20, 7.0)
    assert [f.check for f in judged(lag_value=tally(twenty, twenty, LAG))] == ["constant"]
    # Missing rows are not present values: 15 values and 10 missing say nothing of constancy.
    fifteen = np.r_[np.full(15, 7.0), np.full(10, np.nan)]
    assert [f.check for f in judged(lag_value=tally(fifteen, fifteen, LAG))] == ["missing"]


def test_training_s_minimum_and_maximum_are_inside_its_range():
    edges = np.r_[np.full(50, 0.0), np.full(50, 100.0)]
    assert tally(edges, edges, LAG).outside == 0
    assert request_flags(np.array([[0.0, 0.0]]), SCHEMA)["outside"] == []
    assert request_flags(np.array([[100.0, 0.0]]), SCHEMA)["outside"] == []
    assert request_flags(np.array([[-0.5, 0.0]]), SCHEMA)["outside"] == ["lag_value"]


def test_a_feature_trained_without_a_range_counts_nothing_outside():
    unranged = FeatureInfo("lag_value", "numeric", missing_share=1.0)  # always missing in training
    values = np.array([-5.0, 500.0])
    assert tally(values, values, unranged).outside == 0
    assert request_flags(np.array([[500.0]]), FeatureSchema([unranged])) == {"missing": [], "outside": []}


def test_tallies_keep_their_outside_counts_through_merges_and_storage():
    values = np.r_[np.full(5, np.nan), np.full(3, 150.0), np.arange(20.0)]
    whole = tally(values, values, LAG)
    assert (whole.rows, whole.missing, whole.outside) == (28, 5, 3)
    parts = [tally(values[:6], values[:6], LAG), tally(values[6:], values[6:], LAG)]
    assert parts[0].merge(parts[1]) == whole
    assert Tally.from_list(whole.to_list()) == whole
    assert Tally.from_list(Tally().to_list()) == Tally()  # an empty tally stores as nothing
    with pytest.raises(AttributeError):
        whole.rows = 0  # type: ignore[misc]


def test_each_finding_in_full():
    # 10 of 100 rows missing, 9 of the 90 present outside: a share of the present values.
    values = np.r_[np.full(10, np.nan), np.full(9, 150.0), np.linspace(1, 99, 81)]
    [outside] = judged(lag_value=tally(values, values, LAG))
    assert (outside.check, outside.scored, outside.trained, outside.severity) == (
        "outside",
        0.1,
        0.0,
        "medium",
    )
    assert outside.message == "10.0% of lag_value's scored values lie outside training's range [0, 100]"
    raw = np.array(["basic"] * 90 + ["gold"] * 10, dtype=object)
    [unseen] = judged(plan=tally(raw, np.r_[np.zeros(90), np.full(10, np.nan)], PLAN))
    assert unseen.message == "10.0% of plan's scored values are categories training never saw"
    same = np.full(30, 7.0)
    [constant] = judged(lag_value=tally(same, same, LAG))
    assert (constant.scored, constant.trained, constant.severity) == (1.0, 0.0, "medium")
    with pytest.raises(AttributeError):
        constant.check = "other"  # type: ignore[misc]


def test_a_single_request_is_judged_and_the_missing_bar_is_strict():
    counted = from_requests([{"missing": ["lag_value"], "outside": ["plan"]}], SCHEMA)
    assert (counted["plan"].rows, counted["plan"].outside) == (1, 1)
    assert [(f.feature, f.check) for f in findings(SCHEMA, counted, RULES)] == [
        ("lag_value", "missing"),
        ("plan", "outside"),
    ]
    # 1 of 5 missing against none in training: 20 points, exactly the bar, is not above it.
    exact = numeric("x")
    five = np.r_[np.nan, np.full(4, 50.0)]
    assert findings(FeatureSchema([exact]), {"x": tally(five, five, exact)}, RULES) == []


def test_findings_of_one_severity_are_ordered_by_how_far_they_stray_from_training():
    near, far = numeric("near", missing_share=0.35), numeric("far")
    half = np.r_[np.full(60, np.nan), np.linspace(1, 99, 40)]
    counted = {"near": tally(half, half, near), "far": tally(half[10:], half[10:], far)}
    # near: 60 % missing against 35 % (25 points); far: 55.6 % against none (55.6 points)
    found = findings(FeatureSchema([near, far]), counted, RULES)
    assert [(f.feature, f.severity) for f in found] == [("far", "high"), ("near", "high")]
    outside_a, outside_b = numeric("a"), numeric("b")
    some = np.r_[np.full(10, 150.0), np.full(90, 50.0)]
    more = np.r_[np.full(20, 150.0), np.full(80, 50.0)]
    found = findings(
        FeatureSchema([outside_a, outside_b]),
        {"a": tally(some, some, outside_a), "b": tally(more, more, outside_b)},
        RULES,
    )
    assert [f.feature for f in found] == ["b", "a"]
