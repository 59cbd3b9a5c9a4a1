"""How AWS authorizes an API call: each operation the sandbox's principals make, mapped to
the IAM action(s) and resource ARN(s) AWS checks it as (``requests_for``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    """One authorization request: an action on a resource, with its condition keys."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()

    def key(self, name: str) -> str | None:
        return dict(self.context).get(name)


class Unmapped(Exception):
    """An AWS operation this module cannot yet translate into IAM terms."""


def _s3(operation: str, params: Mapping[str, Any], region: str, account: str) -> list[Request]:
    bucket = str(params.get("Bucket", ""))
    bucket_arn = f"arn:aws:s3:::{bucket}"
    object_arn = f"{bucket_arn}/{params.get('Key', '')}"
    versioned = "VersionId" in params
    if operation in ("GetObject", "HeadObject"):
        return [Request("s3:GetObjectVersion" if versioned else "s3:GetObject", object_arn)]
    if operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        return [Request("s3:PutObject", object_arn)]
    if operation == "AbortMultipartUpload":
        return [Request("s3:AbortMultipartUpload", object_arn)]
    if operation == "DeleteObject":
        return [Request("s3:DeleteObjectVersion" if versioned else "s3:DeleteObject", object_arn)]
    if operation == "DeleteObjects":
        return [
            Request("s3:DeleteObject", f"{bucket_arn}/{item['Key']}")
            for item in params.get("Delete", {}).get("Objects", [])
        ]
    if operation == "CopyObject":
        source = params["CopySource"]
        source_arn = (
            f"arn:aws:s3:::{source['Bucket']}/{source['Key']}"
            if isinstance(source, dict)
            else f"arn:aws:s3:::{str(source).lstrip('/').split('?')[0]}"
        )
        return [Request("s3:GetObject", source_arn), Request("s3:PutObject", object_arn)]
    if operation in ("ListObjectsV2", "ListObjects", "HeadBucket"):
        prefix = str(params.get("Prefix", ""))
        return [Request("s3:ListBucket", bucket_arn, (("s3:prefix", prefix),))]
    if operation == "ListObjectVersions":
        prefix = str(params.get("Prefix", ""))
        return [Request("s3:ListBucketVersions", bucket_arn, (("s3:prefix", prefix),))]
    if operation == "GetBucketLocation":
        return [Request("s3:GetBucketLocation", bucket_arn)]
    raise Unmapped(f"s3:{operation}")


