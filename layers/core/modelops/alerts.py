"""Drift alerts: one SNS message and one EventBridge ``DriftDetected`` event per run and
model, carrying the evidence. An alert identical to the model's previous one (same flagged
metric × test × value) is not sent again."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from modelops import aws, metadata
from modelops.settings import settings

EVENT_SOURCE = "modelops"
EVENT_TYPE = "DriftDetected"
HEADLINE_METRICS = {"score", "outcome", "outcome_by_score_decile"}


def fingerprint(findings: list[dict[str, Any]]) -> str:
    keys = sorted({f"{f['stage']}:{f['test']}:{f['metric']}:{f['value']}" for f in findings})
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


def severity(findings: list[dict[str, Any]]) -> str:
    metrics = {f["metric"] for f in findings}
    return "high" if metrics & HEADLINE_METRICS or len(metrics) >= 3 else "medium"


def publish(model: str, run_id: str, timestamp: date, findings: list[dict[str, Any]]) -> dict[str, Any]:
    """Send the run's drift alert unless it repeats the previous one; returns what happened."""
    digest = fingerprint(findings)
    previous = metadata.alerts(model)
    alert = {
        "model": model,
        "run_id": run_id,
        "timestamp": timestamp.isoformat(),
        "severity": severity(findings),
        "metrics": sorted({f["metric"] for f in findings}),
        "findings": findings,
    }
    if previous and previous[-1]["fingerprint"] == digest:
        return {"sent": False, "reason": "unchanged since the last alert", **_summary(alert)}
    body = json.dumps(alert, default=str)
    aws.client("sns").publish(
        TopicArn=settings().alert_topic_arn,
        Subject=f"modelops drift: {model} {timestamp.isoformat()} ({alert['severity']})"[:100],
        Message=body,
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": EVENT_TYPE},
            "severity": {"DataType": "String", "StringValue": alert["severity"]},
        },
    )
    aws.client("events").put_events(
        Entries=[
            {"Source": EVENT_SOURCE, "DetailType": EVENT_TYPE, "Detail": body, "EventBusName": "default"}
        ]
    )
    metadata.record_alert(model, timestamp, run_id, digest, alert)
    return {"sent": True, **_summary(alert)}


def _summary(alert: dict[str, Any]) -> dict[str, Any]:
    return {"severity": alert["severity"], "metrics": alert["metrics"], "findings": len(alert["findings"])}
