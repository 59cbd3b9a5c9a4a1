"""What every stage handler does around its one library call: structured logs, and
CloudWatch metrics (Powertools EMF) of rows, drift findings, alerts and duration."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
metrics = Metrics(namespace="modelops")

Stage = Callable[[dict[str, Any]], dict[str, Any]]
Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def _record(stage: str, result: dict[str, Any], seconds: float) -> None:
    metrics.add_dimension(name="stage", value=stage)
    metrics.add_metric(name="Duration", unit=MetricUnit.Milliseconds, value=seconds * 1000)
    summary = result.get("results", {}).get(stage, {})
    if "rows" in summary:
        metrics.add_metric(name="Rows", unit=MetricUnit.Count, value=summary["rows"])
    elif "rows" in result:  # a score_data chunk
        metrics.add_metric(name="Rows", unit=MetricUnit.Count, value=result["rows"])
    if "drift" in summary:
        metrics.add_metric(name="DriftFindings", unit=MetricUnit.Count, value=len(summary["drift"]))
    if summary.get("alert", {}).get("sent"):
        metrics.add_metric(name="DriftAlerts", unit=MetricUnit.Count, value=1)


def lambda_entry(stage: Stage) -> Handler:
    """The Lambda handler of a stage: parse nothing, call it, log and measure."""
    name = stage.__name__

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        started = time.perf_counter()
        result = stage(event)
        if not is_metrics_disabled():  # disabled, Powertools would keep and never flush them
            _record(name, result, time.perf_counter() - started)
            metrics.flush_metrics()
        return result

    return handler
