"""The score tables: the full history in S3 (Parquet, queryable by Athena through Glue) and
the latest scores in DynamoDB.

Latest scores are published blue/green: a run's rows are written under their own partition
(``<model>#<publication>``) and become visible only when the model's ``latest`` pointer is
flipped by one conditional write, so readers see the previous run or the new one, never
half of one. The top-N index is sharded (``<model>#<publication>#<shard>``) so that a large
run's writes do not land on one hot index partition; top N merges N from each shard.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from boto3.dynamodb.conditions import Attr, Key

from modelops import aws, store
from modelops.settings import settings

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


def history_key(model: str, as_of: date) -> str:
    return f"scores/model={model}/as_of={as_of.isoformat()}/batch.parquet"


def write_history(
    model: str,
    as_of: date,
    entity_id: np.ndarray,
    score: np.ndarray,
    model_version: str,
    run_id: str,
    scored_at: datetime,
) -> str:
    """One Parquet object per (model, as_of): one PUT, so readers see all of it or none,
    and a re-run of the same run replaces it."""
    from modelops.data import connect

    rows = entity_id.size
    history_rows = {  # noqa: F841 - DuckDB scans this local by name
        "entity_id": entity_id.astype(str),
        "score": score.astype(np.float64),
        "model_version": np.full(rows, model_version),
        "run_id": np.full(rows, run_id),
        "as_of": np.full(rows, np.datetime64(as_of, "us")),
        "scored_at": np.full(rows, np.datetime64(scored_at.replace(tzinfo=None), "us")),
        "source": np.full(rows, "batch"),
    }
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "scores.parquet"
        with connect() as connection:
            query = "SELECT * FROM history_rows ORDER BY entity_id"
            connection.execute(f"COPY ({query}) TO '{output}' (FORMAT parquet, COMPRESSION zstd)")
        return store.upload_file(output, history_key(model, as_of))


def read_history(model: str, entity_id: str | None = None) -> list[dict[str, Any]]:
    """Rows of the score history (locally; on AWS, Athena queries the same objects)."""
    from modelops.data import connect

    keys = store.list_keys(f"scores/model={model}/")
    if not keys:
        return []
    with tempfile.TemporaryDirectory() as scratch:
        files = [str(store.download_file(key, Path(scratch) / key)) for key in keys]
        with connect() as connection:
            where, params = ("WHERE entity_id = $entity", {"entity": entity_id}) if entity_id else ("", {})
            result = connection.execute(
                f"SELECT * FROM read_parquet({files!r}) {where} ORDER BY as_of, entity_id", params
            )
            columns = [column[0] for column in result.description]
            rows = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
    return rows


def _shard(entity_id: str) -> int:
    return int(hashlib.blake2b(entity_id.encode(), digest_size=2).hexdigest(), 16) % TOP_SHARDS


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


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


def publish_latest(
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
                    "score": _decimal(value),
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
            condition &= Key("score").gte(_decimal(min_score))
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


def latest(model: str, entity_id: str) -> Score | None:
    current = pointer(model)
    if current is None:
        return None
    item = _table().get_item(Key={"pk": f"{model}#{current.publication}", "sk": entity_id}).get("Item")
    return None if item is None else _from_item(item)


def _online_table() -> Any:
    return aws.resource("dynamodb").Table(settings().online_features_table)


def _item_value(value: Any) -> Any:
    if isinstance(value, float):
        return None if value != value else _decimal(value)  # NaN is missing
    if isinstance(value, np.generic):
        return _item_value(value.item())
    if isinstance(value, int | bool | str) or value is None:
        return value
    return str(value)


def write_online_features(
    model: str, as_of: date, entity_id: list[str], columns: dict[str, list[Any]]
) -> int:
    """The latest batch features of each entity, for the online API to join with a request."""
    with _online_table().batch_writer(overwrite_by_pkeys=["pk"]) as batch:
        for i, entity in enumerate(entity_id):
            batch.put_item(
                Item={
                    "pk": f"{model}#{entity}",
                    "as_of": as_of.isoformat(),
                    "features": {name: _item_value(values[i]) for name, values in columns.items()},
                }
            )
    return len(entity_id)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    return value


def online_features(model: str, entity_ids: list[str]) -> dict[str, dict[str, Any]]:
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
                found[entity] = {name: _plain(value) for name, value in item["features"].items()}
            request = response.get("UnprocessedKeys") or {}
    return found


def record_online(model: str, results: list[dict[str, Any]]) -> None:
    """Online scores join the score tables with source=online (one item per entity x time)."""
    with _table().batch_writer() as batch:
        for result in results:
            batch.put_item(
                Item={
                    "pk": f"{model}#online#{result['entity_id']}",
                    "sk": result["scored_at"],
                    "score": _decimal(result["score"]),
                    "model_version": result["model_version"],
                    "scored_at": result["scored_at"],
                    "source": "online",
                }
            )


def online_history(model: str, entity_id: str, limit: int) -> list[dict[str, Any]]:
    items = _table().query(
        KeyConditionExpression=Key("pk").eq(f"{model}#online#{entity_id}"),
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
