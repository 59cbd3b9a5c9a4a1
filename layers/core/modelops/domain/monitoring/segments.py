"""Segments: a categorical feature named in ``drift.segments`` slices every metric, so a change in
one region, plan or store is measured against that segment's own history instead of vanishing in
the pooled spread.

A segment's metric is the pooled metric's name with the slice appended, ``data_usage_gb[region=
south]``: one more metric of the same stage in the decile metadata (its own history, its own
reference), so every segment test joins the stage's Benjamini-Hochberg correction and many
segments do not multiply false alarms. Cardinality is bounded: the ``max_segments`` categories
with the largest mean share over the model's training window keep their own slice, the rest
(and rows missing the feature) are pooled as ``other``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

OTHER = "other"


def segment_metric(metric: str, feature: str, segment: str) -> str:
    """The metadata name of ``metric`` in one segment: ``metric[feature=segment]``."""
    return f"{metric}[{feature}={segment}]"


def split_metric(metric: str) -> tuple[str, str | None]:
    """``x[region=south]`` -> (``x``, ``region=south``); a pooled metric has no segment."""
    if metric.endswith("]") and "[" in metric:
        base, _, rest = metric.partition("[")
        return base, rest[:-1]
    return metric, None


def label(metric: str) -> str:
    """How people read a metric's name: ``data_usage_gb in region=south``."""
    base, segment = split_metric(metric)
    return base if segment is None else f"{base} in {segment}"


def top_segments(shares: dict[str, float], limit: int) -> list[str]:
    """The ``limit`` categories with the largest share (ties by name); categories never seen
    have no segment of their own."""
    seen = [(share, name) for name, share in shares.items() if share > 0]
    return [name for _, name in sorted(seen, key=lambda item: (-item[0], item[1]))[:limit]]


def mean_shares(periods: Iterable[dict[str, float]]) -> dict[str, float]:
    """Each category's mean share over periods' profiles (``share:<category>`` values)."""
    totals: dict[str, float] = {}
    count = 0
    for values in periods:
        count += 1
        for name, share in values.items():
            if name.startswith("share:"):
                category = name.removeprefix("share:")
                totals[category] = totals.get(category, 0.0) + share
    return {name: total / count for name, total in totals.items()} if count else {}


@dataclass(frozen=True)
class Slicing:
    """How one categorical feature slices rows: its categories (in code order) and the ones
    that keep a segment of their own."""

    feature: str
    categories: list[str]
    top: list[str]

    def name_of(self, category: str | None) -> str:
        """The segment a category falls in (a missing value and a small category: other)."""
        return category if category is not None and category in self.top else OTHER

    def groups(self, codes: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
        """(segment, row mask) for each segment with rows, from the feature's encoded codes
        (NaN missing); the top categories first, in their order, then other."""
        named = np.full(codes.shape, OTHER, dtype=object)
        present = ~np.isnan(codes)
        index = codes[present].astype(np.int64)
        known = index < len(self.categories)
        names = np.array([self.name_of(c) for c in self.categories] + [OTHER], dtype=object)
        named[np.flatnonzero(present)] = names[np.where(known, index, len(self.categories))]
        for segment in [*self.top, OTHER]:
            mask = named == segment
            if mask.any():
                yield segment, mask


def slicing(feature: str, categories: list[str], periods: Iterable[dict[str, float]], limit: int) -> Slicing:
    """A segment feature's slicing: its ``limit`` categories with the largest mean share over
    the reference's periods (their profiles) keep a segment of their own."""
    return Slicing(feature, categories, top_segments(mean_shares(periods), limit))
