"""The model store (S3) and the model registry (DynamoDB).

Artifacts live under ``models/<model>/<version>/`` with a metadata.json; the registry holds
one item per version (sk ``v#<version>``) and the ``champion`` alias (sk ``alias#champion``),
which only conditional writes change.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from modelops.caches import process_cache
from modelops.domain.decisions import next_version, parse_version
from modelops.settings import settings
from modelops.stores import aws, layout, objects

CHAMPION = "champion"


class IntegrityError(RuntimeError):
    """An artifact's bytes do not match the sha256 recorded in the registry."""


class RegistryConflict(RuntimeError):
    """A conditional registry write lost a race: someone else changed it first."""


class UnknownVersion(LookupError):
    """The registry has no such model version (or no champion to resolve)."""


@dataclass(frozen=True)
class ModelVersion:
    model: str
    version: str
    run_id: str
    sha256: str
    schema_sha256: str
    artifact_key: str
    metadata_key: str
    created_at: str
    test_auc: float
    fast_sha256: str = ""  # the NumPy scorer (fast.npz) of the online path, if it passed deploy's check

    @property
    def fast_key(self) -> str:
        return layout.model_fast_key(self.model, self.version)

    @property
    def sort_key(self) -> tuple[int, int, int]:
        return parse_version(self.version)


def _table() -> Any:
    return aws.resource("dynamodb").Table(settings().registry_table)


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def schema_sha256(schema: dict[str, Any]) -> str:
    """Hash of the model's input interface: feature names, types and categories (not ranges)."""
    interface = [[f["name"], f["type"], f["categories"]] for f in schema["features"]]
    return sha256(json.dumps(interface).encode())


def _from_item(item: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        model=item["model"],
        version=item["version"],
        run_id=item["run_id"],
        sha256=item["sha256"],
        schema_sha256=item["schema_sha256"],
        artifact_key=item["artifact_key"],
        metadata_key=item["metadata_key"],
        created_at=item["created_at"],
        test_auc=float(item["test_auc"]),
        fast_sha256=item.get("fast_sha256", ""),
    )


def versions(model: str) -> list[ModelVersion]:
    """Every registered version of a model, oldest first."""
    items = _table().query(
        KeyConditionExpression=Key("model").eq(model) & Key("sk").begins_with("v#"),
        ConsistentRead=True,
    )["Items"]
    return sorted((_from_item(item) for item in items), key=lambda version: version.sort_key)


def get_version(model: str, version: str) -> ModelVersion:
    item = _table().get_item(Key={"model": model, "sk": f"v#{version}"}, ConsistentRead=True).get("Item")
    if item is None:
        raise UnknownVersion(f"model {model!r} has no version {version!r}")
    return _from_item(item)


def champion(model: str) -> str | None:
    item = _table().get_item(Key={"model": model, "sk": f"alias#{CHAMPION}"}, ConsistentRead=True).get("Item")
    return None if item is None else str(item["version"])


def publish(
    model: str, run_id: str, artifact: bytes, metadata: dict[str, Any], fast: bytes | None = None
) -> ModelVersion:
    """Store artifact (+ NumPy scorer) + metadata.json and register the version; a re-run
    returns the same version."""
    existing = versions(model)
    for registered in existing:
        if registered.run_id == run_id:
            return registered
    schema_hash = schema_sha256(metadata["feature_schema"])
    version = next_version([(v.version, v.schema_sha256) for v in existing], schema_hash)
    digest = sha256(artifact)
    record = ModelVersion(
        model=model,
        version=version,
        run_id=run_id,
        sha256=digest,
        schema_sha256=schema_hash,
        artifact_key=layout.model_artifact_key(model, version),
        metadata_key=layout.model_metadata_key(model, version),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        test_auc=float(metadata["metrics"]["test"]["roc_auc"]),
        fast_sha256="" if fast is None else sha256(fast),
    )
    objects.put_bytes(record.artifact_key, artifact)
    if fast is not None:
        objects.put_bytes(record.fast_key, fast)
    objects.put_json(
        record.metadata_key,
        {**metadata, "model": model, "version": version, "sha256": digest, "fast_sha256": record.fast_sha256},
    )
    item = {**record.__dict__, "sk": f"v#{version}", "test_auc": Decimal(str(record.test_auc))}
    try:
        _table().put_item(Item=item, ConditionExpression="attribute_not_exists(sk)")
    except aws.AwsError as error:
        if aws.is_conditional_failure(error):
            raise RegistryConflict(f"model {model!r} version {version} was registered concurrently") from None
        raise
    return record


def set_champion(model: str, version: str, expected: str | None) -> None:
    """Point the champion alias at ``version`` only if it still points at ``expected``."""
    condition = "attribute_not_exists(sk)" if expected is None else "version = :expected"
    values = {} if expected is None else {":expected": expected}
    try:
        _table().put_item(
            Item={
                "model": model,
                "sk": f"alias#{CHAMPION}",
                "version": version,
                "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            ConditionExpression=condition,
            **({"ExpressionAttributeValues": values} if values else {}),
        )
    except aws.AwsError as error:
        if aws.is_conditional_failure(error):
            raise RegistryConflict(
                f"champion of {model!r} changed while promoting {version} (expected {expected})"
            ) from None
        raise


def verified_artifact(record: ModelVersion, fast: bool = False) -> bytes:
    """The artifact's (or NumPy scorer's) bytes, only if their sha256 matches the registry."""
    key, expected = (record.fast_key, record.fast_sha256) if fast else (record.artifact_key, record.sha256)
    body = objects.get_bytes(key)
    if sha256(body) != expected:
        raise IntegrityError(
            f"model {record.model} {record.version}: {key.rsplit('/', 1)[-1]} sha256 {sha256(body)} does not "
            f"match the registry's {expected}"
        )
    return body


def resolve_version(model: str, pinned: str | None) -> ModelVersion:
    """The pinned version, or the champion."""
    version = pinned or champion(model)
    if version is None:
        raise UnknownVersion(f"model {model!r} has no champion to score with")
    return get_version(model, version)


def feature_schema(record: ModelVersion) -> dict[str, Any]:
    """The feature schema a version was trained with (from its metadata.json)."""
    schema: dict[str, Any] = objects.get_json(record.metadata_key)["feature_schema"]
    return schema


@process_cache(maxsize=4)
def load_estimator(record: ModelVersion) -> Any:
    """The deserialized model, verified against its sha256 first; loaded once per container."""
    import joblib

    return joblib.load(io.BytesIO(verified_artifact(record)))
