"""The model store (S3) and the model registry (DynamoDB).

Artifacts live under ``models/<model>/<version>/``; the registry holds one item per version
(``v#<version>``), the ``champion`` alias (``alias#champion``) and an audit row per champion or
status change (``audit#<time>#<version>``). A version is allocated by a conditional write only
one publisher can win before its files are written; its row then changes only its status
(registered, rejected, retired). Every object a scorer loads is checked against the sha256 the
row records, and no retired version serves. The alias and a status change each move in one
transaction with their audit row, conditional on what the caller saw and on the other: a
retired version never becomes the champion, the champion is never retired.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from modelops.caches import process_cache
from modelops.domain.model.versions import next_version, parse_version
from modelops.domain.spec import ModelSpec, parse_spec
from modelops.settings import settings
from modelops.stores import aws, dynamo, layout, objects

CHAMPION = "champion"
ALLOCATING, REGISTERED, REJECTED, RETIRED = "allocating", "registered", "rejected", "retired"
ALLOCATION_ATTEMPTS = 10


class IntegrityError(RuntimeError):
    """An artifact's bytes do not match the sha256 recorded in the registry."""


class RegistryConflict(RuntimeError):
    """A conditional registry write lost a race: someone else changed it first."""


class UnknownVersion(LookupError):
    """The registry has no such model version (or no champion to resolve)."""


class NotAllowed(ValueError):
    """A registry operation the version's status rules out (e.g. a retired champion)."""


class RetiredVersion(NotAllowed):
    """The version is retired: it never serves (online, batch, shadow) nor becomes the champion."""


class ChampionMoved(RegistryConflict):
    """The champion alias no longer points where the caller saw it."""


@dataclass(frozen=True)
class ModelVersion:
    model: str
    version: str
    run_id: str
    status: str
    sha256: str
    schema_sha256: str
    metadata_sha256: str
    artifact_key: str
    metadata_key: str
    created_at: str
    test_auc: float
    trained_through: str  # the end of the training window (ISO date)
    fast_sha256: str = ""  # the NumPy scorer (fast.npz) of the online path, if it passed deploy's check
    recipe_sha256: str = ""  # the spec it was trained with (recipe.yaml); empty for older versions

    @property
    def fast_key(self) -> str:
        return layout.model_fast_key(self.model, self.version)

    @property
    def recipe_key(self) -> str:
        return layout.model_recipe_key(self.model, self.version)

    @property
    def sort_key(self) -> tuple[int, int, int]:
        return parse_version(self.version)

    @property
    def window_end(self) -> date:
        return date.fromisoformat(self.trained_through)


def _table() -> Any:
    return aws.table(settings().registry_table)


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
        status=item.get("status", ALLOCATING),
        sha256=item.get("sha256", ""),
        schema_sha256=item.get("schema_sha256", ""),
        metadata_sha256=item.get("metadata_sha256", ""),
        artifact_key=item.get("artifact_key", ""),
        metadata_key=item.get("metadata_key", ""),
        created_at=item["created_at"],
        test_auc=float(item.get("test_auc", 0)),
        trained_through=item.get("trained_through", ""),
        fast_sha256=item.get("fast_sha256", ""),
        recipe_sha256=item.get("recipe_sha256", ""),
    )


def _all_versions(model: str) -> list[ModelVersion]:
    items = dynamo.query_all(
        _table(),
        KeyConditionExpression=Key("model").eq(model) & Key("sk").begins_with("v#"),
        ConsistentRead=True,
    )
    return sorted((_from_item(item) for item in items), key=lambda version: version.sort_key)


def versions(model: str) -> list[ModelVersion]:
    """Every registered version of a model (any status but half-published), oldest first."""
    return [v for v in _all_versions(model) if v.status != ALLOCATING]


def get_version(model: str, version: str) -> ModelVersion:
    item = _table().get_item(Key={"model": model, "sk": f"v#{version}"}, ConsistentRead=True).get("Item")
    if item is None or item.get("status", ALLOCATING) == ALLOCATING:
        raise UnknownVersion(f"model {model!r} has no version {version!r}")
    return _from_item(item)


