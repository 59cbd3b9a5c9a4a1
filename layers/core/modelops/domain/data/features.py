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

from modelops.domain.periods import Period
from modelops.domain.spec import FeatureType, ModelSpec

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
# A categorical feature has at most this many categories: HistGradientBoosting's limit
# (max_bins), and far more than a category a person would name.
MAX_CATEGORIES = 255
# The parts of a composite entity key, joined into one id.
ENTITY_SEPARATOR = "|"


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
    # The share of training periods in which the feature took at least two values (None: a
    # version trained before it was recorded); the skew check's "constant where it varied".
    varies_share: float | None = None

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
    timestamp: np.ndarray  # datetime64[D]: the start of the row's period (spec.period)
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


def _present(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the values, a mask of the missing ones) of a column that may be masked or hold None/NaN."""
    if isinstance(values, np.ma.MaskedArray):
        return values.data, np.ma.getmaskarray(values)
    if values.dtype == object:
        return values, np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in values], bool)
    if values.dtype.kind == "f":
        return values, np.isnan(values)
    if values.dtype.kind == "M":
        return values, np.isnat(values)
    return values, np.zeros(values.shape, bool)


def value_text(values: np.ndarray) -> list[str | None]:
    """Each value as text, the way it was loaded: a DATE as 2024-03-01, a TIMESTAMP as
    2024-03-01 10:30:00, a whole number without '.0'; None where missing."""
    data, missing = _present(values)
    if data.dtype.kind == "M":
        by_day = np.datetime_data(data.dtype)[0] == "D"
        text = np.datetime_as_string(data, unit="D") if by_day else np.datetime_as_string(data, unit="s")
        rendered: list[str | None] = [str(v).replace("T", " ") for v in text]
    elif data.dtype.kind == "f":
        rendered = [str(int(v)) if math.isfinite(v) and v == int(v) else repr(float(v)) for v in data]
    elif data.dtype.kind == "b":
        rendered = ["true" if v else "false" for v in data]
    else:
        rendered = [str(v) for v in data]
    return [None if gone else text for text, gone in zip(rendered, missing.tolist(), strict=True)]


def entity_ids(columns: dict[str, np.ndarray], spec: ModelSpec) -> np.ndarray:
    """Each row's entity id as text: the entity column's value as loaded, the composite key's
    values joined with '|', or (no entity in the spec) the timestamp's."""
    keys = list(spec.entity_key)
    parts = [value_text(columns[key]) for key in keys]
    ids = []
    for row, values in enumerate(zip(*parts, strict=True)):
        for key, value in zip(keys, values, strict=True):
            if value is None:
                raise FeatureError(f"entity column {key!r}: row {row + 1} has no value; every row needs one")
        ids.append(ENTITY_SEPARATOR.join(str(value) for value in values))
    return np.array(ids, dtype=str) if ids else np.empty(0, dtype=str)


def as_dates(values: np.ndarray, name: str) -> np.ndarray:
    """A DATE / TIMESTAMP (or ISO text) column as datetime64[D]; a missing or unreadable value
    is a FeatureError naming its row."""
    data, missing = _present(values)
    if missing.any():
        raise FeatureError(f"timestamp {name!r}: row {int(np.argmax(missing)) + 1} has no value")
    if data.dtype.kind == "M":
        return data.astype("datetime64[D]")
    days = np.empty(len(data), dtype="datetime64[D]")
    for row, value in enumerate(data):
        try:
            days[row] = np.datetime64(str(value).strip().replace(" ", "T"), "D")
        except ValueError:
            raise FeatureError(
                f"timestamp {name!r}: row {row + 1} holds {value!r}, not a date (YYYY-MM-DD)"
            ) from None
    return days