_DYNAMODB_TRANSACT = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _dynamodb(operation: str, params: Mapping[str, Any], region: str, account: str) -> list[Request]:
    def table(name: str, index: str | None = None) -> str:
        arn = name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Request(f"dynamodb:{operation}", table(name)) for name in params.get("RequestItems", {})]
    if operation == "TransactWriteItems":
        return [
            Request(f"dynamodb:{_DYNAMODB_TRANSACT[kind]}", table(body["TableName"]))
            for item in params.get("TransactItems", [])
            for kind, body in item.items()
        ]
    if operation == "TransactGetItems":
        return [
            Request("dynamodb:GetItem", table(item["Get"]["TableName"]))
            for item in params.get("TransactItems", [])
        ]
    if "TableName" in params:
        return [Request(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")))]
    if operation == "ImportTable":  # DynamoDB reads the source with the caller's credentials
        source = params["S3BucketSource"]
        bucket_arn, prefix = f"arn:aws:s3:::{source['S3Bucket']}", str(source.get("S3KeyPrefix", ""))
        return [
            Request("dynamodb:ImportTable", table(params["TableCreationParameters"]["TableName"])),
            Request("s3:ListBucket", bucket_arn, (("s3:prefix", prefix),)),
            Request("s3:GetObject", f"{bucket_arn}/{prefix}*"),
        ]
    if operation == "DescribeImport":
        return [Request("dynamodb:DescribeImport", str(params["ImportArn"]))]
    raise Unmapped(f"dynamodb:{operation}")


def _sqs(operation: str, params: Mapping[str, Any], region: str, account: str) -> list[Request]:
    if "QueueUrl" in params:
        parts = urlsplit(str(params["QueueUrl"])).path.strip("/").split("/")
        queue_account, name = parts[-2], parts[-1]
        action = "SendMessage" if operation == "SendMessageBatch" else operation
        return [Request(f"sqs:{action}", f"arn:aws:sqs:{region}:{queue_account}:{name}")]
    if operation == "GetQueueUrl":
        return [Request("sqs:GetQueueUrl", f"arn:aws:sqs:{region}:{account}:{params['QueueName']}")]
    raise Unmapped(f"sqs:{operation}")


def _sns(operation: str, params: Mapping[str, Any], region: str, account: str) -> list[Request]:
    topic = params.get("TopicArn") or params.get("TargetArn")
    if topic:
        return [Request(f"sns:{operation}", str(topic))]
    raise Unmapped(f"sns:{operation}")


def _events(operation: str, params: Mapping[str, Any], region: str, account: str) -> list[Request]:
    if operation == "PutEvents":
        buses = {str(entry.get("EventBusName") or "default") for entry in params.get("Entries", [])}
        return [
            Request(
                "events:PutEvents",
                bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{bus}",
            )
            for bus in sorted(buses)
        ]
    raise Unmapped(f"events:{operation}")


def _lambda(operation: str, params: Mapping[str, Any], region: str, account: str) -> list[Request]:
    if operation in ("Invoke", "InvokeAsync"):
        name = str(params["FunctionName"])
        arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
        return [Request("lambda:InvokeFunction", arn)]
    raise Unmapped(f"lambda:{operation}")


def _states(operation: str, params: Mapping[str, Any], region: str, account: str) -> list[Request]:
    for parameter in ("stateMachineArn", "executionArn", "mapRunArn"):
        if parameter in params:
            return [Request(f"states:{operation}", str(params[parameter]))]
    raise Unmapped(f"states:{operation}")


def _athena_workgroup(params: Mapping[str, Any], region: str, account: str) -> str:
    """The workgroup a query runs in: named at the start, looked up in moto for the rest."""
    name = params.get("WorkGroup")
    if name is None and "QueryExecutionId" in params:
        from moto.athena.models import athena_backends

        execution = athena_backends[account][region].executions.get(str(params["QueryExecutionId"]))
        name = execution.workgroup.name if execution is not None and execution.workgroup else "primary"
    return f"arn:aws:athena:{region}:{account}:workgroup/{name or 'primary'}"


def _athena(operation: str, params: Mapping[str, Any], region: str, account: str) -> list[Request]:
    if operation in ("StartQueryExecution", "GetQueryExecution", "GetQueryResults", "StopQueryExecution"):
        return [Request(f"athena:{operation}", _athena_workgroup(params, region, account))]
    raise Unmapped(f"athena:{operation}")


def _glue(operation: str, params: Mapping[str, Any], region: str, account: str) -> list[Request]:
    """Glue authorizes a table call on the catalog, the database and the table."""
    catalog = f"arn:aws:glue:{region}:{account}:catalog"
    database = params.get("DatabaseName") or params.get("Name")
    if operation in ("GetTable", "GetPartitions", "GetPartition", "CreateTable", "UpdateTable"):
        table = params.get("Name") or params.get("TableName")
        arns = (
            catalog,
            f"arn:aws:glue:{region}:{account}:database/{params['DatabaseName']}",
            f"arn:aws:glue:{region}:{account}:table/{params['DatabaseName']}/{table}",
        )
        return [Request(f"glue:{operation}", arn) for arn in arns]
    if operation == "GetDatabase":
        return [
            Request("glue:GetDatabase", arn)
            for arn in (catalog, f"arn:aws:glue:{region}:{account}:database/{database}")
        ]
    raise Unmapped(f"glue:{operation}")


_MAPPERS: dict[str, Callable[[str, Mapping[str, Any], str, str], list[Request]]] = {
    "s3": _s3,
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "sns": _sns,
    "events": _events,
    "lambda": _lambda,
    "states": _states,
    "athena": _athena,
    "glue": _glue,
}


def requests_for(
    service: str, operation: str, params: Mapping[str, Any], region: str, account: str
) -> list[Request]:
    """The IAM requests AWS authorizes an API call as (``service`` is its IAM prefix)."""
    mapper = _MAPPERS.get(service)
    if mapper is None:
        raise Unmapped(f"{service}:{operation}")
    return mapper(operation, params, region, account)
