"""Drift monitoring on the demo's drift scenario: quiet in stable months, one alert (SNS +
EventBridge) in the month the drift starts, naming the drifted feature and the scores."""

import json
from collections.abc import Iterator

import boto3
import pytest

from modelops import metadata
from modelops_local import demo_data, runner
from modelops_local.sandbox import QUIET, Sandbox, embedded
from tests.conftest import CHURN_SPEC
from tests.e2e.test_training_pipeline import alert_inbox, received

pytestmark = pytest.mark.e2e


def event_inbox() -> str:
    """An SQS queue behind an EventBridge rule for DriftDetected events."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="drift-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="drift", EventPattern=json.dumps({"source": ["modelops"], "detail-type": ["DriftDetected"]})
    )
    events.put_targets(Rule="drift", Targets=[{"Id": "inbox", "Arn": arn}])
    return url


def score(sandbox: Sandbox, as_of: str) -> dict:
    result = runner.follow(
        runner.start(sandbox.ref("ScoringStateMachine"), {"model": "churn", "as_of": as_of})
    )
    assert result.status == "SUCCEEDED", result.cause
    return result.output["results"]


@pytest.fixture(scope="module")
def monitored() -> Iterator[tuple[Sandbox, str, str, dict]]:
    with embedded(environment=QUIET) as sandbox:
        runner.put_spec(CHURN_SPEC)
        runner.load_demo_data(demo_data.DemoConfig(customers=4_000))
        alerts, events = alert_inbox(sandbox), event_inbox()
        trained = runner.follow(
            runner.start(sandbox.ref("TrainingStateMachine"), {"model": "churn", "as_of": "2025-08-01"})
        )
        assert trained.status == "SUCCEEDED", trained.cause
        results = {"training": trained.output["results"], "2025-09-01": score(sandbox, "2025-09-01")}
        results["2025-10-01"] = score(sandbox, "2025-10-01")
        yield sandbox, alerts, events, results


def test_stable_months_raise_no_alert(monitored):
    _, _, _, results = monitored
    for run in ("training", "2025-09-01"):
        assert results[run]["validate_data"]["drift"] == [], run
        last = results[run].get("validate_model") or results[run]["validate_scores"]
        assert last["drift"] == [] and "alert" not in last


def test_the_drift_month_alerts_once_naming_the_feature_and_the_scores(monitored):
    _, alerts, events, results = monitored
    october = results["2025-10-01"]["validate_scores"]
    assert october["alert"]["sent"] is True
    assert {"data_usage_gb", "score"} <= set(october["alert"]["metrics"])
    [message] = [m for m in received(alerts) if m["Subject"].startswith("modelops drift")]
    alert = json.loads(message["Message"])
    assert alert["timestamp"] == "2025-10-01" and alert["severity"] == "high"
    evidence = {(f["metric"], f["test"]) for f in alert["findings"]}
    assert ("data_usage_gb", "ks") in evidence and ("score", "ks") in evidence
    usage = next(f for f in alert["findings"] if f["metric"] == "data_usage_gb" and f["test"] == "band")
    assert usage["series"][-1] > 1.5 * usage["series"][-2]  # the evidence shows the jump
    [event] = [
        json.loads(m["Body"])
        for m in boto3.client("sqs").receive_message(QueueUrl=events, MaxNumberOfMessages=10)["Messages"]
    ]
    assert event["detail-type"] == "DriftDetected" and event["detail"]["run_id"] == "scoring-churn-2025-10-01"


def test_each_run_refreshes_the_drift_report(monitored):
    from modelops import store, validation

    _, _, _, results = monitored
    assert results["2025-10-01"]["validate_scores"]["report"] == store.uri(validation.report_key("churn"))
    html = store.get_bytes(validation.report_key("churn")).decode()
    assert "Drift report: churn" in html and html.count('<svg class="chart"') >= 10
    assert "2025-10-01" in html and "data_usage_gb" in html


def test_an_unchanged_alert_is_not_sent_again(monitored):
    sandbox, alerts, _, _ = monitored
    again = score(sandbox, "2025-10-01")["validate_scores"]
    assert again["alert"] == {**again["alert"], "sent": False, "reason": "unchanged since the last alert"}
    assert [m for m in received(alerts) if m["Subject"].startswith("modelops drift")] == []
    assert len(metadata.alerts("churn")) == 1
