"""The pipeline stages: each takes the stage document (plain JSON) and returns it, extended.

Handlers call exactly one of these. Data moves through S3 under ``runs/<run_id>/``; the
document carries only keys and small results. Every stage is idempotent: the same input
writes the same objects and rows again.
"""

from __future__ import annotations

import io
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from modelops import fastscore, registry, store, validation
from modelops.contract import Pipeline, RunRequest, StageDoc, plan_run
from modelops.data import DuckDBEngine, QueryEngine, connect
from modelops.features import FeatureMatrix, FeatureSchema, infer_schema, transform
from modelops.profiles import profile_features, profile_scores
from modelops.spec import ModelSpec, SpecError, parse_spec


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
    if pipeline == "scoring":
        # Resolved once, so every chunk scores with the same version even if the champion moves.
        version = registry.resolve_version(run.model, run.model_version).version
        run = run.model_copy(update={"model_version": version})
    extract = _engine().extract(spec.source.sql, spec.source.tables, run.window, run.prefix + "raw.parquet")
    spec.require_columns(extract.columns, with_outcome=pipeline == "training")
    doc = StageDoc(run=run, artifacts={"raw": extract.uri})
    doc.results["get_data"] = {"rows": extract.rows, "columns": len(extract.columns)}
    return doc.model_dump(mode="json")


def _read_columns(key: str) -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory() as scratch:
        path = store.download_file(key, Path(scratch) / "raw.parquet")
        with connect() as connection:
            columns: dict[str, np.ndarray] = connection.execute(
                f"SELECT * FROM read_parquet('{path}')"
            ).fetchnumpy()
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
        assert run.model_version is not None, "get_data resolves the version of a scoring run"
        schema = _model_schema(run.model, run.model_version)
    matrix = transform(columns, spec, schema, with_outcome=training)
    chunks = []
    for index, chunk in enumerate(matrix.chunks(spec.scoring.chunk_rows)):
        key = f"{run.prefix}features/part-{index:05d}.npz"
        store.put_bytes(key, chunk.to_bytes())
        chunks.append({"index": index, "key": key, "rows": chunk.rows})
    doc.artifacts["schema"] = store.put_json(run.prefix + "schema.json", schema.to_dict())
    doc.artifacts["features"] = store.put_json(_manifest_key(run.prefix), chunks)
    doc.results["transform_data"] = {
        "rows": matrix.rows,
        "features": len(schema.features),
        "chunks": len(chunks),
        "manifest_key": _manifest_key(run.prefix),
    }
    return doc.model_dump(mode="json")


def _manifest_key(prefix: str) -> str:
    """The chunk list: a JSON array the scoring Map's ItemReader reads directly."""
    return f"{prefix}features/manifest.json"


def _chunk_list(doc: StageDoc) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = store.get_json(store.key_of(doc.artifacts["features"]))
    return chunks


def load_features(doc: StageDoc) -> tuple[FeatureMatrix, FeatureSchema]:
    parts = [FeatureMatrix.from_bytes(store.get_bytes(chunk["key"])) for chunk in _chunk_list(doc)]
    matrix = FeatureMatrix.concat(parts)
    schema = FeatureSchema.from_dict(store.get_json(store.key_of(doc.artifacts["schema"])))
    return matrix, schema


def validate_data(event: dict[str, Any]) -> dict[str, Any]:
    """Deciles of the outcome and every feature, per period, into the metadata table."""
    doc = StageDoc.model_validate(event)
    run = doc.run
    spec = load_spec(run.model)
    matrix, schema = load_features(doc)
    profiles = profile_features(matrix, schema, spec.drift.sample_size)
    checked = validation.validate(
        run.model, "validate_data", run.run_id, run.window.end, profiles, spec.drift, alert=False
    )
    doc.results["validate_data"] = {**checked, "rows": matrix.rows}
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
    matrix, schema = load_features(doc)
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
    doc.artifacts["test_features"] = store.put_bytes(run.prefix + "test_features.npz", test.to_bytes())
    exported = fastscore.export(result.estimator)
    if exported is not None:
        doc.artifacts["fast_model"] = store.put_bytes(
            run.prefix + "fast.npz", fastscore.FastModel(exported).to_bytes()
        )
    doc.artifacts["training"] = store.put_json(run.prefix + "training.json", summary)
    doc.results["train_model"] = {"params": result.params, "metrics": result.metrics["test"]}
    return doc.model_dump(mode="json")


