"""Training/serving skew: each feature as scored, against the same feature as the model
version was trained on (its feature schema). This is a contract, not drift: no seasonal
reference, no calibration, no multiple-testing correction. A feature is skewed when

- it is missing in far more rows than in training (more than ``max_missing_increase`` above
  training's share): high severity, since the model sees a vector it was not trained on;
- more than ``max_outside_share`` of its values lie outside training's range (numbers) or
  are categories training never saw;
- it is constant where training saw it vary within every period.

Scoring counts each feature chunk by chunk (``Tally``, mergeable); the online API counts per
request, and ``validate_online`` merges those the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from modelops.domain.data.features import FeatureInfo, FeatureSchema, is_missing
from modelops.domain.spec import FeatureType, Skew

# Fewer present values than this in a period say nothing about a column being constant.
MIN_ROWS_FOR_CONSTANT = 20


@dataclass(frozen=True)
class Tally:
    """One feature's counts over some rows: mergeable across chunks and requests."""

    rows: int = 0
    missing: int = 0
    outside: int = 0  # numbers outside training's [min, max]; categories training never saw
    low: float | None = None  # smallest present value (numbers), or category code
    high: float | None = None

    def merge(self, other: Tally) -> Tally:
        lows = [v for v in (self.low, other.low) if v is not None]
        highs = [v for v in (self.high, other.high) if v is not None]
        return Tally(
            self.rows + other.rows,
            self.missing + other.missing,
            self.outside + other.outside,
            min(lows) if lows else None,
            max(highs) if highs else None,
        )

    def to_list(self) -> list[float | int | None]:
        return [self.rows, self.missing, self.outside, self.low, self.high]

    @classmethod
    def from_list(cls, values: list[float | int | None]) -> Tally:
        rows, missing, outside, low, high = values
        return cls(int(rows or 0), int(missing or 0), int(outside or 0), low, high)


@dataclass(frozen=True)
class SkewFinding:
    feature: str
    check: str  # missing / outside / constant
    scored: float  # the share (or, for constant, the value) in the scored rows
    trained: float  # the same in training
    severity: str
    message: str


def tally(raw: np.ndarray, encoded: np.ndarray, info: FeatureInfo) -> Tally:
    """Count one feature of some rows: ``raw`` as the query returned it, ``encoded`` as the
    model sees it (NaN where missing or an unseen category)."""
    missing = is_missing(raw)
    present = encoded[~np.isnan(encoded)]
    if info.type == FeatureType.categorical.value:
        outside = int((~missing & np.isnan(encoded)).sum())  # present, not a known category
        if outside:  # an unseen category counts as one more value, coded -1
            present = np.append(present, -1.0)
    elif info.minimum is None or info.maximum is None:
        outside = 0
    else:
        outside = int(((present < info.minimum) | (present > info.maximum)).sum())
    low = float(present.min()) if present.size else None
    high = float(present.max()) if present.size else None
    return Tally(int(raw.size), int(missing.sum()), outside, low, high)


def _outside_range(info: FeatureInfo, value: float) -> bool:
    if info.type == FeatureType.categorical.value or info.minimum is None or info.maximum is None:
        return False
    return not info.minimum <= value <= info.maximum


def request_flags(vector: np.ndarray, schema: FeatureSchema) -> dict[str, list[str]]:
    """One online request's features as the model saw them (``vector``, 1 x features): those
    missing, and the numbers outside training's range (the API accepts them within a margin)."""
    missing, outside = [], []
    for j, info in enumerate(schema.features):
        value = float(vector[0, j])
        if np.isnan(value):
            missing.append(info.name)
        elif _outside_range(info, value):
            outside.append(info.name)
    return {"missing": missing, "outside": outside}


def from_requests(flags: Iterable[dict[str, list[str]]], schema: FeatureSchema) -> dict[str, Tally]:
    """The online requests' flags as tallies per feature (no range: no constant check)."""
    listed = list(flags)
    return {
        info.name: Tally(
            len(listed),
            sum(info.name in f.get("missing", []) for f in listed),
            sum(info.name in f.get("outside", []) for f in listed),
        )
        for info in schema.features
    }


def merge(tallies: Iterable[dict[str, Tally]]) -> dict[str, Tally]:
    merged: dict[str, Tally] = {}
    for part in tallies:
        for name, counted in part.items():
            merged[name] = merged.get(name, Tally()).merge(counted)
    return merged


def _constant(info: FeatureInfo, counted: Tally) -> bool:
    present = counted.rows - counted.missing
    varied_every_period = info.varies_share is not None and info.varies_share >= 1.0
    unseen_only = info.type == FeatureType.categorical.value and counted.low == -1.0  # "outside" says so
    return (
        varied_every_period
        and present >= MIN_ROWS_FOR_CONSTANT
        and counted.low is not None
        and counted.low == counted.high
        and not unseen_only
    )


def _value_of(info: FeatureInfo, code: float) -> str:
    return repr(info.categories[int(code)]) if info.type == FeatureType.categorical.value else f"{code:g}"


def findings(schema: FeatureSchema, tallies: dict[str, Tally], settings: Skew) -> list[SkewFinding]:
    """Every feature whose scored values break the contract of its training (most severe first)."""
    found = []
    for info in schema.features:
        counted = tallies.get(info.name)
        if counted is None or counted.rows == 0:
            continue
        missing = counted.missing / counted.rows
        if missing - info.missing_share > settings.max_missing_increase:
            found.append(
                SkewFinding(
                    info.name,
                    "missing",
                    missing,
                    info.missing_share,
                    "high",
                    f"{info.name} is missing in {missing:.1%} of the scored rows against "
                    f"{info.missing_share:.1%} in training",
                )
            )
        present = counted.rows - counted.missing
        outside = counted.outside / present if present else 0.0
        if outside > settings.max_outside_share:
            what = (
                "are categories training never saw"
                if info.type == FeatureType.categorical.value
                else f"lie outside training's range [{info.minimum:g}, {info.maximum:g}]"
            )
            found.append(
                SkewFinding(
                    info.name,
                    "outside",
                    outside,
                    0.0,
                    "medium",
                    f"{outside:.1%} of {info.name}'s scored values {what}",
                )
            )
        if _constant(info, counted):
            value = _value_of(info, float(counted.low or 0.0))
            found.append(
                SkewFinding(
                    info.name,
                    "constant",
                    1.0,
                    0.0,
                    "medium",
                    f"{info.name} is {value} in every scored row; it varied within every training period",
                )
            )
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted(found, key=lambda f: (order[f.severity], -(f.scored - f.trained), f.feature))
