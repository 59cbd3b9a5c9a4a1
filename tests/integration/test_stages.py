"""The training stages' handlers through the Lambda API on moto, fed the sample events in events/."""

import itertools

import numpy as np
import pytest

from modelops.domain.data.features import FeatureMatrix
from modelops.domain.spec import parse_spec
from modelops.stores import layout, metadata, objects, registry
from tests.helpers import (
    CHURN_SPEC,
    as_next_event,
    asl_functions,
    event,
    invoke,
    invoke_raw,
    pin_stored_spec,
    put_churn_spec,
    recompressed_copy,
    without_start,
)
from tests.states import Prepared

STAGES = [
    ("get_data", "GetDataFunction"),
    ("transform_data", "TransformDataFunction"),
    ("validate_data", "ValidateDataFunction"),
    ("train_model", "TrainModelFunction"),
    ("validate_model", "ValidateModelFunction"),
    ("deploy_model", "DeployModelFunction"),
]
RUN_ID = "training-churn-2025-08-01"


def of_the_trained_run(trained: Prepared, name: str) -> dict:
    """A sample event with the run and artifacts of the execution that trained the champion
    (each training execution has its own run id)."""
    document = event(name)
    output = trained.execution.output
    assert output is not None
    document["run"], document["artifacts"] = output["run"], output["artifacts"]
    return document


def features_of(run_id: str) -> FeatureMatrix:
    manifest = objects.get_json(layout.features_manifest_key(run_id))
    return FeatureMatrix.concat(
        [FeatureMatrix.from_bytes(objects.get_bytes(chunk["key"])) for chunk in manifest]
    )


def test_the_chain_is_the_training_state_machine_stage_by_stage():
    assert [function for _, function in STAGES] == asl_functions("training")


def test_the_sample_events_chain_through_every_stage(lake):
    outputs = {}
    for name, function in STAGES:
        outputs[name] = invoke(lake, function, event(name))
    # Each sample event is exactly what the previous stage returns (results trimmed).
    for (name, _), (following, _) in itertools.pairwise(STAGES):
        expected = without_start(event(following))
        assert as_next_event(outputs[name]) == expected, f"{name} differs from events/{following}.json"
    extracted = outputs["get_data"]["results"]["get_data"]
    assert (extracted["rows"], extracted["matched"], extracted["columns"]) == (
        8_000,
        8_000,
        12,
    )  # 1,000 x 8
    manifest = objects.get_json(layout.features_manifest_key(RUN_ID))
    assert [chunk["rows"] for chunk in manifest] == [2500] * 3 + [500]  # chunk_rows of the spec
    assert features_of(RUN_ID).X.shape == (8_000, 9)
    assert outputs["deploy_model"]["results"]["deploy_model"]["version"] == "1.0.0"


def test_get_data_names_a_window_without_data(sandbox):
    body = event("get_data")
    body["request"]["as_of"] = "2030-01-01"
    error, failed = invoke_raw(sandbox, "GetDataFunction", body)
    assert failed and error["errorType"] == "NoDataError"
    assert "no partitions between 2029-06-01 and 2030-01-31" in error["errorMessage"]


def test_get_data_names_a_spec_column_missing_from_the_data(lake):
    spec = parse_spec(CHURN_SPEC.read_text())
    features = {name: f.model_dump(mode="json") for name, f in spec.features.items()}
    put_churn_spec(features={**features, "loyalty_points": {"type": "count"}})
    error, failed = invoke_raw(lake, "GetDataFunction", event("get_data"))
    assert failed and error["errorType"] == "SpecError" and "column 'loyalty_points'" in error["errorMessage"]


def test_a_stage_fed_the_wrong_document_fails_by_name(trained):
    error, failed = invoke_raw(trained.sandbox, "TrainModelFunction", {"pipeline": "training"})
    assert failed and error["errorType"] == "ValidationError" and "run" in error["errorMessage"]


def test_validate_data_writes_the_outcome_and_every_feature_per_period(trained):
    rows = metadata.read_rows("churn", "validate_data")
    assert {row["metric"] for row in rows} == {"outcome", *parse_spec(CHURN_SPEC.read_text()).feature_names}
    assert len({row["timestamp"] for row in rows}) == 8
    charges = [r for r in rows if r["metric"] == "monthly_charges" and r["timestamp"].month == 1]
    assert {r["decile"] for r in charges} == {"count", "missing", "mean", *[f"d{k}" for k in range(1, 11)]}
    deciles = [next(r["value"] for r in charges if r["decile"] == f"d{k}") for k in range(1, 11)]
    assert deciles == sorted(deciles) and deciles[0] < deciles[-1]
    counts = {
        r["timestamp"]: r["value"]
        for r in rows
        if r["metric"] == "monthly_charges" and r["decile"] == "count"
    }
    assert set(counts.values()) == {1000.0}  # every customer of every month


def test_a_profile_is_judged_before_it_is_written_as_it_reads_back_and_stored_with_its_flags(sandbox):
    """validate() tests the run's own profiles before writing them (``metadata.as_stored``),
    then writes each period once with its flags: what it tested must be what a read gives."""
    from datetime import date

    from modelops.domain.monitoring.profiles import Profile

    day = date(2025, 3, 1)
    profile = Profile(
        "x", day, {"mean": 1 / 3, "d1": -2.5e-17, "inf": float("inf")}, np.array([0.1, 1e6 / 7])
    )
    other = Profile("x", date(2025, 4, 1), {"mean": 2.0})
    metadata.write_profiles(
        "m",
        "validate_data",
        "run-1",
        [profile, other],
        {("x", day): (["mean:band"], {"mean": (1.0, 0.5, 1.5)})},
    )
    [read, later] = metadata.read_observations("m", "validate_data")["x"]
    expected = metadata.as_stored(profile, "run-1")
    assert read.values == expected.values and "inf" not in read.values
    assert read.sample.tolist() == expected.sample.tolist() and read.run_id == "run-1"
    assert read.flags == ("mean:band",) and read.bands == {"mean": (1.0, 0.5, 1.5)}
    assert later.flags == () and later.bands == {}  # judged only where it was judged


