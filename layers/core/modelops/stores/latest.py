"""The latest scores (DynamoDB): each entity's score from the model's newest published run.

Published blue/green: a run's rows are written under their own partition
(``<model>#<publication>``) and become visible only when the model's ``latest`` pointer is
flipped by one conditional write, so readers see the previous run or the new one, never
half of one. The top-N index is sharded (``<model>#<publication>#<shard>``) so that a large
run's writes do not land on one hot index partition; top N merges N from each shard.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from boto3.dynamodb.conditions import Attr, Key

from modelops.settings import settings
from modelops.stores import aws
from modelops.stores.dynamo import decimal

TOP_SHARDS = 8
_POINTER_SK = "_pointer"


@dataclass(frozen=True)
class Score:
    entity_id: str
    score: float
    model_version: str
    run_id: str
    as_of: str
    scored_at: str
    source: str = "batch"


@dataclass(frozen=True)
class Publication:
    model: str
    publication: str
    run_id: str
    as_of: str
    model_version: str
    rows: int


def _table() -> Any:
    return aws.resource("dynamodb").Table(settings().scores_table)


def _shard(entity_id: str) -> int:
    return int(hashlib.blake2b(entity_id.encode(), digest_size=2).hexdigest(), 16) % TOP_SHARDS


def pointer(model: str) -> Publication | None:
    item = (
        _table().get_item(Key={"pk": f"{model}#latest", "sk": _POINTER_SK}, ConsistentRead=True).get("Item")
    )
    if item is None:
        return None
    return Publication(
        model=model,
        publication=item["publication"],
        run_id=item["run_id"],
        as_of=item["as_of"],
        model_version=item["model_version"],
        rows=int(item["rows"]),
    )


def publication_id(run_id: str, model_version: str) -> str:
    return f"{run_id}@{model_version}"


def publish(
    model: str,
    run_id: str,
    as_of: date,
    model_version: str,
    entity_id: np.ndarray,
    score: np.ndarray,
    scored_at: datetime,
) -> Publication:
    """Write the run's rows under their own partition, then flip the pointer to them."""
    publication = publication_id(run_id, model_version)
    partition = f"{model}#{publication}"
    stamp = scored_at.isoformat(timespec="seconds")
    with _table().batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
        for entity, value in zip(entity_id.tolist(), score.tolist(), strict=True):
            batch.put_item(
                Item={
                    "pk": partition,
                    "sk": entity,
                    "top_pk": f"{partition}#{_shard(entity)}",
                    "score": decimal(value),
                    "model_version": model_version,
                    "run_id": run_id,
                    "as_of": as_of.isoformat(),
                    "scored_at": stamp,
                    "source": "batch",
                }
            )
    previous = pointer(model)
    new = Publication(model, publication, run_id, as_of.isoformat(), model_version, int(entity_id.size))
    if previous is not None and previous.publication == publication:
        return new
    condition = Attr("pk").not_exists() if previous is None else Attr("publication").eq(previous.publication)
    _table().put_item(
        Item={
            "pk": f"{model}#latest",
            "sk": _POINTER_SK,
            **{k: v for k, v in new.__dict__.items() if k != "model"},
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        ConditionExpression=condition,
    )
    if previous is not None:
        _delete_partition(f"{model}#{previous.publication}")
    return new


def _delete_partition(partition: str) -> None:
    table = _table()
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(partition),
        "ProjectionExpression": "pk, sk",
    }
    with table.batch_writer() as batch:
        while True:
            page = table.query(**kwargs)
            for item in page["Items"]:
                batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _from_item(item: dict[str, Any]) -> Score:
    return Score(
        entity_id=item["sk"],
        score=float(item["score"]),
        model_version=item["model_version"],
        run_id=item["run_id"],
        as_of=item["as_of"],
        scored_at=item["scored_at"],
        source=item.get("source", "batch"),
    )


def top(model: str, n: int | None, min_score: float | None = None) -> list[Score]:
    """The latest run's highest scores (N of each shard, merged), optionally above a floor;
    ties go to the smaller entity id so the answer is stable."""
    current = pointer(model)
    if current is None:
        return []
    table = _table()
    found: list[Score] = []
    for shard in range(TOP_SHARDS):
        condition = Key("top_pk").eq(f"{model}#{current.publication}#{shard}")
        if min_score is not None:
            condition &= Key("score").gte(decimal(min_score))
        kwargs: dict[str, Any] = {
            "IndexName": "TopScores",
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
        }
        while True:
            if n is not None:
                kwargs["Limit"] = n
            page = table.query(**kwargs)
            found.extend(_from_item(item) for item in page["Items"])
            if n is not None or "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    ranked = sorted(found, key=lambda s: (-s.score, s.entity_id))
    return ranked if n is None else ranked[:n]


def get(model: str, entity_id: str) -> Score | None:
    current = pointer(model)
    if current is None:
        return None
    item = _table().get_item(Key={"pk": f"{model}#{current.publication}", "sk": entity_id}).get("Item")
    return None if item is None else _from_item(item)
