"""Model store (S3) and registry (DynamoDB).

Artifacts live at ``models/<model>/<version>/`` with a metadata.json; the registry holds
one item per version (sk ``v#<version>``) and the ``champion`` alias (sk ``alias#champion``),
which only conditional writes change.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from modelops import aws, store
from modelops.settings import settings

CHAMPION = "champion"


class IntegrityError(RuntimeError):
    """An artifact's bytes do not match the sha256 recorded in the registry."""


class RegistryConflict(RuntimeError):
    """A conditional registry write lost a race: someone else changed it first."""


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
        return self.artifact_key.rsplit("/", 1)[0] + "/fast.npz"

    @property
    def sort_key(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.version.split("."))


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
        raise LookupError(f"model {model!r} has no version {version!r}")
    return _from_item(item)


def champion(model: str) -> str | None:
    item = _table().get_item(Key={"model": model, "sk": f"alias#{CHAMPION}"}, ConsistentRead=True).get("Item")
    return None if item is None else str(item["version"])


def next_version(model: str, schema_hash: str) -> str:
    """Semantic version: a new feature schema is a new major, a retrain on the same schema a minor."""
    existing = versions(model)
    if not existing:
        return "1.0.0"
    major, minor, _ = existing[-1].sort_key
    if existing[-1].schema_sha256 != schema_hash:
        return f"{major + 1}.0.0"
    return f"{major}.{minor + 1}.0"


def publish(
    model: str, run_id: str, artifact: bytes, metadata: dict[str, Any], fast: bytes | None = None
) -> ModelVersion:
    """Store artifact (+ NumPy scorer) + metadata.json and register the version; a re-run
    returns the same version."""
    for existing in versions(model):
        if existing.run_id == run_id:
            return existing
    schema_hash = schema_sha256(metadata["feature_schema"])
    version = next_version(model, schema_hash)
    prefix = f"models/{model}/{version}/"
    digest = sha256(artifact)
    record = ModelVersion(
        model=model,
        version=version,
        run_id=run_id,
        sha256=digest,
        schema_sha256=schema_hash,
        artifact_key=prefix + "model.joblib",
        metadata_key=prefix + "metadata.json",
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        test_auc=float(metadata["metrics"]["test"]["roc_auc"]),
        fast_sha256="" if fast is None else sha256(fast),
    )
    store.put_bytes(record.artifact_key, artifact)
    if fast is not None:
        store.put_bytes(record.fast_key, fast)
    store.put_json(
        record.metadata_key,
        {**metadata, "model": model, "version": version, "sha256": digest, "fast_sha256": record.fast_sha256},
    )
    item = {**record.__dict__, "sk": f"v#{version}", "test_auc": Decimal(str(record.test_auc))}
    try:
        _table().put_item(Item=item, ConditionExpression="attribute_not_exists(sk)")
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
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
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise RegistryConflict(
                f"champion of {model!r} changed while promoting {version} (expected {expected})"
            ) from None
        raise


def verified_artifact(record: ModelVersion, fast: bool = False) -> bytes:
    """The artifact's (or NumPy scorer's) bytes, only if their sha256 matches the registry."""
    key, expected = (record.fast_key, record.fast_sha256) if fast else (record.artifact_key, record.sha256)
    body = store.get_bytes(key)
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
        raise LookupError(f"model {model!r} has no champion to score with")
    return get_version(model, version)


@functools.lru_cache(maxsize=4)
def load_estimator(record: ModelVersion) -> Any:
    """The deserialized model, verified against its sha256 first; loaded once per container."""
    import joblib

    return joblib.load(io.BytesIO(verified_artifact(record)))
