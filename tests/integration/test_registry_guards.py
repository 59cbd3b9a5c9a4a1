"""The model store under races and tampering, and the campaign under a crash and a late
re-run: nothing overwritten, nothing loaded unverified, nobody messaged twice."""

import io
import json
import threading

import boto3
import joblib
import numpy as np
import pytest

from modelops.stores import contacts, objects, registry
from modelops_dev.client.campaign_consumer import Consumer
from tests.helpers import drain, put_churn_spec, run, score


def _copy_of_champion(tag: int) -> tuple[bytes, dict]:
    """The champion's model, serialized anew (other bytes, same model), with its metadata."""
    record = registry.get_version("churn", "1.0.0")
    buffer = io.BytesIO()
    joblib.dump(registry.load_estimator(record), buffer, compress=tag)
    return buffer.getvalue(), registry.verified_metadata(record)


def test_two_publishers_at_once_get_two_versions_and_neither_overwrites_the_other(trained):
    artifacts = [_copy_of_champion(tag) for tag in (1, 2)]
    barrier, published = threading.Barrier(2), {}

    def publish(index: int) -> None:
        barrier.wait()
        artifact, metadata = artifacts[index]
        published[index] = registry.publish("churn", f"racer-{index}", artifact, metadata)

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    versions = sorted(record.version for record in published.values())
    assert versions == ["1.1.0", "1.2.0"]
    for index, record in published.items():
        assert registry.verified_artifact(record) == artifacts[index][0]  # its own bytes, intact
        assert registry.verified_metadata(record)["version"] == record.version


def test_a_stale_read_of_the_versions_still_allocates_a_free_one(trained, monkeypatch):
    stale = registry._all_versions("churn")[:0]  # a reader that has not seen 1.0.0 yet
    calls = {"count": 0}
    real = registry._all_versions

    def first_stale(model):
        calls["count"] += 1
        return stale if calls["count"] == 1 else real(model)

    monkeypatch.setattr(registry, "_all_versions", first_stale)
    version = registry._allocate("churn", "late-run", "schema")
    assert version == "2.0.0" and calls["count"] >= 2  # 1.0.0 was taken: the write lost, then retried
    assert registry.get_version("churn", "1.0.0").status == registry.REGISTERED  # untouched


def test_a_republished_run_returns_its_version_and_identical_bytes_are_not_registered_twice(trained):
    record = registry.get_version("churn", "1.0.0")
    same = registry.publish(
        "churn", "another-run", registry.verified_artifact(record), registry.verified_metadata(record)
    )
    assert same.version == "1.0.0" and same.run_id == record.run_id


def test_a_tampered_schema_in_metadata_is_refused_by_batch_and_online_scoring(trained):
    record = registry.get_version("churn", "1.0.0")
    document = json.loads(objects.get_bytes(record.metadata_key))
    region = next(f for f in document["feature_schema"]["features"] if f["name"] == "region")
    region["categories"].reverse()  # the attack: every region code means another region
    objects.put_bytes(record.metadata_key, json.dumps(document).encode())
    result = run(trained.sandbox, "ScoringStateMachine", "2025-09-01")
    assert result.status == "FAILED"
    assert "metadata.json sha256" in result.cause and "does not match the registry" in result.cause
    with pytest.raises(registry.IntegrityError, match=r"metadata\.json"):
        registry.feature_schema(record)


def deliveries_table(name: str = "campaign-deliveries"):
    """The reference consumer's own table (its team's stack, not ours): keys delivered."""
    dynamodb = boto3.resource("dynamodb")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb.Table(name)


