"""The real statemachines/training.asl.json, executed by moto's Step Functions engine."""

import io
import json

import numpy as np
import pytest

from modelops.domain.spec import parse_spec
from modelops.stores import lake, layout, metadata, objects, registry
from modelops_dev.demo import synthetic
from tests.helpers import CHURN_SPEC, alert_inbox, drain, run
from tests.states import LAKE

pytestmark = pytest.mark.e2e
STAGES = ["GetData", "TransformData", "ValidateData", "TrainModel", "ValidateModel", "DeployModel"]


def test_the_execution_runs_every_stage_with_the_template_functions(trained):
    result = trained.execution
    assert result.status == "SUCCEEDED", result.cause
    assert [state for state, _ in result.states] == STAGES
    scheduled = [e for e in result.history if e["type"] == "TaskScheduled"]
    assert [json.loads(e["taskScheduledEventDetails"]["parameters"])["FunctionName"] for e in scheduled] == [
        trained.sandbox.resolver.attributes[(f"{state}Function", "Arn")] for state in STAGES
    ]


def test_the_artifact_matches_the_registry_and_is_the_champion(trained):
    import joblib

    deployed = trained.execution.output["results"]["deploy_model"]
    assert registry.champion("churn") == deployed["version"] == "1.0.0"
    record = registry.get_version("churn", "1.0.0")
    assert registry.sha256(objects.get_bytes(record.artifact_key)) == record.sha256 == deployed["sha256"]
    model = joblib.load(io.BytesIO(registry.verified_artifact(record)))
    run_id = trained.execution.output["run"]["run_id"]
    test = objects.get_bytes(layout.training_key(run_id, "test_features.npz"))
    from modelops.domain.data.features import FeatureMatrix
    from modelops.domain.scores import ScoreSet

    features = FeatureMatrix.from_bytes(test)
    stored = ScoreSet.from_bytes(objects.get_bytes(layout.training_key(run_id, "test_scores.npz")))
    # The registered artifact reproduces the test-sample scores the metrics were computed on.
    assert np.array_equal(model.predict_proba(features.X)[:, 1], stored.score) and stored.rows == 1000


def test_metadata_rows_cover_outcome_features_and_test_scores(trained):
    spec = parse_spec(CHURN_SPEC.read_text())
    assert {row["metric"] for row in metadata.read_rows("churn", "validate_data")} == {
        "outcome",
        *spec.feature_names,
    }
    model_rows = metadata.read_rows("churn", "validate_model")
    assert {row["metric"] for row in model_rows} == {"score", "outcome_by_score_decile"}
    score_deciles = {r["decile"]: r["value"] for r in model_rows if r["metric"] == "score"}
    assert (
        score_deciles["count"]
        == trained.execution.output["results"]["train_model"]["metrics"]["rows"]
        == 1000
    )
    lift = [
        r["value"]
        for r in sorted(
            (r for r in model_rows if r["metric"] == "outcome_by_score_decile"),
            key=lambda r: int(r["decile"][1:]),
        )
    ]
    assert lift[-1] > 2 * lift[0]  # the top score decile churns far more than the bottom one


def test_a_failing_stage_fails_the_execution_alerts_and_keeps_the_champion(trained):
    inbox = alert_inbox(trained.sandbox)
    # September's outcomes become all zero: the out-of-time test sample has a single class.
    september = synthetic.generate(synthetic.DemoConfig(customers=LAKE.customers, months=9))[-1]
    assert september[0].isoformat() == "2025-09-01"
    columns = {**september[1], "churned_next_month": np.zeros_like(september[1]["churned_next_month"])}
    lake.write_partition("customers", september[0], columns)
    result = run(trained.sandbox, "TrainingStateMachine", "2025-09-01")
    assert result.status == "FAILED" and result.error == "TrainingError"
    assert "single class" in result.cause
    [alert] = drain(inbox)
    assert alert["Subject"] == "modelops training pipeline failed"
    assert alert["MessageAttributes"]["error"]["Value"] == "TrainingError"
    notice = json.loads(alert["Message"])
    # each training execution has its own run id: the period plus a tag of the execution
    assert notice["run"]["run_id"].startswith("training-churn-2025-09-01-")
    assert notice["error"]["Error"] == "TrainingError"
    assert registry.champion("churn") == "1.0.0"
    assert [v.version for v in registry.versions("churn")] == ["1.0.0"]
