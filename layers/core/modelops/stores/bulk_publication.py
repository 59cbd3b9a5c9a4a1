"""Publication by bulk import: a large scoring run's latest scores and online features, one
item per entity, imported from S3 into a DynamoDB table of the publication's own (ImportTable),
which the ``latest`` pointer then names (stores/latest.py).

The scoring Map's chunks each stage one part (DynamoDB JSON, gzip) under the run's prefix;
deploy_scores starts one import of those parts and waits for it; the pointer flips only
after the import has brought in exactly the run's rows. An import consumes no write capacity
and costs about a 25th of the item-by-item writes it replaces (docs/scaling.md).

Items hold only what readers read: the key is the entity (the table is the publication's),
the score, the shard of the sparse ``TopScores`` index when the chunk indexed the row, and the
features map when the model has an online API. What every row shares (version, run, period)
lives on the pointer.

A re-run converges: the table is named by the publication and by its parts (their ETags: a
re-score that rewrote them imports into a table of its own), the import by a client token and
by a marker object written right after the call, so a crash before or after either resumes the
same import. (AWS keeps a token for 8 hours: a crash between ImportTable and the marker's write
re-run later than that finds the table made and fails by name until the table is deleted.)
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from modelops.settings import settings
from modelops.stores import aws, layout, objects
from modelops.stores.dynamo import decimal, item_value

INDEX = "TopScores"
# How long deploy_scores itself waits for an import before handing the wait to the state
# machine's retry of PublicationPending (a minute apart): a large import takes many minutes.
WAIT_SECONDS = 60.0


class PublicationPending(RuntimeError):
    """The publication's import is still running (the state machine retries later)."""


def table_name(model: str, publication: str, parts: str = "") -> str:
    """The publication's own table: the scores table's name (which IAM grants as a prefix),
    the model, and a digest of the publication (a run and version) and of its parts."""
    digest = hashlib.sha256(f"{publication}#{parts}".encode()).hexdigest()[:16]
    return f"{settings().scores_table}-p-{model}-{digest}"


def is_publication_table(name: str, scores_table: str) -> bool:
    """Whether a table is one a bulk publication made beside ``scores_table``."""
    return name.startswith(f"{scores_table}-p-") and len(name.rsplit("-", 1)[-1]) == 16


def staged_parts(run_id: str, chunks: int) -> str:
    """The digest of the run's parts, once only its chunks' parts are under the import's
    prefix: a part left by an earlier attempt with more chunks is deleted, or the import
    would bring in its rows too."""
    expected = {layout.publication_part_key(run_id, index) for index in range(chunks)}
    found = objects.list_etags(layout.publication_parts_prefix(run_id))
    for stale in sorted(set(found) - expected):
        objects.delete(stale)
        del found[stale]
    return hashlib.sha256(json.dumps(sorted(found.items())).encode()).hexdigest()


def staged_features(lines: list[str]) -> bytes:
    """A chunk's online features (``feature_lines``), staged for its part."""
    return gzip.compress("\n".join(lines).encode(), compresslevel=5, mtime=0)


def read_features(body: bytes) -> list[str]:
    text = gzip.decompress(body).decode()
    return text.split("\n") if text else []


# ---------------------------------------------------------------- the parts
def _attribute(value: Any) -> str:
    """One value as DynamoDB JSON (the import's format); NaN (missing) is NULL."""
    value = item_value(value)
    if value is None:
        return '{"NULL":true}'
    if isinstance(value, bool):
        return '{"BOOL":true}' if value else '{"BOOL":false}'
    if isinstance(value, int | Decimal):
        return f'{{"N":"{value}"}}'
    return f'{{"S":{json.dumps(value)}}}'


def feature_lines(columns: dict[str, Sequence[Any]], rows: int) -> list[str]:
    """Each row's online features as a DynamoDB JSON map (a chunk's transform stages them for
    its publication part)."""
    names = [json.dumps(name) for name in columns]
    encoded = [[_attribute(value) for value in values] for values in columns.values()]
    return [
        "{" + ",".join(f"{name}:{column[i]}" for name, column in zip(names, encoded, strict=True)) + "}"
        for i in range(rows)
    ]


def part(
    entity_id: np.ndarray,
    score: np.ndarray,
    shard: Sequence[int | None],
    features: Sequence[str] | None,
) -> bytes:
    """One chunk's items as the import reads them: gzip'd DynamoDB JSON, one item a line."""
    lines = []
    for i, (entity, value) in enumerate(zip(entity_id.tolist(), score.tolist(), strict=True)):
        fields = [f'"pk":{{"S":{json.dumps(entity)}}}', f'"score":{{"N":"{decimal(value)}"}}']
        if shard[i] is not None:
            fields.append(f'"top_pk":{{"S":"{shard[i]}"}}')
        if features is not None:
            fields.append(f'"features":{{"M":{features[i]}}}')
        lines.append('{"Item":{' + ",".join(fields) + "}}\n")
    # No timestamp in the header: a chunk re-run writes the same bytes, hence the same table.
    return gzip.compress("".join(lines).encode(), compresslevel=5, mtime=0)


