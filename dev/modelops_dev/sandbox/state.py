"""What a sandbox holds: a snapshot of every object and item, a restore of one, a reset to
empty, and the change tracking that lets a restore skip what is already in place."""

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


def reset(sandbox: Sandbox) -> None:
    """Forget everything stored (every service's state) and create the template's
    resources again: a fresh, empty sandbox in the same process."""
    from moto.moto_api import _internal

    from modelops import caches

    _internal.models.moto_api_backend.reset()
    caches.clear_all()
    sandbox.provision()
    sandbox.changed, sandbox._holds = False, EMPTY


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
    (in this process, by an embedded sandbox) and only reads were made since the last
    reset or restore, nothing is redone that is already in place: a restore of the
    snapshot last restored only drops the library's caches (tests that read share one
    restored state), and one right after a reset does not reset again."""
    from modelops import caches

    unchanged = sandbox._tracking and not sandbox.changed
    if unchanged and sandbox._holds is snapshot:
        caches.clear_all()
        return
    if unchanged and sandbox._holds is EMPTY:
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
        for item in items:
            dynamodb.put_item(table, copy.deepcopy(item))  # the snapshot stays as it was
    sandbox.changed, sandbox._holds = False, snapshot


@contextmanager
def changes_tracked(sandbox: Sandbox) -> Iterator[None]:
    """Set ``sandbox.changed`` on every AWS call but a read (by operation name: Get, List,
    Describe, Head, Query, Scan, BatchGet), made by any client of this process."""

    def before_call(model: Any, **_: Any) -> None:
        if not model.name.startswith(READ_OPERATIONS):
            sandbox.changed = True

    with hooks.every_client_hooked("before-call", before_call, "modelops-changes"):
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
