"""The online feature table (DynamoDB): each entity's latest batch features, written by
deploy_scores and joined with every online request."""

from __future__ import annotations

from datetime import date
from typing import Any

from modelops.settings import settings
from modelops.stores import aws
from modelops.stores.dynamo import item_value, plain


def _table() -> Any:
    return aws.resource("dynamodb").Table(settings().online_features_table)


def write(model: str, as_of: date, entity_id: list[str], columns: dict[str, list[Any]]) -> int:
    with _table().batch_writer(overwrite_by_pkeys=["pk"]) as batch:
        for i, entity in enumerate(entity_id):
            batch.put_item(
                Item={
                    "pk": f"{model}#{entity}",
                    "as_of": as_of.isoformat(),
                    "features": {name: item_value(values[i]) for name, values in columns.items()},
                }
            )
    return len(entity_id)


def read(model: str, entity_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Batch features of the given entities (absent ones are left out)."""
    found: dict[str, dict[str, Any]] = {}
    table = settings().online_features_table
    unique = list(dict.fromkeys(entity_ids))
    for start in range(0, len(unique), 100):
        keys = [{"pk": f"{model}#{entity}"} for entity in unique[start : start + 100]]
        request: dict[str, Any] = {table: {"Keys": keys}}
        while request:
            response = aws.resource("dynamodb").batch_get_item(RequestItems=request)
            for item in response["Responses"].get(table, []):
                entity = item["pk"].split("#", 1)[1]
                found[entity] = {name: plain(value) for name, value in item["features"].items()}
            request = response.get("UnprocessedKeys") or {}
    return found