# ---------------------------------------------------------------- the import
@dataclass(frozen=True)
class Imported:
    table: str
    arn: str
    status: str  # IN_PROGRESS, COMPLETED, FAILED, CANCELLING, CANCELLED
    imported: int
    errors: int
    message: str


def _creation(table: str) -> dict[str, Any]:
    return {
        "TableName": table,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "top_pk", "AttributeType": "S"},
            {"AttributeName": "score", "AttributeType": "N"},
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": INDEX,
                "KeySchema": [
                    {"AttributeName": "top_pk", "KeyType": "HASH"},
                    {"AttributeName": "score", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        # Encrypted at rest with the AWS owned key (DynamoDB's default): a managed KMS key
        # would need KMS grants for the importing function, and protects nothing more here.
    }


def _describe(table: str, arn: str) -> Imported:
    found = aws.client("dynamodb").describe_import(ImportArn=arn)["ImportTableDescription"]
    return Imported(
        table,
        arn,
        found["ImportStatus"],
        int(found.get("ImportedItemCount", 0)),
        int(found.get("ErrorCount", 0)),
        str(found.get("FailureMessage") or ""),
    )


def _marker(run_id: str) -> dict[str, Any]:
    """Which import the run started last (``table``, ``import_arn``) and how many failed."""
    key = layout.publication_import_key(run_id)
    return dict(objects.get_json(key)) if objects.exists(key) else {"failures": 0}


def marked_table(run_id: str) -> str | None:
    """The table the run's last import was started into, if any."""
    table = _marker(run_id).get("table")
    return None if table is None else str(table)


def start(run_id: str, table: str) -> Imported:
    """The import of the run's parts into ``table``: the one already started for this run
    (its marker), or a new one. Its client token makes a call repeated after a crash (before
    the marker was written) the same import."""
    marker = _marker(run_id)
    if marker.get("table") == table and marker.get("import_arn"):
        found = _describe(table, str(marker["import_arn"]))
        if found.status != "COMPLETED" or _exists(table):  # (a finished import's table only)
            return found
        marker = {"failures": int(marker["failures"]) + 1}  # retired since: import it again
    token = hashlib.sha256(f"{table}#{marker['failures']}".encode()).hexdigest()
    started = aws.client("dynamodb").import_table(
        ClientToken=token,
        S3BucketSource={
            "S3Bucket": settings().bucket,
            "S3KeyPrefix": layout.publication_parts_prefix(run_id),
        },
        InputFormat="DYNAMODB_JSON",
        InputCompressionType="GZIP",
        TableCreationParameters=_creation(table),
    )["ImportTableDescription"]
    objects.put_json(
        layout.publication_import_key(run_id), {**marker, "table": table, "import_arn": started["ImportArn"]}
    )
    return _describe(table, started["ImportArn"])


def wait(imported: Imported, seconds: float = WAIT_SECONDS) -> Imported:
    """Poll a running import for up to ``seconds``; still running then: PublicationPending
    (the state machine calls again later, rather than a function waiting out an import)."""
    deadline, pause = time.monotonic() + seconds, 0.01
    while imported.status == "IN_PROGRESS":
        if time.monotonic() >= deadline:
            raise PublicationPending(f"the import of {imported.table} is still running")
        time.sleep(pause)
        pause = min(pause * 1.5, 5.0)
        imported = _describe(imported.table, imported.arn)
    return imported


def _on_table(call: Callable[..., Any], table: str) -> bool:
    """Make a call on a table; False when the table does not exist."""
    try:
        call(TableName=table)
    except aws.AwsError as error:
        if aws.error_code(error) == "ResourceNotFoundException":
            return False
        raise
    return True


def _exists(table: str) -> bool:
    return _on_table(aws.client("dynamodb").describe_table, table)


def discard(run_id: str, table: str) -> None:
    """Forget a failed import: delete its table (if it was made) and count the failure, so a
    re-run imports afresh under a new client token."""
    delete_table(table)
    failures = int(_marker(run_id)["failures"]) + 1
    objects.put_json(layout.publication_import_key(run_id), {"failures": failures})


def delete_table(table: str) -> bool:
    """Delete a publication table; False when it is already gone."""
    return _on_table(aws.client("dynamodb").delete_table, table)
