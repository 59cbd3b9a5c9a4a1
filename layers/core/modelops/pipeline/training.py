"""The training flow after the shared stages: train_model, validate_model, deploy_model."""

from __future__ import annotations

import io
import platform
from typing import Any

import numpy as np

from modelops.domain import fastscore, promotion
from modelops.domain.contract import ContractError, DeployModelResult, StageDoc, TrainResult
from modelops.domain.features import FeatureMatrix
from modelops.domain.profiles import profile_scores
from modelops.domain.scores import ScoreSet
from modelops.pipeline import monitoring
from modelops.pipeline.shared import load_features
from modelops.stores import layout, notifications, objects, registry
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
        "outcome_rate": float(np.nanmean(matrix.y)) if matrix.y is not None else None,
        "libraries": _library_versions(),
    }

    def put(name: str, body: bytes) -> str:
        return objects.put_bytes(layout.training_key(run.run_id, name), body)

    champion = doc.results.transform_data.champion if doc.results.transform_data else None
    if champion is not None:
        doc.artifacts.champion_scores = put(
            "champion_scores.npz", _champion_scores(doc, champion, test).to_bytes()
        )

    doc.artifacts.model = put("model.joblib", buffer.getvalue())
    doc.artifacts.test_scores = put("test_scores.npz", scores.to_bytes())
    doc.artifacts.test_features = put("test_features.npz", test.to_bytes())
    exported = fastscore.export(result.estimator)
    if exported is not None:
        doc.artifacts.fast_model = put("fast.npz", fastscore.FastModel(exported).to_bytes())
    doc.artifacts.training = objects.put_json(layout.training_key(run.run_id, "training.json"), summary)
    doc.results.train_model = TrainResult(params=result.params, metrics=result.metrics["test"])
    return doc


def _champion_scores(doc: StageDoc, version: str, test: FeatureMatrix) -> ScoreSet:
    """The champion's scores of the candidate's test rows (encoded its own way where its schema
    differs), for the fair comparison in deploy_model."""
    from modelops.domain import estimators

    record = registry.get_version(doc.run.model, version)
    rows = test
    if doc.artifacts.champion_test is not None:
        rows = FeatureMatrix.from_bytes(objects.get_bytes(objects.key_of(doc.artifacts.champion_test)))
        if not (np.array_equal(rows.entity, test.entity) and np.array_equal(rows.timestamp, test.timestamp)):
            raise ContractError("the champion's test rows are not the candidate's test rows")
    score = estimators.positive_scores(registry.load_estimator(record), rows.X)
    return ScoreSet(test.entity, test.timestamp, score, test.y)


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


def _verdict(doc: StageDoc, summary: dict[str, Any]) -> promotion.Verdict:
    """The promotion gate, fed the candidate's and the champion's scores of the same rows."""
    run = doc.run
    spec = load_spec(run.model)
    test = _test_scores(doc)
    if test.outcome is None:
        raise ContractError("the test sample has no outcomes to judge the candidate by")
    candidate = promotion.Candidate("candidate", test.score, run.window.end)
    compared = doc.results.transform_data.champion if doc.results.transform_data else None
    champion = None
    if compared is not None:
        if registry.champion(run.model) != compared:
            raise registry.RegistryConflict(
                f"the champion of {run.model!r} changed from {compared} while this candidate trained: "
                "run the training again to compare with the new one"
            )
        reason = doc.results.transform_data.champion_comparable if doc.results.transform_data else None
        if reason is not None:
            return promotion.Verdict(False, f"the champion cannot be scored on this sample: {reason}")
        theirs = ScoreSet.from_bytes(
            objects.get_bytes(objects.key_of(doc.artifacts.require("champion_scores")))
        )
        record = registry.get_version(run.model, compared)
        champion = promotion.Candidate(compared, theirs.score, record.window_end)
    return promotion.decide(
        spec.promotion,
        spec.campaign,
        test.outcome,
        candidate,
        champion,
        baseline_rate=float(summary.get("outcome_rate") or np.mean(test.outcome)),
        drift_findings=len(doc.results.findings("validate_data", "validate_model")),
        block_on_drift=spec.drift.block_promotion,
    )


def deploy_model(doc: StageDoc) -> StageDoc:
    """Register the candidate (its version allocated first, never overwritten) and let the
    promotion gate decide whether it replaces the champion; a rejection is recorded and alerted."""
    run = doc.run
    summary = objects.get_json(objects.key_of(doc.artifacts.require("training")))
    artifact = objects.get_bytes(objects.key_of(doc.artifacts.require("model")))
    fast, online = _checked_fast_model(doc)
    verdict = _verdict(doc, summary)
    status = registry.REGISTERED if verdict.accept else registry.REJECTED
    record = registry.publish(
        run.model, run.run_id, artifact, {**summary, "online": online}, fast, status=status
    )
    current = registry.champion(run.model)
    caller = f"training run {run.run_id}"
    if current == record.version:
        promoted, reason = True, "already the champion"
    elif record.run_id != run.run_id:
        promoted, reason = (
            False,
            f"the same model is already registered as {record.version} ({record.status})",
        )
    elif verdict.accept:
        registry.change_champion(
            run.model,
            record.version,
            current,
            kind="promotion",
            reason=verdict.reason,
            caller=caller,
            evidence=verdict.evidence,
        )
        promoted, reason = True, verdict.reason
    else:
        registry.note(
            run.model,
            "rejected",
            record.version,
            {"reason": verdict.reason, "caller": caller, "evidence": verdict.evidence},
        )
        notifications.send_rejection(run.model, record.version, verdict.reason, verdict.evidence)
        promoted, reason = False, verdict.reason
    doc.results.deploy_model = DeployModelResult(
        version=record.version,
        status=record.status,
        sha256=record.sha256,
        artifact=objects.uri(record.artifact_key),
        metadata=objects.uri(record.metadata_key),
        champion=promoted,
        reason=reason,
        online_scorer="numpy" if record.fast_sha256 else "scikit-learn",
        evidence=verdict.evidence,
    )
    return doc
