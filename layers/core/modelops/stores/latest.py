"""The latest scores (DynamoDB): each entity's score from the model's latest published run.

A publication lives in one of two places, which the pointer names. A large run imports its
rows into a table of its own (stores/bulk_publication.py: one item per entity, keyed by it,
with its online features). A small run writes them item by item into the shared scores table,
as follows. A run's rows are written by the scoring Map's chunks, in parallel, under the run's own
publication (``<model>#<publication>#<entity>``); they become visible only when the model's
``latest`` pointer is flipped to the publication by one conditional write, so readers see the
previous run or the new one, never half of one. Rows carry ``expires_at`` and leave by
DynamoDB's TTL: no delete loops. The ``TopScores`` index is sparse: each chunk marks only its
own top rows (and every row at or above the campaign's floor), sharded, so top N is a handful
of small queries however many rows a run has.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from boto3.dynamodb.conditions import Attr, Key

from modelops.domain.publication import retired_tables
from modelops.settings import settings
from modelops.stores import aws, bulk_publication
from modelops.stores.dynamo import decimal

TOP_SHARDS = 8
_POINTER_SK = "_pointer"
_ROW_SK = "score"


class FlipLost(RuntimeError):
    """Another run moved the latest pointer between this run's decision and its flip."""


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
    table: str | None = None  # the publication's own table (imported), or the shared one
    scored_at: str = ""
    # Publication tables this pointer replaced, and when (epoch seconds): deleted once no
    # reader can still hold the pointer that named them (``retire``).
    superseded: dict[str, int] = field(default_factory=dict)


def _table() -> Any:
    return aws.table(settings().scores_table)


def shard(entity_id: str) -> int:
    return int(hashlib.blake2b(entity_id.encode(), digest_size=2).hexdigest(), 16) % TOP_SHARDS


def top_key(current: Publication, shard: int) -> str:
    """A shard's key in the TopScores index (a publication table holds one publication)."""
    return str(shard) if current.table else f"{current.model}#{current.publication}#{shard}"


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
                item["top_pk"] = f"{model}#{publication}#{shard(entity)}"
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
        table=item.get("table"),
        scored_at=item.get("scored_at", ""),
        superseded={name: int(since) for name, since in item.get("superseded", {}).items()},
    )


def flip(new: Publication, previous: Publication | None, now: datetime | None = None) -> None:
    """Make ``new`` the latest publication, only if the pointer still shows ``previous``; the
    table of ``previous`` (when it had one) joins the superseded tables, to be retired."""
    moment = now or datetime.now(UTC)
    condition = Attr("pk").not_exists() if previous is None else Attr("publication").eq(previous.publication)
    superseded = dict(previous.superseded) if previous is not None else {}
    if previous is not None and previous.table and previous.table != new.table:
        superseded[previous.table] = int(moment.timestamp())
    superseded.pop(new.table or "", None)  # a table back in service is no longer to retire
    fields = {k: v for k, v in new.__dict__.items() if k not in ("model", "table", "superseded") and v != ""}
    try:
        _table().put_item(
            Item={
                "pk": f"{new.model}#latest",
                "sk": _POINTER_SK,
                **fields,
                **({"table": new.table} if new.table else {}),
                "superseded": superseded,
                "published_at": moment.isoformat(timespec="seconds"),
            },
            ConditionExpression=condition,
        )
    except aws.AwsError as error:
        if aws.is_conditional_failure(error):
            raise FlipLost(
                f"the latest pointer of {new.model} moved while {new.publication} was published"
            ) from None
        raise


def holds(model: str, table: str) -> bool:
    """Whether the model's pointer names ``table``: as the latest, or superseded in its grace."""
    current = pointer(model)
    return current is not None and (current.table == table or table in current.superseded)


def retire(model: str, grace_seconds: int, now: datetime | None = None) -> list[str]:
    """Delete the superseded publication tables that no reader can still hold (replaced at
    least ``grace_seconds`` ago) and drop them from the pointer; the tables deleted."""
    current = pointer(model)
    if current is None:
        return []
    moment = int((now or datetime.now(UTC)).timestamp())
    gone = [t for t in retired_tables(current.superseded, moment, grace_seconds) if t != current.table]
    for table in gone:
        bulk_publication.delete_table(table)
    if gone:
        names = {f"#t{i}": table for i, table in enumerate(gone)}
        try:
            _table().update_item(
                Key={"pk": f"{model}#latest", "sk": _POINTER_SK},
                UpdateExpression="REMOVE " + ", ".join(f"superseded.{name}" for name in names),
                ConditionExpression=Attr("publication").eq(current.publication),
                ExpressionAttributeNames=names,
            )
        except aws.AwsError as error:  # flipped meanwhile: the next retire drops them
            if not aws.is_conditional_failure(error):
                raise
    return gone


def _from_item(item: dict[str, Any], current: Publication) -> Score:
    if current.table:  # an imported item: what every row shares is on the pointer
        return Score(
            entity_id=item["pk"],
            score=float(item["score"]),
            model_version=current.model_version,
            run_id=current.run_id,
            as_of=current.as_of,
            scored_at=current.scored_at,
        )
    return Score(
        entity_id=item["entity_id"],
        score=float(item["score"]),
        model_version=item["model_version"],
        run_id=item["run_id"],
        as_of=item["as_of"],
        scored_at=item["scored_at"],
    )


def where(current: Publication) -> tuple[Any, Callable[[str], dict[str, str]]]:
    """The table that holds a publication's rows, and the key of an entity's row in it."""
    if current.table:
        return aws.table(current.table), lambda entity: {"pk": entity}
    return _table(), lambda entity: row_key(current.model, current.publication, entity)


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
    table, _ = where(current)
    found: list[Score] = []
    for shard in range(TOP_SHARDS):
        condition = Key("top_pk").eq(top_key(current, shard))
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
            found.extend(_from_item(item, current) for item in page["Items"])
            if n is not None or "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    ranked = sorted(found, key=lambda s: (-s.score, s.entity_id))
    return ranked if n is None else ranked[:n]


def get(model: str, entity_id: str) -> Score | None:
    current = pointer(model)
    if current is None:
        return None
    table, key = where(current)
    item = table.get_item(Key=key(entity_id)).get("Item")
    return None if item is None else _from_item(item, current)
