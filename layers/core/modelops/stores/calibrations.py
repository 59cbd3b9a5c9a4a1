"""A version's calibration and its test sample's performance per period
(``models/<model>/<version>/performance.json``): what estimated performance reads and what a
period in production is compared with. Written by train_model under the training run, copied
under the version by deploy_model; its sha256 is in the version's metadata.json, which the
registry's hash covers, so a changed copy is refused like a changed model.
"""

from __future__ import annotations

import json
from typing import Any

from modelops.domain.monitoring.calibration import Calibration
from modelops.stores import layout, objects, registry, version_objects

SHA256_FIELD = "performance_sha256"  # in the training summary, so in metadata.json


def encode(calibration: Calibration, reference: list[dict[str, Any]], campaign: dict[str, Any]) -> bytes:
    """The object's bytes: the calibration, each test period's measures, the campaign rule
    the precision was measured with."""
    document = {"calibration": calibration.to_dict(), "periods": reference, "campaign": campaign}
    return json.dumps(document, sort_keys=True).encode()


def keep(model: str, version: str, body: bytes) -> str:
    """Store a version's object (deploy_model, for the version its own run registered)."""
    return objects.put_bytes(layout.model_performance_key(model, version), body)


def load(record: registry.ModelVersion) -> dict[str, Any] | None:
    """The version's object, verified against the sha256 its metadata.json records (None for a
    version trained before versions kept them)."""
    return version_objects.load_verified(
        record, layout.model_performance_key(record.model, record.version), SHA256_FIELD
    )
