"""Deleting a deployed stack, including what `sam delete` cannot: CloudFormation refuses to
delete a bucket that holds objects, and the data bucket is versioned, so every object version
and delete marker goes first; the tables that bulk publications made at run time (named after
the stack's scores table, ``<table>-p-…``: stores/bulk_publication.py) are no resource of the
stack, so they are deleted here. Buckets the template retains (``DeletionPolicy: Retain``: the
access logs, an audit trail) are left, and named."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DELETE_BATCH = 1000  # S3 DeleteObjects' limit per request
ATTEMPTS = 3  # a bucket written to while it is emptied (late access logs) is emptied again


class TeardownError(RuntimeError):
    """The stack could not be deleted (it names the stack's status and reason)."""


@dataclass
class Teardown:
    stack: str
    emptied: dict[str, int] = field(default_factory=dict)  # bucket -> versions deleted
    retained: list[str] = field(default_factory=list)  # buckets the template keeps
    tables: list[str] = field(default_factory=list)  # publication tables made at run time, deleted
    deleted: bool = False


def _resources(cloudformation: Any, stack: str, kind: str) -> list[tuple[str, str]]:
    """The stack's resources of one type: (logical id, physical name)."""
    found = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] == kind and resource.get("PhysicalResourceId"):
                found.append((resource["LogicalResourceId"], resource["PhysicalResourceId"]))
    return found


def publication_tables(dynamodb: Any, stack_tables: list[str]) -> list[str]:
    """Tables named after one of the stack's tables as bulk publications name theirs."""
    from modelops.stores.bulk_publication import is_publication_table

    found: list[str] = []
    for page in dynamodb.get_paginator("list_tables").paginate():
        found += [n for n in page["TableNames"] if any(is_publication_table(n, t) for t in stack_tables)]
    return found


def _retained(cloudformation: Any, stack: str) -> set[str]:
    """Logical ids of the resources the stack's template retains on deletion."""
    from modelops_dev.sandbox.template import parse

    body = cloudformation.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    document = body if isinstance(body, dict) else parse(body, f"stack {stack}")
    resources = document.get("Resources", {})
    return {name for name, resource in resources.items() if resource.get("DeletionPolicy") == "Retain"}


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker of a bucket; returns how many. Each round
    lists the first page again (paging on while deleting would skip what moved up)."""
    deleted = 0
    while True:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=DELETE_BATCH)
        keys = [
            {"Key": entry["Key"], "VersionId": entry["VersionId"]}
            for kind in ("Versions", "DeleteMarkers")
            for entry in page.get(kind, [])
        ][:DELETE_BATCH]
        if not keys:
            return deleted
        response = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        if response.get("Errors"):
            error = response["Errors"][0]
            raise TeardownError(f"s3://{bucket}/{error['Key']}: {error['Code']}: {error['Message']}")
        deleted += len(keys)


def teardown(stack: str, region: str | None = None) -> Teardown:
    """Empty the stack's buckets (all but the retained ones), delete the stack and wait."""
    import boto3
    from botocore.exceptions import WaiterError

    cloudformation = boto3.client("cloudformation", region_name=region)
    s3 = boto3.client("s3", region_name=region)
    result = Teardown(stack)
    retained = _retained(cloudformation, stack)
    buckets = _resources(cloudformation, stack, "AWS::S3::Bucket")
    result.retained = [name for logical, name in buckets if logical in retained]
    dynamodb = boto3.client("dynamodb", region_name=region)
    stack_tables = [name for _, name in _resources(cloudformation, stack, "AWS::DynamoDB::Table")]
    for table in publication_tables(dynamodb, stack_tables):
        dynamodb.delete_table(TableName=table)
        result.tables.append(table)
    for attempt in range(ATTEMPTS):
        for logical, name in buckets:
            if logical not in retained:
                result.emptied[name] = result.emptied.get(name, 0) + empty_bucket(s3, name)
        cloudformation.delete_stack(StackName=stack)
        try:
            cloudformation.get_waiter("stack_delete_complete").wait(
                StackName=stack, WaiterConfig={"Delay": 10, "MaxAttempts": 180}
            )
        except WaiterError as error:  # the stack ended DELETE_FAILED (a bucket written to meanwhile)
            if attempt == ATTEMPTS - 1:
                raise TeardownError(f"stack {stack!r} was not deleted: {error}") from None
            continue
        result.deleted = True
        return result
    return result
