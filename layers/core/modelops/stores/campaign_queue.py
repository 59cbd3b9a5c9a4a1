"""The campaign queue (SQS FIFO) that the email/SMS application consumes."""

from __future__ import annotations

import json
from typing import Any

from modelops.settings import settings
from modelops.stores import aws

SQS_BATCH = 10


class QueueRefused(RuntimeError):
    """The queue did not accept some messages."""


def send(messages: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Send ``(deduplication id, body)`` pairs; the FIFO queue drops a repeated id within its
    deduplication window (five minutes). Returns the queue's message ids, in order."""
    queue = aws.client("sqs")
    message_ids: list[str] = []
    for start in range(0, len(messages), SQS_BATCH):
        batch = messages[start : start + SQS_BATCH]
        response = queue.send_message_batch(
            QueueUrl=settings().campaign_queue_url,
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": json.dumps(body),
                    "MessageGroupId": str(body["entity_id"]),
                    "MessageDeduplicationId": dedup[:128],
                }
                for i, (dedup, body) in enumerate(batch)
            ],
        )
        sent = {entry["Id"]: entry["MessageId"] for entry in response.get("Successful", [])}
        message_ids += [sent.get(str(i), "") for i in range(len(batch))]
        if response.get("Failed"):
            failure = response["Failed"][0]
            raise QueueRefused(
                f"campaign queue refused {len(response['Failed'])} messages: {failure['Message']}"
            )
    return message_ids
