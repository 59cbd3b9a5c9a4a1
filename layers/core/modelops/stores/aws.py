"""The one place that creates boto3 clients.

boto3 honours AWS_ENDPOINT_URL, so the same code talks to AWS or to the local sandbox.
Clients are made from boto3's default session, whose loader parses each service's model
once per process (a new Session per client parsed it again: a sixth of a pipeline run's
CPU in the sandbox, where every Map iteration and task runs in a new thread). Clients are
thread-safe and shared; resources are not (a DynamoDB resource's client builds condition
expressions with one shared counter), so each thread has its own, and its own Table objects
(boto3 builds a Table's class afresh on every ``Table()``). A thread that has ended hands its
set to the next new thread (a Map's iterations are short-lived threads: making a resource and
its tables cost each one 30 ms). All are made under one lock (a session is not thread-safe)
and dropped by ``caches.clear_all``.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError as AwsError

from modelops import caches

__all__ = ["AwsError", "client", "error_code", "is_conditional_failure", "resource", "table"]

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
_lock = threading.Lock()
_clients: dict[str, Any] = {}
_local = threading.local()
_generation = 0  # bumped by _clear(): a thread's resources from before are dropped


@dataclass
class _Owned:
    """One thread's resources and tables at a time."""

    owner: weakref.ref[threading.Thread]
    generation: int
    resources: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)

    def free(self) -> bool:
        thread = self.owner()
        return thread is None or not thread.is_alive()


_sets: list[_Owned] = []  # every set made since the caches were cleared


def _session() -> boto3.session.Session:
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    return cast(boto3.session.Session, boto3.DEFAULT_SESSION)


def client(service: str) -> Any:
    made = _clients.get(service)
    if made is None:
        with _lock:
            made = _clients.get(service) or _session().client(service, config=_CONFIG)
            _clients[service] = made
    return made


def _mine() -> _Owned:
    """This thread's resources and tables: those of a thread that has ended, or new ones."""
    mine: _Owned | None = getattr(_local, "owned", None)
    if mine is None or mine.generation != _generation:
        me = threading.current_thread()
        with _lock:
            mine = next((owned for owned in _sets if owned.free()), None)
            if mine is None:
                mine = _Owned(weakref.ref(me), _generation)
                _sets.append(mine)
            mine.owner = weakref.ref(me)
        _local.owned = mine
    return mine


def resource(service: str) -> Any:
    resources = _mine().resources
    if service not in resources:
        with _lock:
            resources[service] = _session().resource(service, config=_CONFIG)
    return resources[service]


def table(name: str) -> Any:
    """The DynamoDB table ``name`` (a boto3 Table of this thread's resource)."""
    tables = _mine().tables
    if name not in tables:
        tables[name] = resource("dynamodb").Table(name)
    return tables[name]


def _clear() -> None:
    global _generation
    with _lock:
        _clients.clear()
        _sets.clear()
        _generation += 1


caches.register(_clear)


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
