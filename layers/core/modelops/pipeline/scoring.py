"""The scoring flow after get_data:

verify_model → Map over the extract's chunks: transform_chunk → score_data → publish_chunk
→ validate_data → (collect_outcomes → validate_outcomes: pipeline/outcomes.py)
→ validate_scores → deploy_scores → campaign.

Every per-row step runs in the Map's children, in parallel: a chunk is encoded with the model
version's schema, scored, and written to the run's new publication (latest scores, online
features) and to a staged history part, each with a sketch for validation. The stages after
the Map only merge sketches, check counts and flip the ``latest`` pointer: nothing a reader
sees changes before validation has passed.
"""

from __future__ import annotations

import time
from datetime import date

import numpy as np

from modelops.domain import sketches, validity
from modelops.domain.contract import (
    ChunkItem,
    ChunkResults,
    DeployScoresResult,
    PublishChunkResult,
    ScoreChunkResult,
    StageDoc,
    TransformChunkResult,
    VerifyModelResult,
)
from modelops.domain.decisions import becomes_latest
from modelops.domain.features import FeatureMatrix, FeatureSchema, transform
from modelops.domain.periods import add_periods
from modelops.domain.scores import ScoreSet
from modelops.pipeline import monitoring
from modelops.pipeline.shared import ScoreCountError, chunk_list, chunks, read_chunk
from modelops.stores import history, latest, layout, objects, online_features, registry
from modelops.stores.specs import load_spec

# Rows per predict_proba call: bounds scikit-learn's working copies of the input.
PREDICT_SLICE = 50_000


def verify_model(doc: StageDoc) -> StageDoc:
    """Load and verify the run's model version once, before the fan-out, so a bad artifact
    fails the run early and by name."""
    record = registry.get_version(doc.run.model, doc.run.version())
    registry.load_estimator(record)
    registry.feature_schema(record)  # the metadata too: a Map child's failure would not say why
    if doc.run.shadow_version is not None:
        shadow = registry.get_version(doc.run.model, doc.run.shadow_version)
        registry.load_estimator(shadow)
        registry.feature_schema(shadow)
    doc.results.verify_model = VerifyModelResult(model_version=record.version, sha256=record.sha256)
    return doc


def _publication(item: ChunkItem) -> str:
    return latest.publication_id(item.run.run_id, item.run.version())


def _total_rows(item: ChunkItem) -> int:
    """Rows of the whole extract: each chunk keeps its share of the sketches' samples."""
    return sum(chunk.rows for chunk in chunks(item.artifacts.require("raw")))


def transform_chunk(item: ChunkItem) -> ChunkItem:
    """Encode one chunk with the model version's schema; apply each feature's policy to the
    values the schema refuses (and count them); sketch the features; write the chunk's raw
    features to the run's publication of the online feature table."""
    started = time.perf_counter()
    run, chunk = item.run, item.chunk
    spec = load_spec(run.model)
    record = registry.get_version(run.model, run.version())
    schema = FeatureSchema.from_dict(registry.feature_schema(record))
    columns = read_chunk(chunk)
    matrix = transform(columns, spec, schema, with_outcome=False)
    margin = spec.online.range_margin
    masks = {
        info.name: validity.invalid_mask(columns[spec.column_of(info.name)], matrix.X[:, j], info, margin)
        for j, info in enumerate(schema.features)
    }
    policies = {name: feature.on_invalid for name, feature in spec.features.items()}
    matrix.X = validity.apply_policies(matrix.X, masks, schema, policies, margin)
    total = _total_rows(item)
    objects.put_bytes(layout.chunk_key(run.run_id, chunk.index, "features.npz"), matrix.to_bytes())
    if run.shadow_version is not None:
        shadow = registry.get_version(run.model, run.shadow_version)
        if shadow.schema_sha256 != record.schema_sha256:  # the challenger reads other features
            theirs = FeatureSchema.from_dict(registry.feature_schema(shadow))
            encoded = transform(columns, spec, theirs, with_outcome=False)
            objects.put_bytes(
                layout.chunk_key(run.run_id, chunk.index, "shadow_features.npz"), encoded.to_bytes()
            )
    objects.put_bytes(
        layout.chunk_key(run.run_id, chunk.index, "feature_sketch.npz"),
        sketches.to_bytes(sketches.sketch_features(matrix, schema, total)),
    )
    online_features.write(
        run.model,
        _publication(item),
        run.as_of.isoformat(),
        matrix.entity.tolist(),
        {name: columns[spec.column_of(name)].tolist() for name in spec.features},
        latest.expiry(spec.scoring.keep_latest_days, now=run.started()),
    )
    result = TransformChunkResult(
        rows=matrix.rows,
        invalid={name: int(mask.sum()) for name, mask in masks.items()},
        seconds=round(time.perf_counter() - started, 3),
    )
    objects.put_json(layout.chunk_key(run.run_id, chunk.index, "transform.json"), result.model_dump())
    item.results.transform_chunk = result
    return item


