"""The reference consumer of the campaign queue (docs/campaign.md): what an email/SMS
application does with each message so that each customer is contacted once per run, although
the queue delivers at least once. Not deployed by this project: the consumer's team runs it
(as an SQS-triggered Lambda, ``lambda_handler``, or a worker, ``drain``) with a DynamoDB table
of its own (``pk`` a string hash key, TTL on ``expires_at``) and its own ``deliver``.

Each message carries an ``idempotency_key`` (``<model>:<run>:<entity>``), the same on every
attempt to contact that customer for that run. The consumer claims the key with one
conditional put before delivering and marks it delivered after:

- a key already delivered is a repeat: the message is dropped (deleted, nothing sent);
- a key claimed by another attempt that has not finished (its lease not yet over) is left on
  the queue, which brings it back after its visibility timeout;
- a claim whose lease is over (a consumer that crashed between claiming and marking) is taken
  over, and the message delivered. Only a crash between delivering and marking can then
  deliver twice; ``deliver`` gets the key, for a provider that deduplicates by it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LEASE_SECONDS = 300  # longer than one delivery takes
KEEP_DAYS = 400  # a key is kept longer than a crashed run can wait to be re-run

DELIVERED, REPEAT, IN_FLIGHT = "delivered", "repeat", "in_flight"


@dataclass
class Consumer:
    """Delivers each idempotency key once; ``table`` is a boto3 DynamoDB Table resource."""

    table: Any
    deliver: Callable[[dict[str, Any]], None]
    lease_seconds: float = LEASE_SECONDS
    clock: Callable[[], float] = time.time
    outcomes: dict[str, int] = field(default_factory=lambda: {DELIVERED: 0, REPEAT: 0, IN_FLIGHT: 0})

    def handle(self, message: dict[str, Any]) -> str:
        """Deliver one message unless its key was delivered or is being delivered; the outcome."""
        key = str(message["idempotency_key"])
        now = self.clock()
        lease_until = int(now + self.lease_seconds)
        try:
            self.table.put_item(
                Item={
                    "pk": key,
                    "status": "delivering",
                    "lease_until": lease_until,
                    "expires_at": int(now + KEEP_DAYS * 86_400),
                },
                ConditionExpression="attribute_not_exists(pk)"
                " OR (#status = :delivering AND lease_until < :now)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":delivering": "delivering", ":now": int(now)},
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            item = self.table.get_item(Key={"pk": key}, ConsistentRead=True).get("Item", {})
            return self._count(REPEAT if item.get("status") == "delivered" else IN_FLIGHT)
        try:
            self.deliver(message)
        except Exception:
            # Not delivered: release the claim for the queue's next attempt, unless its lease
            # ran out and another attempt took the key over.
            with contextlib.suppress(self.table.meta.client.exceptions.ConditionalCheckFailedException):
                self.table.delete_item(
                    Key={"pk": key},
                    ConditionExpression="lease_until = :mine",
                    ExpressionAttributeValues={":mine": lease_until},
                )
            raise
        self.table.update_item(
            Key={"pk": key},
            UpdateExpression="SET #status = :delivered REMOVE lease_until",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":delivered": "delivered"},
        )
        return self._count(DELIVERED)

    def _count(self, outcome: str) -> str:
        self.outcomes[outcome] += 1
        return outcome

    def drain(self, sqs: Any, queue_url: str) -> dict[str, int]:
        """Handle every message waiting on the queue (a worker's loop, until it is empty):
        delivered and repeated messages are deleted, in-flight ones left for later."""
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                if self.handle(json.loads(message["Body"])) != IN_FLIGHT:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return dict(self.outcomes)

    def lambda_handler(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """An SQS-triggered Lambda's batch (with ReportBatchItemFailures): in-flight messages
        and failed deliveries are reported as failures, so SQS brings them back; the rest are
        done."""
        failures = []
        for record in event.get("Records", []):
            try:
                done = self.handle(json.loads(record["body"])) != IN_FLIGHT
            except Exception:  # noqa: BLE001 - a failed delivery is retried by SQS, the batch goes on
                done = False
            if not done:
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}
