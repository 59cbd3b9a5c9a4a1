"""A version's figures on its test sample (``models/<model>/<version>/metrics.json``): the ROC
and precision-recall curves, reliability, the score distribution, lift and gain by decile,
permutation importance and the campaign rule's precision, recall and volume
(``domain/model/figures.py``). Written by train_model under the training run, copied under the
version by deploy_model; its sha256 is in the version's metadata.json, which the registry's
hash covers, so a changed copy is refused like a changed model. Plain JSON (no NaN) for any
tool.
"""

from __future__ import annotations

import json
from typing import Any

from modelops.domain.model.figures import json_ready
from modelops.stores import layout, objects, registry

NAME = "metrics.json"
SHA256_FIELD = "metrics_sha256"  # in the training summary, so in metadata.json


def encode(document: dict[str, Any]) -> bytes:
    """The object's bytes: strict JSON, every undefined figure null."""
    return json.dumps(json_ready(document), indent=1, sort_keys=True, allow_nan=False).encode()


def keep(model: str, version: str, body: bytes) -> str:
    """Store a version's object (deploy_model, for the version its own run registered)."""
    return objects.put_bytes(layout.model_metrics_key(model, version), body)


def load(record: registry.ModelVersion) -> dict[str, Any] | None:
    """The version's figures, verified against the sha256 its metadata.json records (None for a
    version trained before versions kept them)."""
    expected = registry.verified_metadata(record).get(SHA256_FIELD)
    if not expected:
        return None
    body = objects.get_bytes(layout.model_metrics_key(record.model, record.version))
    if registry.sha256(body) != expected:
        raise registry.IntegrityError(
            f"model {record.model} {record.version}: {NAME} sha256 {registry.sha256(body)} "
            f"does not match its metadata's {expected}"
        )
    document: dict[str, Any] = json.loads(body)
    return document