def period_starts(days: np.ndarray, period: Period) -> np.ndarray:
    """The start of each day's period (datetime64[D]); domain.periods.period_start, vectorized."""
    days = days.astype("datetime64[D]")
    if period == "day":
        return days
    if period == "week":
        # 1970-01-01 was a Thursday: Monday-based weekday = (days since epoch + 3) % 7.
        ordinal = days.astype(np.int64)
        return (ordinal - (ordinal + 3) % 7).astype("datetime64[D]")
    months = days.astype("datetime64[M]").astype(np.int64)
    if period == "quarter":
        months -= months % 3
    return months.astype("datetime64[M]").astype("datetime64[D]")


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


def varies_share(values: np.ndarray, periods: np.ndarray) -> float | None:
    """The share of periods in which ``values`` (floats, NaN missing) take at least two
    distinct values; None without rows."""
    _, period_index = np.unique(periods, return_inverse=True)
    if period_index.size == 0:
        return None
    present = ~np.isnan(values)
    index, kept = period_index[present], values[present]
    order = np.lexsort((kept, index))
    index, kept = index[order], kept[order]
    first = np.ones(index.size, dtype=bool)
    first[1:] = (index[1:] != index[:-1]) | (kept[1:] != kept[:-1])
    distinct = np.bincount(index, weights=first, minlength=int(period_index.max()) + 1)
    return float((distinct >= 2).mean())


def infer_schema(columns: dict[str, np.ndarray], spec: ModelSpec) -> FeatureSchema:
    """Learn categories, ranges, missing shares and whether each feature varies within a
    period from training data."""
    periods = period_starts(as_dates(columns[spec.timestamp], spec.timestamp), spec.period)
    infos = []
    for name, feature in spec.features.items():
        values = columns[spec.column_of(name)]
        if feature.type is FeatureType.categorical:
            text = _as_text(values)
            present = [v for v in text if v is not None]
            categories = sorted(set(present))
            if len(categories) > MAX_CATEGORIES:
                raise FeatureError(
                    f"feature {name!r}: declared categorical, but it has {len(categories):,} distinct "
                    f"values (at most {MAX_CATEGORIES}); declare it numeric"
                )
            missing = 1 - len(present) / len(text) if len(text) else 0.0  # as for numbers
            info = FeatureInfo(name, feature.type.value, categories, missing_share=missing)
            varies = varies_share(encode_column(values, info), periods)
            infos.append(FeatureInfo(name, info.type, categories, missing_share=missing, varies_share=varies))
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
                varies_share=varies_share(numbers, periods),
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


def _not_numbers(values: np.ndarray, info: FeatureInfo) -> str:
    """Why a numeric feature's column is not numbers: its first non-number, and what to declare."""
    for row, value in enumerate(value_text(values)):
        if value is None:
            continue
        try:
            float(value)
        except ValueError:
            return (
                f"feature {info.name!r}: declared {info.type}, but row {row + 1} holds {value!r}, not a "
                "number; declare it categorical if it is a category (or load the data with "
                f"--na-values {value!r} if that marks a missing value)"
            )
    return f"feature {info.name!r}: values are not numbers"


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
        raise FeatureError(_not_numbers(values, info)) from None
    if np.isinf(numbers).any():
        raise FeatureError(f"feature {info.name!r}: infinite values")
    return numbers


def transform(
    columns: dict[str, np.ndarray], spec: ModelSpec, schema: FeatureSchema, *, with_outcome: bool
) -> FeatureMatrix:
    """Raw query columns -> FeatureMatrix (the only place features are prepared): the entity
    ids as text, each row's period, the encoded features and the outcome."""
    rows = len(columns[spec.timestamp])
    X = np.empty((rows, len(schema.features)), dtype=np.float64)
    for j, info in enumerate(schema.features):
        X[:, j] = encode_column(columns[spec.column_of(info.name)], info)
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
    return FeatureMatrix(
        entity=entity_ids(columns, spec),
        timestamp=period_starts(as_dates(columns[spec.timestamp], spec.timestamp), spec.period),
        X=X,
        y=y,
        feature_names=schema.names,
    )
