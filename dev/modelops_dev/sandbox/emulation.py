"""What moto lacks, emulated behind the same API calls: EventBridge delivering to state
machines, Scheduler firing a schedule, execution names checked, ImportTable's client token,
and a Distributed Map failing as on AWS, its children listed and described as the executions
they are on AWS; and one thing moto does that AWS does not do at once: S3 access logs.
(Athena's queries are in ``athena``; the functions themselves run in ``runtime``.)"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast
from unittest import mock

import boto3

from modelops_dev.sandbox.constants import REGION
from modelops_dev.sandbox.iam import acting_as


# ---------------------------------------------------------------------- schedules
def schedule_input(name: str, scheduled_time: str) -> tuple[str, dict[str, Any]]:
    """(target ARN, event) that the Scheduler would send when schedule ``name`` fires at
    ``scheduled_time`` (its ``<aws.scheduler.scheduled-time>`` placeholder filled in)."""
    schedule = boto3.client("scheduler", region_name=REGION).get_schedule(Name=name)
    text = schedule["Target"]["Input"].replace("<aws.scheduler.scheduled-time>", scheduled_time)
    event: dict[str, Any] = json.loads(text)
    return schedule["Target"]["Arn"], event


def fire_schedule(name: str, scheduled_time: str) -> dict[str, Any]:
    """Do what EventBridge Scheduler does when schedule ``name`` fires: send its target its
    input (the scheduled time filled in) as the schedule's role: start a state machine's
    execution ({"executionArn": ...}) or invoke a function ({"payload": its result}).
    moto stores schedules but never fires them."""
    target, event = schedule_input(name, scheduled_time)
    with acting_as(name):
        if target.startswith("arn:aws:states:"):
            started = boto3.client("stepfunctions", region_name=REGION).start_execution(
                stateMachineArn=target, input=json.dumps(event)
            )
            return {"executionArn": started["executionArn"]}
        if target.startswith("arn:aws:lambda:"):
            response = boto3.client("lambda", region_name=REGION).invoke(
                FunctionName=target, Payload=json.dumps(event).encode()
            )
            payload = json.loads(response["Payload"].read())
            if "FunctionError" in response:
                raise RuntimeError(
                    f"schedule {name}: {payload.get('errorType')}: {payload.get('errorMessage')}"
                )
            return {"payload": payload}
    raise NotImplementedError(f"schedule {name}: only state machine and function targets are emulated")


# ---------------------------------------------------------------------- EventBridge
@contextmanager
def events_routed() -> Iterator[None]:
    """moto's EventBridge delivers to logs, queues and buses but not to state machines: a
    matching rule's state machine target is started here, with the rule's input
    transformer applied, as EventBridge would (as the rule's role)."""
    from moto.events.models import Rule
    from moto.events.utils import EventTemplateParser

    original = Rule.send_to_targets

    def send_to_targets(rule: Any, event: Any, transform_input: bool = True) -> None:
        machines = [t for t in rule.targets if str(t["Arn"]).startswith("arn:aws:states:")]
        if machines and rule.event_pattern.matches_event(event):
            client = boto3.client("stepfunctions", region_name=REGION)
            for target in machines:
                transformer = target.get("InputTransformer", {})
                payload = EventTemplateParser.parse(
                    input_template=transformer.get("InputTemplate"),
                    input_paths_map=transformer.get("InputPathsMap", {}),
                    event=event,
                )
                with acting_as(rule.name):
                    client.start_execution(stateMachineArn=target["Arn"], input=json.dumps(payload))
        others = [t for t in rule.targets if t not in machines]
        if others:
            kept, rule.targets = rule.targets, others
            try:
                original(rule, event, transform_input)
            finally:
                rule.targets = kept

    with mock.patch.object(Rule, "send_to_targets", send_to_targets):
        yield


# ---------------------------------------------------------------------- Step Functions
@contextmanager
def access_logs_not_written() -> Iterator[None]:
    """AWS delivers S3 server access logs best effort, hours after the requests; moto writes
    an object to the log bucket during every request to a bucket that logs (180 objects for
    one scored month, each to be put back by every restore). Nothing reads them, so none are
    written here; the bucket's logging stays configured as the template declares it."""
    from moto.s3.models import S3Backend

    with mock.patch.object(S3Backend, "log_incoming_request", lambda *_: None):
        yield


@contextmanager
def execution_names_checked() -> Iterator[None]:
    """Step Functions refuses an execution name over 80 characters or with a character it
    does not allow (InvalidName); moto's executing engine starts it anyway. Here it checks the
    name as its own non-executing backend does, before starting."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution

    def start_execution(
        backend: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        if name:
            backend._validate_name(name)
        return original(backend, state_machine_arn, name, *args, **kwargs)

    with mock.patch.object(StepFunctionsParserBackend, "start_execution", start_execution):
        yield


@contextmanager
def imports_idempotent() -> Iterator[None]:
    """DynamoDB's ImportTable with a ClientToken it has seen (AWS keeps one for 8 hours)
    returns that import again instead of starting another; moto ignores the token (and a
    second import into the same table fails in the background). Here a repeated token answers
    with its first import, as on AWS. (moto itself creates the table and loads the items.)"""
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.import_table

    def import_table(handler: Any) -> Any:
        token = handler.body.get("ClientToken")
        imports = handler.dynamodb_backend.table_imports
        seen = [made for made in imports.values() if token and getattr(made, "client_token", None) == token]
        if seen:
            return ActionResult({"ImportTableDescription": seen[0].response()})
        answer = original(handler)
        made = imports[cast(dict[str, Any], answer.result)["ImportTableDescription"]["ImportArn"]]
        made.client_token = token
        return answer

    with mock.patch.object(DynamoHandler, "import_table", import_table):
        yield


@contextmanager
def map_failures_as_on_aws() -> Iterator[None]:
    """moto's Distributed Map counts a failed child and goes on; AWS fails the Map run
    once failures exceed its tolerated count or percentage (0 unless the ASL says), with
    States.ExceedToleratedFailureThreshold, which the Map's Catch sees. moto's Fail state
    also refuses to rethrow a caught ``States.*`` error through its ErrorPath (the ASL
    reserves the prefix for names a definition declares, not for errors passed on)."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.component.state.fail import state_fail

    original = DistributedIterationComponent._map_run

    def map_run(component: Any, env: Any, eval_input: Any) -> None:
        original(component, env, eval_input)
        record = eval_input.map_run_record
        counted = record.item_counter
        failed = counted.failed.get() + counted.timed_out.get() + counted.aborted.get()
        total = max(counted.total.get(), 1)
        if failed > (record.tolerated_failure_count or 0) and (
            100.0 * failed / total > (record.tolerated_failure_percentage or 0.0)
        ):
            raise _threshold_exceeded(env, f"{failed} of {total} items failed: the Map tolerates none")

    with (
        mock.patch.object(DistributedIterationComponent, "_map_run", map_run),
        mock.patch.object(state_fail, "CustomErrorName", ErrorName),
    ):
        yield


def _threshold_exceeded(env: Any, cause: str) -> Exception:
    """The failure AWS raises when a Map run's failures exceed its tolerance."""
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    error = StatesErrorNameType.StatesExceedToleratedFailureThreshold.to_name()
    return FailureEventException(
        FailureEvent(
            env=env,
            error_name=StatesErrorName(StatesErrorNameType.StatesExceedToleratedFailureThreshold),
            event_type=HistoryEventType.ExecutionFailed,
            event_details=EventDetails(  # type: ignore[typeddict-item]  # one key, as moto's own
                executionFailedEventDetails=ExecutionFailedEventDetails(error=error, cause=cause)
            ),
        )
    )


@contextmanager
def map_children_listed() -> Iterator[None]:
    """moto runs a Distributed Map's children inside the parent's execution, so they are no
    executions of their own. On AWS each is one: ListExecutions(mapRunArn=...) lists a Map
    run's children (by status) and DescribeExecution tells a child's input, status, error and
    cause. Here each child is recorded as it ends (named by a UUID, under the Map run's state
    machine ARN, as AWS names them) and both calls answer from the record."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
        distributed_item_processor_worker as worker_module,
    )
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError
    from moto.stepfunctions.responses import StepFunctionResponse

    lock = threading.Lock()
    children: dict[str, dict[str, Any]] = {}  # child execution ARN -> its description
    by_run: dict[str, list[str]] = {}  # Map run ARN -> its children's ARNs, in order
    worker = worker_module.DistributedItemProcessorWorker
    evaluate, select, list_executions, describe_execution = (
        worker._eval_job,
        worker._eval_input,
        StepFunctionResponse.list_executions,
        StepFunctionResponse.describe_execution,
    )
    selected = threading.local()  # the child's input: the item after the ItemSelector

    def eval_input(self: Any, env_frame: Any) -> None:
        select(self, env_frame)
        selected.value = env_frame.states.get_input()

    def eval_job(self: Any, env: Any, job: Any) -> None:
        record, started = self._map_run_record, datetime.now(UTC)
        selected.value = job.job_input
        evaluate(self, env, job)
        name = str(uuid.uuid4())
        state = env.program_state()
        failure: dict[str, Any] | None = None  # None: it succeeded
        if isinstance(state, ProgramError):
            failure = dict(state.error or {})
        elif job.job_output is None:  # ended by an error the worker caught and counted as failed
            failure = {}
        description = {
            "executionArn": record.map_state_machine_arn.replace(":stateMachine:", ":execution:", 1)
            + f":{name}",
            "stateMachineArn": record.map_state_machine_arn,
            "mapRunArn": record.map_run_arn,
            "name": name,
            "status": "SUCCEEDED" if failure is None else "FAILED",
            "startDate": started,
            "stopDate": datetime.now(UTC),
            "input": json.dumps(selected.value),
            **({} if failure is None else {"error": failure.get("error"), "cause": failure.get("cause")}),
        }
        with lock:
            children[description["executionArn"]] = description
            by_run.setdefault(record.map_run_arn, []).append(description["executionArn"])

    def listed(self: Any) -> Any:
        run = self._get_param("mapRunArn")
        if not run:
            return list_executions(self)
        wanted = self._get_param("statusFilter")
        limit = self._get_int_param("maxResults") or 100
        with lock:
            found = [
                children[arn] for arn in by_run.get(run, []) if wanted in (None, children[arn]["status"])
            ]
        keys = ("executionArn", "stateMachineArn", "mapRunArn", "name", "status", "startDate", "stopDate")
        return ActionResult({"executions": [{k: child[k] for k in keys} for child in found[:limit]]})

    def described(self: Any) -> Any:
        with lock:
            child = children.get(self._get_param("executionArn"))
        return describe_execution(self) if child is None else ActionResult(dict(child))

    with (
        mock.patch.object(worker, "_eval_input", eval_input),
        mock.patch.object(worker, "_eval_job", eval_job),
        mock.patch.object(StepFunctionResponse, "list_executions", listed),
        mock.patch.object(StepFunctionResponse, "describe_execution", described),
    ):
        yield
