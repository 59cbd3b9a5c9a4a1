"""The online feature table (DynamoDB): each entity's batch features from the latest published
scoring run, joined with every online request. (A publication imported in bulk keeps each
entity's features in its own table, on the entity's item: stores/bulk_publication.py.)

Written by the scoring Map's chunks under the run's publication
(``<model>#<publication>#<entity>``), like the latest scores, and read through the same
``latest`` pointer, so the features an online request joins always come from the published
run; old publications expire by DynamoDB's TTL (``expires_at``).
"""

from __future__ import annotations

from typing import Any

from modelops.settings import settings
from modelops.stores import aws, latest
from modelops.stores.dynamo import item_value, plain


def _table() -> Any:
    return aws.table(settings().online_features_table)


def _key(model: str, publication: str, entity_id: str) -> dict[str, str]:
    return {"pk": f"{model}#{publication}#{entity_id}"}


def write(
    model: str,
    publication: str,
    as_of: str,
    entity_id: list[str],
    columns: dict[str, list[Any]],
    expires_at: int,
) -> int:
    with _table().batch_writer(overwrite_by_pkeys=["pk"]) as batch:
        for i, entity in enumerate(entity_id):
            batch.put_item(
                Item={
                    **_key(model, publication, entity),
                    "as_of": as_of,
                    "features": {name: item_value(values[i]) for name, values in columns.items()},
                    "expires_at": expires_at,
                }
            )
    return len(entity_id)


def read(model: str, entity_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Batch features of the given entities in the latest publication (absent ones are left out)."""
    return read_published(model, entity_ids)[1]


def read_published(model: str, entity_ids: list[str]) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """The latest publication's period (its as_of) and the batch features of the given
    entities in it (absent ones are left out)."""
    current = latest.pointer(model)
    if current is None:
        return None, {}
    found: dict[str, dict[str, Any]] = {}
    if current.table:  # an imported publication: the features are on the entity's own item
        table, prefix = current.table, ""
    else:
        table, prefix = settings().online_features_table, f"{model}#{current.publication}#"
    unique = list(dict.fromkeys(entity_ids))
    for start in range(0, len(unique), 100):
        keys = [{"pk": prefix + entity} for entity in unique[start : start + 100]]
        request: dict[str, Any] = {table: {"Keys": keys}}
        while request:
            response = aws.resource("dynamodb").batch_get_item(RequestItems=request)
            for item in response["Responses"].get(table, []):
                if "features" not in item:  # published without online features
                    continue
                found[item["pk"].removeprefix(prefix)] = {
                    name: plain(value) for name, value in item["features"].items()
                }
            request = response.get("UnprocessedKeys") or {}
    return current.as_of, found
