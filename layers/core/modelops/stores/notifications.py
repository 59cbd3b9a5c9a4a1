"""Where people and other systems hear about a model: the SNS alert topic and EventBridge.

A drift alert is one SNS message (subject, severity attribute) and one EventBridge event
(``source: modelops``, ``detail-type: DriftDetected``) with the same JSON body.
"""

from __future__ import annotations

import json
from typing import Any

from modelops.settings import settings
from modelops.stores import aws

EVENT_SOURCE = "modelops"
DRIFT_DETECTED = "DriftDetected"


def drift_event(body: dict[str, Any]) -> dict[str, Any]:
    """The EventBridge entry of a drift alert (rules in template.yaml match on this)."""
    return {
        "Source": EVENT_SOURCE,
        "DetailType": DRIFT_DETECTED,
        "Detail": json.dumps(body, default=str),
        "EventBusName": "default",
    }


def send_rejection(model: str, version: str, reason: str, evidence: dict[str, Any]) -> None:
    """A candidate the promotion gate refused: people hear why, the champion stays."""
    body = {"model": model, "version": version, "reason": reason, "evidence": evidence}
    aws.client("sns").publish(
        TopicArn=settings().alert_topic_arn,
        Subject=f"modelops: {model} {version} not promoted"[:100],
        Message=json.dumps(body, default=str),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "CandidateRejected"}},
    )


def send_integrity_alert(model: str, version: str, error: str) -> None:
    """A model file that fails its sha256 check where it was about to serve (the online API):
    it is refused until an operator restores it or promotes another version."""
    aws.client("sns").publish(
        TopicArn=settings().alert_topic_arn,
        Subject=f"modelops: {model} {version} fails its integrity check"[:100],
        Message=json.dumps({"model": model, "version": version, "error": error}),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "IntegrityFailure"}},
    )


def send_spec_alert(model: str, reason: str, fingerprint: str) -> None:
    """A stored spec the dispatcher cannot read: its runs are skipped until it is fixed."""
    body = {"model": model, "reason": reason, "fingerprint": fingerprint}
    aws.client("sns").publish(
        TopicArn=settings().alert_topic_arn,
        Subject=f"modelops: the spec of {model} is unreadable; its runs are skipped"[:100],
        Message=json.dumps(body),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "SpecUnreadable"}},
    )


def send_drift_alert(subject: str, severity: str, body: dict[str, Any]) -> None:
    aws.client("sns").publish(
        TopicArn=settings().alert_topic_arn,
        Subject=subject[:100],
        Message=json.dumps(body, default=str),
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": DRIFT_DETECTED},
            "severity": {"DataType": "String", "StringValue": severity},
        },
    )
    aws.client("events").put_events(Entries=[drift_event(body)])
