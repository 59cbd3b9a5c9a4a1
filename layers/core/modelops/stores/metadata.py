"""The decile metadata table (DynamoDB): profiles of every validation stage, and the alerts.

Logical view: one row per (model, stage, metric, decile, value, timestamp). Stored as one
item per (model, stage, metric, timestamp) holding every decile, so a metric's history is
one Query and a re-run overwrites the same items instead of adding rows. A model's alerts
are items under ``<model>#alerts``; its incidents (a tampered file the online API refused, a
stored spec the dispatcher cannot read) under ``<model>#incidents``, one per kind and
fingerprint, so each is alerted once.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Context, Decimal
from typing import Any

import numpy as np
from boto3.dynamodb.conditions import Key

from modelops.domain.monitoring.profiles import Profile
from modelops.domain.monitoring.reference import Observation
from modelops.settings import settings
from modelops.stores import aws, dynamo

_DECIMAL = Context(prec=15)


def _table() -> Any:
    return aws.table(settings().metadata_table)


# (metric, timestamp) -> the drift flags of that period and the band each value was tested against
Judged = dict[tuple[str, date], tuple[list[str], dict[str, tuple[float, float, float]]]]


def write_profiles(
    model: str, stage: str, run_id: str, profiles: list[Profile], judged: Judged | None = None
) -> int:
    """Each profile as its (model, stage, metric, timestamp) item, with the drift flags and
    bands ``judged`` gives it, so a period is written once, flags and all."""
    judged = judged or {}
    with _table().batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
        for profile in profiles:
            flags, bands = judged.get((profile.metric, profile.timestamp), (None, None))
            batch.put_item(
                Item={
                    "pk": f"{model}#{stage}",
                    "sk": f"{profile.metric}#{profile.timestamp.isoformat()}",
                    "model": model,
                    "stage": stage,
                    "metric": profile.metric,
                    "timestamp": profile.timestamp.isoformat(),
                    "run_id": run_id,
                    "values": {
                        name: _stored(value) for name, value in profile.values.items() if math.isfinite(value)
                    },
                    **({} if profile.sample is None else {"sample": profile.sample.astype("<f4").tobytes()}),
                    **({} if flags is None else {"flags": flags, "bands": json.dumps(bands or {})}),
                }
            )
    return len(profiles)


def _stored(value: float) -> Decimal:
    return _DECIMAL.create_decimal_from_float(value)


def as_stored(profile: Profile, run_id: str) -> Observation:
    """The observation ``read_observations`` gives back for a profile once written without
    flags: its values to 15 significant digits, its sample as float32."""
    return Observation(
        timestamp=profile.timestamp,
        values={
            name: float(_stored(value)) for name, value in profile.values.items() if math.isfinite(value)
        },
        sample=None if profile.sample is None else profile.sample.astype("<f4").astype(np.float64),
        run_id=run_id,
    )


def _items(model: str, partition: str, **projection: Any) -> list[dict[str, Any]]:
    return dynamo.query_all(
        _table(), KeyConditionExpression=Key("pk").eq(f"{model}#{partition}"), **projection
    )


# Every attribute an observation reads but its sample (the report draws no sample).
_NO_SAMPLE = {
    "ProjectionExpression": "#metric, #timestamp, #values, flags, bands, run_id",
    "ExpressionAttributeNames": {"#metric": "metric", "#timestamp": "timestamp", "#values": "values"},
}


def read_metric(model: str, stage: str, metric: str) -> list[Observation]:
    """One metric's history at a stage, oldest first (one Query on its sort-key prefix)."""
    items = dynamo.query_all(
        _table(),
        KeyConditionExpression=Key("pk").eq(f"{model}#{stage}") & Key("sk").begins_with(f"{metric}#"),
    )
    return _observations(items).get(metric, [])


def read_observations(model: str, stage: str, samples: bool = True) -> dict[str, list[Observation]]:
    """Every metric's history at a stage, oldest first, with earlier flags and (unless not
    wanted: they are most of an item's size) samples."""
    return _observations(_items(model, stage, **({} if samples else _NO_SAMPLE)))


def _observations(items: list[dict[str, Any]]) -> dict[str, list[Observation]]:
    periods: dict[str, list[Observation]] = {}
    for item in items:
        sample = item.get("sample")
        periods.setdefault(item["metric"], []).append(
            Observation(
                timestamp=date.fromisoformat(item["timestamp"]),
                values={name: float(value) for name, value in item["values"].items()},
                sample=None
                if sample is None
                else np.frombuffer(bytes(sample), dtype="<f4").astype(np.float64),
                flags=tuple(item.get("flags", [])),
                bands={
                    name: (float(expected), float(low), float(high))
                    for name, (expected, low, high) in json.loads(item.get("bands", "{}")).items()
                },
                run_id=str(item.get("run_id", "")),
            )
        )
    for history in periods.values():
        history.sort(key=lambda period: period.timestamp)
    return periods


def set_flags(
    model: str,
    stage: str,
    metric: str,
    timestamp: date,
    flags: list[str],
    bands: dict[str, tuple[float, float, float]] | None = None,
) -> None:
    """A period's drift flags, and the band (expected, low, high) each value was tested against."""
    _table().update_item(
        Key={"pk": f"{model}#{stage}", "sk": f"{metric}#{timestamp.isoformat()}"},
        UpdateExpression="SET flags = :flags, bands = :bands",
        ExpressionAttributeValues={":flags": flags, ":bands": json.dumps(bands or {})},
    )


def record_alert(model: str, timestamp: date, run_id: str, fingerprint: str, alert: dict[str, Any]) -> None:
    _table().put_item(
        Item={
            "pk": f"{model}#alerts",
            "sk": f"{timestamp.isoformat()}#{run_id}",
            "model": model,
            "fingerprint": fingerprint,
            "alert": json.dumps(alert),
        }
    )


def record_incident(model: str, kind: str, fingerprint: str, detail: str) -> bool:
    """Record an incident once: True the first time this (kind, fingerprint) is seen, by any
    container (a conditional write), so it is alerted once."""
    try:
        _table().put_item(
            Item={
                "pk": f"{model}#incidents",
                "sk": f"{kind}#{fingerprint}",
                "model": model,
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "detail": detail,
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except aws.AwsError as error:
        if aws.is_conditional_failure(error):
            return False
        raise
    return True


def incidents(model: str) -> list[dict[str, Any]]:
    """Every incident of a model (kind#fingerprint, when, what)."""
    return [
        {"incident": item["sk"], "at": item["at"], "detail": item["detail"]}
        for item in _items(model, "incidents")
    ]


def forget_incident(model: str, kind: str, fingerprint: str) -> None:
    """Forget an incident whose alert could not be sent, so the next attempt sends it."""
    _table().delete_item(Key={"pk": f"{model}#incidents", "sk": f"{kind}#{fingerprint}"})


def alerts(model: str) -> list[dict[str, Any]]:
    """Every drift alert of a model, oldest first."""
    items = _items(model, "alerts")
    return [{"fingerprint": item["fingerprint"], **json.loads(item["alert"])} for item in items]


def read_rows(model: str, stage: str) -> list[dict[str, Any]]:
    """The logical view: rows of (model, stage, metric, decile, value, timestamp)."""
    return [
        {
            "model": item["model"],
            "stage": item["stage"],
            "metric": item["metric"],
            "decile": decile,
            "value": float(value),
            "timestamp": date.fromisoformat(item["timestamp"]),
        }
        for item in _items(model, stage)
        for decile, value in item["values"].items()
    ]