def validate_model(event: dict[str, Any]) -> dict[str, Any]:
    """The validation code fed the test-sample scores (stage validate_model)."""
    doc = StageDoc.model_validate(event)
    run = doc.run
    spec = load_spec(run.model)
    scores = FeatureMatrix.from_bytes(store.get_bytes(store.key_of(doc.artifacts["test_scores"])))
    profiles = profile_scores(scores.X[:, 0], scores.y, run.window.end, spec.drift.sample_size)
    checked = validation.validate(
        run.model,
        "validate_model",
        run.run_id,
        run.window.end,
        profiles,
        spec.drift,
        earlier=doc.results.get("validate_data", {}).get("drift", []),
    )
    doc.results["validate_model"] = {**checked, "rows": scores.rows}
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


def _checked_fast_model(doc: StageDoc) -> tuple[bytes | None, dict[str, Any]]:
    """The NumPy scorer for the online path, only if it reproduces scikit-learn's test-sample
    scores within fastscore.TOLERANCE; otherwise online scoring falls back to scikit-learn."""
    if "fast_model" not in doc.artifacts:
        return None, {"scorer": "scikit-learn", "reason": "no NumPy scorer for this estimator"}
    body = store.get_bytes(store.key_of(doc.artifacts["fast_model"]))
    test = FeatureMatrix.from_bytes(store.get_bytes(store.key_of(doc.artifacts["test_features"])))
    reference = FeatureMatrix.from_bytes(store.get_bytes(store.key_of(doc.artifacts["test_scores"]))).X[:, 0]
    difference = fastscore.max_difference(fastscore.FastModel.from_bytes(body), test.X, reference)
    if difference > fastscore.TOLERANCE:
        return None, {
            "scorer": "scikit-learn",
            "reason": f"NumPy scorer differs by {difference:.3g} > {fastscore.TOLERANCE:g}",
        }
    return body, {"scorer": "numpy", "max_difference": difference, "tolerance": fastscore.TOLERANCE}


def deploy_model(event: dict[str, Any]) -> dict[str, Any]:
    """Store and register the model; move the champion alias if it passes the promotion gate."""
    doc = StageDoc.model_validate(event)
    run = doc.run
    spec = load_spec(run.model)
    summary = store.get_json(store.key_of(doc.artifacts["training"]))
    artifact = store.get_bytes(store.key_of(doc.artifacts["model"]))
    fast, online = _checked_fast_model(doc)
    record = registry.publish(run.model, run.run_id, artifact, {**summary, "online": online}, fast)
    current = registry.champion(run.model)
    drifted = [
        f
        for stage in ("validate_data", "validate_model")
        for f in doc.results.get(stage, {}).get("drift", [])
    ]
    if current == record.version:
        promoted, reason = True, "already the champion"
    elif spec.drift.block_promotion and drifted:
        promoted, reason = False, f"drift alert blocks promotion ({len(drifted)} findings)"
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
        "online_scorer": "numpy" if record.fast_sha256 else "scikit-learn",
    }
    return doc.model_dump(mode="json")


PREDICT_SLICE = 50_000


def _scores_key(prefix: str, index: int) -> str:
    return f"{prefix}scores/part-{index:05d}.npz"


def score_data(event: dict[str, Any]) -> dict[str, Any]:
    """Score one chunk with the run's model version, its artifact verified before loading.

    Without a chunk it only loads and verifies the model: the scoring state machine does
    that once before the fan-out, so a bad artifact fails the run early and by name.
    """
    from modelops import training

    doc = StageDoc.model_validate(
        {key: event[key] for key in ("run", "artifacts", "results") if key in event}
    )
    run = doc.run
    assert run.model_version is not None, "get_data resolves the version of a scoring run"
    record = registry.get_version(run.model, run.model_version)
    estimator = registry.load_estimator(record)
    if "chunk" not in event:
        doc.results["score_data"] = {"model_version": record.version, "sha256": record.sha256}
        return doc.model_dump(mode="json")
    chunk = event["chunk"]
    features = FeatureMatrix.from_bytes(store.get_bytes(chunk["key"]))
    # Slices bound scikit-learn's working copies of the input (column reordering, encoding).
    starts = range(0, features.rows, PREDICT_SLICE)
    slices = [features.X[start : start + PREDICT_SLICE] for start in starts]
    score = (
        np.concatenate([training.positive_scores(estimator, part) for part in slices])
        if slices
        else np.empty(0)
    )
    scored = FeatureMatrix(features.entity, features.timestamp, score[:, None], None, ["score"])
    store.put_bytes(_scores_key(run.prefix, chunk["index"]), scored.to_bytes())
    return {"chunk": chunk["index"], "rows": features.rows}


