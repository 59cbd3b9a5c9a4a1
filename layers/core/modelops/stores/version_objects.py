"""JSON objects kept beside a version's model (``performance.json``, ``metrics.json``): each is
written by train_model, copied under the version by deploy_model, and verified on reading
against the sha256 the version's metadata.json records (which the registry's hash covers), so a
changed copy is refused like a changed model."""

from __future__ import annotations

import json
from typing import Any

from modelops.stores import objects, registry


def load_verified(record: registry.ModelVersion, key: str, sha256_field: str) -> dict[str, Any] | None:
    """The object at ``key`` of the version, verified against its metadata's ``sha256_field``
    (None for a version trained before versions kept one)."""
    expected = registry.verified_metadata(record).get(sha256_field)
    if not expected:
        return None
    body = objects.get_bytes(key)
    if (found := registry.sha256(body)) != expected:
        name = key.rsplit("/", 1)[-1]
        raise registry.IntegrityError(
            f"model {record.model} {record.version}: {name} sha256 {found} "
            f"does not match its metadata's {expected}"
        )
    document: dict[str, Any] = json.loads(body)
    return document
