"""The one feature-preparation code path, shared by training, batch and online scoring.

Raw columns become a float matrix X: numbers and counts as floats, booleans as 0/1,
categories as their index in the training schema; missing values and unseen categories
become NaN (the estimators treat NaN as missing). The schema learnt at training time
(dtypes, categories, ranges) travels with the model, so scoring builds exactly the
vector the model was trained on.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from modelops.domain.spec import FeatureType, ModelSpec

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


class FeatureError(ValueError):
    """Data does not fit the feature schema; the message names the feature."""


@dataclass(frozen=True)
class FeatureInfo:
    name: str
    type: str
    categories: list[str] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    missing_share: float = 0.0

    @functools.cached_property
    def codes(self) -> dict[str, float]:
        """Category -> its code in the model's input."""
        return {category: float(i) for i, category in enumerate(self.categories)}


@dataclass(frozen=True)
class FeatureSchema:
    features: list[FeatureInfo]

    @property
    def names(self) -> list[str]:
        return [feature.name for feature in self.features]

    @property
    def categorical_mask(self) -> list[bool]:
        return [feature.type == FeatureType.categorical.value for feature in self.features]

    def to_dict(self) -> dict[str, Any]:
        return {"features": [asdict(feature) for feature in self.features]}

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> FeatureSchema:
        return cls([FeatureInfo(**feature) for feature in document["features"]])


@dataclass
class FeatureMatrix:
    entity: np.ndarray  # str
    timestamp: np.ndarray  # datetime64[D]
    X: np.ndarray  # float64, rows x features
    y: np.ndarray | None  # float64 0/1, NaN where unknown
    feature_names: list[str]

    @property
    def rows(self) -> int:
        return int(self.X.shape[0])

    def take(self, index: np.ndarray) -> FeatureMatrix:
        return FeatureMatrix(
            self.entity[index],
            self.timestamp[index],
            self.X[index],
            None if self.y is None else self.y[index],
            self.feature_names,
        )

    def chunks(self, rows: int) -> list[FeatureMatrix]:
        """Consecutive slices of at most ``rows`` rows (at least one, even when empty)."""
        starts = range(0, max(self.rows, 1), rows)
        return [self.take(np.arange(start, min(start + rows, self.rows))) for start in starts]

    @classmethod
    def concat(cls, parts: list[FeatureMatrix]) -> FeatureMatrix:
        ys = [part.y for part in parts]
        return cls(
            entity=np.concatenate([part.entity for part in parts]),
            timestamp=np.concatenate([part.timestamp for part in parts]),
            X=np.concatenate([part.X for part in parts]),
            y=None if any(y is None for y in ys) else np.concatenate(ys),  # type: ignore[arg-type]
            feature_names=parts[0].feature_names,
        )

    def to_bytes(self) -> bytes:
        arrays = {
            "entity": self.entity,
            "timestamp": self.timestamp,
            "X": self.X,
            "feature_names": np.array(self.feature_names),
        }
        if self.y is not None:
            arrays["y"] = self.y
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, body: bytes) -> FeatureMatrix:
        with np.load(io.BytesIO(body), allow_pickle=False) as archive:
            return cls(
                entity=archive["entity"],
                timestamp=archive["timestamp"],
                X=archive["X"],
                y=archive["y"] if "y" in archive.files else None,
                feature_names=[str(name) for name in archive["feature_names"]],
            )


def is_missing(values: np.ndarray) -> np.ndarray:
    """Where a raw column (masked, object with None, or float with NaN) has no value."""
    if isinstance(values, np.ma.MaskedArray):
        mask: np.ndarray = np.ma.getmaskarray(values).copy()
        return mask
    if values.dtype == object:
        return np.array([v is None or (isinstance(v, float) and v != v) for v in values], dtype=bool)
    if values.dtype.kind == "f":
        nan: np.ndarray = np.isnan(values)
        return nan
    return np.zeros(values.shape[0], dtype=bool)


def _as_float(values: np.ndarray) -> np.ndarray:
    """Numeric column (possibly masked, possibly object with None) -> float64 with NaN."""
    if isinstance(values, np.ma.MaskedArray):
        return np.ma.filled(values.astype(np.float64), np.nan)
    if values.dtype == object:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return values.astype(np.float64)


