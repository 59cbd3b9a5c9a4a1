"""The latest scores (DynamoDB): each entity's score from the model's latest published run.

A run's rows are written by the scoring Map's chunks, in parallel, under the run's own
publication (``<model>#<publication>#<entity>``); they become visible only when the model's
``latest`` pointer is flipped to the publication by one conditional write, so readers see the
previous run or the new one, never half of one. Rows carry ``expires_at`` and leave by
DynamoDB's TTL: no delete loops. The ``TopScores`` index is sparse: each chunk marks only its
own top rows (and every row at or above the campaign's floor), sharded, so top N is a handful
of small queries however many rows a run has.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from boto3.dynamodb.conditions import Attr, Key

from modelops.settings import settings
from modelops.stores import aws
from modelops.stores.dynamo import decimal

TOP_SHARDS = 8
_POINTER_SK = "_pointer"
_ROW_SK = "score"


class TooManyForTheIndex(ValueError):
    """A top-N question beyond the rows each chunk indexed."""


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
    top_candidates: int  # top N is exact up to this N


def _table() -> Any:
    return aws.resource("dynamodb").Table(settings().scores_table)


def _shard(entity_id: str) -> int:
    return int(hashlib.blake2b(entity_id.encode(), digest_size=2).hexdigest(), 16) % TOP_SHARDS


def publication_id(run_id: str, model_version: str) -> str:
    return f"{run_id}@{model_version}"


def row_key(model: str, publication: str, entity_id: str) -> dict[str, str]:
    return {"pk": f"{model}#{publication}#{entity_id}", "sk": _ROW_SK}


def expiry(keep_days: int, now: datetime | None = None) -> int:
    """The TTL attribute's value (epoch seconds) of rows written now."""
    return int((now or datetime.now(UTC)).timestamp()) + keep_days * 86_400


def indexed_rows(score: np.ndarray, top: int, floor: float | None) -> np.ndarray:
    """Which of a chunk's rows the top-N index holds: its ``top`` highest scores (the global top
    N is among the chunks' top N) and every score at or above ``floor``."""
    marked = np.zeros(score.size, dtype=bool)
    if score.size:
        marked[np.argsort(-score, kind="stable")[:top]] = True
    if floor is not None:
        marked |= score >= floor
    return marked


def write_rows(
    model: str,
    publication: str,
    run_id: str,
    as_of: str,
    model_version: str,
    entity_id: np.ndarray,
    score: np.ndarray,
    indexed: np.ndarray,
    scored_at: str,
    expires_at: int,
) -> int:
    """One chunk's rows of a publication (not visible until the pointer flips to it)."""
    with _table().batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
        for entity, value, marked in zip(entity_id.tolist(), score.tolist(), indexed.tolist(), strict=True):
            item = {
                **row_key(model, publication, entity),
                "entity_id": entity,
                "score": decimal(value),
                "model_version": model_version,
                "run_id": run_id,
                "as_of": as_of,
                "scored_at": scored_at,
                "expires_at": expires_at,
            }
            if marked:
                item["top_pk"] = f"{model}#{publication}#{_shard(entity)}"
            batch.put_item(Item=item)
    return int(entity_id.size)


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
        top_candidates=int(item.get("top_candidates", 0)),
    )


def flip(new: Publication, previous: Publication | None) -> None:
    """Make ``new`` the latest publication, only if the pointer still shows ``previous``."""
    condition = Attr("pk").not_exists() if previous is None else Attr("publication").eq(previous.publication)
    fields = {k: v for k, v in new.__dict__.items() if k != "model"}
    _table().put_item(
        Item={
            "pk": f"{new.model}#latest",
            "sk": _POINTER_SK,
            **fields,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        ConditionExpression=condition,
    )


def _from_item(item: dict[str, Any]) -> Score:
    return Score(
        entity_id=item["entity_id"],
        score=float(item["score"]),
        model_version=item["model_version"],
        run_id=item["run_id"],
        as_of=item["as_of"],
        scored_at=item["scored_at"],
    )


def top(model: str, n: int | None, min_score: float | None = None) -> list[Score]:
    """The latest run's highest scores (N of each shard, merged), optionally at or above a
    floor; ties go to the smaller entity id so the answer is stable."""
    current = pointer(model)
    if current is None:
        return []
    if n is not None and n > current.top_candidates:
        raise TooManyForTheIndex(
            f"top {n} is more than the {current.top_candidates} rows each chunk indexed "
            "(spec scoring.top_candidates)"
        )
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
    item = _table().get_item(Key=row_key(model, current.publication, entity_id)).get("Item")
    return None if item is None else _from_item(item)
