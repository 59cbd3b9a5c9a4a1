"""The embedded AWS sandbox (docs/architecture.md, "The sandbox").

moto plays AWS. Every bucket, table, topic, function and state machine is created from
template.yaml itself (``provisioning``), and moto's Step Functions engine runs the real ASL
files. The template's functions run in this process when invoked (``runtime``); where moto
lacks a service's behaviour the sandbox emulates it behind the same API calls (``emulation``,
and ``athena``: queries on DuckDB over the same S3 objects); ``speedups`` cuts moto's
own costs; ``state`` snapshots and restores what it holds.

Two ways to run it: ``embedded()`` in this process (tests, demo), or ``served()``
(``server``) as a local server on 127.0.0.1 that the CLI, other processes and the ``aws``
CLI can use.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from modelops_dev.sandbox import athena, emulation, iam, provisioning, speedups, state
from modelops_dev.sandbox.constants import (
    ACCOUNT,
    FAKE_CREDENTIALS,
    LOCAL_PARAMETERS,
    MOTO_CONFIG,
    PROJECT_ROOT,
    REGION,
)
from modelops_dev.sandbox.runtime import LambdaContext, LambdaRuntime, LocalFunction, context_of
from modelops_dev.sandbox.state import Snapshot
from modelops_dev.sandbox.template import Resolver, load


class Sandbox:
    """The resources of template.yaml, named deterministically, in moto."""

    def __init__(self, root: Path = PROJECT_ROOT, parameters: dict[str, str] | None = None) -> None:
        self.root = root
        self.template = load(root / "template.yaml")
        declared = self.template.get("Parameters", {})
        values = {name: str(p.get("Default", "")) for name, p in declared.items()}
        values.update({**LOCAL_PARAMETERS, **(parameters or {})})
        lists = frozenset(name for name, p in declared.items() if p.get("Type") == "CommaDelimitedList")
        conditions = self.template.get("Conditions", {})
        self.resolver = Resolver(values, REGION, ACCOUNT, conditions=conditions, lists=lists)
        self.functions: dict[str, LocalFunction]
        self.environment: dict[str, str]
        self.functions, self.environment = provisioning.plan(self.template, self.resolver, root)
        self.runtime = LambdaRuntime(self.functions)
        self.iam: iam.Authorizer | None = None  # set when roles are enforced (embedded(enforce_roles=True))
        # moto runs a Map's children as threads of this one process: a cap (e.g. the cores)
        # keeps each child's wall time close to its own work, as in its own Lambda.
        self.map_concurrency: int | None = None
        # What the AWS calls wrote since the last reset or restore (tracked only in this
        # process: embedded(), not served()), and the snapshot that reset (state.EMPTY) or
        # restore put in place.
        self.changes = state.Changes()
        self._tracking = False
        self._holds: Snapshot | None = None
        self._provisioner = provisioning.Provisioner(self)

    # ------------------------------------------------------------------ naming
    def ref(self, logical_id: str) -> str:
        return self.resolver.refs[logical_id]

    def resources(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(logical id, resource) of every template resource of one of ``types``."""
        return provisioning.resources_of(self.template, *types)

    def names(self, resource_type: str) -> list[str]:
        """The physical names of every template resource of the type."""
        return [self.ref(logical_id) for logical_id, _ in self.resources(resource_type)]

    def authorizer(self) -> iam.Authorizer:
        """The template's roles, resolved to this sandbox's names, ready to check calls."""
        machines = {
            self.ref(logical_id): logical_id
            for logical_id, _ in self.resources("AWS::Serverless::StateMachine")
        }
        return iam.Authorizer(
            iam.Roles.from_template(self.root, self.resolver), REGION, ACCOUNT, machines, state.object_exists
        )

    @contextmanager
    def parameters(self, **values: str) -> Iterator[Sandbox]:
        """The stack deployed with these template parameters in this block (a comma list as
        one string): the roles are resolved with them, as a deploy with them would make them."""
        kept, kept_roles = dict(self.resolver.refs), None
        self.resolver.refs.update(values)
        if self.iam is not None:
            kept_roles = self.iam.roles
            self.iam.roles = iam.Roles.from_template(self.root, self.resolver)
        try:
            yield self
        finally:
            self.resolver.refs.clear()
            self.resolver.refs.update(kept)
            if self.iam is not None and kept_roles is not None:
                self.iam.roles = kept_roles

    # ------------------------------------------------------------------ creation (provisioning)
    def provision(self) -> None:
        """Create every resource of the template in the (mocked or served) AWS."""
        self._provisioner.provision()

    def definition(self, logical_id: str) -> str:
        """The state machine's ASL with DefinitionSubstitutions resolved, as deployed."""
        return provisioning.definition(self, logical_id)

    # ------------------------------------------------------------------ schedules (emulation)
    def schedule_input(self, name: str, scheduled_time: str) -> tuple[str, dict[str, Any]]:
        """(target ARN, event) that schedule ``name`` would send at ``scheduled_time``."""
        return emulation.schedule_input(name, scheduled_time)

    def fire_schedule(self, name: str, scheduled_time: str) -> dict[str, Any]:
        """Do what EventBridge Scheduler does when schedule ``name`` fires (moto never does)."""
        return emulation.fire_schedule(name, scheduled_time)

    # ------------------------------------------------------------------ invocation (runtime)
    def function(self, logical_id: str) -> LocalFunction:
        return self.functions[self.ref(logical_id)]

    def handler(self, logical_id: str) -> Callable[[Any, Any], Any]:
        """The handler of a template function, imported from its CodeUri by file path."""
        return self.runtime.handler(self.function(logical_id))

    def context(self, logical_id: str) -> LambdaContext:
        """A Lambda context for one invocation of the function."""
        return context_of(self.function(logical_id))

    def call(self, logical_id: str, event: Any) -> Any:
        """Call a function's handler directly (no Lambda API in between); exceptions propagate."""
        with iam.acting_as(logical_id):
            return self.handler(logical_id)(event, self.context(logical_id))

    def invoke(self, function_name: str, body: str | bytes | None, response_headers: dict[str, str]) -> bytes:
        """Run a function's handler here and now, the way Lambda would answer."""
        return self.runtime.invoke(function_name, body, response_headers)

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Forget everything stored and create the template's resources again (``state.reset``)."""
        state.reset(self)

    def snapshot(self) -> Snapshot:
        """Every object of every bucket and every item of every table (``state.snapshot``)."""
        return state.snapshot(self)

    def restore(self, snapshot: Snapshot) -> None:
        """A fresh sandbox holding exactly what ``snapshot`` holds (``state.restore``)."""
        state.restore(self, snapshot)

    def apply_environment(self, stack: ExitStack, overrides: dict[str, str]) -> None:
        stack.enter_context(mock.patch.dict(os.environ, {**self.environment, **overrides}))
        # A new sandbox is a cold start: no settings or models cached from an earlier one.
        from modelops import caches

        caches.clear_all()
        stack.callback(caches.clear_all)


