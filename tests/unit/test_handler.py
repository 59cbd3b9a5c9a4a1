"""The stage handler: the event is parsed into the stage's input model, the output returned as
JSON, and rows, drift findings, alerts and duration emitted as CloudWatch metrics (EMF)."""

import json

import pytest
from pydantic import ValidationError

from modelops.domain.contract import (
    AlertOutcome,
    ChunkItem,
    Evidence,
    ScoreChunkResult,
    StageDoc,
    ValidationResult,
)
from modelops.handler import lambda_entry
from tests.helpers import event

pytestmark = pytest.mark.usefixtures("function_environment")  # a handler checks it when made

FINDING = Evidence(
    stage="validate_scores", metric="score", value="d5", test="band", statistic=1.0, effect=0.3
)


def validate_scores(doc: StageDoc) -> StageDoc:
    doc.results.validate_scores = ValidationResult(
        rows=1234,
        profiles=3,
        drift=[FINDING, FINDING],
        alert=AlertOutcome(sent=True, severity="high", metrics=["score"], findings=2),
    )
    return doc


def score_data(item: ChunkItem) -> ChunkItem:
    item.results.score_data = ScoreChunkResult(rows=item.chunk.rows)
    return item


def emitted(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


@pytest.fixture
def metrics_on(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)


def test_a_stage_handler_emits_rows_findings_alerts_and_duration(metrics_on, capsys, lambda_context):
    result = lambda_entry(validate_scores)(event("validate_scores"), lambda_context)
    assert result["results"]["validate_scores"]["rows"] == 1234
    assert result["run"] == event("validate_scores")["run"]  # the document goes on, extended
    [emf] = emitted(capsys)
    names = {m["Name"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {"Duration", "Rows", "DriftFindings", "DriftAlerts"}
    assert emf["stage"] == "validate_scores"
    assert (emf["Rows"], emf["DriftFindings"], emf["DriftAlerts"]) == ([1234.0], [2.0], [1.0])


def test_the_chunk_stage_counts_its_rows(metrics_on, capsys, lambda_context):
    request = event("score_data")
    result = lambda_entry(score_data)(request, lambda_context)
    rows = request["chunk"]["rows"]
    assert rows > 0 and result["results"]["score_data"] == {"rows": rows, "seconds": 0.0}
    [emf] = emitted(capsys)
    assert (emf["stage"], emf["Rows"]) == ("score_data", [float(rows)])


def test_a_document_of_the_wrong_shape_is_refused_by_name(lambda_context):
    wrong = {**event("validate_scores"), "chunk": {"index": 0, "key": "k", "rows": 1}}
    with pytest.raises(ValidationError, match="chunk"):
        lambda_entry(validate_scores)(wrong, lambda_context)
    with pytest.raises(ValidationError, match=r"run\.model"):
        lambda_entry(validate_scores)({"run": {"run_id": "r"}}, lambda_context)
