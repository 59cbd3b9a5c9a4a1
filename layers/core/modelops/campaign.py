"""Campaign hand-off: the latest top scores, less customers contacted within the cooldown,
go to the SQS FIFO queue an email/SMS application consumes.

Exactly-once per run: each contact is first claimed in the contacts table (``pending``, a
conditional write that fails if the customer is in cooldown from another run), then sent
with a deduplication id ``<run>-<entity>``, then marked ``sent``. A re-run skips what was
sent and re-sends only what was left pending (the dedup id absorbs a repeat).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from botocore.exceptions import ClientError

from modelops import aws, scores
from modelops.settings import settings
from modelops.spec import Campaign

SQS_BATCH = 10


@dataclass(frozen=True)
class HandOff:
    selected: int
    in_cooldown: int
    already_sent: int
    sent: int


def _contacts() -> Any:
    return aws.resource("dynamodb").Table(settings().contacts_table)


def _claim(model: str, score: scores.Score, run_id: str, today: date, rule: Campaign) -> str:
    """'claimed', 'sent' (by this run before) or 'cooldown'."""
    cutoff = (today - timedelta(days=rule.cooldown_days)).isoformat()
    try:
        _contacts().put_item(
            Item={
                "pk": f"{model}#{score.entity_id}",
                "run_id": run_id,
                "contacted_on": today.isoformat(),
                "status": "pending",
                "channel": rule.channel,
            },
            ConditionExpression="attribute_not_exists(pk) OR contacted_on <= :cutoff "
            "OR (run_id = :run AND #status = :pending)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":cutoff": cutoff, ":run": run_id, ":pending": "pending"},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        item = _contacts().get_item(Key={"pk": f"{model}#{score.entity_id}"}, ConsistentRead=True)["Item"]
        return "sent" if item["run_id"] == run_id else "cooldown"
    return "claimed"


def _send(model: str, claimed: list[scores.Score], run_id: str, as_of: str, channel: str) -> None:
    queue = aws.client("sqs")
    for start in range(0, len(claimed), SQS_BATCH):
        batch = claimed[start : start + SQS_BATCH]
        response = queue.send_message_batch(
            QueueUrl=settings().campaign_queue_url,
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": json.dumps(
                        {
                            "model": model,
                            "entity_id": s.entity_id,
                            "score": s.score,
                            "model_version": s.model_version,
                            "run_id": run_id,
                            "as_of": as_of,
                            "channel": channel,
                        }
                    ),
                    "MessageGroupId": s.entity_id,
                    "MessageDeduplicationId": f"{run_id}-{s.entity_id}"[:128],
                }
                for i, s in enumerate(batch)
            ],
        )
        if response.get("Failed"):
            failure = response["Failed"][0]
            raise RuntimeError(
                f"campaign queue refused {len(response['Failed'])} messages: {failure['Message']}"
            )
        for s in batch:
            _contacts().update_item(
                Key={"pk": f"{model}#{s.entity_id}"},
                UpdateExpression="SET #status = :sent",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":sent": "sent"},
            )


def hand_off(model: str, rule: Campaign) -> HandOff:
    """Send the latest run's selected customers, each at most once per run and cooldown."""
    current = scores.pointer(model)
    if current is None:
        raise LookupError(f"model {model!r} has no published scores")
    selected = scores.top(model, rule.top_n, rule.min_score)
    today = date.fromisoformat(current.as_of)
    outcome: dict[str, list[scores.Score]] = {"claimed": [], "sent": [], "cooldown": []}
    for score in selected:
        outcome[_claim(model, score, current.run_id, today, rule)].append(score)
    _send(model, outcome["claimed"], current.run_id, current.as_of, rule.channel)
    return HandOff(
        selected=len(selected),
        in_cooldown=len(outcome["cooldown"]),
        already_sent=len(outcome["sent"]),
        sent=len(outcome["claimed"]),
    )
