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
from modelops.stores import layout, objects, registry, version_objects

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
    return version_objects.load_verified(
        record, layout.model_metrics_key(record.model, record.version), SHA256_FIELD
    )
