"""The real statemachines/scoring.asl.json: Distributed Map over chunks, score tables, campaign."""

import io
from datetime import date

import boto3
import numpy as np
import pytest

from modelops.domain.data.features import FeatureMatrix
from modelops.stores import history, latest, layout, objects, registry
from modelops_dev.demo import synthetic
from modelops_dev.sandbox import Sandbox
from tests.helpers import SCORING_AS_OF, drain, latest_items, put_churn_spec, run, score
from tests.states import LAKE, States, build_trained

pytestmark = pytest.mark.e2e
RUN_ID = "scoring-churn-2025-09-01"


def build_scored_in_chunks(states: States) -> dict:
    """September scored in chunks of 500 rows, campaign top 50 at or above 0.1."""
    states.restore("trained", build_trained)
    put_churn_spec(scoring={"chunk_rows": 500}, campaign={"top_n": 50, "min_score": 0.1})
    result = score(states.sandbox)
    sfn = boto3.client("stepfunctions")
    [map_run] = sfn.list_map_runs(executionArn=result.arn)["mapRuns"]
    items = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])["itemCounts"]
    return {"result": result, "map_items": items, "messages": drain(states.sandbox.ref("CampaignQueue"))}


@pytest.fixture
def chunked(states: States) -> tuple[Sandbox, dict]:
    return states.sandbox, states.restore("scored-in-chunks", build_scored_in_chunks)


def september_entities() -> set[str]:
    """Customers of September, counted from the data the lake was loaded with."""
    month, columns = synthetic.generate(LAKE)[8]
    assert month == date(2025, 9, 1)
    return set(columns["customer_id"].tolist())


def test_the_map_fans_out_over_chunks_and_nothing_is_lost_or_doubled(chunked):
    _, built = chunked
    result = built["result"]
    assert [s for s, _ in result.states] == [
        "GetData",
        "VerifyModel",
        "ScoreChunks",
        "ValidateData",
        "CollectOutcomes",
        "ValidateOutcomes",
        "ValidateScores",
        "DeployScores",
        "Campaign",
        "RetireLater",  # published item by item: no table to retire
        "Published",
    ]
    # 1,000 rows in chunks of 500: two Map items, each its own child execution.
    assert (built["map_items"]["total"], built["map_items"]["succeeded"]) == (2, 2)
    results = result.output["results"]
    assert results["get_data"]["chunks"] == 2
    assert any(e["type"] == "MapRunStarted" for e in result.history)
    assert len([k for k in objects.list_keys(f"runs/{RUN_ID}/chunks/") if k.endswith("/receipt.json")]) == 2
    assert len(objects.list_keys(layout.history_prefix("churn", date(2025, 9, 1), "batch"))) == 2
    rows = history.read("churn")
    entities = september_entities()
    assert (
        len(rows) == results["validate_scores"]["rows"] == results["deploy_scores"]["rows"] == len(entities)
    )
    assert {r["entity_id"] for r in rows} == entities
    assert {r["model_version"] for r in rows} == {"1.0.0"} and {r["source"] for r in rows} == {"batch"}


def test_latest_holds_one_row_per_entity_and_top_n_is_exact(chunked):
    sandbox, built = chunked
    publication = built["result"].output["results"]["deploy_scores"]["publication"]
    items = latest_items(sandbox, publication)
    assert {i["entity_id"] for i in items} == september_entities() and len(items) == 1000
    ranked = sorted(history.read("churn"), key=lambda r: (-r["score"], r["entity_id"]))
    top = latest.top("churn", 100)
    assert [(s.entity_id, s.score) for s in top] == [(r["entity_id"], r["score"]) for r in ranked[:100]]


def test_the_queue_holds_exactly_the_campaign_selection(chunked):
    _, built = chunked
    ranked = sorted(history.read("churn"), key=lambda r: (-r["score"], r["entity_id"]))
    expected = [r["entity_id"] for r in ranked if r["score"] >= 0.1][:50]
    assert len(expected) == 50  # the rule's top_n binds, not only its floor
    messages = built["messages"]
    assert sorted(m["entity_id"] for m in messages) == sorted(expected)
    assert {m["model_version"] for m in messages} == {"1.0.0"}
    assert all(m["run_id"] == RUN_ID for m in messages)


def test_the_same_scoring_input_twice_changes_nothing_and_sends_nothing(chunked):
    sandbox, built = chunked
    first = built["result"]
    history_keys = objects.list_keys(layout.history_prefix("churn", date(2025, 9, 1)))
    before_history = [objects.get_bytes(key) for key in history_keys]
    publication = first.output["results"]["deploy_scores"]["publication"]
    before_latest = sorted(latest_items(sandbox, publication), key=lambda i: i["sk"])
    again = score(sandbox)
    assert objects.list_keys(layout.history_prefix("churn", date(2025, 9, 1))) == history_keys
    assert [objects.get_bytes(key) for key in history_keys] == before_history
    assert sorted(latest_items(sandbox, publication), key=lambda i: i["sk"]) == before_latest
    assert again.output["results"]["campaign"]["sent"] == 0
    first_sent = first.output["results"]["campaign"]["sent"]
    assert first_sent == 50 and again.output["results"]["campaign"]["already_sent"] == first_sent
    assert drain(sandbox.ref("CampaignQueue")) == []


def test_the_joblib_artifact_scores_like_the_stage(chunked):
    """The stored artifact reproduces the published scores exactly (no hidden state)."""
    import joblib

    model = joblib.load(io.BytesIO(registry.verified_artifact(registry.get_version("churn", "1.0.0"))))
    chunk = FeatureMatrix.from_bytes(objects.get_bytes(layout.chunk_key(RUN_ID, 0, "features.npz")))
    published = {r["entity_id"]: r["score"] for r in history.read("churn")}
    expected = model.predict_proba(chunk.X)[:, 1]
    assert chunk.rows == 500
    assert np.array_equal(np.array([published[e] for e in chunk.entity]), expected)


def test_a_tampered_artifact_fails_scoring_before_anything_is_published(trained):
    from tests.helpers import alert_inbox

    inbox = alert_inbox(trained.sandbox)
    record = registry.get_version("churn", "1.0.0")
    artifact = bytearray(objects.get_bytes(record.artifact_key))
    artifact[-10] ^= 0x01
    objects.put_bytes(record.artifact_key, bytes(artifact))
    result = run(trained.sandbox, "ScoringStateMachine", SCORING_AS_OF)
    assert result.status == "FAILED" and result.error == "IntegrityError"
    assert "does not match the registry" in result.cause
    assert "ScoreChunks" not in dict(result.states) and "NotifyFailure" in dict(result.states)
    [alert] = drain(inbox)
    assert alert["MessageAttributes"]["error"]["Value"] == "IntegrityError"
    assert latest.pointer("churn") is None
    assert objects.list_keys("scores/") == []
    assert drain(trained.sandbox.ref("CampaignQueue")) == []
