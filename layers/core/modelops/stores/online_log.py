"""The online score log (DynamoDB): every score the online API returned, one item per entity
and time. The ``ByPeriod`` index lists a model's online scores by the period of the batch
features they were joined with, for their validation and their copy into the score history."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from modelops.settings import settings
from modelops.stores import aws, dynamo
from modelops.stores.dynamo import decimal


def _table() -> Any:
    return aws.table(settings().online_scores_table)


def record(model: str, results: list[dict[str, Any]], period: str | None = None) -> None:
    """Store each result ({entity_id, score, model_version, scored_at}, and the features that
    were ``missing`` or ``outside`` training's range, for the skew check); entities of one
    request are distinct, so no two items share a key. ``period`` is the as_of of the batch
    features the scores were joined with."""
    with _table().batch_writer() as batch:
        for result in results:
            item = {
                "pk": f"{model}#{result['entity_id']}",
                "sk": result["scored_at"],
                "period": f"{model}#{period or 'none'}",
                "model": model,
                "entity_id": result["entity_id"],
                "score": decimal(result["score"]),
                "model_version": result["model_version"],
                "scored_at": result["scored_at"],
            }
            for flag in ("missing", "outside"):
                if result.get(flag):
                    item[flag] = list(result[flag])
            batch.put_item(Item=item)


def history(model: str, entity_id: str, limit: int) -> list[dict[str, Any]]:
    """The entity's most recent online scores, newest first."""
    items = _table().query(
        KeyConditionExpression=Key("pk").eq(f"{model}#{entity_id}"),
        ScanIndexForward=False,
        Limit=limit,
    )["Items"]
    return [
        {
            "entity_id": entity_id,
            "score": float(item["score"]),
            "model_version": item["model_version"],
            "scored_at": item["scored_at"],
            "source": "online",
        }
        for item in items
    ]


def of_period(model: str, period: str) -> list[dict[str, Any]]:
    """Every online score joined with the batch features of ``period``."""
    items = dynamo.query_all(
        _table(), IndexName="ByPeriod", KeyConditionExpression=Key("period").eq(f"{model}#{period}")
    )
    return [
        {
            "entity_id": item["entity_id"],
            "score": float(item["score"]),
            "model_version": item["model_version"],
            "scored_at": item["scored_at"],
            "missing": list(item.get("missing", [])),
            "outside": list(item.get("outside", [])),
        }
        for item in items
    ]