class ScoreCountError(RuntimeError):
    """The scores do not cover exactly the rows that were prepared for scoring."""


def _load_scores(doc: StageDoc) -> FeatureMatrix:
    chunks = _chunk_list(doc)
    parts = []
    for chunk in chunks:
        key = _scores_key(doc.run.prefix, chunk["index"])
        if not store.exists(key):
            raise ScoreCountError(f"chunk {chunk['index']} has no scores ({key})")
        parts.append(FeatureMatrix.from_bytes(store.get_bytes(key)))
    scored = FeatureMatrix.concat(parts)
    expected = sum(chunk["rows"] for chunk in chunks)
    if scored.rows != expected:
        raise ScoreCountError(f"{scored.rows} scores for {expected} rows")
    return scored


def validate_scores(event: dict[str, Any]) -> dict[str, Any]:
    """The validation code fed the production scores (stage validate_scores)."""
    doc = StageDoc.model_validate(event)
    run = doc.run
    spec = load_spec(run.model)
    scored = _load_scores(doc)
    profiles = profile_scores(scored.X[:, 0], None, run.as_of, spec.drift.sample_size)
    checked = validation.validate(
        run.model,
        "validate_scores",
        run.run_id,
        run.as_of,
        profiles,
        spec.drift,
        earlier=doc.results.get("validate_data", {}).get("drift", []),
        reference_stage="validate_model",
    )
    doc.results["validate_scores"] = {**checked, "rows": scored.rows}
    return doc.model_dump(mode="json")


def deploy_scores(event: dict[str, Any]) -> dict[str, Any]:
    """Publish the run's scores: history (S3 Parquet) and latest (DynamoDB, atomic flip)."""
    from modelops import scores

    doc = StageDoc.model_validate(event)
    run = doc.run
    assert run.model_version is not None, "get_data resolves the version of a scoring run"
    current = scores.pointer(run.model)
    if current is not None and current.publication == scores.publication_id(run.run_id, run.model_version):
        # This very run is already published: leave history and latest exactly as they are.
        doc.results["deploy_scores"] = {
            "history": store.uri(scores.history_key(run.model, run.as_of)),
            "publication": current.publication,
            "rows": current.rows,
        }
        return doc.model_dump(mode="json")
    scored = _load_scores(doc)
    if np.unique(scored.entity).size != scored.rows:
        raise ScoreCountError(f"{scored.rows - np.unique(scored.entity).size} entities are scored twice")
    scored_at = datetime.now(UTC)
    history = scores.write_history(
        run.model, run.as_of, scored.entity, scored.X[:, 0], run.model_version, run.run_id, scored_at
    )
    spec = load_spec(run.model)
    raw = _read_columns(store.key_of(doc.artifacts["raw"]))
    entities = [str(e) for e in raw[spec.entity].tolist()]
    scores.write_online_features(
        run.model, run.as_of, entities, {name: raw[name].tolist() for name in spec.features}
    )
    # Last: the pointer flip. A retry after a crash before it redoes everything above; after
    # it, the early return above sees the run published and complete.
    published = scores.publish_latest(
        run.model, run.run_id, run.as_of, run.model_version, scored.entity, scored.X[:, 0], scored_at
    )
    doc.results["deploy_scores"] = {
        "history": history,
        "publication": published.publication,
        "rows": published.rows,
    }
    return doc.model_dump(mode="json")


def campaign(event: dict[str, Any]) -> dict[str, Any]:
    """Hand the latest top scores to the campaign queue (also callable on its own with
    ``{"model": ...}``)."""
    from modelops import campaign as campaigns

    model = event["run"]["model"] if "run" in event else event["model"]
    result = campaigns.hand_off(model, load_spec(model).campaign)
    summary = {
        "selected": result.selected,
        "in_cooldown": result.in_cooldown,
        "already_sent": result.already_sent,
        "sent": result.sent,
    }
    if "run" not in event:
        return {"model": model, "campaign": summary}
    doc = StageDoc.model_validate(event)
    doc.results["campaign"] = summary
    return doc.model_dump(mode="json")
