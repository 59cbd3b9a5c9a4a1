"""Segments and small samples: a segment's metric name, the top categories and other, profiles
and sketches per segment that agree, a period too small to judge, and bars never narrower than
the sampling error at the period's size."""

from datetime import date

import numpy as np
import pytest

from modelops.domain.contract import Evidence
from modelops.domain.data.features import FeatureInfo, FeatureMatrix, FeatureSchema
from modelops.domain.monitoring import alerts, evaluation, sketches, statistics
from modelops.domain.monitoring.profiles import numeric_profile, profile_features, profile_segments
from modelops.domain.monitoring.reference import Observation
from modelops.domain.monitoring.segments import (
    OTHER,
    Slicing,
    label,
    mean_shares,
    segment_metric,
    slicing,
    split_metric,
    top_segments,
)
from modelops.domain.spec import Drift

DAY = date(2025, 10, 1)


def test_a_segments_metric_is_the_pooled_name_and_its_slice():
    name = segment_metric("data_usage_gb", "region", "south")
    assert name == "data_usage_gb[region=south]"
    assert split_metric(name) == ("data_usage_gb", "region=south")
    assert split_metric("batch:roc_auc") == ("batch:roc_auc", None)
    assert label(name) == "data_usage_gb in region=south" and label("age") == "age"


def test_the_largest_categories_keep_a_segment_and_the_rest_is_other():
    shares = mean_shares(
        [{"share:a": 0.5, "share:b": 0.3, "share:c": 0.2}, {"share:a": 0.3, "share:b": 0.5, "count": 9.0}]
    )
    assert shares == pytest.approx({"a": 0.4, "b": 0.4, "c": 0.1})
    assert top_segments(shares, 2) == ["a", "b"]  # ties by name
    assert top_segments({"a": 0.0, "b": 0.1}, 5) == ["b"]  # never seen: no segment of its own
    chosen = slicing("region", ["a", "b", "c"], [{"share:a": 0.2, "share:b": 0.5, "share:c": 0.3}], 2)
    assert chosen.top == ["b", "c"] and chosen.name_of("a") == OTHER and chosen.name_of(None) == OTHER
    # Codes: a, b, c, missing, a code beyond the schema's categories.
    groups = dict(chosen.groups(np.array([0.0, 1, 2, np.nan, 7, 1])))
    assert list(groups) == ["b", "c", OTHER]
    assert groups["b"].tolist() == [False, True, False, False, False, True]
    assert groups[OTHER].tolist() == [True, False, False, True, True, False]


def matrix(rng: np.random.Generator, rows: int = 600) -> tuple[FeatureMatrix, FeatureSchema]:
    schema = FeatureSchema(
        [FeatureInfo("usage", "numeric"), FeatureInfo("region", "categorical", ["east", "north", "south"])]
    )
    region = rng.choice(3, rows, p=[0.2, 0.5, 0.3]).astype(float)
    region[:5] = np.nan
    usage = rng.normal(10 + 3 * region, 1)
    stamp = np.full(rows, np.datetime64(DAY, "D"))
    return FeatureMatrix(
        np.arange(rows).astype(str), stamp, np.column_stack([usage, region]), None, schema.names
    ), schema


def test_profiles_per_segment_and_the_chunks_sketches_agree():
    features, schema = matrix(np.random.default_rng(0))
    chosen = [Slicing("region", ["east", "north", "south"], ["north", "south"])]
    profiles = {p.metric: p for p in profile_segments(features, schema, chosen)}
    assert sorted(profiles) == [
        f"usage[region={s}]" for s in ("north", OTHER, "south")
    ]  # region itself left out
    north = features.X[:, 1] == 1
    assert profiles["usage[region=north]"].values == pytest.approx(numeric_profile(features.X[north, 0]))
    assert profiles[f"usage[region={OTHER}]"].values["count"] == (features.X[:, 1] == 0).sum() + 5
    # The chunks sketch every category; merged into the top ones and other, the same profiles.
    halves = [features.take(np.arange(0, 300)), features.take(np.arange(300, 600))]
    sketched = [s for half in halves for s in sketches.sketch_features(half, schema, 600, ["region"])]
    assert {s.metric for s in sketched} >= {"usage[region=east]", f"usage[region={OTHER}]", "usage"}
    merged = {p.metric: p for p in sketches.merge(sketches.resegment(sketched, chosen), 1000)}
    pooled = {p.metric: p for p in profile_features(features, schema)}
    for metric, profile in profiles.items():
        assert merged[metric].values == pytest.approx(profile.values)
    assert merged["usage"].values == pytest.approx(pooled["usage"].values)
    # A segment feature no longer sliced: its sketches are dropped, the pooled ones kept.
    assert {s.metric for s in sketches.resegment(sketched, [])} == {"usage", "region"}


def test_score_sketches_per_segment_give_each_segments_scores():
    features, schema = matrix(np.random.default_rng(1))
    scores = np.random.default_rng(2).random(features.rows)
    sketched = sketches.sketch_scores(scores, DAY, features.rows, schema, features.X, ["region"])
    samples = sketches.samples(
        sketches.resegment(sketched, [Slicing("region", ["east", "north", "south"], ["south"])])
    )
    south = features.X[:, 1] == 2
    assert samples["score[region=south]"][0] == south.sum()
    assert sorted(samples["score[region=south]"][1]) == pytest.approx(sorted(scores[south]))
    assert samples["score"][0] == features.rows


