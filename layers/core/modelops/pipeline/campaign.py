"""Campaign hand-off: the latest run's selected customers, less those in cooldown, go to the
SQS FIFO queue that an email/SMS application consumes.

At least once per run, with an idempotency key (the queue's contract: docs/campaign.md): each
contact is first claimed in the contacts table (a conditional write that also enforces the
cooldown), then sent, then marked sent with the queue's message id. A re-run skips what was
marked sent and re-sends only what was left pending: a crash between sending and marking
leaves a contact that may or may not have gone out. The queue drops such a repeat within five
minutes (deduplication id ``<run>-<entity>``); later, the message's ``idempotency_key``
(``<model>:<run>:<entity>``, the same on every attempt) lets the email/SMS consumer drop it
(the reference consumer: modelops_dev/client/campaign_consumer.py).
"""

from __future__ import annotations

from datetime import date

from modelops.domain.campaign import cooldown_cutoff, select_contacts
from modelops.domain.contract import CampaignResult, StageDoc
from modelops.domain.spec import Campaign
from modelops.stores import campaign_queue, contacts, latest
from modelops.stores.specs import load_spec


class NothingPublished(LookupError):
    """The model has no published scores to hand off."""


def hand_off(model: str, rule: Campaign, publication: str | None = None) -> CampaignResult:
    """Send the latest run's selected customers, each at most once per run and cooldown; with
    ``publication``, only if that is still the latest one."""
    current = latest.pointer(model)
    if current is None:
        raise NothingPublished(f"model {model!r} has no published scores")
    if publication is not None and current.publication != publication:
        skipped = f"{publication} is not the latest publication ({current.publication} is)"
        return CampaignResult(selected=0, in_cooldown=0, already_sent=0, sent=0, skipped=skipped)
    selected = select_contacts(latest.top(model, rule.top_n, rule.min_score), rule)
    today = date.fromisoformat(current.as_of)
    cutoff = cooldown_cutoff(today, rule.cooldown_days)
    outcomes: dict[str, list[latest.Score]] = {"claim": [], "already_sent": [], "cooldown": []}
    for score in selected:
        outcome = contacts.claim(model, score.entity_id, current.run_id, today, cutoff, rule.channel)
        outcomes[outcome].append(score)
    claimed = outcomes["claim"]
    for start in range(0, len(claimed), campaign_queue.SQS_BATCH):
        batch = claimed[start : start + campaign_queue.SQS_BATCH]
        message_ids = campaign_queue.send(
            [
                (
                    f"{current.run_id}-{s.entity_id}",
                    {
                        "model": model,
                        "entity_id": s.entity_id,
                        "score": s.score,
                        "model_version": s.model_version,
                        "run_id": current.run_id,
                        "as_of": current.as_of,
                        "channel": rule.channel,
                        "idempotency_key": contacts.idempotency_key(model, current.run_id, s.entity_id),
                    },
                )
                for s in batch
            ]
        )
        contacts.mark_sent(model, list(zip((s.entity_id for s in batch), message_ids, strict=True)))
    return CampaignResult(
        selected=len(selected),
        in_cooldown=len(outcomes["cooldown"]),
        already_sent=len(outcomes["already_sent"]),
        sent=len(claimed),
    )


def campaign(doc: StageDoc) -> StageDoc:
    """The scoring flow's last stage: hand the run's top scores off, unless the spec switches
    the campaign off or the run did not become the latest publication."""
    # The stored spec's campaign, not the run's pinned one: switching a campaign off stops
    # the hand-off of a run already under way.
    rule = load_spec(doc.run.model).campaign
    deployed = doc.results.deploy_scores
    skipped = "campaign.enabled is false in the spec" if not rule.enabled else None
    if skipped is None and deployed is not None and not deployed.latest:
        skipped = deployed.reason
    if skipped is not None:
        doc.results.campaign = CampaignResult(
            selected=0, in_cooldown=0, already_sent=0, sent=0, skipped=skipped
        )
        return doc
    publication = None if deployed is None else deployed.publication
    doc.results.campaign = hand_off(doc.run.model, rule, publication)
    return doc
