"""The campaign contacts table (DynamoDB): who was contacted, by which run, when; the cooldown
and the exactly-once hand-off rest on its conditional writes."""

from __future__ import annotations

from datetime import date
from typing import Any

from modelops.domain.campaign import Contact, claim_outcome
from modelops.settings import settings
from modelops.stores import aws


def _table() -> Any:
    return aws.table(settings().contacts_table)


def _key(model: str, entity_id: str) -> dict[str, str]:
    return {"pk": f"{model}#{entity_id}"}


def idempotency_key(model: str, run_id: str, entity_id: str) -> str:
    """The same for every attempt to contact this customer for this run: the email/SMS
    consumer keeps the keys it delivered and drops a message whose key it has seen."""
    return f"{model}:{run_id}:{entity_id}"


def claim(model: str, entity_id: str, run_id: str, today: date, cutoff: date, channel: str) -> str:
    """Claim a contact for this run (``claim_outcome``'s rule, as one conditional write):
    'claim' when claimed now (or claimed before and never marked sent: a crash between sending
    and marking, so the message may or may not be out), else 'already_sent' or 'cooldown'."""
    try:
        _table().put_item(
            Item={
                **_key(model, entity_id),
                "run_id": run_id,
                "contacted_on": today.isoformat(),
                "status": "pending",
                "channel": channel,
                "idempotency_key": idempotency_key(model, run_id, entity_id),
            },
            ConditionExpression="attribute_not_exists(pk) OR (run_id = :run AND #status = :pending) "
            "OR (run_id <> :run AND contacted_on <= :cutoff)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":cutoff": cutoff.isoformat(), ":run": run_id, ":pending": "pending"},
        )
    except aws.AwsError as error:
        if not aws.is_conditional_failure(error):
            raise
        item = _table().get_item(Key=_key(model, entity_id), ConsistentRead=True)["Item"]
        previous = Contact(item["run_id"], date.fromisoformat(item["contacted_on"]), item["status"])
        outcome = claim_outcome(previous, run_id, cutoff)
        # The write was refused, so the rule says no; 'claim' here means the item changed in
        # between (another run of this campaign), which is not ours to send.
        return "cooldown" if outcome == "claim" else outcome
    return "claim"


def mark_sent(model: str, sent: list[tuple[str, str]]) -> None:
    """Record ``(entity, queue message id)`` pairs as sent."""
    for entity_id, message_id in sent:
        _table().update_item(
            Key=_key(model, entity_id),
            UpdateExpression="SET #status = :sent, message_id = :message",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":sent": "sent", ":message": message_id},
        )
