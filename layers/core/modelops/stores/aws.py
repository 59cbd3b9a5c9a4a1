"""The one place that creates boto3 clients.

boto3 honours AWS_ENDPOINT_URL, so the same code talks to AWS or to the local sandbox.
Clients are cached per thread: Map iterations run handlers concurrently in one process
locally, and boto3 clients are not meant to be shared while being created.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError as AwsError

__all__ = ["AwsError", "client", "error_code", "is_conditional_failure", "resource"]

_local = threading.local()
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


def client(service: str) -> Any:
    clients: dict[str, Any] = _local.__dict__.setdefault("clients", {})
    if service not in clients:
        clients[service] = boto3.session.Session().client(service, config=_CONFIG)
    return clients[service]


def resource(service: str) -> Any:
    resources: dict[str, Any] = _local.__dict__.setdefault("resources", {})
    if service not in resources:
        resources[service] = boto3.session.Session().resource(service, config=_CONFIG)
    return resources[service]


def error_code(error: AwsError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_conditional_failure(error: AwsError) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"


# AWS error codes that mean "try again later", not "this request is wrong".
TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "InternalServerError",
        "InternalFailure",
        "RequestTimeout",
        "RequestTimeoutException",
        "TransactionInProgressException",
        "LimitExceededException",
    }
)


def is_transient(error: BaseException) -> bool:
    """Whether an error inside a stage is worth retrying: throttling, a service's own fault,
    a timeout or a dropped connection. Everything else is permanent and fails the run."""
    from botocore.exceptions import ConnectionError as AwsConnectionError
    from botocore.exceptions import ReadTimeoutError

    if isinstance(error, AwsError):
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return error_code(error) in TRANSIENT_CODES or status >= 500
    return isinstance(error, AwsConnectionError | ReadTimeoutError | TimeoutError)


def caller() -> str:
    """The AWS identity this process acts as (for audit rows)."""
    return str(client("sts").get_caller_identity()["Arn"])
