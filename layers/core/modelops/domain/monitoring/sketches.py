"""Mergeable summaries of one chunk's columns, so that validation after the scoring Map merges
them instead of reading every row again.

A sketch of a column holds exact counts (rows, missing, category counts), the exact sum of its
values, and a uniform sample of its present values whose size is the chunk's share of
``SAMPLE_TOTAL``. Merged, the sketches give the same profile as ``profiles`` computes from all
rows: counts, missing share, mean and category shares exactly; deciles exactly while the
data has at most ``SAMPLE_TOTAL`` values, and from a uniform sample of that size beyond (a
decile's rank is then off by about 0.2 % of the rows).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from modelops.domain.data.features import FeatureMatrix, FeatureSchema
from modelops.domain.monitoring.profiles import DECILE_LEVELS, DECILES, SCORE_METRIC, Profile, bounded_sample
from modelops.domain.monitoring.segments import OTHER, Slicing, segment_metric, split_metric
from modelops.domain.spec import FeatureType

SAMPLE_TOTAL = 100_000


@dataclass(frozen=True)
class Sketch:
    metric: str
    timestamp: date
    kind: str  # numeric | boolean | categorical
    count: int
    missing: int
    total: float = 0.0  # sum of the present values
    sample: np.ndarray | None = None  # present values (numeric and boolean)
    categories: tuple[str, ...] = ()
    counts: np.ndarray | None = None  # rows per category (categorical)


def sample_share(rows: int, total_rows: int, budget: int = SAMPLE_TOTAL) -> int:
    """How many values a chunk of ``rows`` of ``total_rows`` keeps of a column."""
    return math.ceil(budget * rows / max(total_rows, 1))


def _uniform(values: np.ndarray, size: int, seed: int) -> np.ndarray:
    if values.size <= size:
        return values
    chosen = np.random.default_rng(seed).choice(values.size, size, replace=False)
    kept: np.ndarray = values[np.sort(chosen)]
    return kept


def sketch_column(
    metric: str,
    timestamp: date,
    kind: str,
    values: np.ndarray,
    keep: int,
    categories: list[str] | None = None,
) -> Sketch:
    """One column's sketch (``values`` encoded as the model sees them: floats, NaN missing)."""
    present = values[~np.isnan(values)]
    if kind == FeatureType.categorical.value:
        names = list(categories or [])
        counts = np.bincount(present.astype(np.int64), minlength=len(names))[: len(names)]
        return Sketch(
            metric,
            timestamp,
            kind,
            values.size,
            values.size - present.size,
            categories=tuple(names),
            counts=counts,
        )
    sample = _uniform(present.astype(np.float64), keep, seed=values.size)
    return Sketch(
        metric, timestamp, kind, values.size, values.size - present.size, float(present.sum()), sample
    )