def quiet_engine() -> None:
    for name in ("moto.stepfunctions.parser", "moto", "werkzeug", "botocore", "aws_lambda_powertools"):
        logging.getLogger(name).setLevel(logging.WARNING)


@contextmanager
def moto_extended(sandbox: Sandbox) -> Iterator[None]:
    """What the sandbox adds to moto, embedded or served: the template's functions run on
    Invoke, EventBridge delivers to targets, a Map fails as on AWS, Athena answers queries,
    S3 access logs are not written at once (``emulation``), and moto's own costs are cut
    without changing an answer (``speedups``)."""
    with ExitStack() as stack:
        stack.enter_context(sandbox.runtime.answering_invoke())
        stack.enter_context(emulation.events_routed())
        stack.enter_context(emulation.execution_names_checked())
        stack.enter_context(emulation.access_logs_not_written())
        stack.enter_context(emulation.imports_idempotent())
        stack.enter_context(emulation.map_failures_as_on_aws())
        stack.enter_context(emulation.map_children_listed())
        stack.enter_context(athena.emulated())
        stack.enter_context(speedups.applied())
        yield


@contextmanager
def embedded(
    root: Path = PROJECT_ROOT,
    environment: dict[str, str] | None = None,
    enforce_roles: bool = False,
    map_concurrency: int | None = None,
) -> Iterator[Sandbox]:
    """The sandbox inside this process: every boto3 call here goes to moto. With
    ``enforce_roles``, every call of a function, state machine or schedule is checked against
    its role in the template (``modelops_dev.sandbox.iam``; needs the SAM environment,
    .venv-sam). ``map_concurrency`` caps the Map's concurrent children (see
    ``Sandbox.map_concurrency``)."""
    from moto import mock_aws

    quiet_engine()
    sandbox = Sandbox(root)
    sandbox.map_concurrency = map_concurrency
    with ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, FAKE_CREDENTIALS))
        if enforce_roles:
            sandbox.iam = stack.enter_context(sandbox.authorizer().installed())
        stack.enter_context(mock_aws(config=MOTO_CONFIG))
        stack.enter_context(state.changes_tracked(sandbox))
        stack.enter_context(moto_extended(sandbox))
        sandbox.apply_environment(stack, environment or {})
        sandbox.provision()
        yield sandbox
