"""Drift monitoring on the demo's drift scenario: quiet in stable months, one alert (SNS +
EventBridge) in the month the drift starts, naming the drifted feature and the scores in one
sentence, with the reference band and the reason in the report."""

import json

import pytest

from modelops.stores import layout, metadata, objects
from modelops_dev.sandbox import Sandbox
from tests.helpers import alert_inbox, drain, score

pytestmark = pytest.mark.e2e


@pytest.fixture
def monitored(october: tuple[Sandbox, dict]) -> tuple[Sandbox, dict]:
    return october


def test_stable_months_raise_no_alert(monitored):
    _, runs = monitored
    for name in ("training", "september"):
        results = runs[name]
        assert results["validate_data"].get("drift", []) == [], name
        last = results.get("validate_model") or results["validate_scores"]
        assert last.get("drift", []) == [] and "alert" not in last, name


def test_the_drift_month_alerts_once_naming_the_feature_and_the_scores(monitored):
    _, runs = monitored
    october = runs["october"]["validate_scores"]
    assert october["alert"]["sent"] is True
    assert {"data_usage_gb", "score"} <= set(october["alert"]["metrics"])
    [message] = runs["alerts"]
    alert = json.loads(message["Message"])
    assert alert["timestamp"] == "2025-10-01" and alert["severity"] == "high"
    evidence = {(f["metric"], f["test"]) for f in alert["findings"]}
    assert ("data_usage_gb", "ks") in evidence and ("score", "ks") in evidence
    usage = next(f for f in alert["findings"] if f["metric"] == "data_usage_gb" and f["test"] == "band")
    assert usage["series"][-1] > 1.5 * usage["series"][-2]  # the evidence shows the jump
    assert usage["series"][-1] > 1.5 * usage["expected"] and usage["since"] == "2025-10-01"
    # One sentence names the metric that changed most, its effect and when the change began.
    assert alert["summary"] == october["alert"]["summary"]
    assert alert["summary"].startswith("High-severity drift: data_usage_gb (")
    assert "since 2025-10-01" in alert["summary"]
    assert alert["changes"][0]["metric"] == "data_usage_gb" and alert["changes"][0]["severity"] == "high"
    [drift_event] = runs["events"]
    assert drift_event["detail-type"] == "DriftDetected"
    assert drift_event["detail"]["run_id"] == "scoring-churn-2025-10-01"


def test_each_run_refreshes_the_drift_report(monitored):
    _, runs = monitored
    assert runs["october"]["validate_scores"]["report"] == objects.uri(layout.report_key("churn"))
    html = objects.get_bytes(layout.report_key("churn")).decode()
    assert "Monitoring report: churn" in html and html.count('<svg class="chart"') >= 10
    assert "2025-10-01" in html and "data_usage_gb" in html
    assert "Why this alert:" in html and 'class="band"' in html  # the flagged metric's reference band


def test_an_unchanged_alert_is_not_sent_again(monitored):
    sandbox, _ = monitored
    inbox = alert_inbox(sandbox)
    again = score(sandbox, "2025-10-01").output["results"]["validate_scores"]
    assert again["alert"] == {**again["alert"], "sent": False, "reason": "unchanged since the last alert"}
    assert [m for m in drain(inbox) if m["Subject"].startswith("modelops drift")] == []
    assert len(metadata.alerts("churn")) == 1
