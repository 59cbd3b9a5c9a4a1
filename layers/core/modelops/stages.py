"""The pipeline stages: each takes the stage document (plain JSON) and returns it, extended.

Handlers call exactly one of these. Data moves through S3 under ``runs/<run_id>/``; the
document carries only keys and small results. Every stage is idempotent: the same input
writes the same objects and rows again.
"""

from __future__ import annotations

import io
import platform
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from modelops import metadata, registry, store
from modelops.contract import Pipeline, RunRequest, StageDoc, plan_run
from modelops.data import DuckDBEngine, QueryEngine, connect
from modelops.features import FeatureMatrix, FeatureSchema, infer_schema, transform
from modelops.spec import ModelSpec, SpecError, parse_spec
from modelops.validation import profile_features, profile_scores


def spec_key(model: str) -> str:
    return f"specs/{model}.yaml"


def load_spec(model: str) -> ModelSpec:
    key = spec_key(model)
    if not store.exists(key):
        raise SpecError(f"no spec for model {model!r} (expected s3://…/{key})")
    return parse_spec(store.get_bytes(key).decode(), source=key)


def _engine() -> QueryEngine:
    return DuckDBEngine()


def get_data(event: dict[str, Any]) -> dict[str, Any]:
    """Start a run from a request and extract the spec's query over the window as Parquet."""
    pipeline: Pipeline = event["pipeline"]
    request = RunRequest.model_validate(event["request"])
    spec = load_spec(request.model)
    run = plan_run(request, pipeline, spec.window.training_periods, spec.window.outcome_lag_periods)
    extract = _engine().extract(spec.source.sql, spec.source.tables, run.window, run.prefix + "raw.parquet")
    spec.require_columns(extract.columns, with_outcome=pipeline == "training")
    doc = StageDoc(run=run, artifacts={"raw": extract.uri})
    doc.results["get_data"] = {"rows": extract.rows, "columns": len(extract.columns)}
    return doc.model_dump(mode="json")


def _read_columns(key: str) -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory() as scratch:
        path = store.download_file(key, Path(scratch) / "raw.parquet")
        connection = connect()
        columns: dict[str, np.ndarray] = connection.execute(
            f"SELECT * FROM read_parquet('{path}')"
        ).fetchnumpy()
        connection.close()
    return columns


def _model_schema(model: str, version: str) -> FeatureSchema:
    record = registry.get_version(model, version)
    return FeatureSchema.from_dict(store.get_json(record.metadata_key)["feature_schema"])


def transform_data(event: dict[str, Any]) -> dict[str, Any]:
    """Raw extract -> feature matrix; training learns the schema, scoring uses the model's."""
    doc = StageDoc.model_validate(event)
    run = doc.run
    spec = load_spec(run.model)
    columns = _read_columns(store.key_of(doc.artifacts["raw"]))
    training = run.pipeline == "training"
    if training:
        schema = infer_schema(columns, spec)
    else:
        version = run.model_version or registry.champion(run.model)
        if version is None:
            raise LookupError(f"model {run.model!r} has no champion to score with")
        schema = _model_schema(run.model, version)
    matrix = transform(columns, spec, schema, with_outcome=training)
    doc.artifacts["schema"] = store.put_json(run.prefix + "schema.json", schema.to_dict())
    doc.artifacts["features"] = store.put_bytes(run.prefix + "features.npz", matrix.to_bytes())
    doc.results["transform_data"] = {"rows": matrix.rows, "features": len(schema.features)}
    return doc.model_dump(mode="json")


def _load_features(doc: StageDoc) -> tuple[FeatureMatrix, FeatureSchema]:
    matrix = FeatureMatrix.from_bytes(store.get_bytes(store.key_of(doc.artifacts["features"])))
    schema = FeatureSchema.from_dict(store.get_json(store.key_of(doc.artifacts["schema"])))
    return matrix, schema


def validate_data(event: dict[str, Any]) -> dict[str, Any]:
    """Deciles of the outcome and every feature, per period, into the metadata table."""
    doc = StageDoc.model_validate(event)
    matrix, schema = _load_features(doc)
    profiles = profile_features(matrix, schema)
    written = metadata.write_profiles(doc.run.model, "validate_data", doc.run.run_id, profiles)
    doc.results["validate_data"] = {"profiles": written, "rows": matrix.rows}
    return doc.model_dump(mode="json")