def servable(model: str, version: str) -> ModelVersion:
    """A version that may score: registered (or rejected, for an operator's pin), never retired.
    Every path that loads a version to score with reads it through here."""
    record = get_version(model, version)
    if record.status == RETIRED:
        raise RetiredVersion(f"model {model!r} version {version} is retired: it never serves again")
    return record


def champion(model: str) -> str | None:
    item = _table().get_item(Key={"model": model, "sk": f"alias#{CHAMPION}"}, ConsistentRead=True).get("Item")
    return None if item is None else str(item["version"])


def _allocate(model: str, run_id: str, schema_hash: str) -> str:
    """Claim the next free version number for this run (a conditional write; retried when
    another publisher takes the same number first)."""
    for _ in range(ALLOCATION_ATTEMPTS):
        existing = _all_versions(model)
        version = next_version([(v.version, v.schema_sha256 or schema_hash) for v in existing], schema_hash)
        try:
            _table().put_item(
                Item={
                    "model": model,
                    "sk": f"v#{version}",
                    "version": version,
                    "run_id": run_id,
                    "status": ALLOCATING,
                    "schema_sha256": schema_hash,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                },
                ConditionExpression="attribute_not_exists(sk)",
            )
        except aws.AwsError as error:
            if aws.is_conditional_failure(error):
                continue  # someone took this number: try the next one
            raise
        return version
    raise RegistryConflict(
        f"model {model!r}: no version could be allocated in {ALLOCATION_ATTEMPTS} attempts"
    )


def publish(
    model: str,
    run_id: str,
    artifact: bytes,
    metadata: dict[str, Any],
    fast: bytes | None = None,
    status: str = REGISTERED,
    recipe: bytes | None = None,
) -> ModelVersion:
    """Register a trained model: allocate its version, write its files (the artifact, the NumPy
    scorer, the spec it was trained with, its metadata) under that version's keys, complete its
    row. A retry of the same run resumes its own allocation; the same bytes already registered
    (by any run) return that version."""
    digest = sha256(artifact)
    existing = _all_versions(model)
    for known in existing:
        if known.status != ALLOCATING and (known.run_id == run_id or known.sha256 == digest):
            return known
    schema_hash = schema_sha256(metadata["feature_schema"])
    mine = [v for v in existing if v.run_id == run_id and v.status == ALLOCATING]
    version = mine[0].version if mine else _allocate(model, run_id, schema_hash)
    artifact_key = layout.model_artifact_key(model, version)
    metadata_key = layout.model_metadata_key(model, version)
    fast_digest = "" if fast is None else sha256(fast)
    recipe_digest = "" if recipe is None else sha256(recipe)
    objects.put_bytes(artifact_key, artifact)
    if fast is not None:
        objects.put_bytes(layout.model_fast_key(model, version), fast)
    if recipe is not None:
        objects.put_bytes(layout.model_recipe_key(model, version), recipe)
    described = {
        **metadata,
        "model": model,
        "version": version,
        "sha256": digest,
        "fast_sha256": fast_digest,
        "recipe_sha256": recipe_digest,
    }
    metadata_bytes = json.dumps(described, indent=2, sort_keys=True, default=str).encode()
    objects.put_bytes(metadata_key, metadata_bytes)
    fields = {
        "sha256": digest,
        "metadata_sha256": sha256(metadata_bytes),
        "fast_sha256": fast_digest,
        "recipe_sha256": recipe_digest,
        "artifact_key": artifact_key,
        "metadata_key": metadata_key,
        "test_auc": Decimal(str(float(metadata["metrics"]["test"]["roc_auc"]))),
        "trained_through": str(metadata["training_window"]["end"]),
        "status": status,
    }
    names = {f"#{name}": name for name in fields}
    try:
        _table().update_item(
            Key={"model": model, "sk": f"v#{version}"},
            UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in fields),
            ConditionExpression="run_id = :run AND #status = :allocating",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                **{f":{k}": v for k, v in fields.items()},
                ":run": run_id,
                ":allocating": ALLOCATING,
            },
        )
    except aws.AwsError as error:
        if aws.is_conditional_failure(error):
            raise RegistryConflict(
                f"model {model!r} version {version} is no longer this run's to complete"
            ) from None
        raise
    return get_version(model, version)