def _scores(model: str, version: str, features: FeatureMatrix) -> np.ndarray:
    from modelops.domain import estimators

    estimator = registry.load_estimator(registry.get_version(model, version))
    parts = [features.X[start : start + PREDICT_SLICE] for start in range(0, features.rows, PREDICT_SLICE)]
    return (
        np.concatenate([estimators.positive_scores(estimator, part) for part in parts])
        if parts
        else np.empty(0)
    )


def score_data(item: ChunkItem) -> ChunkItem:
    """Score one encoded chunk with the run's model version (verified before loading), and
    with the shadow challenger when the spec asks for one."""
    started = time.perf_counter()
    run, chunk = item.run, item.chunk

    def read(name: str) -> FeatureMatrix:
        return FeatureMatrix.from_bytes(objects.get_bytes(layout.chunk_key(run.run_id, chunk.index, name)))

    features = read("features.npz")
    scored = ScoreSet(features.entity, features.timestamp, _scores(run.model, run.version(), features))
    objects.put_bytes(layout.chunk_key(run.run_id, chunk.index, "scores.npz"), scored.to_bytes())
    objects.put_bytes(
        layout.chunk_key(run.run_id, chunk.index, "score_sketch.npz"),
        sketches.to_bytes(sketches.sketch_scores(scored.score, run.as_of, _total_rows(item))),
    )
    if run.shadow_version is not None:
        key = layout.chunk_key(run.run_id, chunk.index, "shadow_features.npz")
        theirs = read("shadow_features.npz") if objects.exists(key) else features
        shadow = ScoreSet(features.entity, features.timestamp, _scores(run.model, run.shadow_version, theirs))
        objects.put_bytes(layout.chunk_key(run.run_id, chunk.index, "shadow_scores.npz"), shadow.to_bytes())
    item.results.score_data = ScoreChunkResult(
        rows=scored.rows, seconds=round(time.perf_counter() - started, 3)
    )
    return item


def publish_chunk(item: ChunkItem) -> ChunkItem:
    """Write one chunk's scores to the run's publication of the latest scores and stage its
    history part; the receipt lets deploy_scores check that every row arrived."""
    started = time.perf_counter()
    run, chunk = item.run, item.chunk
    spec = load_spec(run.model)
    scored = ScoreSet.from_bytes(objects.get_bytes(layout.chunk_key(run.run_id, chunk.index, "scores.npz")))
    scored_at = run.started()
    history.stage_part(
        layout.chunk_key(run.run_id, chunk.index, "history.parquet"),
        run.as_of,
        scored.entity,
        scored.score,
        run.version(),
        run.run_id,
        scored_at,
        "batch",
    )
    written = latest.write_rows(
        run.model,
        _publication(item),
        run.run_id,
        run.as_of.isoformat(),
        run.version(),
        scored.entity,
        scored.score,
        latest.indexed_rows(scored.score, spec.scoring.top_candidates, spec.campaign.min_score),
        scored_at.isoformat(timespec="seconds"),
        latest.expiry(spec.scoring.keep_latest_days, now=run.started()),
    )
    shadow_rows = 0
    if run.shadow_version is not None:  # the challenger goes to the history only
        shadow = ScoreSet.from_bytes(
            objects.get_bytes(layout.chunk_key(run.run_id, chunk.index, "shadow_scores.npz"))
        )
        history.stage_part(
            layout.chunk_key(run.run_id, chunk.index, "shadow_history.parquet"),
            run.as_of,
            shadow.entity,
            shadow.score,
            run.shadow_version,
            run.run_id,
            scored_at,
            "shadow",
        )
        shadow_rows = shadow.rows
    transformed = item.results.transform_chunk
    result = PublishChunkResult(
        history_rows=scored.rows,
        latest_rows=written,
        online_feature_rows=transformed.rows if transformed else 0,
        shadow_rows=shadow_rows,
        seconds=round(time.perf_counter() - started, 3),
    )
    item.results.publish_chunk = result
    # The receipt: what every stage of this chunk did, for deploy_scores' count check.
    objects.put_json(layout.chunk_key(run.run_id, chunk.index, "receipt.json"), item.results.model_dump())
    return item