def test_a_period_or_segment_too_small_to_judge_is_not_tested_and_says_so():
    settings = Drift(min_rows=20)
    rng = np.random.default_rng(3)
    history = [
        Observation(date(2024, m, 1), numeric_profile(rng.normal(size=200)), rng.normal(size=200))
        for m in range(1, 13)
    ]
    small = Observation(DAY, numeric_profile(rng.normal(5, 1, size=12)), rng.normal(5, 1, size=12))
    assert evaluation.evaluate_metric("x[region=south]", small, history, settings) == []
    assert evaluation.evaluate_metric(
        "x[region=south]", history[-1], history[:-1], settings
    )  # enough rows: tested
    notes = evaluation.small_notes(
        {"x[region=south]": small, "y[region=south]": small, "x": history[-1]}, settings
    )
    assert notes == ["region=south: 12 rows in 2025-10-01, too few to judge (drift.min_rows 20)"]


def test_a_small_period_gets_a_wider_band_from_its_own_sampling_error():
    # A share of 0.5 in every reference period of 10,000 rows; the new period has 100 rows.
    reference = np.full((12, 1), 0.5) + np.random.default_rng(4).normal(0, 0.002, (12, 1))
    floor_small = np.array([0.25 / 100])
    _, wide, _, p_small = statistics.band_test(reference, np.array([0.56]), floor_new=floor_small)
    _, narrow, _, p_large = statistics.band_test(reference, np.array([0.56]))
    assert wide[0] > 5 * narrow[0] and p_small[0] > 0.2 and p_large[0] < 1e-6
    # A count's d9 that is 0 while 88 % of rows are 0, of 200 fresh rows: the interval of the
    # 0.85 quantile straddles the jump to 1, so its floor is about (1/3.92)².
    counts = np.sort(np.r_[np.zeros(880), np.ones(120)])
    assert statistics.quantile_floor(counts, np.array([0.85]), 200)[0] == pytest.approx(
        (1 / 3.92) ** 2, rel=0.01
    )
    assert statistics.quantile_floor(counts, np.array([0.5]), 200)[0] == 0.0  # far from the jump
    normal = np.sort(np.random.default_rng(5).normal(size=100_000))
    assert statistics.quantile_floor(normal, np.array([0.5]), 400)[0] == pytest.approx(
        np.pi / 2 / 400, rel=0.1
    )


def test_a_sample_quantiles_p_value_is_the_binomial_count_below_it():
    # Three draws from {0: 3/4, 1: 1/4}: their median (position 1) is 1 only if at most one
    # draw is below 1, P = 0.25**3 + 3 * 0.75 * 0.25**2 = 0.15625; two-sided 0.3125.
    ordered = np.array([0.0, 0.0, 0.0, 1.0])
    assert statistics.quantile_sampling_p(ordered, np.array([0.5]), np.array([1.0]), 3)[0] == (
        pytest.approx(0.3125)
    )
    assert statistics.quantile_sampling_p(ordered, np.array([0.5]), np.array([0.0]), 3)[0] == 1.0
    normal = np.sort(np.random.default_rng(6).normal(size=100_000))
    p = statistics.quantile_sampling_p(normal, np.array([0.5, 0.95]), np.array([0.0, 0.0]), 200)
    assert p[0] == 1.0 and p[1] < 1e-20  # 0 is the median, and far below the 95th percentile
    missing = statistics.quantile_sampling_p(normal, np.array([0.5]), np.array([np.nan]), 200)
    assert np.isnan(missing[0])  # no value: no evidence either way (the band's p stands)


def test_a_counts_decile_that_jumps_by_sampling_alone_is_not_flagged():
    # support_calls of a 200-customer segment: its d8 (the 0.75 quantile) is 2 in every
    # reference month while 79 % of rows are at most 2, so a month whose draws leave fewer
    # than 75 % there reads 3 by sampling alone (the band of a constant reference is zero
    # wide: before, p was 0). A real change, every customer calling once more, still is.
    counts = np.r_[np.zeros(40), np.ones(60), np.full(58, 2.0), np.full(42, 3.0)]
    history = [
        Observation(date(2022 + m // 12, m % 12 + 1, 1), numeric_profile(counts), counts) for m in range(24)
    ]
    jumped = np.r_[np.zeros(40), np.ones(60), np.full(48, 2.0), np.full(52, 3.0)]
    assert numeric_profile(jumped)["d8"] == 3.0 and numeric_profile(counts)["d8"] == 2.0
    current = Observation(DAY, numeric_profile(jumped), jumped)
    band = {f.value: f for f in evaluation.evaluate_metric("calls[store=s03]", current, history, Drift())}
    assert band["d8"].test == "band" and band["d8"].p_value is not None and band["d8"].p_value > 0.01
    moved = counts + 1.0
    changed = Observation(DAY, numeric_profile(moved), moved)
    bands = [
        f
        for f in evaluation.evaluate_metric("calls[store=s03]", changed, history, Drift())
        if f.test == "band"
    ]
    assert min(f.p_value for f in bands if f.p_value is not None) < 1e-6  # the median moved 1 -> 2


def test_the_alert_names_the_segment():
    finding = Evidence(
        stage="validate_data",
        metric="data_usage_gb[region=south]",
        value="d5",
        test="band",
        statistic=9.0,
        effect=0.6,
        series=[4.0, 9.0],
        expected=4.0,
        since=DAY,
    )
    sentence = alerts.alert_summary([finding])
    assert sentence.startswith("High-severity drift: data_usage_gb in region=south (d5 9 vs 4 expected")
