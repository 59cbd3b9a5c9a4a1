"""The real statemachines/scoring.asl.json: Distributed Map over chunks, score tables, campaign."""

import io
import json
from collections.abc import Iterator
from datetime import date

import boto3
import numpy as np
import pytest

from modelops import registry, scores, store
from modelops.spec import parse_spec
from modelops_local import demo_data, runner
from modelops_local.sandbox import Sandbox, embedded
from tests.conftest import CHURN_SPEC, QUIET, given_spec

pytestmark = pytest.mark.e2e
CUSTOMERS = 3_000
SCORING = {"model": "churn", "as_of": "2025-09-01"}


def train(sandbox: Sandbox, tmp_path) -> None:
    spec = parse_spec(CHURN_SPEC.read_text())
    campaign = {**spec.campaign.model_dump(), "top_n": 50, "min_score": 0.2}
    runner.put_spec(given_spec(tmp_path / "churn.yaml", scoring={"chunk_rows": 500}, campaign=campaign))
    runner.load_demo_data(demo_data.DemoConfig(customers=CUSTOMERS))
    trained = runner.follow(
        runner.start(sandbox.ref("TrainingStateMachine"), {"model": "churn", "as_of": "2025-08-01"})
    )
    assert trained.status == "SUCCEEDED", trained.cause


def drain(queue_url: str) -> list[dict]:
    sqs, bodies = boto3.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def latest_items(sandbox: Sandbox, publication: str) -> list[dict]:
    table = boto3.resource("dynamodb").Table(sandbox.ref("ScoresTable"))
    return table.query(
        KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": f"churn#{publication}"}
    )["Items"]


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> Iterator[tuple[Sandbox, runner.ExecutionResult, list[dict]]]:
    with embedded(environment=QUIET) as sandbox:
        train(sandbox, tmp_path_factory.mktemp("spec"))
        result = runner.follow(runner.start(sandbox.ref("ScoringStateMachine"), SCORING), timeout=600)
        yield sandbox, result, drain(sandbox.ref("CampaignQueue"))


def test_the_map_fans_out_over_chunks_and_nothing_is_lost_or_doubled(scored):
    _, result, _ = scored
    assert result.status == "SUCCEEDED", result.cause
    assert [s for s, _ in result.states if s != "ScoreData"] == [
        "GetData",
        "TransformData",
        "ValidateData",
        "VerifyModel",
        "ScoreChunks",
        "ValidateScores",
        "DeployScores",
        "Campaign",
    ]
    results = result.output["results"]
    assert results["transform_data"]["chunks"] == 6 >= 4
    history = boto3.client("stepfunctions").get_execution_history(executionArn=result.arn)["events"]
    assert any(e["type"] == "MapRunStarted" for e in history)
    assert len(store.list_keys("runs/scoring-churn-2025-09-01/scores/")) == 6
    rows = scores.read_history("churn")
    # Entities in the window, counted from the data the lake was loaded with (September).
    september = demo_data.generate(demo_data.DemoConfig(customers=CUSTOMERS))[8]
    assert september[0] == date(2025, 9, 1)
    entities_in_window = len(set(september[1]["customer_id"].tolist()))
    assert (
        len(rows)
        == results["validate_scores"]["rows"]
        == results["deploy_scores"]["rows"]
        == entities_in_window
    )
    assert len({r["entity_id"] for r in rows}) == entities_in_window
    assert {r["model_version"] for r in rows} == {"1.0.0"} and {r["source"] for r in rows} == {"batch"}


def test_latest_holds_one_row_per_entity_and_top_n_is_exact(scored):
    sandbox, result, _ = scored
    publication = result.output["results"]["deploy_scores"]["publication"]
    items = latest_items(sandbox, publication)
    assert len(items) == len({i["sk"] for i in items}) == CUSTOMERS
    history = sorted(scores.read_history("churn"), key=lambda r: (-r["score"], r["entity_id"]))
    top = scores.top("churn", 100)
    assert [(s.entity_id, s.score) for s in top] == [(r["entity_id"], r["score"]) for r in history[:100]]


def test_the_queue_holds_exactly_the_campaign_selection(scored):
    _, _, messages = scored
    history = sorted(scores.read_history("churn"), key=lambda r: (-r["score"], r["entity_id"]))
    expected = [r["entity_id"] for r in history if r["score"] >= 0.2][:50]
    assert sorted(m["entity_id"] for m in messages) == sorted(expected)
    assert {m["model_version"] for m in messages} == {"1.0.0"}
    assert all(m["run_id"] == "scoring-churn-2025-09-01" for m in messages)


def test_the_same_scoring_input_twice_changes_nothing_and_sends_nothing(scored):
    sandbox, first, _ = scored
    before_history = store.get_bytes(scores.history_key("churn", date(2025, 9, 1)))
    publication = first.output["results"]["deploy_scores"]["publication"]
    before_latest = sorted(latest_items(sandbox, publication), key=lambda i: i["sk"])
    again = runner.follow(runner.start(sandbox.ref("ScoringStateMachine"), SCORING), timeout=600)
    assert again.status == "SUCCEEDED", again.cause
    assert store.get_bytes(scores.history_key("churn", date(2025, 9, 1))) == before_history
    assert sorted(latest_items(sandbox, publication), key=lambda i: i["sk"]) == before_latest
    assert again.output["results"]["campaign"]["sent"] == 0
    first_sent = first.output["results"]["campaign"]["sent"]
    assert first_sent > 0 and again.output["results"]["campaign"]["already_sent"] == first_sent
    assert drain(sandbox.ref("CampaignQueue")) == []


def test_joblib_artifacts_score_like_the_stage(scored):
    """The stored artifact reproduces the published scores exactly (no hidden state)."""
    import joblib

    from modelops.features import FeatureMatrix

    assert scored[1].status == "SUCCEEDED"
    record = registry.get_version("churn", "1.0.0")
    model = joblib.load(io.BytesIO(registry.verified_artifact(record)))
    chunk = FeatureMatrix.from_bytes(store.get_bytes("runs/scoring-churn-2025-09-01/features/part-00000.npz"))
    published = {r["entity_id"]: r["score"] for r in scores.read_history("churn")}
    expected = model.predict_proba(chunk.X)[:, 1]
    assert np.array_equal(np.array([published[e] for e in chunk.entity]), expected)