def _by_category(schema: FeatureSchema, feature: str, X: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """Rows of each category of a segment feature present in ``X`` (missing ones: other); the
    chunk does not know which categories keep a segment of their own: merge decides."""
    info = schema.features[schema.names.index(feature)]
    codes = X[:, schema.names.index(feature)]
    missing = np.isnan(codes)
    if missing.any():
        yield OTHER, missing
    for code in np.unique(codes[~missing]).astype(np.int64):
        yield (info.categories[code] if code < len(info.categories) else OTHER), codes == code


def sketch_features(
    matrix: FeatureMatrix, schema: FeatureSchema, total_rows: int, segments: Sequence[str] = ()
) -> list[Sketch]:
    """Every feature of every period in a chunk, pooled and in each category of each segment
    feature (``x[region=south]``; a segment keeps its share of the sample)."""
    keep = sample_share(matrix.rows, total_rows)
    sketches = []
    for period in np.unique(matrix.timestamp):
        rows = matrix.timestamp == period
        day = period.astype("datetime64[D]").item()
        for j, info in enumerate(schema.features):
            sketches.append(
                sketch_column(info.name, day, info.type, matrix.X[rows, j], keep, info.categories)
            )
        for feature in segments:
            for category, members in _by_category(schema, feature, matrix.X[rows]):
                share = sample_share(int(members.sum()), total_rows)
                for j, info in enumerate(schema.features):
                    if info.name != feature:
                        metric = segment_metric(info.name, feature, category)
                        values = matrix.X[rows, j][members]
                        sketches.append(sketch_column(metric, day, info.type, values, share, info.categories))
    return sketches


def sketch_scores(
    scores: np.ndarray,
    timestamp: date,
    total_rows: int,
    schema: FeatureSchema | None = None,
    X: np.ndarray | None = None,
    segments: Sequence[str] = (),
) -> list[Sketch]:
    """The scores' sketch, pooled and (given the chunk's encoded features) per category of each
    segment feature."""
    numeric = FeatureType.numeric.value
    sketches = [
        sketch_column(SCORE_METRIC, timestamp, numeric, scores, sample_share(scores.size, total_rows))
    ]
    if schema is not None and X is not None:
        for feature in segments:
            for category, members in _by_category(schema, feature, X):
                keep = sample_share(int(members.sum()), total_rows)
                metric = segment_metric(SCORE_METRIC, feature, category)
                sketches.append(sketch_column(metric, timestamp, numeric, scores[members], keep))
    return sketches


def resegment(sketches: Iterable[Sketch], slicings: Sequence[Slicing]) -> list[Sketch]:
    """Sketches named by category renamed to their segment (a category outside the top ones:
    other), so that merge pools them; segments of a feature no longer sliced are dropped."""
    by_feature = {slicing.feature: slicing for slicing in slicings}
    kept = []
    for sketch in sketches:
        base, segment = split_metric(sketch.metric)
        if segment is None:
            kept.append(sketch)
            continue
        feature, _, category = segment.partition("=")
        if feature in by_feature:
            named = segment_metric(base, feature, by_feature[feature].name_of(category))
            kept.append(replace(sketch, metric=named))
    return kept


def merge(sketches: Iterable[Sketch], sample_size: int) -> list[Profile]:
    """The profiles of all chunks' rows, one per (metric, period), as ``profiles`` would give."""
    groups: dict[tuple[str, date], list[Sketch]] = {}
    for sketch in sketches:
        groups.setdefault((sketch.metric, sketch.timestamp), []).append(sketch)
    profiles = []
    for (metric, timestamp), parts in groups.items():
        count = sum(p.count for p in parts)
        missing = sum(p.missing for p in parts)
        values = {"count": float(count), "missing": float(missing / count) if count else 0.0}
        kind = parts[0].kind
        if kind == FeatureType.categorical.value:
            counts = np.sum([p.counts for p in parts if p.counts is not None], axis=0)
            for category, n in zip(parts[0].categories, np.atleast_1d(counts), strict=True):
                values[f"share:{category}"] = float(n / count) if count else 0.0
            profiles.append(Profile(metric, timestamp, values))
            continue
        sample = np.concatenate([p.sample for p in parts if p.sample is not None])
        present = count - missing
        if present:
            values["mean"] = sum(p.total for p in parts) / present
            if kind != FeatureType.boolean.value:
                values.update(zip(DECILES, np.quantile(sample, DECILE_LEVELS).tolist(), strict=True))
        profiles.append(Profile(metric, timestamp, values, bounded_sample(sample, sample_size)))
    return sorted(profiles, key=lambda p: (p.timestamp, p.metric))


def samples(sketches: Iterable[Sketch]) -> dict[str, tuple[int, np.ndarray]]:
    """Each numeric metric's present rows and its merged uniform sample of them (of one period:
    what the estimated performance reads from the scores' sketches)."""
    found: dict[str, tuple[int, list[np.ndarray]]] = {}
    for sketch in sketches:
        if sketch.sample is None:
            continue
        rows, parts = found.get(sketch.metric, (0, []))
        found[sketch.metric] = (rows + sketch.count - sketch.missing, [*parts, sketch.sample])
    return {metric: (rows, np.concatenate(parts)) for metric, (rows, parts) in found.items()}


def to_bytes(sketches: list[Sketch]) -> bytes:
    header = [
        {
            "metric": s.metric,
            "timestamp": s.timestamp.isoformat(),
            "kind": s.kind,
            "count": s.count,
            "missing": s.missing,
            "total": s.total,
            "categories": list(s.categories),
        }
        for s in sketches
    ]
    arrays: dict[str, np.ndarray] = {"header": np.array(json.dumps(header))}
    for i, s in enumerate(sketches):
        if s.sample is not None:
            arrays[f"sample{i}"] = s.sample
        if s.counts is not None:
            arrays[f"counts{i}"] = s.counts
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def from_bytes(body: bytes) -> list[Sketch]:
    with np.load(io.BytesIO(body), allow_pickle=False) as archive:
        header = json.loads(str(archive["header"]))
        return [
            Sketch(
                metric=h["metric"],
                timestamp=date.fromisoformat(h["timestamp"]),
                kind=h["kind"],
                count=h["count"],
                missing=h["missing"],
                total=h["total"],
                sample=archive[f"sample{i}"] if f"sample{i}" in archive.files else None,
                categories=tuple(h["categories"]),
                counts=archive[f"counts{i}"] if f"counts{i}" in archive.files else None,
            )
            for i, h in enumerate(header)
        ]
