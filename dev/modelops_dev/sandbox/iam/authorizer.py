"""Least privilege, verified: every AWS call that a function, a state machine or a schedule
makes in the sandbox is checked against the IAM role template.yaml gives it.

The roles come from the template expanded by the SAM translator (policy templates such as
S3CrudPolicy become statements; `sam_translate.py`, run with the SAM environment's Python),
their intrinsic functions resolved to the sandbox's names. Each call is mapped to the IAM
action(s) and resource ARN(s) AWS authorizes it as, and evaluated here (Deny wins, then an
Allow of the role; bucket policies' Deny statements apply too). A call the role would deny
fails the way AWS fails it: a ClientError `AccessDenied`.

Who is calling:
- a function: the sandbox runs its handler in-process under `acting_as(logical_id)` (a
  context variable, carried into the thread pools boto3's transfers use);
- a state machine: moto's Step Functions engine makes its calls (Lambda invoke, SNS publish,
  the Map's ItemReader) from inside an evaluation `Environment`, found on the call stack.
  moto runs a Distributed Map's children in-process, so the `states:StartExecution` that AWS
  makes for each child under the state machine's role is recorded here, per item;
- a schedule: `Sandbox.fire_schedule` starts the target as the schedule's role would.
Calls from anyone else (tests, the CLI, the sandbox itself) are not checked.
"""

from __future__ import annotations

import contextvars
import fnmatch
import json
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from modelops_dev.sandbox import hooks
from modelops_dev.sandbox.template import Resolver

Statement = dict[str, Any]

_acting_as: contextvars.ContextVar[str | None] = contextvars.ContextVar("modelops_acting_as", default=None)


@contextmanager
def acting_as(principal: str) -> Iterator[None]:
    """AWS calls made in this block (and in thread pools it submits to) are ``principal``'s."""
    token = _acting_as.set(principal)
    try:
        yield
    finally:
        _acting_as.reset(token)


# ---------------------------------------------------------------------- requests
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


# ---------------------------------------------------------------------- evaluation
def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@cache
def _pattern(text: str, case_sensitive: bool) -> re.Pattern[str]:
    """IAM's wildcards: * any run of characters (also /), ? one character."""
    regex = fnmatch.translate(text).replace("[", "\\[")  # IAM has no character classes
    return re.compile(regex, 0 if case_sensitive else re.IGNORECASE)


