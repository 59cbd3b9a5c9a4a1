"""Checking and recording every call of the template's principals while installed: who is
calling (``acting_as``, or the state machine whose engine is on the call stack), what AWS
would decide, and the grants no call used."""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from modelops_dev.sandbox import hooks
from modelops_dev.sandbox.iam.actions import Request, Unmapped, requests_for
from modelops_dev.sandbox.iam.policy import applicable, as_list, conditions_hold, matches
from modelops_dev.sandbox.iam.roles import Roles

_acting_as: contextvars.ContextVar[str | None] = contextvars.ContextVar("modelops_acting_as", default=None)


@contextmanager
def acting_as(principal: str) -> Iterator[None]:
    """AWS calls made in this block (and in thread pools it submits to) are ``principal``'s."""
    token = _acting_as.set(principal)
    try:
        yield
    finally:
        _acting_as.reset(token)


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
                for resource in as_list(statement.get("Resource", [])):
                    for action in as_list(statement.get("Action", [])):
                        if applicable(action, resource) and not any(
                            matches(action, r.action, case_sensitive=False)
                            and matches(resource, r.resource)
                            and conditions_hold(statement, r)
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
        # Deployed, the SDK always calls over TLS (bucket policies may deny anything else); every
        # call goes to the stack's region, on the account's own resources.
        secure = (
            ("aws:SecureTransport", "true"),
            ("aws:RequestedRegion", self.region),
            ("aws:ResourceAccount", self.account),
        )
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
