"""The real statemachines/training.asl.json, executed by moto's Step Functions engine."""

import json
from collections.abc import Iterator

import boto3
import numpy as np
import pytest

from modelops import data, metadata, registry, store
from modelops.spec import parse_spec
from modelops_local import demo_data, runner
from modelops_local.sandbox import Sandbox, embedded
from tests.conftest import CHURN_SPEC, QUIET, event

pytestmark = pytest.mark.e2e
STAGES = ["GetData", "TransformData", "ValidateData", "TrainModel", "ValidateModel", "DeployModel"]


def alert_inbox(sandbox: Sandbox) -> str:
    """An SQS queue subscribed to the alert topic, to read what was published."""
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName="alert-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=sandbox.ref("AlertTopic"), Protocol="sqs", Endpoint=arn)
    return url


def received(url: str) -> list[dict]:
    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


@pytest.fixture(scope="module")
def trained() -> Iterator[tuple[Sandbox, runner.ExecutionResult, str]]:
    with embedded(environment=QUIET) as sandbox:
        runner.put_spec(CHURN_SPEC)
        runner.load_demo_data(demo_data.DemoConfig(customers=3_000))
        inbox = alert_inbox(sandbox)
        arn = runner.start(sandbox.ref("TrainingStateMachine"), event("training_request"))
        yield sandbox, runner.follow(arn, timeout=600), inbox


def test_the_execution_succeeds_through_every_stage(trained):
    sandbox, result, inbox = trained
    assert result.status == "SUCCEEDED", result.cause
    assert [state for state, _ in result.states] == STAGES
    history = boto3.client("stepfunctions").get_execution_history(executionArn=result.arn)["events"]
    scheduled = [e for e in history if e["type"] == "TaskScheduled"]
    assert [json.loads(e["taskScheduledEventDetails"]["parameters"])["FunctionName"] for e in scheduled] == [
        sandbox.resolver.attributes[(f"{state}Function", "Arn")] for state in STAGES
    ]
    assert received(inbox) == []


def test_the_artifact_matches_the_registry_and_is_the_champion(trained):
    _, result, _ = trained
    deployed = result.output["results"]["deploy_model"]
    assert registry.champion("churn") == deployed["version"] == "1.0.0"
    record = registry.get_version("churn", "1.0.0")
    artifact = store.get_bytes(record.artifact_key)
    assert registry.sha256(artifact) == record.sha256 == deployed["sha256"]
    import io

    import joblib

    model = joblib.load(io.BytesIO(registry.verified_artifact(record)))
    assert model.predict_proba(np.zeros((1, 9)))[0].sum() == pytest.approx(1.0)


def test_metadata_rows_cover_outcome_features_and_test_scores(trained):
    _, result, _ = trained
    spec = parse_spec(CHURN_SPEC.read_text())
    data_metrics = {row["metric"] for row in metadata.read_rows("churn", "validate_data")}
    assert data_metrics == {"outcome", *spec.feature_names}
    model_rows = metadata.read_rows("churn", "validate_model")
    assert {row["metric"] for row in model_rows} == {"score", "outcome_by_score_decile"}
    score_deciles = {r["decile"]: r["value"] for r in model_rows if r["metric"] == "score"}
    assert score_deciles["count"] == result.output["results"]["train_model"]["metrics"]["rows"]
    lift = [
        r["value"]
        for r in sorted(
            (r for r in model_rows if r["metric"] == "outcome_by_score_decile"),
            key=lambda r: int(r["decile"][1:]),
        )
    ]
    assert lift[-1] > 2 * lift[0]  # the top score decile churns far more than the bottom one


def test_a_failing_stage_fails_the_execution_alerts_and_keeps_the_champion(trained):
    sandbox, _, inbox = trained
    # September's outcomes become all zero: the out-of-time test sample has a single class.
    september = data.partition_key("customers", demo_data.DemoConfig().start.replace(month=9))
    with_zero_outcome = demo_data.generate(demo_data.DemoConfig(customers=3_000, months=9))[-1][1]
    with_zero_outcome["churned_next_month"] = np.zeros_like(with_zero_outcome["churned_next_month"])
    data.write_partition(
        "customers", with_zero_outcome["snapshot_month"][0].astype("datetime64[D]").item(), with_zero_outcome
    )
    assert store.exists(september)
    arn = runner.start(sandbox.ref("TrainingStateMachine"), {"model": "churn", "as_of": "2025-09-01"})
    result = runner.follow(arn, timeout=600)
    assert result.status == "FAILED"
    assert result.error == "TrainingError"
    assert "single class" in result.cause
    [alert] = received(inbox)
    assert alert["Subject"] == "modelops training pipeline failed"
    assert alert["MessageAttributes"]["error"]["Value"] == "TrainingError"
    notice = json.loads(alert["Message"])
    assert (
        notice["run"]["run_id"] == "training-churn-2025-09-01" and notice["error"]["Error"] == "TrainingError"
    )
    assert registry.champion("churn") == "1.0.0"
    assert [v.version for v in registry.versions("churn")] == ["1.0.0"]
