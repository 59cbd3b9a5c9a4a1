"""Starting the training and scoring state machines (Step Functions), for the dispatcher."""

from __future__ import annotations

import json
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