def _library_versions() -> dict[str, str]:
    import joblib
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "joblib": joblib.__version__,
        "numpy": np.__version__,
    }


def train_model(event: dict[str, Any]) -> dict[str, Any]:
    """Search, fit and measure; the fitted model and its test-sample scores go to the run."""
    import joblib

    from modelops import training

    doc = StageDoc.model_validate(event)
    run = doc.run
    spec = load_spec(run.model)
    matrix, schema = _load_features(doc)
    result = training.fit(matrix, spec.estimator, spec.split, schema.categorical_mask)
    buffer = io.BytesIO()
    joblib.dump(result.estimator, buffer)
    test = matrix.take(result.test_index)
    scores = FeatureMatrix(test.entity, test.timestamp, result.test_scores[:, None], test.y, ["score"])
    summary = {
        "model": run.model,
        "run_id": run.run_id,
        "estimator": spec.estimator.kind,
        "params": result.params,
        "candidates": result.candidates,
        "metrics": result.metrics,
        "feature_schema": schema.to_dict(),
        "training_window": run.window.model_dump(mode="json"),
        "rows": {"total": matrix.rows, "test": int(result.test_index.size)},
        "libraries": _library_versions(),
    }
    doc.artifacts["model"] = store.put_bytes(run.prefix + "model.joblib", buffer.getvalue())
    doc.artifacts["test_scores"] = store.put_bytes(run.prefix + "test_scores.npz", scores.to_bytes())
    doc.artifacts["training"] = store.put_json(run.prefix + "training.json", summary)
    doc.results["train_model"] = {"params": result.params, "metrics": result.metrics["test"]}
    return doc.model_dump(mode="json")


def validate_model(event: dict[str, Any]) -> dict[str, Any]:
    """The validation code fed the test-sample scores (stage validate_model)."""
    doc = StageDoc.model_validate(event)
    scores = FeatureMatrix.from_bytes(store.get_bytes(store.key_of(doc.artifacts["test_scores"])))
    profiles = profile_scores(scores.X[:, 0], scores.y, doc.run.window.end)
    written = metadata.write_profiles(doc.run.model, "validate_model", doc.run.run_id, profiles)
    doc.results["validate_model"] = {"profiles": written, "rows": scores.rows}
    return doc.model_dump(mode="json")


def promotion_decision(spec: ModelSpec, candidate_auc: float, champion_auc: float | None) -> tuple[bool, str]:
    gate = spec.promotion
    if candidate_auc < gate.min_test_auc:
        return False, f"test AUC {candidate_auc:.4f} is below the gate {gate.min_test_auc:.4f}"
    if champion_auc is not None and candidate_auc < champion_auc - gate.max_auc_drop:
        return False, (
            f"test AUC {candidate_auc:.4f} is more than {gate.max_auc_drop} below the "
            f"champion's {champion_auc:.4f}"
        )
    return True, f"test AUC {candidate_auc:.4f} passes the gate"


def deploy_model(event: dict[str, Any]) -> dict[str, Any]:
    """Store and register the model; move the champion alias if it passes the promotion gate."""
    doc = StageDoc.model_validate(event)
    run = doc.run
    spec = load_spec(run.model)
    summary = store.get_json(store.key_of(doc.artifacts["training"]))
    artifact = store.get_bytes(store.key_of(doc.artifacts["model"]))
    record = registry.publish(run.model, run.run_id, artifact, summary)
    current = registry.champion(run.model)
    if current == record.version:
        promoted, reason = True, "already the champion"
    else:
        champion_auc = None if current is None else registry.get_version(run.model, current).test_auc
        promoted, reason = promotion_decision(spec, record.test_auc, champion_auc)
        if promoted:
            registry.set_champion(run.model, record.version, expected=current)
    doc.results["deploy_model"] = {
        "version": record.version,
        "sha256": record.sha256,
        "artifact": store.uri(record.artifact_key),
        "metadata": store.uri(record.metadata_key),
        "champion": promoted,
        "reason": reason,
    }
    return doc.model_dump(mode="json")
