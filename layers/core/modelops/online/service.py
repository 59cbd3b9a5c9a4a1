"""Online scoring: the request's real-time features joined with the entity's latest batch
features, checked against the model's feature schema, scored with the champion.

The vector is built by the same encoding as training and batch scoring
(``features.encode_value``); every client mistake is a ``RequestError`` naming the field.
The model is loaded once per container (sha256 verified) and the champion alias is checked
at most every ``REFRESH_SECONDS``.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from modelops import caches
from modelops.domain.data import skew
from modelops.domain.data.features import FeatureInfo, FeatureSchema, encode_value
from modelops.domain.model import estimators, fastscore
from modelops.domain.spec import FeatureType, ModelSpec
from modelops.stores import latest, notifications, online_features, online_log, registry
from modelops.stores import metadata as metadata_store
from modelops.stores.specs import load_spec

REFRESH_SECONDS = 5.0
MAX_BODY_BYTES = 256 * 1024
MAX_ENTITY_ID_LENGTH = 128
MAX_RECORDS = 1000  # per request, whatever the spec allows (the spec's online.max_records is lower)
MAX_DEPTH = 16  # JSON nesting; a valid request nests 4 deep ({"records": [{"features": {...}}]})
# An integer literal with more digits than this is beyond float range (1.8e308): it becomes
# +-inf, which the request models refuse as "not a finite number", naming the field.
_MAX_INT_DIGITS = 308

Value = StrictBool | StrictInt | StrictFloat | StrictStr | None


class RequestError(Exception):
    """A request the client must fix (an HTTP 4xx): the status, the field, and why."""

    def __init__(self, status: int, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.status, self.field, self.reason = status, field, reason


class ScoreRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [{"entity_id": "185", "features": {"support_calls": 2, "data_usage_gb": 5.5}}]
        },
    )
    entity_id: StrictStr = Field(min_length=1, max_length=MAX_ENTITY_ID_LENGTH)
    features: dict[str, Value] = Field(default_factory=dict)


class BatchScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    records: list[ScoreRequest] = Field(min_length=1, max_length=MAX_RECORDS)


# ---------------------------------------------------------------- response shapes (OpenAPI)
class ErrorBody(BaseModel):
    """Every 4xx: what is wrong (error), where (field), and why (reason)."""

    error: str
    field: str
    reason: str


class EntityScore(BaseModel):
    entity_id: str
    score: float
    model_version: str
    scored_at: str


class ScoreResponse(EntityScore):
    model: str


class BatchScoreResponse(BaseModel):
    model: str
    scores: list[EntityScore]


class ScoreHistoryItem(EntityScore):
    source: str
    run_id: str | None = None
    as_of: str | None = None


class EntityScores(BaseModel):
    model: str
    entity_id: str
    latest: ScoreHistoryItem
    history: list[ScoreHistoryItem]


class ModelDescription(BaseModel):
    model: str
    champion: str
    sha256: str
    online_scorer: str
    feature_schema: dict[str, Any]
    realtime_features: list[str]
    metrics: dict[str, Any]
    training_window: dict[str, Any]


def _integer(digits: str) -> int | float:
    if len(digits.lstrip("-")) <= _MAX_INT_DIGITS:
        return int(digits)
    return -math.inf if digits.startswith("-") else math.inf


def parse_json(body: str) -> Any:
    """The request body as JSON, or a RequestError (400) for what no handler should see:
    malformed JSON, nesting deeper than MAX_DEPTH (a deep document would exhaust the stack)."""
    try:
        document = json.loads(body, parse_int=_integer)
    except RecursionError:
        raise RequestError(400, "body", f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise RequestError(400, "body", f"malformed JSON ({error})") from None
    if _depth(document) > MAX_DEPTH:
        raise RequestError(400, "body", f"JSON nested deeper than {MAX_DEPTH} levels")
    return document


def _depth(document: Any) -> int:
    """How deep containers nest (a scalar is 0), without recursion; stops past MAX_DEPTH."""
    deepest, stack = 0, [(document, 1)]
    while stack and deepest <= MAX_DEPTH:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


_FEATURE_VALUE_TYPES = {"bool", "int", "float", "str"}  # pydantic's names for the members of Value


def validation_error(errors: Sequence[dict[str, Any]], body: Any) -> RequestError:
    """The one RequestError a client sees for a body that fails the request models: the errors
    of the form the body was meant to be (records present: the batch form), the first field
    they name, and why. Too many records is a 413, as the spec's own limit is."""
    form = "BatchScoreRequest" if isinstance(body, dict) and "records" in body else "ScoreRequest"
    if not isinstance(body, dict):
        return RequestError(422, "body", "must be a JSON object")
    mine = [e for e in errors if tuple(e.get("loc", ()))[:1] == (form,)] or list(errors)
    located = [(_field(tuple(e.get("loc", ()))[1:]), e) for e in mine]
    field = located[0][0]
    same_field = [e for f, e in located if f == field]
    kinds = {str(e.get("type", "")) for e in same_field}
    if "too_long" in kinds and field == "records":
        return RequestError(413, "records", f"at most {MAX_RECORDS} records per request")
    if "finite_number" in kinds:
        return RequestError(422, field, "must be a finite number (not NaN, Infinity or beyond float range)")
    if len(same_field) > 1 and all(kind.endswith("_type") for kind in kinds):
        return RequestError(422, field, "must be a number, a string, true, false or null")
    return RequestError(422, field, str(same_field[0].get("msg", "invalid")))


