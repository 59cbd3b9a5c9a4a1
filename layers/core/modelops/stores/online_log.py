"""The online score log (DynamoDB): every score the online API returned, one item per entity
and time, with an index by model and day for the periodic validation of online scores."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from modelops.settings import settings
from modelops.stores import aws
from modelops.stores.dynamo import decimal


def _table() -> Any:
    return aws.resource("dynamodb").Table(settings().online_scores_table)


def record(model: str, results: list[dict[str, Any]]) -> None:
    """Store each result ({entity_id, score, model_version, scored_at}); entities of one
    request are distinct, so no two items share a key."""
    with _table().batch_writer() as batch:
        for result in results:
            batch.put_item(
                Item={
                    "pk": f"{model}#{result['entity_id']}",
                    "sk": result["scored_at"],
                    "day": f"{model}#{result['scored_at'][:10]}",
                    "model": model,
                    "entity_id": result["entity_id"],
                    "score": decimal(result["score"]),
                    "model_version": result["model_version"],
                    "scored_at": result["scored_at"],
                }
            )


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
