"""The training and scoring state machines (Step Functions): starting them (for the dispatcher),
and what a scoring execution's failed Map children say (for the failure path)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from modelops.settings import settings
from modelops.stores import aws


def state_machine(pipeline: str) -> str:
    """The ARN of the pipeline's state machine (the dispatcher function's environment)."""
    arn = (
        settings().training_state_machine_arn
        if pipeline == "training"
        else settings().scoring_state_machine_arn
    )
    if not arn:
        raise LookupError(f"no state machine ARN for the {pipeline} pipeline in this function's environment")
    return arn


def _exists(execution: str) -> bool:
    try:
        aws.client("stepfunctions").describe_execution(executionArn=execution)
    except aws.AwsError as error:
        if aws.error_code(error) == "ExecutionDoesNotExist":
            return False
        raise
    return True


def start(pipeline: str, name: str, request: dict[str, Any]) -> tuple[str, bool]:
    """Start an execution named ``name``; (its ARN, False) when one of that name exists already,
    running or done, so a retried dispatch starts nothing twice. (Step Functions itself returns
    a running execution of the same name and input as if it were new, hence the look first.)"""
    machine = state_machine(pipeline)
    execution = machine.replace(":stateMachine:", ":execution:", 1) + f":{name}"
    if _exists(execution):
        return execution, False
    try:
        response = aws.client("stepfunctions").start_execution(
            stateMachineArn=machine, name=name, input=json.dumps(request)
        )
    except aws.AwsError as error:
        if aws.error_code(error) != "ExecutionAlreadyExists":
            raise
        return execution, False
    return str(response["executionArn"]), True


@dataclass(frozen=True)
class FailedChild:
    """A failed child execution of a Distributed Map, as DescribeExecution tells it."""

    error: str
    cause: str | None
    input: str | None


def map_failures(execution: str, limit: int = 5) -> tuple[list[FailedChild], int | None, int | None]:
    """The failed children of an execution's Map runs (at most ``limit`` of each), and the
    failed and total items the runs counted (None, None without a Map run)."""
    sfn = aws.client("stepfunctions")
    found: list[FailedChild] = []
    failed_items = items = None
    for run in sfn.list_map_runs(executionArn=execution).get("mapRuns", []):
        counts = sfn.describe_map_run(mapRunArn=run["mapRunArn"]).get("itemCounts", {})
        if not counts.get("failed"):
            continue
        failed_items = (failed_items or 0) + int(counts["failed"])
        items = (items or 0) + int(counts.get("total", 0))
        children = sfn.list_executions(mapRunArn=run["mapRunArn"], statusFilter="FAILED", maxResults=limit)
        for child in children.get("executions", []):
            described = sfn.describe_execution(executionArn=child["executionArn"])
            found.append(
                FailedChild(
                    str(described.get("error") or "States.Runtime"),
                    described.get("cause"),
                    described.get("input"),
                )
            )
    return found, failed_items, items
