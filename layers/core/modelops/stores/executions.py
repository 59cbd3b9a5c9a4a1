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


def start(pipeline: str, name: str, request: dict[str, Any]) -> tuple[str, bool]:
    """Start an execution named ``name``; (its ARN, False) when one of that name already exists,
    so a retried dispatch starts nothing twice."""
    machine = state_machine(pipeline)
    try:
        response = aws.client("stepfunctions").start_execution(
            stateMachineArn=machine, name=name, input=json.dumps(request)
        )
    except aws.AwsError as error:
        if aws.error_code(error) != "ExecutionAlreadyExists":
            raise
        execution = machine.replace(":stateMachine:", ":execution:", 1) + f":{name}"
        return execution, False
    return str(response["executionArn"]), True
