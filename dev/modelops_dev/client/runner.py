"""Developer-side operations on a sandbox (embedded or served): store specs, start state
machine executions and follow them state by state, run the dispatcher. (The demo's data is
loaded by ``modelops_dev.demo.synthetic.load_demo_data``.)"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

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

# A running Map run is described at most this often: the line is for a person, and every
# call counts against the account's Step Functions API quota.
MAP_POLL = 1.0

# History events after which a Map run being watched has ended (or its state was left).
_MAP_ENDED = {"MapRunSucceeded", "MapRunFailed", "MapRunAborted", "MapStateExited", "MapStateFailed"}


@dataclass(frozen=True)
class MapProgress:
    """A Distributed Map run's items so far, as DescribeMapRun counts them."""

    state: str  # the Map state's name
    done: int  # items succeeded
    failed: int  # items failed, timed out or aborted
    total: int  # the Map's items (where unknown, those it has read so far)
    seconds: float  # since the run started (to its end, once it ended)
    rows: int | None  # the rows all its items hold, where the Map's input says (None: unknown)
    finished: bool = False  # the run's last report


@dataclass
class _MapRun:
    arn: str
    state: str
    items: tuple[int, int] | None  # (rows, items) the Map's input says its items hold
    next_poll: float = 0.0


def _item_rows(state_input: str | None) -> tuple[int, int] | None:
    """(rows, items) of a Map's items where its input tells them: the scoring Map's items are
    get_data's chunks, and get_data counted their rows. None for any other Map (or an input
    the history truncated)."""
    try:
        extract = json.loads(state_input or "")["results"]["get_data"]
        return int(extract["rows"]), int(extract["chunks"])
    except (ValueError, KeyError, TypeError):
        return None


@dataclass
class _Progress:
    """The states an execution entered and left (name, seconds), from its history read so far;
    ``on_state`` hears of each as it is found, ``on_map`` of a Distributed Map run's items
    while it runs (its run is found in the history, then described every MAP_POLL seconds)."""

    on_state: Callable[[str, str, float], None] | None
    on_map: Callable[[MapProgress], None] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    states: list[tuple[str, float]] = field(default_factory=list)
    entered: dict[str, float] = field(default_factory=dict)
    map_entered: tuple[str, tuple[int, int] | None] = ("", None)  # the last Map state entered
    map_run: _MapRun | None = None  # the Map run being watched

    def read(self, client: Any, arn: str) -> None:
        seen, self.events = len(self.events), _history(client, arn)
        for event in self.events[seen:]:
            kind = event["type"]
            # The Map's last counts are told before the next state's line (or the Map's own).
            if self.map_run and (kind in _MAP_ENDED or kind.endswith("StateEntered")):
                self.poll_map(client, last=True)
            if kind == "MapRunStarted" and self.on_map:
                state, items = self.map_entered
                self.map_run = _MapRun(event["mapRunStartedEventDetails"]["mapRunArn"], state, items)
            details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
            if not details:
                continue
            name, stamp = details["name"], event["timestamp"].timestamp()
            if kind.endswith("StateEntered"):
                self.entered[name] = stamp
                if kind == "MapStateEntered":
                    self.map_entered = (name, _item_rows(details.get("input")))
                if self.on_state:
                    self.on_state(name, "started", 0.0)
            else:
                seconds = stamp - self.entered.get(name, stamp)
                self.states.append((name, seconds))
                if self.on_state:
                    self.on_state(name, "done", seconds)

    def poll_map(self, client: Any, last: bool = False) -> None:
        """Tell ``on_map`` the watched Map run's counts; the last time once it has ended."""
        run = self.map_run
        if run is None or self.on_map is None:
            return
        try:
            described = client.describe_map_run(mapRunArn=run.arn)
        except (BotoCoreError, ClientError):  # throttled or not allowed: the run goes on unwatched
            self.map_run = None
            return
        counts = described.get("itemCounts", {})
        last = last or described.get("status") != "RUNNING"
        # The Map's total grows as it reads its items (the sandbox first told 1 of 2): get_data's
        # count of them is the whole, unless the Map counted more (then they are not its items).
        counted = int(counts.get("total", 0))
        rows, total = run.items if run.items and run.items[1] >= counted else (None, counted)
        ended = described.get("stopDate") or datetime.now(UTC)
        self.on_map(
            MapProgress(
                state=run.state,
                done=int(counts.get("succeeded", 0)),
                failed=sum(int(counts.get(k, 0)) for k in ("failed", "timedOut", "aborted")),
                total=total,
                seconds=max(0.0, (ended - described["startDate"]).total_seconds()),
                rows=rows,
                finished=last,
            )
        )
        run.next_poll = time.monotonic() + MAP_POLL
        if last:
            self.map_run = None


def follow(
    arn: str,
    on_state: Callable[[str, str, float], None] | None = None,
    timeout: float = 1800,
    poll: float = 0.2,
    on_map: Callable[[MapProgress], None] | None = None,
) -> ExecutionResult:
    """Wait for an execution to end (polling its status); report each state as it starts and
    finishes when ``on_state`` is given, and each Distributed Map run's items as they are done
    when ``on_map`` is."""
    client = boto3.client("stepfunctions", region_name=_region(arn))
    started = time.monotonic()
    progress = _Progress(on_state, on_map)
    watching = on_state is not None or on_map is not None
    next_read = started
    while True:
        description = client.describe_execution(executionArn=arn)
        status = description["status"]
        if status != "RUNNING":
            break
        if watching and time.monotonic() >= next_read:
            reading = time.monotonic()
            progress.read(client, arn)
            next_read = time.monotonic() + (time.monotonic() - reading) / HISTORY_SHARE
        if progress.map_run and time.monotonic() >= progress.map_run.next_poll:
            progress.poll_map(client)
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"execution {arn} still running after {timeout:.0f}s")
        time.sleep(poll)
    progress.read(client, arn)
    progress.poll_map(client, last=True)  # a Map run the history never showed ending
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
