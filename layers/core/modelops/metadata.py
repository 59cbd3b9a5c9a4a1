"""The decile metadata table (DynamoDB).

Logical view: one row per (model, stage, metric, decile, value, timestamp). Stored as one
item per (model, stage, metric, timestamp) holding every decile, so a metric's history is
one Query and a re-run overwrites the same items instead of adding rows.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Context
from typing import Any

from boto3.dynamodb.conditions import Key

from modelops import aws
from modelops.settings import settings
from modelops.validation import Profile

_DECIMAL = Context(prec=15)


def _table() -> Any:
    return aws.resource("dynamodb").Table(settings().metadata_table)


def write_profiles(model: str, stage: str, run_id: str, profiles: list[Profile]) -> int:
    with _table().batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
        for profile in profiles:
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
                        name: _DECIMAL.create_decimal_from_float(value)
                        for name, value in profile.values.items()
                        if math.isfinite(value)
                    },
                }
            )
    return len(profiles)


def read_rows(model: str, stage: str, metric: str | None = None) -> list[dict[str, Any]]:
    """The logical view: rows of (model, stage, metric, decile, value, timestamp)."""
    condition = Key("pk").eq(f"{model}#{stage}")
    if metric is not None:
        condition &= Key("sk").begins_with(f"{metric}#")
    rows = []
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition}
    while True:
        page = _table().query(**kwargs)
        for item in page["Items"]:
            for decile, value in item["values"].items():
                rows.append(
                    {
                        "model": item["model"],
                        "stage": item["stage"],
                        "metric": item["metric"],
                        "decile": decile,
                        "value": float(value),
                        "timestamp": date.fromisoformat(item["timestamp"]),
                    }
                )
        if "LastEvaluatedKey" not in page:
            return rows
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
