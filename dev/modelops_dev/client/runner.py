"""Developer-side operations on a sandbox (embedded or served): store specs, start state
machine executions and follow them state by state, run the dispatcher. (The demo's data is
loaded by ``modelops_dev.demo.synthetic.load_demo_data``.)"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from modelops.stores.specs import store_spec
from modelops_dev.sandbox import REGION, Sandbox


def put_spec(path: Path) -> str:
    """Validate a spec file and store it where the stages read it."""
    _, uri = store_spec(path.read_text(), source=str(path))
    return uri


@dataclass
class ExecutionResult:
    arn: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    states: list[tuple[str, float]] = field(default_factory=list)  # (state, seconds)
    seconds: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)  # the execution's events

    @property
    def failure(self) -> str | None:
        """Why the execution failed, in one line: the failed stage's error message (the cause of
        a Lambda error is its JSON with the stack trace, which a person does not need)."""
        if not self.cause:
            return None
        try:
            document = json.loads(self.cause)
        except json.JSONDecodeError:
            document = None
        message = document.get("errorMessage") if isinstance(document, dict) else None
        return " ".join(str(message if message is not None else self.cause).split())


DISPATCH_SCHEDULE = "DispatcherFunctionHourly"  # template.yaml: DispatcherFunction's Hourly event


def dispatch(sandbox: Sandbox, scheduled_time: str, interval_minutes: int | None = None) -> dict[str, Any]:
    """Invoke the dispatcher through the Lambda API with the event its schedule would send at
    ``scheduled_time`` (moto keeps schedules but never fires them); returns its result."""
    target, event = sandbox.schedule_input(DISPATCH_SCHEDULE, scheduled_time)
    if interval_minutes is not None:
        event["interval_minutes"] = interval_minutes
    response = boto3.client("lambda", region_name=REGION).invoke(
        FunctionName=target, Payload=json.dumps(event).encode()
    )
    body: dict[str, Any] = json.loads(response["Payload"].read())
    if "FunctionError" in response:
        raise RuntimeError(f"the dispatcher failed: {body.get('errorType')}: {body.get('errorMessage')}")
    return body


def _region(arn: str) -> str:
    """The region an ARN names (a deployed stack's may not be the sandbox's)."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else REGION


def start(state_machine_arn: str, request: dict[str, Any], name: str | None = None) -> str:
    client = boto3.client("stepfunctions", region_name=_region(state_machine_arn))
    name = name or f"{request.get('model', 'run')}-{uuid.uuid4().hex[:12]}"
    response = client.start_execution(stateMachineArn=state_machine_arn, input=json.dumps(request), name=name)
    arn: str = response["executionArn"]
    return arn


def _history(client: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn}
    while True:
        page = client.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


# Reading an execution's history costs the service time that grows with the history (moto
# serialises every event on each call, in the process the stages run in), so progress reads
# it at most this share of the time; without a progress callback it is read once, at the end.
HISTORY_SHARE = 0.1


@dataclass
class _Progress:
    """The states an execution entered and left (name, seconds), from its history read so far;
    ``on_state`` hears of each as it is found."""

    on_state: Callable[[str, str, float], None] | None
    events: list[dict[str, Any]] = field(default_factory=list)
    states: list[tuple[str, float]] = field(default_factory=list)
    entered: dict[str, float] = field(default_factory=dict)

    def read(self, client: Any, arn: str) -> None:
        seen, self.events = len(self.events), _history(client, arn)
        for event in self.events[seen:]:
            details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
            if not details:
                continue
            name, stamp = details["name"], event["timestamp"].timestamp()
            if event["type"].endswith("StateEntered"):
                self.entered[name] = stamp
                if self.on_state:
                    self.on_state(name, "started", 0.0)
            else:
                seconds = stamp - self.entered.get(name, stamp)
                self.states.append((name, seconds))
                if self.on_state:
                    self.on_state(name, "done", seconds)


def follow(
    arn: str,
    on_state: Callable[[str, str, float], None] | None = None,
    timeout: float = 1800,
    poll: float = 0.2,
) -> ExecutionResult:
    """Wait for an execution to end (polling its status); report each state as it starts and
    finishes when ``on_state`` is given."""
    client = boto3.client("stepfunctions", region_name=_region(arn))
    started = time.monotonic()
    progress = _Progress(on_state)
    next_read = started
    while True:
        description = client.describe_execution(executionArn=arn)
        status = description["status"]
        if status != "RUNNING":
            break
        if on_state and time.monotonic() >= next_read:
            reading = time.monotonic()
            progress.read(client, arn)
            next_read = time.monotonic() + (time.monotonic() - reading) / HISTORY_SHARE
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"execution {arn} still running after {timeout:.0f}s")
        time.sleep(poll)
    progress.read(client, arn)
    output = json.loads(description["output"]) if description.get("output") else None
    return ExecutionResult(
        arn=arn,
        status=status,
        output=output,
        error=description.get("error"),
        cause=description.get("cause"),
        states=progress.states,
        seconds=time.monotonic() - started,
        history=progress.events,
    )
