"""What a sandbox holds: a snapshot of every object and item, a restore of one, a reset to
empty, and the change tracking that lets a restore skip what is already in place: after
nothing but reads it does nothing, and after nothing but writes of data (objects, items,
messages, executions) it puts back only the data, without creating every resource again."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelops_dev.sandbox import hooks
from modelops_dev.sandbox.constants import ACCOUNT, REGION

if TYPE_CHECKING:
    from modelops_dev.sandbox.core import Sandbox


@dataclass(frozen=True)
class Snapshot:
    """The stored state of a sandbox: bucket -> key -> bytes, table -> items (as moto's
    DynamoDB holds them: attribute -> {type: value}, binary values as bytes)."""

    objects: dict[str, dict[str, bytes]]
    items: dict[str, list[dict[str, Any]]]
    # Tables the code created at run time (a bulk publication's own table): how to create each,
    # and the finished imports that made them (DescribeImport answers for them on AWS too).
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    imports: dict[str, Any] = field(default_factory=dict)


EMPTY = Snapshot({}, {})  # what a sandbox holds right after a reset
READ_OPERATIONS = ("Get", "List", "Describe", "Head", "Query", "Scan", "BatchGet")
# Calls that write data, not resources (by service, as botocore names it). After only these
# and reads, a restore puts back the tables written, the buckets whose objects differ, and
# empties every queue, topic record and execution list; any other call that is not a read
# (a table created, a function's settings changed, an Athena query) makes it reset instead.
DATA_WRITES = {
    "s3": frozenset(
        {
            "PutObject",
            "DeleteObject",
            "DeleteObjects",
            "CopyObject",
            "CreateMultipartUpload",
            "UploadPart",
            "UploadPartCopy",
            "CompleteMultipartUpload",
            "AbortMultipartUpload",
        }
    ),
    "dynamodb": frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}),
    "sqs": frozenset(
        {
            "SendMessage",
            "SendMessageBatch",
            "ReceiveMessage",
            "DeleteMessage",
            "DeleteMessageBatch",
            "ChangeMessageVisibility",
            "ChangeMessageVisibilityBatch",
            "PurgeQueue",
        }
    ),
    "sns": frozenset({"Publish", "PublishBatch"}),
    "stepfunctions": frozenset({"StartExecution", "StopExecution"}),
    "lambda": frozenset({"Invoke"}),  # the sandbox runs the handler: its own calls are tracked
    "events": frozenset({"PutEvents"}),  # routed to targets by calls that are tracked
    "kms": frozenset({"Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext"}),
}


@dataclass
class Changes:
    """What the calls of this process wrote since the last reset or restore."""

    any: bool = True  # unknown until tracked: a sandbox starts as changed
    resources: bool = True  # a call other than a read or a data write
    tables: set[str] = field(default_factory=set)  # tables whose items were written


def _tables_written(operation: str, params: dict[str, Any]) -> list[str]:
    if operation == "BatchWriteItem":
        named = list(params.get("RequestItems", {}))
    elif operation == "TransactWriteItems":
        named = [next(iter(entry.values()))["TableName"] for entry in params.get("TransactItems", [])]
    else:
        named = [params["TableName"]] if "TableName" in params else []
    return [name.rsplit("/", 1)[-1] for name in named]  # a table may be named by its ARN


def reset(sandbox: Sandbox) -> None:
    """Forget everything stored (every service's state) and create the template's
    resources again: a fresh, empty sandbox in the same process."""
    from moto.moto_api import _internal

    from modelops import caches

    _internal.models.moto_api_backend.reset()
    caches.clear_all()
    sandbox.provision()
    sandbox.changes, sandbox._holds = Changes(any=False, resources=False), EMPTY


def snapshot(sandbox: Sandbox) -> Snapshot:
    """Every object of every bucket (its latest version) and every item of every table.
    Read from moto's stores, not through the AWS API: serialising a scan page by page made
    a snapshot cost as much as the pipeline run that built the state. Items are copied:
    moto keeps a set's list as it was given, and an ADD changes it in place."""
    s3, dynamodb = data_backends()
    objects = {
        bucket: {key: kept.value for key, kept in s3.get_bucket(bucket).keys.items() if is_object(kept)}
        for bucket in sandbox.names("AWS::S3::Bucket")
    }
    declared = sandbox.names("AWS::DynamoDB::Table")
    made = {name: table for name, table in dynamodb.tables.items() if name not in declared}
    items = {
        table: [copy.deepcopy(item.to_json()["Attributes"]) for item in dynamodb.get_table(table).all_items()]
        for table in [*declared, *made]
    }
    tables = {
        name: {
            "KeySchema": copy.deepcopy(table.schema),
            "AttributeDefinitions": copy.deepcopy(table.attr),
            "BillingMode": "PAY_PER_REQUEST",
            **(
                {"GlobalSecondaryIndexes": [_index(i.describe()) for i in table.global_indexes]}
                if table.global_indexes
                else {}
            ),
        }
        for name, table in made.items()
    }
    imports = {arn: made for arn, made in dynamodb.table_imports.items() if made.status != "IN_PROGRESS"}
    return Snapshot(objects, items, tables, imports)


def restore(sandbox: Sandbox, snapshot: Snapshot) -> None:
    """A fresh sandbox holding exactly what ``snapshot`` holds. Where changes are tracked
    (in this process, by an embedded sandbox), nothing is redone that is already in place:
    after only reads since the last reset or restore, a restore of the same snapshot only
    drops the library's caches (tests that read share one restored state) and one right
    after a reset does not reset again; after only writes of data, only data is put back
    (``_put_back``)."""
    from modelops import caches

    changes, holds = sandbox.changes, sandbox._holds
    if sandbox._tracking and holds is not None:
        if not changes.any and holds is snapshot:
            caches.clear_all()
            return
        if not changes.resources and _only_data(holds) and _only_data(snapshot) and _declared_only(sandbox):
            _put_back(sandbox, holds, snapshot, changes.tables)
            return
    if sandbox._tracking and not changes.any and holds is EMPTY:
        caches.clear_all()  # as the reset it skips would
    else:
        reset(sandbox)
    s3, dynamodb = data_backends()
    if snapshot.tables:
        import boto3

        client = boto3.client("dynamodb", region_name=REGION)
        for name, creation in snapshot.tables.items():
            client.create_table(TableName=name, **copy.deepcopy(creation))
    dynamodb.table_imports.update(snapshot.imports)  # finished: moto never changes them again
    for bucket, objects in snapshot.objects.items():
        for key, body in objects.items():
            s3.put_object(bucket, key, body)
    for table, items in snapshot.items.items():
        _put_items(dynamodb, table, items)
    sandbox.changes, sandbox._holds = Changes(any=False, resources=False), snapshot


def _only_data(snapshot: Snapshot) -> bool:
    """A state of the template's resources alone (no table made at run time, no import)."""
    return not snapshot.tables and not snapshot.imports


def _declared_only(sandbox: Sandbox) -> bool:
    """Only the template's tables and buckets exist (a table made behind the API, such as an
    import finishing in moto's thread after a reset, is left to a reset to remove)."""
    s3, dynamodb = data_backends()
    return set(dynamodb.tables) == set(sandbox.names("AWS::DynamoDB::Table")) and set(s3.buckets) == set(
        sandbox.names("AWS::S3::Bucket")
    )


def _put_items(dynamodb: Any, table: str, items: list[dict[str, Any]]) -> None:
    for item in items:
        dynamodb.put_item(table, copy.deepcopy(item))  # the snapshot stays as it was


def _put_back(sandbox: Sandbox, holds: Snapshot, snapshot: Snapshot, written: set[str]) -> None:
    """``snapshot`` in place of ``holds`` after only writes of data: the tables written (or
    different between the two) filled again, the objects of each bucket that differ from the
    snapshot's put again, every queue, topic record and execution list emptied, as a reset
    would leave them."""
    from modelops import caches

    caches.clear_all()
    s3, dynamodb = data_backends()
    for name in sandbox.names("AWS::DynamoDB::Table"):
        wanted = snapshot.items.get(name, [])
        if name in written or wanted != holds.items.get(name, []):
            table = dynamodb.get_table(name)
            table.items.clear()
            # The items grouped for index queries (speedups.dynamodb.queries_read_their_keys) are
            # dropped with them: a table left empty would answer from the old grouping.
            vars(table).pop("_modelops_groups", None)
            _put_items(dynamodb, name, wanted)
    for name in sandbox.names("AWS::S3::Bucket"):
        _objects_put_back(s3, s3.get_bucket(name), snapshot.objects.get(name, {}))
    _messages_dropped()
    sandbox.changes, sandbox._holds = Changes(any=False, resources=False), snapshot


def _objects_put_back(s3: Any, bucket: Any, wanted: dict[str, bytes]) -> None:
    """A bucket's objects made exactly ``wanted``: each key whose one version is not the
    wanted bytes (or that is not wanted) removed with every version, and put again."""
    for key in list(bucket.keys):
        versions = bucket.keys.getlist(key)
        if len(versions) == 1 and is_object(versions[0]) and wanted.get(key) == versions[0].value:
            continue
        for version in versions:
            if is_object(version):
                version.dispose()
        dict.__delitem__(bucket.keys, key)  # its own pop disposes delete markers too, and fails
    for upload in bucket.multiparts.values():
        upload.dispose()
    bucket.multiparts.clear()
    for key, body in wanted.items():
        if key not in bucket.keys:
            s3.put_object(bucket.name, key, body)


def _messages_dropped() -> None:
    """Every queue's messages, every topic's record of what it sent and every state
    machine's executions gone, as after a reset (each is cheap to empty: no need to know which
    were written)."""
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends
    from moto.stepfunctions.responses import get_backend

    for queue in sqs_backends[ACCOUNT][REGION].queues.values():
        queue._messages, queue._pending_messages, queue.deleted_messages = [], set(), set()
        queue.last_purged_at = None
    sns = sns_backends[ACCOUNT][REGION]
    for topic in sns.topics.values():
        topic.sent_notifications = []
    sns.sms_messages.clear()
    for machine in get_backend(ACCOUNT, REGION).state_machines:  # the executing engine's
        machine.executions = []


@contextmanager
def changes_tracked(sandbox: Sandbox) -> Iterator[None]:
    """Record in ``sandbox.changes`` every AWS call but a read (by operation name: Get, List,
    Describe, Head, Query, Scan, BatchGet) made by any client of this process: that it was
    made, whether it wrote more than data (``DATA_WRITES``) and the tables it wrote."""

    def before_parameter_build(params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        if operation.startswith(READ_OPERATIONS):
            return
        changes = sandbox.changes
        changes.any = True
        if operation not in DATA_WRITES.get(model.service_model.service_name, ()):
            changes.resources = True
        elif model.service_model.service_name == "dynamodb":
            changes.tables.update(_tables_written(operation, params))

    with hooks.every_client_hooked("before-parameter-build", before_parameter_build, "modelops-changes"):
        sandbox._tracking = True
        try:
            yield
        finally:
            sandbox._tracking = False


def _index(described: dict[str, Any]) -> dict[str, Any]:
    """A secondary index as CreateTable takes it (moto describes its status too)."""
    return {name: described[name] for name in ("IndexName", "KeySchema", "Projection")}


# ---------------------------------------------------------------------- moto's stores
def data_backends() -> tuple[Any, Any]:
    """moto's S3 and DynamoDB stores of the sandbox's account and region."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends

    return s3_backends[ACCOUNT]["aws"], dynamodb_backends[ACCOUNT][REGION]


def is_object(found: Any) -> bool:
    """A stored object's latest version, not a delete marker."""
    from moto.s3.models import FakeKey

    return isinstance(found, FakeKey)


def object_exists(bucket: str, key: str) -> bool:
    """Whether moto holds the object (read from its backend: no AWS call, nothing recorded)."""
    try:
        found = data_backends()[0].get_bucket(bucket).keys.get(key)
    except Exception:  # noqa: BLE001 - no such bucket: the object does not exist either
        return False
    return is_object(found)