def test_a_crash_between_sending_and_marking_then_a_late_rerun_delivers_each_customer_once(
    scored, monkeypatch
):
    """The queue's 5-minute deduplication is long gone when the re-run comes: what the crashed
    run sent goes out again, with the same idempotency key, which the reference consumer
    (docs/campaign.md) drops: each customer is delivered once."""
    import moto.sqs.models

    sandbox = scored.sandbox
    queue = sandbox.ref("CampaignQueue")
    drain(queue)  # September's hand-off
    # No cooldown: September's hand-off must not take any of October's top 20.
    put_churn_spec(campaign={"top_n": 20, "min_score": None, "cooldown_days": 0})
    real = contacts.mark_sent

    def crash(model, sent):
        raise RuntimeError("the function died before marking the contacts sent")

    monkeypatch.setattr(contacts, "mark_sent", crash)
    crashed = run(sandbox, "ScoringStateMachine", "2025-10-01")
    assert crashed.status == "FAILED" and "died before marking" in crashed.cause
    delivered: list[dict] = []
    consumer = Consumer(deliveries_table(), delivered.append)
    sqs = boto3.client("sqs")
    assert consumer.drain(sqs, queue) == {"delivered": 10, "repeat": 0, "in_flight": 0}  # the first batch

    monkeypatch.setattr(contacts, "mark_sent", real)
    monkeypatch.setattr(moto.sqs.models, "DEDUPLICATION_TIME_IN_SECONDS", 0)  # "more than five minutes later"
    rerun = score(sandbox, "2025-10-01")
    assert rerun.output["results"]["campaign"]["sent"] == 20  # the crashed batch of 10 goes out again
    assert consumer.drain(sqs, queue) == {"delivered": 20, "repeat": 10, "in_flight": 0}
    keys = [m["idempotency_key"] for m in delivered]
    assert len(keys) == len(set(keys)) == 20 and len({m["entity_id"] for m in delivered}) == 20
    assert all(key.startswith("churn:scoring-churn-2025-10-01:") for key in keys)
    again = score(sandbox, "2025-10-01").output["results"]["campaign"]
    assert again["sent"] == 0 and again["already_sent"] == 20 and drain(queue) == []


def test_the_reference_consumer_takes_over_a_claim_whose_consumer_died(sandbox):
    """A consumer that crashed between claiming a key and marking it delivered leaves the key
    claimed: the message comes back, waits out the claim's lease, and is delivered once."""
    clock = [1_000_000.0]
    delivered: list[dict] = []
    table = deliveries_table("deliveries-lease")
    message = {"idempotency_key": "churn:run-1:47", "entity_id": "47"}

    def dies(body: dict) -> None:
        raise SystemExit("the consumer's process ended mid-delivery")  # no cleanup runs

    crashed = Consumer(table, dies, lease_seconds=300, clock=lambda: clock[0])
    with pytest.raises(SystemExit):
        crashed.handle(message)
    assert table.get_item(Key={"pk": "churn:run-1:47"})["Item"]["status"] == "delivering"  # its claim stayed
    consumer = Consumer(table, delivered.append, lease_seconds=300, clock=lambda: clock[0])
    batch = {"Records": [{"messageId": "m-1", "body": json.dumps(message)}]}
    assert consumer.lambda_handler(batch) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}  # in flight
    clock[0] += 301
    assert consumer.lambda_handler(batch) == {"batchItemFailures": []} and delivered == [message]
    assert consumer.lambda_handler(batch) == {"batchItemFailures": []} and delivered == [message]  # a repeat
    assert consumer.outcomes == {"delivered": 1, "repeat": 1, "in_flight": 1}


def test_the_versions_calibration_is_kept_with_it_verified_and_a_tampered_copy_refused(trained):
    from modelops.domain.monitoring.calibration import Calibration
    from modelops.stores import calibrations, layout

    record = registry.get_version("churn", "1.0.0")
    stored = calibrations.load(record)
    assert stored is not None
    assert registry.verified_metadata(record)[calibrations.SHA256_FIELD] == registry.sha256(
        objects.get_bytes(layout.model_performance_key("churn", "1.0.0"))
    )
    calibration = Calibration.from_dict(stored["calibration"])
    assert calibration.method in ("isotonic", "platt") and 0 <= calibration.apply(np.array([0.5]))[0] <= 1
    [period] = stored["periods"]  # the churn spec tests on one period: 2025-08
    assert period["period"] == "2025-08-01" and 0.5 < period["roc_auc"]["value"] < 1
    assert {"estimated_roc_auc", "outcome_rate", "precision"} <= set(period)
    assert stored["campaign"] == {"enabled": True, "top_n": 200, "min_score": 0.3}
    key = layout.model_performance_key("churn", "1.0.0")
    objects.put_bytes(key, json.dumps({**stored, "periods": []}).encode())
    with pytest.raises(registry.IntegrityError, match=r"performance\.json sha256"):
        calibrations.load(record)
