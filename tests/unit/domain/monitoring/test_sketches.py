"""Chunk sketches merged give the profiles of all rows: exactly while the data fits the sample
budget, within sampling error beyond it."""

import itertools
from datetime import date

import numpy as np
import pytest

from modelops.domain.data.features import FeatureInfo, FeatureMatrix, FeatureSchema
from modelops.domain.monitoring import sketches
from modelops.domain.monitoring.profiles import DECILE_LEVELS, profile_features

SCHEMA = FeatureSchema(
    [
        FeatureInfo("x", "numeric", minimum=-5.0, maximum=5.0, missing_share=0.1),
        FeatureInfo("flag", "boolean"),
        FeatureInfo("colour", "categorical", ["blue", "green", "red"]),
    ]
)
DAY = date(2025, 9, 1)


def matrix(rows: int, seed: int = 0) -> FeatureMatrix:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    x[rng.random(rows) < 0.1] = np.nan
    flag = (rng.random(rows) < 0.3).astype(float)
    colour = rng.choice(3, rows, p=[0.5, 0.3, 0.2]).astype(float)
    colour[rng.random(rows) < 0.05] = np.nan
    X = np.column_stack([x, flag, colour])
    return FeatureMatrix(
        np.arange(rows).astype(str), np.full(rows, np.datetime64(DAY, "D")), X, None, SCHEMA.names
    )


def merged_in_chunks(whole: FeatureMatrix, parts: int, budget: int = sketches.SAMPLE_TOTAL) -> dict:
    bounds = np.linspace(0, whole.rows, parts + 1).astype(int)
    chunks = [whole.take(np.arange(a, b)) for a, b in itertools.pairwise(bounds)]
    drawn = []
    for chunk in chunks:
        keep = sketches.sample_share(chunk.rows, whole.rows, budget)
        for j, info in enumerate(SCHEMA.features):
            drawn.append(
                sketches.sketch_column(info.name, DAY, info.type, chunk.X[:, j], keep, info.categories)
            )
    stored = sketches.from_bytes(sketches.to_bytes(drawn))  # what validation reads back
    return {p.metric: p for p in sketches.merge(stored, 1000)}


def test_merged_sketches_equal_the_profile_of_all_rows_when_the_data_fits_the_budget():
    whole = matrix(5_000)
    exact = {p.metric: p for p in profile_features(whole, SCHEMA, 1000)}
    merged = merged_in_chunks(whole, parts=7)
    for metric in ("x", "flag", "colour"):
        assert merged[metric].values.keys() == exact[metric].values.keys(), metric
        for name, value in exact[metric].values.items():
            assert merged[metric].values[name] == pytest.approx(value, rel=1e-12, abs=1e-12), (metric, name)
    assert merged["x"].values["missing"] == pytest.approx(np.isnan(whole.X[:, 0]).mean())
    assert "d5" not in merged["flag"].values  # booleans carry no deciles, as in the full profile
    assert merged["colour"].sample is None and merged["x"].sample.size == 1000


def test_beyond_the_budget_deciles_come_from_a_uniform_sample_and_counts_stay_exact():
    whole = matrix(60_000, seed=1)
    merged = merged_in_chunks(whole, parts=6, budget=5_000)
    present = whole.X[:, 0][~np.isnan(whole.X[:, 0])]
    truth = np.quantile(present, DECILE_LEVELS)
    got = np.array([merged["x"].values[f"d{k}"] for k in range(1, 11)])
    # A decile from 5,000 sampled values: its rank is off by about sqrt(p(1-p)/n) ~ 0.004-0.007.
    ranks = np.searchsorted(np.sort(present), got) / present.size
    assert np.abs(ranks - DECILE_LEVELS).max() < 0.03
    assert not np.allclose(got, truth, atol=1e-12)  # it really is a sample
    assert merged["x"].values["count"] == 60_000 and merged["x"].values["mean"] == pytest.approx(
        present.mean()
    )
    shares = np.bincount(whole.X[:, 2][~np.isnan(whole.X[:, 2])].astype(int), minlength=3) / 60_000
    assert [merged["colour"].values[f"share:{c}"] for c in ("blue", "green", "red")] == pytest.approx(shares)


def test_a_chunk_keeps_its_share_of_the_budget():
    assert sketches.sample_share(25_000, 100_000, budget=1_000) == 250
    assert sketches.sample_share(1, 3, budget=10) == 4  # rounded up: small chunks keep at least one
    assert sketches.sample_share(10, 0, budget=10) == 100  # an empty extract cannot divide by zero


def test_an_all_missing_column_has_no_mean_or_deciles():
    values = np.full(50, np.nan)
    merged = sketches.merge([sketches.sketch_column("x", DAY, "numeric", values, 50)], 10)
    [profile] = merged
    assert profile.values == {"count": 50.0, "missing": 1.0} and profile.sample.size == 0