def _field(location: tuple[Any, ...]) -> str:
    """A pydantic location as the client wrote it: records[2].features.plan (the union member a
    feature value was tried as is left out)."""
    parts: list[str] = []
    for i, part in enumerate(location):
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
        elif i >= 2 and location[i - 2] == "features" and part in _FEATURE_VALUE_TYPES:
            break
        else:
            parts.append(str(part))
    return ".".join(parts) or "body"


@dataclass(frozen=True)
class LoadedModel:
    record: registry.ModelVersion
    spec: ModelSpec
    schema: FeatureSchema
    metadata: dict[str, Any]
    scorer: Any  # a fastscore.FastModel, or a scikit-learn estimator

    def score(self, X: np.ndarray) -> np.ndarray:
        if isinstance(self.scorer, fastscore.FastModel):
            return self.scorer.predict_proba(X)
        return estimators.positive_scores(self.scorer, X)


class Unavailable(RuntimeError):
    """The model cannot serve now (its files fail their integrity check): a 503, not the
    client's fault; operators are alerted."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class ModelCache:
    """Champion (or pinned) models of this container. Every ``REFRESH_SECONDS`` the champion
    alias and the version's registry row are read again: a new champion is loaded, a version
    retired meanwhile stops serving."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, str | None], tuple[LoadedModel, float]] = {}
        self._lock = threading.Lock()

    def get(self, model: str, version: str | None = None) -> LoadedModel:
        key = (model, version)
        with self._lock:
            cached = self._models.get(key)
            now = time.monotonic()
            if cached and now - cached[1] < REFRESH_SECONDS:
                return cached[0]
            self._models.pop(key, None)
            wanted = version or registry.champion(model)
            if wanted is None:
                raise RequestError(404, "model", f"model {model!r} has no champion (unknown model?)")
            record = _servable(model, wanted)
            loaded = cached[0] if cached and cached[0].record == record else _load(record)
            self._models[key] = (loaded, now)
            return loaded

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


def _servable(model: str, version: str) -> registry.ModelVersion:
    try:
        return registry.servable(model, version)
    except registry.UnknownVersion:
        raise RequestError(404, "version", f"model {model!r} has no version {version!r}") from None
    except registry.RetiredVersion:
        raise RequestError(410, "version", f"model {model!r} version {version!r} is retired") from None


def _load(record: registry.ModelVersion) -> LoadedModel:
    """The version's scorer, schema and spec, each file verified against the registry (a file
    that fails is an ``Unavailable``, alerted once per model and tampered content)."""
    try:
        metadata = registry.verified_metadata(record)
        if record.fast_sha256:
            scorer: Any = fastscore.FastModel.from_bytes(registry.verified_artifact(record, fast=True))
        else:
            scorer = registry.load_estimator(record)
        spec = registry.scoring_spec(record, load_spec(record.model))
    except registry.IntegrityError as error:
        if metadata_store.record_incident(
            record.model, "integrity", registry.sha256(str(error).encode()), str(error)
        ):
            notifications.send_integrity_alert(record.model, record.version, str(error))
        raise Unavailable(
            "model",
            f"model {record.model!r} version {record.version} fails its integrity check and cannot serve "
            "(operators are alerted)",
        ) from error
    schema = FeatureSchema.from_dict(metadata["feature_schema"])
    return LoadedModel(record, spec, schema, metadata, scorer)


models = ModelCache()
caches.register(models.clear)