def validate_scores(doc: StageDoc) -> StageDoc:
    """The validation code fed the production scores (merged chunk sketches)."""
    run = doc.run
    spec = load_spec(run.model)
    chunks = chunk_list(doc)
    missing = [
        c.index
        for c in chunks
        if not objects.exists(layout.chunk_key(run.run_id, c.index, "score_sketch.npz"))
    ]
    if missing:
        raise ScoreCountError(
            f"chunk {missing[0]} has no scores ({len(missing)} of {len(chunks)} chunks missing)"
        )
    merged = [
        s
        for c in chunks
        for s in sketches.from_bytes(
            objects.get_bytes(layout.chunk_key(run.run_id, c.index, "score_sketch.npz"))
        )
    ]
    profiles = sketches.merge(merged, spec.drift.sample_size)
    doc.results.validate_scores = monitoring.validate(
        run.model,
        "validate_scores",
        run.run_id,
        run.as_of,
        profiles,
        spec.drift,
        rows=sum(c.rows for c in chunks),
        earlier=doc.results.findings("validate_data", "validate_outcomes"),
        reference_stage="validate_model",
        retrain=monitoring.Retrain(
            spec.retrain_min_severity, add_periods(run.as_of, -spec.window.outcome_lag_periods, spec.period)
        )
        if spec.retrain_on_drift
        else None,
    )
    return doc


def receipts(doc: StageDoc) -> list[ChunkResults]:
    """Every chunk's receipt (what its three stages did); a missing one is a ScoreCountError."""
    found = []
    for chunk in chunk_list(doc):
        key = layout.chunk_key(doc.run.run_id, chunk.index, "receipt.json")
        if not objects.exists(key):
            raise ScoreCountError(f"chunk {chunk.index} was not published ({key} is missing)")
        found.append(ChunkResults.model_validate(objects.get_json(key)))
    return found


def _published(doc: StageDoc) -> list[PublishChunkResult]:
    published = []
    for chunk, done in zip(chunk_list(doc), receipts(doc), strict=True):
        receipt = done.publish_chunk
        if receipt is None:
            raise ScoreCountError(f"chunk {chunk.index} has a receipt without its publication")
        if not receipt.history_rows == receipt.latest_rows == receipt.online_feature_rows == chunk.rows:
            raise ScoreCountError(f"chunk {chunk.index} published {receipt} for {chunk.rows} rows")
        published.append(receipt)
    return published


def deploy_scores(doc: StageDoc) -> StageDoc:
    """Check every chunk's receipt against the extract, copy the staged history parts into the
    history, and flip the latest pointer to the run's publication (last, and only if time moves
    forward or the run is forced)."""
    run = doc.run
    spec = load_spec(run.model)
    chunks = chunk_list(doc)
    published = _published(doc)
    rows = sum(chunk.rows for chunk in chunks)
    scored = doc.results.validate_scores.rows if doc.results.validate_scores else rows
    if sum(r.latest_rows for r in published) != rows or scored != rows:
        raise ScoreCountError(
            f"{sum(r.latest_rows for r in published)} rows published, {scored} validated, {rows} extracted"
        )
    staged = [layout.chunk_key(run.run_id, chunk.index, "history.parquet") for chunk in chunks]
    written = history.publish(run.model, run.as_of, "batch", staged)
    if run.shadow_version is not None:
        if any(r.shadow_rows != chunk.rows for r, chunk in zip(published, chunks, strict=True)):
            raise ScoreCountError("the shadow challenger did not score every row")
        shadows = [layout.chunk_key(run.run_id, chunk.index, "shadow_history.parquet") for chunk in chunks]
        history.publish(run.model, run.as_of, "shadow", shadows)
    publication = latest.publication_id(run.run_id, run.version())
    current = latest.pointer(run.model)
    if current is not None and current.publication == publication:
        decision_latest, reason = True, "already the latest publication"
    else:
        decision = becomes_latest(
            None if current is None else date.fromisoformat(current.as_of), run.as_of, force=run.force
        )
        decision_latest, reason = decision.accept, decision.reason
        if decision.accept:
            new = latest.Publication(
                run.model,
                publication,
                run.run_id,
                run.as_of.isoformat(),
                run.version(),
                rows,
                spec.scoring.top_candidates,
            )
            latest.flip(new, current)
    doc.results.deploy_scores = DeployScoresResult(
        history=written, publication=publication, rows=rows, latest=decision_latest, reason=reason
    )
    return doc
