"""The Lambda handler of a stage: parse the event into the stage's input model, call the stage,
return its output as JSON; around it, structured logs and CloudWatch metrics (Powertools EMF)
of rows, drift findings, alerts and duration.

A transient failure inside a stage (throttling, a service fault, a timeout) leaves as a
``TransientError``, which the state machines retry with backoff and jitter; any other error
keeps its own name and fails the run at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar, get_type_hints

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from modelops import settings
from modelops.domain.contract import ChunkItem, StageDoc, ValidationResult
from modelops.stores import aws

logger = Logger()
metrics = Metrics(namespace="modelops")

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", StageDoc, ChunkItem)
Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def _record(stage: str, output: StageDoc | ChunkItem, seconds: float) -> None:
    metrics.add_dimension(name="stage", value=stage)
    metrics.add_metric(name="Duration", unit=MetricUnit.Milliseconds, value=seconds * 1000)
    summary = getattr(output.results, stage, None)
    rows = getattr(summary, "rows", None)
    if rows is not None:
        metrics.add_metric(name="Rows", unit=MetricUnit.Count, value=rows)
    if isinstance(summary, ValidationResult):
        metrics.add_metric(name="DriftFindings", unit=MetricUnit.Count, value=len(summary.drift))
        if summary.alert is not None and summary.alert.sent:
            metrics.add_metric(name="DriftAlerts", unit=MetricUnit.Count, value=1)


class TransientError(RuntimeError):
    """A stage failed for a reason that may pass (the state machine retries it)."""


def by_flow(
    *, training: Callable[[StageDoc], StageDoc], scoring: Callable[[StageDoc], StageDoc]
) -> Callable[[StageDoc], StageDoc]:
    """One stage that both state machines call (one Lambda function), each flow's own code
    behind it, chosen by the run's pipeline."""

    def stage(doc: StageDoc) -> StageDoc:
        return training(doc) if doc.run.pipeline == "training" else scoring(doc)

    stage.__name__ = training.__name__
    return stage


def lambda_entry(stage: Callable[[In], Out]) -> Handler:
    """The Lambda handler of ``stage``: its first parameter's type validates the event. Made
    when the function's module loads, which is when the environment is checked: a missing
    variable fails the cold start by name."""
    settings.check()
    name = stage.__name__
    input_model: type[BaseModel] = next(iter(get_type_hints(stage).values()))

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            output = stage(input_model.model_validate(event))  # type: ignore[arg-type]
        except Exception as error:
            if aws.is_transient(error):
                logger.warning("transient failure, to be retried", exc_info=error)
                raise TransientError(f"{type(error).__name__}: {error}") from error
            raise
        if not is_metrics_disabled():  # disabled, Powertools would keep and never flush them
            _record(name, output, time.perf_counter() - started)
            metrics.flush_metrics()
        return output.to_json()

    return handler