def check_value(info: FeatureInfo, value: Any, field: str, margin: float) -> None:
    """Raise RequestError unless ``value`` fits the feature as the model was trained."""
    if value is None:
        if info.missing_share == 0:
            raise RequestError(422, field, "missing, and the model never saw it missing")
        return
    if info.type == FeatureType.categorical.value:
        if not isinstance(value, str):
            raise RequestError(422, field, f"must be a string (a category), got {type(value).__name__}")
        if value not in info.categories:
            raise RequestError(
                422, field, f"unknown category {value!r} (known: {', '.join(info.categories)})"
            )
        return
    if info.type == FeatureType.boolean.value:
        if not isinstance(value, bool):
            raise RequestError(422, field, f"must be true or false, got {type(value).__name__}")
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestError(422, field, f"must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise RequestError(422, field, "must be a finite number")
    if info.type == FeatureType.count.value and (value < 0 or value != int(value)):
        raise RequestError(422, field, f"must be a whole number >= 0, got {value}")
    if info.minimum is not None and info.maximum is not None:
        slack = margin * (info.maximum - info.minimum)
        low, high = info.minimum - slack, info.maximum + slack
        if not low <= value <= high:
            raise RequestError(422, field, f"{value} is out of range [{low:g}, {high:g}]")


def build_vector(
    loaded: LoadedModel, realtime: dict[str, Any], batch: dict[str, Any] | None, prefix: str
) -> np.ndarray:
    """The complete feature vector (1 x features) from real-time and batch values; an entity
    without batch values (``batch`` None) brings every feature in the request."""
    allowed = set(loaded.spec.online.realtime_features) if batch is not None else set(loaded.spec.features)
    batch = batch or {}
    for name in realtime:
        if name not in loaded.spec.features:
            raise RequestError(422, f"{prefix}features.{name}", "unknown feature")
        if name not in allowed:
            raise RequestError(
                422, f"{prefix}features.{name}", "a batch feature: it comes from the online feature table"
            )
    for name in allowed:
        if name not in realtime:
            raise RequestError(422, f"{prefix}features.{name}", "missing real-time feature")
    row = np.empty((1, len(loaded.schema.features)))
    for j, info in enumerate(loaded.schema.features):
        from_request = info.name in realtime
        value = realtime[info.name] if from_request else batch.get(info.name)
        field = f"{prefix}features.{info.name}" if from_request else f"{info.name} (online feature table)"
        check_value(info, value, field, loaded.spec.online.range_margin)
        row[0, j] = encode_value(value, info)
    return row


def score(model: str, body: ScoreRequest | BatchScoreRequest, version: str | None = None) -> dict[str, Any]:
    """Score one or many entities; each score is stored (source=online) and returned."""
    loaded = models.get(model, version)
    if not loaded.spec.online.enabled:  # its scoring runs publish no online features either
        raise RequestError(
            404, "model", f"model {model!r} has no online API (its spec: online.enabled: false)"
        )
    records = body.records if isinstance(body, BatchScoreRequest) else [body]
    if len(records) > loaded.spec.online.max_records:
        raise RequestError(413, "records", f"at most {loaded.spec.online.max_records} records per request")
    first_of: dict[str, int] = {}
    for i, record in enumerate(records):
        if (earlier := first_of.setdefault(record.entity_id, i)) != i:
            raise RequestError(
                422, f"records[{i}].entity_id", f"entity {record.entity_id!r} is also records[{earlier}]"
            )
    period, batch = online_features.read_published(model, [r.entity_id for r in records])
    rows = []
    for i, record in enumerate(records):
        prefix = f"records[{i}]." if isinstance(body, BatchScoreRequest) else ""
        known = batch.get(record.entity_id)
        if known is None and not set(loaded.spec.features) <= set(record.features):
            raise RequestError(
                404,
                f"{prefix}entity_id",
                f"unknown entity {record.entity_id!r} for model {model!r} (no batch features: send every "
                "feature to score it)",
            )
        rows.append(build_vector(loaded, record.features, known, prefix))
    values = loaded.score(np.vstack(rows))
    scored_at = datetime.now(UTC)
    results = [
        {
            "entity_id": r.entity_id,
            "score": float(v),
            "model_version": loaded.record.version,
            "scored_at": scored_at.isoformat(),
        }
        for r, v in zip(records, values, strict=True)
    ]
    flags = [skew.request_flags(row, loaded.schema) for row in rows]  # validate_online's skew check
    online_log.record(model, [{**r, **f} for r, f in zip(results, flags, strict=True)], period)
    return (
        {"model": model, "scores": results}
        if isinstance(body, BatchScoreRequest)
        else {"model": model, **results[0]}
    )


def describe(model: str) -> dict[str, Any]:
    loaded = models.get(model)
    return {
        "model": model,
        "champion": loaded.record.version,
        "sha256": loaded.record.sha256,
        "online_scorer": "numpy" if loaded.record.fast_sha256 else "scikit-learn",
        "feature_schema": loaded.metadata["feature_schema"],
        "realtime_features": loaded.spec.online.realtime_features,
        "metrics": loaded.metadata["metrics"],
        "training_window": loaded.metadata["training_window"],
    }


def entity_scores(model: str, entity_id: str, limit: int = 10) -> dict[str, Any]:
    """The entity's latest score (batch or online, whichever is newer) and recent history."""
    if len(entity_id) > MAX_ENTITY_ID_LENGTH:
        raise RequestError(422, "entity_id", f"longer than {MAX_ENTITY_ID_LENGTH} characters")
    if registry.champion(model) is None:
        raise RequestError(404, "model", f"model {model!r} has no champion (unknown model?)")
    history = online_log.history(model, entity_id, limit)
    batch = latest.get(model, entity_id)
    if batch is not None:
        history.append(batch.__dict__)
    if not history:
        raise RequestError(404, "entity_id", f"no scores for entity {entity_id!r} of model {model!r}")
    history.sort(key=lambda s: s["scored_at"], reverse=True)
    return {"model": model, "entity_id": entity_id, "latest": history[0], "history": history[:limit]}
