"""The training flow after the shared stages: train_model, validate_model, deploy_model."""

from __future__ import annotations

import io
import platform
from typing import Any

import numpy as np

from modelops.domain import fastscore
from modelops.domain.contract import DeployModelResult, StageDoc, TrainResult
from modelops.domain.decisions import Decision, promotion
from modelops.domain.profiles import profile_scores
from modelops.domain.scores import ScoreSet
from modelops.pipeline import monitoring
from modelops.pipeline.shared import load_features
from modelops.stores import layout, objects, registry
from modelops.stores.specs import load_spec


def _library_versions() -> dict[str, str]:
    import joblib
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "joblib": joblib.__version__,
        "numpy": np.__version__,
    }


def train_model(doc: StageDoc) -> StageDoc:
    """Search, fit and measure; the fitted model and its test-sample scores go to the run."""
    import joblib

    from modelops.domain import estimators

    run = doc.run
    spec = load_spec(run.model)
    matrix, schema = load_features(doc)
    result = estimators.fit(matrix, spec.estimator, spec.split, schema.categorical_mask)
    buffer = io.BytesIO()
    joblib.dump(result.estimator, buffer)
    test = matrix.take(result.test_index)
    scores = ScoreSet(test.entity, test.timestamp, result.test_scores, test.y)
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

    def put(name: str, body: bytes) -> str:
        return objects.put_bytes(layout.training_key(run.run_id, name), body)

    doc.artifacts.model = put("model.joblib", buffer.getvalue())
    doc.artifacts.test_scores = put("test_scores.npz", scores.to_bytes())
    doc.artifacts.test_features = put("test_features.npz", test.to_bytes())
    exported = fastscore.export(result.estimator)
    if exported is not None:
        doc.artifacts.fast_model = put("fast.npz", fastscore.FastModel(exported).to_bytes())
    doc.artifacts.training = objects.put_json(layout.training_key(run.run_id, "training.json"), summary)
    doc.results.train_model = TrainResult(params=result.params, metrics=result.metrics["test"])
    return doc


def _test_scores(doc: StageDoc) -> ScoreSet:
    return ScoreSet.from_bytes(objects.get_bytes(objects.key_of(doc.artifacts.require("test_scores"))))


def validate_model(doc: StageDoc) -> StageDoc:
    """The validation code fed the test-sample scores (stage validate_model)."""
    run = doc.run
    spec = load_spec(run.model)
    scores = _test_scores(doc)
    # One profile per test period: the reference production scores are compared with.
    profiles = profile_scores(scores.score, scores.outcome, scores.timestamp, spec.drift.sample_size)
    doc.results.validate_model = monitoring.validate(
        run.model,
        "validate_model",
        run.run_id,
        run.window.end,
        profiles,
        spec.drift,
        rows=scores.rows,
        earlier=doc.results.findings("validate_data"),
    )
    return doc


def _checked_fast_model(doc: StageDoc) -> tuple[bytes | None, dict[str, Any]]:
    """The NumPy scorer for the online path, only if it reproduces scikit-learn's test-sample
    scores within fastscore.TOLERANCE; otherwise online scoring falls back to scikit-learn."""
    from modelops.domain.features import FeatureMatrix

    if doc.artifacts.fast_model is None:
        return None, {"scorer": "scikit-learn", "reason": "no NumPy scorer for this estimator"}
    body = objects.get_bytes(objects.key_of(doc.artifacts.fast_model))
    test = FeatureMatrix.from_bytes(objects.get_bytes(objects.key_of(doc.artifacts.require("test_features"))))
    reference = _test_scores(doc).score
    difference = fastscore.max_difference(fastscore.FastModel.from_bytes(body), test.X, reference)
    if difference > fastscore.TOLERANCE:
        return None, {
            "scorer": "scikit-learn",
            "reason": f"NumPy scorer differs by {difference:.3g} > {fastscore.TOLERANCE:g}",
        }
    return body, {"scorer": "numpy", "max_difference": difference, "tolerance": fastscore.TOLERANCE}


def deploy_model(doc: StageDoc) -> StageDoc:
    """Store and register the model; move the champion alias if it passes the promotion gate."""
    run = doc.run
    spec = load_spec(run.model)
    summary = objects.get_json(objects.key_of(doc.artifacts.require("training")))
    artifact = objects.get_bytes(objects.key_of(doc.artifacts.require("model")))
    fast, online = _checked_fast_model(doc)
    record = registry.publish(run.model, run.run_id, artifact, {**summary, "online": online}, fast)
    current = registry.champion(run.model)
    if current == record.version:
        decision = Decision(True, "already the champion")
    else:
        champion_auc = None if current is None else registry.get_version(run.model, current).test_auc
        decision = promotion(
            spec.promotion,
            record.test_auc,
            champion_auc,
            drift_findings=len(doc.results.findings("validate_data", "validate_model")),
            block_on_drift=spec.drift.block_promotion,
        )
        if decision.accept:
            registry.set_champion(run.model, record.version, expected=current)
    doc.results.deploy_model = DeployModelResult(
        version=record.version,
        sha256=record.sha256,
        artifact=objects.uri(record.artifact_key),
        metadata=objects.uri(record.metadata_key),
        champion=decision.accept,
        reason=decision.reason,
        online_scorer="numpy" if record.fast_sha256 else "scikit-learn",
    )
    return doc