def _audit_item(model: str, kind: str, version: str, detail: dict[str, Any]) -> dict[str, Any]:
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    return {
        "model": model,
        "sk": f"audit#{at}#{version}",
        "kind": kind,
        "version": version,
        "at": at,
        "detail": json.dumps(detail, sort_keys=True, default=str),
    }


def _key(model: str, sk: str) -> dict[str, Any]:
    return {"model": {"S": model}, "sk": {"S": sk}}


def _transact(model: str, items: list[dict[str, Any]], audit: tuple[str, str, dict[str, Any]]) -> list[bool]:
    """Write ``items`` and an audit row (kind, version, detail) in one DynamoDB transaction:
    [] when done, else which items failed their condition (then nothing was written)."""
    row = {k: {"S": v} for k, v in _audit_item(model, *audit).items()}
    items = [*items, {"Put": {"Item": row}}]
    for item in items:
        next(iter(item.values()))["TableName"] = settings().registry_table
    try:
        aws.client("dynamodb").transact_write_items(TransactItems=items)
    except aws.AwsError as error:
        if aws.error_code(error) != "TransactionCanceledException":
            raise
        reasons = error.response.get("CancellationReasons") or [{} for _ in items]
        return [reason.get("Code") == "ConditionalCheckFailed" for reason in reasons]
    return []


def change_champion(
    model: str,
    version: str,
    expected: str | None,
    *,
    kind: str,
    reason: str,
    caller: str,
    evidence: Any = None,
) -> None:
    """Point the champion alias at ``version`` only if it still points at ``expected`` and the
    version is registered or rejected (never retired), in one transaction with the audit row
    (who, when, why, from, to): else ``ChampionMoved``, ``RetiredVersion`` or ``UnknownVersion``."""
    alias: dict[str, Any] = {
        "Item": {
            **_key(model, f"alias#{CHAMPION}"),
            "version": {"S": version},
            "updated_at": {"S": datetime.now(UTC).isoformat(timespec="seconds")},
        },
        "ConditionExpression": "attribute_not_exists(sk)",
    }
    if expected is not None:
        alias["ConditionExpression"] = "version = :expected"
        alias["ExpressionAttributeValues"] = {":expected": {"S": expected}}
    status = {
        "Key": _key(model, f"v#{version}"),
        "ConditionExpression": "#status IN (:registered, :rejected)",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":registered": {"S": REGISTERED}, ":rejected": {"S": REJECTED}},
    }
    detail = {"from": expected, "to": version, "reason": reason, "caller": caller, "evidence": evidence}
    failed = _transact(model, [{"ConditionCheck": status}, {"Put": alias}], (kind, version, detail))
    if failed and failed[0]:
        servable(model, version)  # UnknownVersion or RetiredVersion, by name
    if failed:
        raise ChampionMoved(
            f"champion of {model!r} not changed to {version}: it no longer points at {expected} "
            f"(now {champion(model)})"
        )


def note(model: str, kind: str, version: str, detail: dict[str, Any]) -> None:
    """An audit row of its own (e.g. a candidate the promotion gate rejected)."""
    _table().put_item(Item=_audit_item(model, kind, version, detail))


