import json
import time

from modelops.observability import lambda_entry
from modelops_local.sandbox import LambdaContext


def test_a_stage_handler_emits_rows_findings_alerts_and_duration(monkeypatch, capsys):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)

    def validate_scores(event):
        return {
            **event,
            "results": {"validate_scores": {"rows": 1234, "drift": [{}, {}], "alert": {"sent": True}}},
        }

    context = LambdaContext(
        "fn", "arn:aws:lambda:us-east-1:1:function:fn", 128, "request-1", time.monotonic() + 60
    )
    result = lambda_entry(validate_scores)({"run": {}}, context)
    assert result["results"]["validate_scores"]["rows"] == 1234
    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {"Duration", "Rows", "DriftFindings", "DriftAlerts"}
    assert emf["stage"] == "validate_scores"
    assert (emf["Rows"], emf["DriftFindings"], emf["DriftAlerts"]) == ([1234.0], [2.0], [1.0])
