"""Decile profiles, computed the same way by validate_data, validate_model and
validate_scores.

A profile of a column at one timestamp is a handful of named values: ``count``,
``missing`` (share), ``mean`` and the deciles ``d1``..``d10``. Decile k is the quantile at
(k - 0.5)/10, the middle of the k-th tenth of the data, so no decile is an extreme.
Categorical columns get ``share:<category>`` values instead of deciles.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from modelops.domain.data.features import FeatureMatrix, FeatureSchema
from modelops.domain.monitoring.segments import Slicing, segment_metric
from modelops.domain.spec import FeatureType

DECILES = [f"d{k}" for k in range(1, 11)]
DECILE_LEVELS = (np.arange(1, 11) - 0.5) / 10
OUTCOME_METRIC = "outcome"
SCORE_METRIC = "score"


@dataclass(frozen=True)
class Profile:
    """One metric's values at one timestamp (a group of rows of the logical view), with a
    bounded random sample of the raw values for the KS test."""

    metric: str
    timestamp: date
    values: dict[str, float]
    sample: np.ndarray | None = None


def bounded_sample(values: np.ndarray, size: int) -> np.ndarray:
    """At most ``size`` of the non-missing values, drawn reproducibly."""
    present: np.ndarray = values[~np.isnan(values)].astype(np.float32)
    if present.size <= size:
        return present
    chosen: np.ndarray = np.random.default_rng(0).choice(present.size, size, replace=False)
    sample: np.ndarray = present[np.sort(chosen)]
    return sample


def _missing(present: int, rows: int) -> float:
    """Share of missing values; 0 for no rows rather than a division by zero."""
    return float(1 - present / rows) if rows else 0.0


def numeric_profile(values: np.ndarray, *, with_deciles: bool = True) -> dict[str, float]:
    present = values[~np.isnan(values)]
    profile = {"count": float(values.size), "missing": _missing(present.size, values.size)}
    if present.size:
        profile["mean"] = float(present.mean())
        if with_deciles:
            profile.update(zip(DECILES, np.quantile(present, DECILE_LEVELS).tolist(), strict=True))
    return profile


def categorical_profile(codes: np.ndarray, categories: list[str]) -> dict[str, float]:
    present = codes[~np.isnan(codes)].astype(np.int64)
    profile = {"count": float(codes.size), "missing": _missing(present.size, codes.size)}
    counts = np.bincount(present, minlength=len(categories))
    for category, count in zip(categories, counts, strict=True):
        profile[f"share:{category}"] = float(count / codes.size) if codes.size else 0.0
    return profile


def _periods(timestamp: np.ndarray) -> Iterator[tuple[date, np.ndarray]]:
    for period in np.unique(timestamp):
        yield period.astype("datetime64[D]").item(), timestamp == period


def profile_segments(
    matrix: FeatureMatrix, schema: FeatureSchema, slicings: Sequence[Slicing], sample_size: int = 1000
) -> list[Profile]:
    """``profile_features`` of each segment of each slicing, named ``metric[feature=segment]``
    (the slicing's own feature left out of its segments: it is one category there)."""
    profiles = []
    for slicing in slicings:
        column = matrix.X[:, schema.names.index(slicing.feature)]
        for segment, rows in slicing.groups(column):
            profiles += [
                replace(p, metric=segment_metric(p.metric, slicing.feature, segment))
                for p in profile_features(matrix.take(np.flatnonzero(rows)), schema, sample_size)
                if p.metric != slicing.feature
            ]
    return profiles


def profile_features(matrix: FeatureMatrix, schema: FeatureSchema, sample_size: int = 1000) -> list[Profile]:
    """Outcome (if known) and every feature, one profile per period in the data."""
    profiles = []
    for period, rows in _periods(matrix.timestamp):
        if matrix.y is not None:
            outcome = matrix.y[rows]
            profiles.append(Profile(OUTCOME_METRIC, period, numeric_profile(outcome, with_deciles=False)))
        for j, info in enumerate(schema.features):
            column = matrix.X[rows, j]
            if info.type == FeatureType.categorical.value:
                profiles.append(Profile(info.name, period, categorical_profile(column, info.categories)))
            else:
                values = numeric_profile(column, with_deciles=info.type != FeatureType.boolean.value)
                profiles.append(Profile(info.name, period, values, bounded_sample(column, sample_size)))
    return profiles


def profile_segment_scores(
    scores: np.ndarray,
    outcome: np.ndarray | None,
    timestamp: np.ndarray,
    codes: dict[str, np.ndarray],
    slicings: Sequence[Slicing],
    sample_size: int = 1000,
) -> list[Profile]:
    """The scores' profiles of each period per segment (``codes``: each slicing feature's
    encoded column, row for row with the scores)."""
    profiles = []
    for slicing in slicings:
        for segment, rows in slicing.groups(codes[slicing.feature]):
            profiles += [
                replace(p, metric=segment_metric(p.metric, slicing.feature, segment))
                for p in profile_scores(
                    scores[rows], None if outcome is None else outcome[rows], timestamp[rows], sample_size
                )
            ]
    return profiles


def profile_scores(
    scores: np.ndarray, outcome: np.ndarray | None, timestamp: date | np.ndarray, sample_size: int = 1000
) -> list[Profile]:
    """Score deciles, and where the outcome is known, the outcome rate per score decile: of
    one period (``timestamp`` a date), or of each period (``timestamp`` per row), so that a
    test sample spanning several periods gives the production scores a reference per period."""
    if isinstance(timestamp, np.ndarray):
        return [
            profile
            for period, rows in _periods(timestamp)
            for profile in profile_scores(
                scores[rows], None if outcome is None else outcome[rows], period, sample_size
            )
        ]
    profiles = [
        Profile(SCORE_METRIC, timestamp, numeric_profile(scores), bounded_sample(scores, sample_size))
    ]
    if outcome is not None and scores.size:
        order = np.argsort(scores, kind="stable")
        groups = np.array_split(order, 10)
        rates = {
            decile: float(outcome[group].mean())
            for decile, group in zip(DECILES, groups, strict=True)
            if group.size
        }
        profiles.append(Profile(f"{OUTCOME_METRIC}_by_score_decile", timestamp, rates))
    return profiles