def set_status(model: str, version: str, status: str, *, reason: str, caller: str) -> None:
    """Change a version's status (the one field that changes) in one transaction with its audit
    row; retiring is conditional on the alias not pointing at the version, so a retire racing a
    promote of the same version never leaves a retired champion."""
    current = get_version(model, version)
    change = {
        "Key": _key(model, f"v#{version}"),
        "UpdateExpression": "SET #status = :new",
        "ConditionExpression": "#status = :old",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":new": {"S": status}, ":old": {"S": current.status}},
    }
    not_champion = {
        "Key": _key(model, f"alias#{CHAMPION}"),
        "ConditionExpression": "attribute_not_exists(sk) OR version <> :version",
        "ExpressionAttributeValues": {":version": {"S": version}},
    }
    checks = [{"ConditionCheck": not_champion}] if status == RETIRED else []
    detail = {"from_status": current.status, "to_status": status, "reason": reason, "caller": caller}
    failed = _transact(model, [*checks, {"Update": change}], (status, version, detail))
    if checks and failed and failed[0]:
        raise NotAllowed(f"{model} {version} is the champion: promote or roll back to another version first")
    if failed:
        raise RegistryConflict(f"{model} {version} changed status meanwhile")


def audit(model: str) -> list[dict[str, Any]]:
    """Every champion and status change of a model, oldest first."""
    query = Key("model").eq(model) & Key("sk").begins_with("audit#")
    items = dynamo.query_all(_table(), KeyConditionExpression=query, ConsistentRead=True)
    return [
        {"kind": i["kind"], "version": i["version"], "at": i["at"], **json.loads(i["detail"])} for i in items
    ]


def _verified(key: str, expected: str, record: ModelVersion) -> bytes:
    body = objects.get_bytes(key)
    if sha256(body) != expected:
        raise IntegrityError(
            f"model {record.model} {record.version}: {key.rsplit('/', 1)[-1]} sha256 {sha256(body)} does not "
            f"match the registry's {expected}"
        )
    return body


def verified_artifact(record: ModelVersion, fast: bool = False) -> bytes:
    """The artifact's (or NumPy scorer's) bytes, only if their sha256 matches the registry."""
    if fast:
        return _verified(record.fast_key, record.fast_sha256, record)
    return _verified(record.artifact_key, record.sha256, record)


def recipe_text(record: ModelVersion) -> str | None:
    """The spec the version was trained with, verified (None for a version registered before
    versions kept their recipe)."""
    if not record.recipe_sha256:
        return None
    return _verified(record.recipe_key, record.recipe_sha256, record).decode()


@process_cache(maxsize=16)
def recipe(record: ModelVersion) -> ModelSpec | None:
    """The version's recipe, parsed (once per container)."""
    text = recipe_text(record)
    return None if text is None else parse_spec(text, source=record.recipe_key)


def scoring_spec(record: ModelVersion, current: ModelSpec) -> ModelSpec:
    """How a version is scored today: its recipe under ``current``'s operational sections
    (a version from before recipes were kept: ``current`` whole)."""
    kept = recipe(record)
    return current if kept is None else kept.operated_by(current)


def verified_metadata(record: ModelVersion) -> dict[str, Any]:
    """metadata.json (feature schema: category order, ranges), only if it is the one registered."""
    document: dict[str, Any] = json.loads(_verified(record.metadata_key, record.metadata_sha256, record))
    return document


def feature_schema(record: ModelVersion) -> dict[str, Any]:
    """The feature schema a version was trained with (verified against the registry)."""
    schema: dict[str, Any] = verified_metadata(record)["feature_schema"]
    return schema


def resolve_version(model: str, pinned: str | None) -> ModelVersion:
    """The version to score with: the pinned one, or the champion; never a retired one."""
    version = pinned or champion(model)
    if version is None:
        raise UnknownVersion(f"model {model!r} has no champion to score with")
    return servable(model, version)


def challenger(model: str) -> ModelVersion | None:
    """The newest version that is neither the champion nor retired (the shadow to score)."""
    current = champion(model)
    candidates = [v for v in versions(model) if v.version != current and v.status != RETIRED]
    return candidates[-1] if candidates else None


@process_cache(maxsize=4)
def load_estimator(record: ModelVersion) -> Any:
    """The deserialized model, verified against its sha256 first; loaded once per container."""
    import joblib

    return joblib.load(io.BytesIO(verified_artifact(record)))