def test_deploy_is_idempotent_and_the_registry_matches_the_artifact(trained):
    again = invoke(trained.sandbox, "DeployModelFunction", of_the_trained_run(trained, "deploy_model"))
    again = again["results"]["deploy_model"]
    assert again["version"] == "1.0.0" and again["reason"] == "already the champion"
    [version] = registry.versions("churn")
    assert registry.sha256(objects.get_bytes(version.artifact_key)) == version.sha256
    metadata_json = objects.get_json(version.metadata_key)
    assert metadata_json["sha256"] == version.sha256
    assert metadata_json["libraries"]["scikit-learn"]
    assert [f["name"] for f in metadata_json["feature_schema"]["features"]][:2] == ["tenure_months", "age"]
    assert metadata_json["training_window"] == {"start": "2025-01-01", "end": "2025-08-01"}


def test_a_retrain_is_a_new_minor_version_and_the_gate_guards_the_champion(trained):
    put_churn_spec(promotion={"min_test_auc": 0.99})  # an impossible gate
    body = event("get_data")
    body["request"]["as_of"] = "2025-09-01"
    document = invoke(trained.sandbox, "GetDataFunction", body)
    for _, function in STAGES[1:]:
        document = invoke(trained.sandbox, function, document)
    deployed = document["results"]["deploy_model"]
    assert deployed["version"] == "1.1.0" and deployed["champion"] is False
    assert "below the gate 0.9900" in deployed["reason"]
    assert registry.champion("churn") == "1.0.0"


def test_the_champion_alias_changes_only_by_conditional_write(trained):
    second = recompressed_copy("churn", "1.0.0", "another-run")

    def move(to: str, expected: str | None) -> None:
        registry.change_champion("churn", to, expected, kind="promote", reason="test", caller="test")

    with pytest.raises(registry.ChampionMoved, match=r"no longer points at None \(now 1\.0\.0\)"):
        move(second.version, None)  # someone already set it
    with pytest.raises(registry.ChampionMoved, match=r"no longer points at 0\.1\.0 \(now 1\.0\.0\)"):
        move(second.version, "0.1.0")  # it moved meanwhile
    with pytest.raises(registry.UnknownVersion, match=r"has no version '9\.9\.9'"):
        move("9.9.9", "1.0.0")  # no such version
    assert registry.champion("churn") == "1.0.0" and [e["kind"] for e in registry.audit("churn")] == [
        "promotion"
    ]
    move(second.version, "1.0.0")
    assert registry.champion("churn") == second.version == "1.1.0"
    assert registry.audit("churn")[-1]["from"] == "1.0.0"  # the change and its audit row, together


def test_a_tampered_artifact_fails_verification(trained):
    [version] = registry.versions("churn")
    body = bytearray(objects.get_bytes(version.artifact_key))
    body[len(body) // 2] ^= 0xFF
    objects.put_bytes(version.artifact_key, bytes(body))
    with pytest.raises(registry.IntegrityError, match="does not match the registry"):
        registry.verified_artifact(version)


def test_the_feature_matrix_keeps_row_identity(trained):
    assert trained.execution.output is not None
    matrix = features_of(trained.execution.output["run"]["run_id"])
    assert np.unique(matrix.timestamp).size == 8 and matrix.rows == 8_000
    assert len(set(zip(matrix.entity.tolist(), matrix.timestamp.tolist(), strict=True))) == matrix.rows


def test_a_drifting_candidate_is_registered_but_not_promoted_when_the_spec_says_so(trained):
    import io

    import joblib

    put_churn_spec(drift={"block_promotion": True})
    candidate = of_the_trained_run(trained, "deploy_model")
    original_run = candidate["run"]["run_id"]
    candidate["run"]["run_id"] = "training-churn-2025-08-01-again"  # another run: a new version
    candidate["run"]["spec_sha256"] = pin_stored_spec("training-churn-2025-08-01-again")
    record = registry.get_version("churn", "1.0.0")
    buffer = io.BytesIO()
    joblib.dump(registry.load_estimator(record), buffer, compress=3)  # other bytes: a new model
    candidate["artifacts"]["model"] = objects.put_bytes(
        "runs/training-churn-2025-08-01-again/model.joblib", buffer.getvalue()
    )
    for name in ("performance.json", "metrics.json"):  # as train_model would
        body = objects.get_bytes(layout.training_key(original_run, name))
        objects.put_bytes(layout.training_key("training-churn-2025-08-01-again", name), body)
    finding = {"stage": "validate_data", "metric": "age", "value": "d5", "test": "band", "statistic": 1.0}
    candidate["results"] = {
        "validate_data": {"rows": 1, "profiles": 1, "drift": [{**finding, "effect": 0.3}]}
    }
    deployed = invoke(trained.sandbox, "DeployModelFunction", candidate)["results"]["deploy_model"]
    assert deployed["champion"] is False and deployed["reason"] == "drift alert blocks promotion (1 findings)"
    assert deployed["status"] == "rejected"
    assert registry.champion("churn") == "1.0.0"
    assert [v.version for v in registry.versions("churn")] == ["1.0.0", "1.1.0"]  # registered, not promoted