def matches(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    return bool(_pattern(pattern, case_sensitive).match(value))


_OPERATORS = {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnNotEquals",
    "ArnLike",
    "ArnNotLike",
    "Bool",
    "Null",
}


def _condition_holds(operator: str, key: str, wanted: list[Any], request: Request) -> bool:
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if base not in _OPERATORS:
        raise Unmapped(f"condition operator {operator}")
    value = request.key(key)
    if base == "Null":
        return (value is None) == (str(wanted[0]).lower() == "true")
    negated = "Not" in base
    if value is None:  # an absent key matches no positive operator, and every negated one
        return if_exists or negated
    texts = [str(w).lower() if isinstance(w, bool) else str(w) for w in wanted]
    if base in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        hit = value in texts
    elif base in ("StringLike", "StringNotLike", "ArnLike", "ArnNotLike"):
        hit = any(matches(t, value) for t in texts)
    else:  # Bool and the IgnoreCase pair
        hit = value.lower() in (t.lower() for t in texts)
    return not hit if negated else hit


def _conditions_hold(statement: Statement, request: Request) -> bool:
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, wanted in keys.items():
            if not _condition_holds(operator, key, _as_list(wanted), request):
                return False
    return True


def statement_applies(statement: Statement, request: Request) -> bool:
    if "Action" in statement:
        if not any(matches(a, request.action, case_sensitive=False) for a in _as_list(statement["Action"])):
            return False
    elif any(
        matches(a, request.action, case_sensitive=False) for a in _as_list(statement.get("NotAction", []))
    ):
        return False
    if "Resource" in statement:
        if not any(matches(r, request.resource) for r in _as_list(statement["Resource"])):
            return False
    elif any(matches(r, request.resource) for r in _as_list(statement.get("NotResource", []))):
        return False
    return _conditions_hold(statement, request)


def decide(identity: Sequence[Statement], request: Request, resource: Sequence[Statement] = ()) -> str:
    """'allow', 'explicit deny' or 'implicit deny' for one request (same account: an Allow of
    the role suffices; a Deny of the role or of the resource's policy overrides it)."""
    own = [s for s in identity if statement_applies(s, request)]
    others = [s for s in resource if statement_applies(s, request)]
    if any(s.get("Effect") == "Deny" for s in (*own, *others)):
        return "explicit deny"
    if any(s.get("Effect") == "Allow" for s in own):
        return "allow"
    return "implicit deny"


# ---------------------------------------------------------------------- the roles
@dataclass
class Roles:
    """Who acts as which role, what each role allows, and the buckets' policies."""

    statements: dict[str, list[Statement]]  # principal (template logical id) -> statements
    managed: dict[str, list[str]]  # principal -> managed policy ARNs (Lambda's log/X-Ray agents)
    bucket_policies: dict[str, list[Statement]]  # bucket name -> statements
    service_roles: list[str] = field(default_factory=list)  # roles only AWS services assume

    @classmethod
    def from_template(cls, root: Path, resolver: Resolver, sam_python: Path | None = None) -> Roles:
        return cls.from_translated(translated_template(root, sam_python), resolver)

    @classmethod
    def from_translated(cls, template: dict[str, Any], resolver: Resolver) -> Roles:
        resources: dict[str, Any] = template["Resources"]
        role_of: dict[str, str] = {}  # role logical id -> principal
        for logical_id, resource in resources.items():
            properties = resource.get("Properties", {})
            reference = {
                "AWS::Lambda::Function": properties.get("Role"),
                "AWS::StepFunctions::StateMachine": properties.get("RoleArn"),
                "AWS::Scheduler::Schedule": (properties.get("Target") or {}).get("RoleArn"),
                "AWS::Events::Rule": next(iter(properties.get("Targets") or [{}])).get("RoleArn"),
            }.get(resource["Type"])
            if isinstance(reference, dict) and "Fn::GetAtt" in reference:
                role_of[reference["Fn::GetAtt"][0]] = logical_id
        statements: dict[str, list[Statement]] = {}
        managed: dict[str, list[str]] = {}
        for role, principal in role_of.items():
            properties = resources[role]["Properties"]
            documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
            statements[principal] = [
                _resolved(statement, resolver, f"{role}.Policies")
                for document in documents
                for statement in _as_list(document["Statement"])
            ]
            managed[principal] = [str(arn) for arn in properties.get("ManagedPolicyArns", [])]
        bucket_policies: dict[str, list[Statement]] = {}
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::S3::BucketPolicy":
                bucket = resolver.resolve(resource["Properties"]["Bucket"])
                document = resource["Properties"]["PolicyDocument"]
                bucket_policies[bucket] = [
                    _resolved(s, resolver, logical_id) for s in _as_list(document["Statement"])
                ]
        service_roles = sorted(
            logical_id
            for logical_id, resource in resources.items()
            if resource["Type"] == "AWS::IAM::Role" and logical_id not in role_of
        )
        return cls(statements, managed, bucket_policies, service_roles)

    def resource_statements(self, request: Request) -> list[Statement]:
        if request.action.startswith("s3:"):
            bucket = request.resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
            return [
                s for s in self.bucket_policies.get(bucket, []) if s.get("Principal") in ("*", {"AWS": "*"})
            ]
        return []

    def decide(self, principal: str, request: Request) -> str:
        if principal not in self.statements:
            return "implicit deny"
        return decide(self.statements[principal], request, self.resource_statements(request))


def _resolved(statement: Statement, resolver: Resolver, where: str) -> Statement:
    resolved: Statement = resolver.resolve(statement)
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        for value in _as_list(resolved.get(key, [])):
            if not isinstance(value, str):
                raise ValueError(f"{where}: cannot resolve {key} {value!r} to a string")
    return resolved


def translated_template(root: Path, sam_python: Path | None = None) -> dict[str, Any]:
    """template.yaml expanded by the SAM translator (run in the SAM environment)."""
    python = sam_python or root / ".venv-sam" / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(
            f"{python} is missing: `make .venv-sam/.installed` creates the SAM environment"
        )
    script = Path(__file__).with_name("sam_translate.py")
    done = subprocess.run(  # noqa: S603 - our own script, our own template
        [str(python), str(script), str(root / "template.yaml")],
        capture_output=True,
        text=True,
        check=False,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"SAM translation of template.yaml failed: {done.stderr.strip()[-2000:]}")
    document: dict[str, Any] = json.loads(done.stdout)
    return document


_S3_BUCKET_ACTIONS = {
    "s3:listbucket",
    "s3:listbucketversions",
    "s3:listbucketmultipartuploads",
    "s3:getbucketlocation",
    "s3:getlifecycleconfiguration",
    "s3:putlifecycleconfiguration",
}


def _applicable(action: str, resource: str) -> bool:
    """Whether the action can apply to the resource at all (S3 bucket vs object actions,
    DynamoDB index ARNs, which only Query and Scan use)."""
    name = action.lower()
    if "*" in name or "?" in name:
        return True
    if name.startswith("s3:") and resource.startswith("arn:aws:s3:::"):
        on_bucket = "/" not in resource.removeprefix("arn:aws:s3:::")
        return on_bucket == (name in _S3_BUCKET_ACTIONS)
    if "/index/" in resource:
        return name in ("dynamodb:query", "dynamodb:scan")
    return True


# ---------------------------------------------------------------------- recording
@dataclass(frozen=True)
class Call:
    principal: str
    operation: str
    request: Request
    decision: str

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    def __str__(self) -> str:
        request = self.request
        return f"{self.principal}: {request.action} on {request.resource} ({self.operation}): {self.decision}"


@dataclass
class Authorizer:
    """Checks and records every call of the template's principals while installed."""

    roles: Roles
    region: str
    account: str
    state_machines: dict[str, str]  # state machine ARN -> logical id
    # Whether an object exists (asked without an AWS call): S3 answers a read of a missing
    # key with 404 only to a caller that may s3:ListBucket the bucket, else with 403.
    object_exists: Callable[[str, str], bool] | None = None
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, principal: str, operation: str, requests: Sequence[Request]) -> None:
        """Record the requests; raise AccessDenied (as AWS would) if any is not allowed."""
        from botocore.exceptions import ClientError

        decided = [Call(principal, operation, r, self.roles.decide(principal, r)) for r in requests]
        with self._lock:
            self.calls.extend(decided)
        refused = [c for c in decided if not c.allowed]
        if refused:
            first = refused[0]
            message = (
                f"User: {principal} is not authorized to perform: {first.request.action} "
                f"on resource: {first.request.resource} ({first.decision})"
            )
            error = {"Error": {"Code": "AccessDenied", "Message": message}}
            raise ClientError(error, operation.split(".")[-1])

    def denied(self) -> list[Call]:
        return [c for c in self.calls if not c.allowed]

    @contextmanager
    def isolated(self) -> Iterator[list[Call]]:
        """Calls in this block are recorded in the list it yields, not in the session's log
        (for tests that provoke a denial on purpose)."""
        kept, self.calls = self.calls, []
        try:
            yield self.calls
        finally:
            self.calls = kept

    def principals(self) -> set[str]:
        return {c.principal for c in self.calls}

    def unused(self) -> dict[str, list[str]]:
        """Per principal, what its role allows that no recorded call used: "actions on resource",
        one line per resource (pairs that cannot apply, such as an object action on the bucket
        ARN that a SAM policy template also names, are left out)."""
        used: dict[str, list[Request]] = {}
        for call in self.calls:
            if call.allowed:
                used.setdefault(call.principal, []).append(call.request)
        report: dict[str, list[str]] = {}
        for principal, statements in sorted(self.roles.statements.items()):
            requests = used.get(principal, [])
            idle: dict[str, list[str]] = {}
            for statement in statements:
                if statement.get("Effect") != "Allow":
                    continue
                for resource in _as_list(statement.get("Resource", [])):
                    for action in _as_list(statement.get("Action", [])):
                        if _applicable(action, resource) and not any(
                            matches(action, r.action, case_sensitive=False)
                            and matches(resource, r.resource)
                            and _conditions_hold(statement, r)
                            for r in requests
                        ):
                            idle.setdefault(resource, []).append(action)
            if idle:
                report[principal] = [
                    f"{', '.join(actions)} on {resource}" for resource, actions in idle.items()
                ]
        return report

    def report(self) -> dict[str, Any]:
        return {
            "calls": len(self.calls),
            "denied": [str(c) for c in self.denied()],
            "principals": sorted(self.principals()),
            "unused": self.unused(),
            "managed_policies": {p: arns for p, arns in sorted(self.roles.managed.items()) if arns},
            "service_roles": self.roles.service_roles,
            "used": sorted(
                {
                    f"{c.principal}: {c.request.action} on {c.request.resource}"
                    for c in self.calls
                    if c.allowed
                }
            ),
        }

    # -------------------------------------------------------------- wiring
    def _principal(self) -> str | None:
        """The function acting now, else the state machine whose engine is on the stack."""
        principal = _acting_as.get()
        if principal is not None:
            return principal
        from moto.stepfunctions.parser.asl.eval.environment import Environment

        frame = sys._getframe(1)
        while frame is not None:
            env = frame.f_locals.get("env")
            if isinstance(env, Environment):
                arn = env.states.context_object.context_object_data["StateMachine"]["Id"]
                return self.state_machines.get(arn, arn)
            frame = frame.f_back  # type: ignore[assignment]
        return None

    def _before_parameter_build(self, params: Mapping[str, Any], model: Any, **_: Any) -> None:
        principal = self._principal()
        if principal is None:
            return
        service = model.service_model.signing_name
        operation = f"{service}.{model.name}"
        try:
            requests = requests_for(service, model.name, params, self.region, self.account)
        except Unmapped as unmapped:
            requests = [Request(f"unmapped {unmapped}", "*")]
        if (
            service == "s3"
            and model.name in ("GetObject", "HeadObject")
            and self.object_exists is not None
            and not self.object_exists(str(params.get("Bucket")), str(params.get("Key")))
        ):
            # No s3:prefix in this check's context: only an unconditional grant makes it a 404.
            requests = [*requests, Request("s3:ListBucket", f"arn:aws:s3:::{params.get('Bucket')}")]
        # Deployed, the SDK always calls over TLS (bucket policies may deny anything else).
        secure = (("aws:SecureTransport", "true"),)
        self.check(
            principal, operation, [Request(r.action, r.resource, r.context + secure) for r in requests]
        )

    def _distributed_map_child(self, original: Callable[..., None]) -> Callable[..., None]:
        authorizer = self

        def eval_job(worker: Any, env: Any, job: Any) -> None:
            arn = env.states.context_object.context_object_data["StateMachine"]["Id"]
            principal = authorizer.state_machines.get(arn, arn)
            authorizer.check(
                principal,
                "states.StartExecution (Distributed Map child)",
                [Request("states:StartExecution", arn)],
            )
            original(worker, env, job)

        return eval_job

    @contextmanager
    def installed(self) -> Iterator[Authorizer]:
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
            distributed_item_processor_worker as worker_module,
        )

        handler = self._before_parameter_build
        submit = ThreadPoolExecutor.submit

        def submit_in_context(
            executor: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
        ) -> Any:
            return submit(executor, contextvars.copy_context().run, fn, *args, **kwargs)

        worker = worker_module.DistributedItemProcessorWorker
        with ExitStack() as stack:
            stack.enter_context(hooks.every_client_hooked("before-parameter-build", handler, "modelops-iam"))
            stack.enter_context(mock.patch.object(ThreadPoolExecutor, "submit", submit_in_context))
            stack.enter_context(
                mock.patch.object(worker, "_eval_job", self._distributed_map_child(worker._eval_job))
            )
            yield self


def print_report(report: Mapping[str, Any]) -> None:
    print(f"{report['calls']} calls checked, {len(report['denied'])} denied")
    for line in report["denied"]:
        print(f"  DENIED {line}")
    print("granted but never used (per principal):")
    for principal, grants in report["unused"].items():
        print(f"  {principal}")
        for grant in grants:
            print(f"    {grant}")
    print("managed policies (used by Lambda's log and X-Ray agents, not by SDK calls; not checked):")
    for principal, arns in report["managed_policies"].items():
        print(f"  {principal}: {', '.join(a.rsplit('/', 1)[-1] for a in arns)}")
    print("roles only AWS services assume (not exercised in the sandbox):")
    for role in report["service_roles"]:
        print(f"  {role}")


if __name__ == "__main__":
    print_report(json.loads(Path(sys.argv[1]).read_text()))
