"""The scoring flow after the shared stages: verify_model, score_data (one chunk, fanned out
by the Map), validate_scores, deploy_scores."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from modelops.domain.contract import (
    DeployScoresResult,
    ScoreChunkInput,
    ScoreChunkOutput,
    StageDoc,
    VerifyModelResult,
)
from modelops.domain.features import FeatureMatrix, entity_ids
from modelops.domain.profiles import profile_scores
from modelops.domain.scores import ScoreSet
from modelops.pipeline import monitoring
from modelops.pipeline.shared import chunk_list, read_extract
from modelops.stores import history, latest, layout, objects, online_features, registry
from modelops.stores.specs import load_spec

# Rows per predict_proba call: bounds scikit-learn's working copies of the input.
PREDICT_SLICE = 50_000


class ScoreCountError(RuntimeError):
    """The scores do not cover exactly the rows that were prepared for scoring."""


def verify_model(doc: StageDoc) -> StageDoc:
    """Load and verify the run's model version once, before the fan-out, so a bad artifact
    fails the run early and by name."""
    record = registry.get_version(doc.run.model, doc.run.version())
    registry.load_estimator(record)
    doc.results.verify_model = VerifyModelResult(model_version=record.version, sha256=record.sha256)
    return doc


def score_data(item: ScoreChunkInput) -> ScoreChunkOutput:
    """Score one chunk with the run's model version, its artifact verified before loading."""
    from modelops.domain import estimators

    run, chunk = item.run, item.chunk
    estimator = registry.load_estimator(registry.get_version(run.model, run.version()))
    features = FeatureMatrix.from_bytes(objects.get_bytes(chunk.key))
    slices = [features.X[start : start + PREDICT_SLICE] for start in range(0, features.rows, PREDICT_SLICE)]
    score = (
        np.concatenate([estimators.positive_scores(estimator, part) for part in slices])
        if slices
        else np.empty(0)
    )
    scored = ScoreSet(features.entity, features.timestamp, score)
    objects.put_bytes(layout.score_chunk_key(run.run_id, chunk.index), scored.to_bytes())
    return ScoreChunkOutput(chunk=chunk.index, rows=features.rows)


def load_scores(doc: StageDoc) -> ScoreSet:
    """Every chunk's scores; a missing chunk or a wrong count is a ScoreCountError."""
    chunks = chunk_list(doc)
    parts = []
    for chunk in chunks:
        key = layout.score_chunk_key(doc.run.run_id, chunk.index)
        if not objects.exists(key):
            raise ScoreCountError(f"chunk {chunk.index} has no scores ({key})")
        parts.append(ScoreSet.from_bytes(objects.get_bytes(key)))
    scored = ScoreSet.concat(parts)
    expected = sum(chunk.rows for chunk in chunks)
    if scored.rows != expected:
        raise ScoreCountError(f"{scored.rows} scores for {expected} rows")
    return scored


def validate_scores(doc: StageDoc) -> StageDoc:
    """The validation code fed the production scores (stage validate_scores)."""
    run = doc.run
    spec = load_spec(run.model)
    scored = load_scores(doc)
    profiles = profile_scores(scored.score, None, run.as_of, spec.drift.sample_size)
    doc.results.validate_scores = monitoring.validate(
        run.model,
        "validate_scores",
        run.run_id,
        run.as_of,
        profiles,
        spec.drift,
        rows=scored.rows,
        earlier=doc.results.findings("validate_data"),
        reference_stage="validate_model",
    )
    return doc


def deploy_scores(doc: StageDoc) -> StageDoc:
    """Publish the run's scores: history (S3 Parquet), online features, then latest (DynamoDB,
    one atomic pointer flip, last)."""
    run = doc.run
    version = run.version()
    current = latest.pointer(run.model)
    if current is not None and current.publication == latest.publication_id(run.run_id, version):
        # This very run is already published: leave history and latest exactly as they are.
        doc.results.deploy_scores = DeployScoresResult(
            history=objects.uri(layout.history_key(run.model, run.as_of)),
            publication=current.publication,
            rows=current.rows,
        )
        return doc
    scored = load_scores(doc)
    duplicated = scored.rows - np.unique(scored.entity).size
    if duplicated:
        raise ScoreCountError(f"{duplicated} entities are scored twice")
    scored_at = datetime.now(UTC)
    written = history.write(run.model, run.as_of, scored.entity, scored.score, version, run.run_id, scored_at)
    spec = load_spec(run.model)
    raw = read_extract(doc)
    online_features.write(
        run.model,
        run.as_of,
        entity_ids(raw, spec).tolist(),
        {name: raw[spec.column_of(name)].tolist() for name in spec.features},
    )
    # Last: the pointer flip. A retry after a crash before it redoes everything above; after
    # it, the early return above sees the run published and complete.
    published = latest.publish(
        run.model, run.run_id, run.as_of, version, scored.entity, scored.score, scored_at
    )
    doc.results.deploy_scores = DeployScoresResult(
        history=written, publication=published.publication, rows=published.rows
    )
    return doc