def _as_text(values: np.ndarray) -> np.ndarray:
    """Category column -> object array of str, None where missing."""
    if isinstance(values, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(values)
        values = values.data.astype(object)
        values[mask] = None
    return np.array([None if v is None else str(v) for v in values], dtype=object)


def _as_boolean(values: np.ndarray, name: str) -> np.ndarray:
    if values.dtype == bool:
        return values.astype(np.float64)
    text = _as_text(values)
    out = np.full(len(text), np.nan)
    for i, value in enumerate(text):
        if value is None:
            continue
        lowered = value.strip().lower()
        if lowered in _TRUE:
            out[i] = 1.0
        elif lowered in _FALSE:
            out[i] = 0.0
        else:
            raise FeatureError(f"feature {name!r}: {value!r} is not a boolean")
    return out


def infer_schema(columns: dict[str, np.ndarray], spec: ModelSpec) -> FeatureSchema:
    """Learn categories and ranges from training data."""
    infos = []
    for name, feature in spec.features.items():
        values = columns[name]
        if feature.type is FeatureType.categorical:
            text = _as_text(values)
            present = [v for v in text if v is not None]
            categories = sorted(set(present))
            missing = 1 - len(present) / len(text) if len(text) else 0.0  # as for numbers
            infos.append(FeatureInfo(name, feature.type.value, categories, missing_share=missing))
            continue
        numbers = encode_column(values, FeatureInfo(name, feature.type.value))
        finite = numbers[~np.isnan(numbers)]
        infos.append(
            FeatureInfo(
                name,
                feature.type.value,
                minimum=float(finite.min()) if finite.size else None,
                maximum=float(finite.max()) if finite.size else None,
                missing_share=float(np.isnan(numbers).mean()) if numbers.size else 0.0,
            )
        )
    return FeatureSchema(infos)


def encode_value(value: Any, info: FeatureInfo) -> float:
    """One raw value -> the float the model sees (the online path; encode_column is the same
    rule over a column, vectorized for numbers)."""
    if value is None:
        return math.nan
    if info.type == FeatureType.categorical.value:
        return info.codes.get(str(value), math.nan)
    if info.type == FeatureType.boolean.value:
        return float(_as_boolean(np.array([value], dtype=object), info.name)[0])
    number = float(value)
    if math.isinf(number):
        raise FeatureError(f"feature {info.name!r}: infinite values")
    return number


def encode_column(values: np.ndarray, info: FeatureInfo) -> np.ndarray:
    """One raw column -> float64 column, the encoding the model was trained on."""
    if info.type == FeatureType.categorical.value:
        text = _as_text(values)
        return np.array([info.codes.get(v, np.nan) if v is not None else np.nan for v in text])
    if info.type == FeatureType.boolean.value:
        return _as_boolean(values, info.name)
    try:
        numbers = _as_float(values)
    except (TypeError, ValueError):
        raise FeatureError(f"feature {info.name!r}: values are not numbers") from None
    if np.isinf(numbers).any():
        raise FeatureError(f"feature {info.name!r}: infinite values")
    return numbers


def transform(
    columns: dict[str, np.ndarray], spec: ModelSpec, schema: FeatureSchema, *, with_outcome: bool
) -> FeatureMatrix:
    """Raw query columns -> FeatureMatrix (the only place features are prepared)."""
    rows = len(columns[spec.entity])
    X = np.empty((rows, len(schema.features)), dtype=np.float64)
    for j, info in enumerate(schema.features):
        X[:, j] = encode_column(columns[info.name], info)
    y = None
    if with_outcome:
        y = (
            _as_float(columns[spec.outcome])
            if columns[spec.outcome].dtype != bool
            else (columns[spec.outcome].astype(np.float64))
        )
        bad = ~np.isnan(y) & (y != 0) & (y != 1)
        if bad.any():
            raise FeatureError(f"outcome {spec.outcome!r}: values must be 0/1, got {float(y[bad][0])!r}")
    timestamp = columns[spec.timestamp]
    if isinstance(timestamp, np.ma.MaskedArray):
        timestamp = timestamp.data
    return FeatureMatrix(
        entity=_as_text(columns[spec.entity]).astype(str),
        timestamp=np.asarray(timestamp).astype("datetime64[D]"),
        X=X,
        y=y,
        feature_names=schema.names,
    )
