"""Each stage handler through the Lambda API on moto, fed the sample events in events/."""

import copy
import itertools

import boto3
import numpy as np
import pytest

from modelops import metadata, registry, store
from modelops.features import FeatureMatrix
from modelops.spec import parse_spec
from tests.conftest import CHURN_SPEC, event, invoke

STAGES = [
    ("get_data", "GetDataFunction"),
    ("transform_data", "TransformDataFunction"),
    ("validate_data", "ValidateDataFunction"),
    ("train_model", "TrainModelFunction"),
    ("validate_model", "ValidateModelFunction"),
    ("deploy_model", "DeployModelFunction"),
]


def features_of(document: dict) -> FeatureMatrix:
    manifest = store.get_json(store.key_of(document["artifacts"]["features"]))
    return FeatureMatrix.concat(
        [FeatureMatrix.from_bytes(store.get_bytes(chunk["key"])) for chunk in manifest]
    )


def run_stages(sandbox, until: str = "deploy_model") -> dict:
    outputs = {}
    for name, function in STAGES:
        outputs[name] = invoke(sandbox, function, event(name))
        if name == until:
            break
    return outputs


def test_the_sample_events_chain_through_every_stage(lake):
    outputs = run_stages(lake)
    # Each sample event is exactly what the previous stage returns (less its results).
    for (name, _), (following, _) in itertools.pairwise(STAGES):
        produced = {**outputs[name], "results": {}}
        assert produced == event(following), f"{name} output differs from events/{following}.json"
    extract = outputs["get_data"]["results"]["get_data"]
    assert extract == {"rows": 16_000, "columns": 12}  # 2,000 customers x 8 months
    manifest = store.get_json("runs/training-churn-2025-08-01/features/manifest.json")
    assert [chunk["rows"] for chunk in manifest] == [2500] * 6 + [1000]  # chunk_rows of the spec
    matrix = features_of(outputs["transform_data"])
    assert matrix.X.shape == (16_000, 9)
    assert outputs["deploy_model"]["results"]["deploy_model"]["version"] == "1.0.0"


def test_get_data_names_a_window_without_data(sandbox):
    body = copy.deepcopy(event("get_data"))
    body["request"]["as_of"] = "2030-01-01"
    response = boto3.client("lambda").invoke(
        FunctionName=sandbox.ref("GetDataFunction"), Payload=str(body).replace("'", '"')
    )
    assert response["FunctionError"] == "Unhandled"
    error = response["Payload"].read().decode()
    assert (
        '"errorType": "NoDataError"' in error and "no partitions between 2029-06-01 and 2030-01-01" in error
    )


def test_get_data_names_a_spec_column_missing_from_the_data(lake, tmp_path):
    from modelops_local import runner
    from tests.conftest import given_spec

    spec = parse_spec(CHURN_SPEC.read_text())
    features = {name: f.model_dump(mode="json") for name, f in spec.features.items()}
    features["loyalty_points"] = {"type": "count"}
    runner.put_spec(given_spec(tmp_path / "churn.yaml", features=features))
    response = boto3.client("lambda").invoke(
        FunctionName=lake.ref("GetDataFunction"), Payload=str(event("get_data")).replace("'", '"')
    )
    error = response["Payload"].read().decode()
    assert '"errorType": "SpecError"' in error and "column 'loyalty_points'" in error


def test_validate_data_writes_the_outcome_and_every_feature_per_period(lake):
    run_stages(lake, until="validate_data")
    rows = metadata.read_rows("churn", "validate_data")
    metrics = {row["metric"] for row in rows}
    assert metrics == {"outcome", *parse_spec(CHURN_SPEC.read_text()).feature_names}
    periods = {row["timestamp"] for row in rows}
    assert len(periods) == 8
    charges = [r for r in rows if r["metric"] == "monthly_charges" and r["timestamp"].month == 1]
    assert {r["decile"] for r in charges} == {"count", "missing", "mean", *[f"d{k}" for k in range(1, 11)]}
    deciles = [next(r["value"] for r in charges if r["decile"] == f"d{k}") for k in range(1, 11)]
    assert deciles == sorted(deciles) and deciles[0] < deciles[-1]


def test_deploy_is_idempotent_and_registry_matches_the_artifact(lake):
    run_stages(lake)
    again = invoke(lake, "DeployModelFunction", event("deploy_model"))["results"]["deploy_model"]
    assert again["version"] == "1.0.0" and again["reason"] == "already the champion"
    [version] = registry.versions("churn")
    assert registry.sha256(store.get_bytes(version.artifact_key)) == version.sha256
    metadata_json = store.get_json(version.metadata_key)
    assert metadata_json["sha256"] == version.sha256
    assert metadata_json["libraries"]["scikit-learn"]
    assert [f["name"] for f in metadata_json["feature_schema"]["features"]][:2] == ["tenure_months", "age"]
    assert metadata_json["training_window"] == {"start": "2025-01-01", "end": "2025-08-01"}


def test_a_retrain_is_a_new_minor_version_and_the_gate_guards_the_champion(lake, tmp_path):
    from modelops_local import runner
    from tests.conftest import given_spec

    run_stages(lake)
    # A later window trains 1.1.0; an impossible gate keeps 1.0.0 the champion.
    spec = parse_spec(CHURN_SPEC.read_text())
    runner.put_spec(
        given_spec(tmp_path / "churn.yaml", promotion={**spec.promotion.model_dump(), "min_test_auc": 0.99})
    )
    body = copy.deepcopy(event("get_data"))
    body["request"]["as_of"] = "2025-09-01"
    document = invoke(lake, "GetDataFunction", body)
    for _, function in STAGES[1:]:
        document = invoke(lake, function, document)
    deployed = document["results"]["deploy_model"]
    assert deployed["version"] == "1.1.0" and deployed["champion"] is False
    assert "below the gate 0.9900" in deployed["reason"]
    assert registry.champion("churn") == "1.0.0"


def test_champion_alias_changes_only_by_conditional_write(lake):
    run_stages(lake)
    with pytest.raises(registry.RegistryConflict):
        registry.set_champion("churn", "9.9.9", expected=None)  # someone already set it
    with pytest.raises(registry.RegistryConflict):
        registry.set_champion("churn", "9.9.9", expected="0.1.0")
    registry.set_champion("churn", "9.9.9", expected="1.0.0")
    assert registry.champion("churn") == "9.9.9"


def test_a_tampered_artifact_fails_verification(lake):
    run_stages(lake)
    [version] = registry.versions("churn")
    body = bytearray(store.get_bytes(version.artifact_key))
    body[len(body) // 2] ^= 0xFF
    store.put_bytes(version.artifact_key, bytes(body))
    with pytest.raises(registry.IntegrityError, match="does not match the registry"):
        registry.verified_artifact(version)


def test_feature_matrix_keeps_row_identity(lake):
    outputs = run_stages(lake, until="transform_data")
    matrix = features_of(outputs["transform_data"])
    assert np.unique(matrix.timestamp).size == 8
    assert len(set(zip(matrix.entity.tolist(), matrix.timestamp.tolist(), strict=True))) == matrix.rows


def test_a_drift_alert_in_training_blocks_promotion_when_the_spec_says_so(lake, tmp_path):
    from modelops_local import runner
    from tests.conftest import given_spec

    run_stages(lake, until="validate_model")
    spec = parse_spec(CHURN_SPEC.read_text())
    runner.put_spec(
        given_spec(tmp_path / "churn.yaml", drift={**spec.drift.model_dump(), "block_promotion": True})
    )
    drifting = copy.deepcopy(event("deploy_model"))
    drifting["results"] = {
        "validate_data": {
            "drift": [
                {"stage": "validate_data", "metric": "age", "value": "d5", "test": "band", "effect": 0.3}
            ]
        }
    }
    deployed = invoke(lake, "DeployModelFunction", drifting)["results"]["deploy_model"]
    assert deployed["champion"] is False and deployed["reason"] == "drift alert blocks promotion (1 findings)"
    assert registry.champion("churn") is None
    assert [v.version for v in registry.versions("churn")] == ["1.0.0"]  # registered, not promoted
