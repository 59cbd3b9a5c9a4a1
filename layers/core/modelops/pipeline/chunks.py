"""The scoring Map's three stages, one chunk of the extract each, in parallel:
transform_chunk → score_data → publish_chunk.

A chunk is encoded with the model version's schema, scored (and by the shadow challenger),
and written to the run's new publication (latest scores, online features) and to a staged
history part, each with a sketch for validation. Nothing a reader sees changes here: the
stages after the Map (``scoring.py``) check the counts and flip the ``latest`` pointer.
"""

from __future__ import annotations

import time

import numpy as np

from modelops.domain.contract import ChunkItem, PublishChunkResult, ScoreChunkResult, TransformChunkResult
from modelops.domain.data import skew, validity
from modelops.domain.data.features import FeatureMatrix, FeatureSchema, transform
from modelops.domain.monitoring import sketches
from modelops.domain.publication import ScoreCountError, by_import
from modelops.domain.scores import ScoreSet
from modelops.domain.spec import ModelSpec
from modelops.pipeline.common import chunks, read_chunk, spec_of, version_spec
from modelops.stores import bulk_publication, history, latest, layout, objects, online_features, registry

# Rows per predict_proba call: bounds scikit-learn's working copies of the input.
PREDICT_SLICE = 50_000


def _publication(item: ChunkItem) -> str:
    return latest.publication_id(item.run.run_id, item.run.version())


def _online_key(item: ChunkItem) -> str:
    """A chunk's online features staged for its bulk publication part."""
    return layout.chunk_key(item.run.run_id, item.chunk.index, "online_features.jsonl.gz")


def _segments(spec: ModelSpec, schema: FeatureSchema) -> list[str]:
    """The segment features the version can slice by (its schema has them)."""
    return [name for name in spec.drift.segments if name in schema.names]


def _total_rows(item: ChunkItem) -> int:
    """Rows of the whole extract: each chunk keeps its share of the sketches' samples."""
    return sum(chunk.rows for chunk in chunks(item.artifacts.require("raw")))


def transform_chunk(item: ChunkItem) -> ChunkItem:
    """Encode one chunk with the model version's schema; apply each feature's policy to the
    values the schema refuses (and count them); sketch the features; write the chunk's raw
    features to the run's publication of the online feature table."""
    started = time.perf_counter()
    run, chunk = item.run, item.chunk
    spec = spec_of(run)
    record = registry.servable(run.model, run.version())
    schema = FeatureSchema.from_dict(registry.feature_schema(record))
    columns = read_chunk(chunk)
    matrix = transform(columns, spec, schema, with_outcome=False)
    margin = spec.online.range_margin
    masks = {
        info.name: validity.invalid_mask(columns[spec.column_of(info.name)], matrix.X[:, j], info, margin)
        for j, info in enumerate(schema.features)
    }
    tallies = {
        info.name: skew.tally(columns[spec.column_of(info.name)], matrix.X[:, j], info).to_list()
        for j, info in enumerate(schema.features)
    }
    policies = {name: feature.on_invalid for name, feature in spec.features.items()}
    matrix.X = validity.apply_policies(matrix.X, masks, schema, policies, margin)
    total = _total_rows(item)
    objects.put_bytes(layout.chunk_key(run.run_id, chunk.index, "features.npz"), matrix.to_bytes())
    if run.shadow_version is not None:
        shadow = registry.servable(run.model, run.shadow_version)
        if shadow.schema_sha256 != record.schema_sha256:  # the challenger reads other features
            theirs = FeatureSchema.from_dict(registry.feature_schema(shadow))
            recipe = version_spec(run.model, shadow.version, spec)  # its own columns
            encoded = transform(columns, recipe, theirs, with_outcome=False)
            objects.put_bytes(
                layout.chunk_key(run.run_id, chunk.index, "shadow_features.npz"), encoded.to_bytes()
            )
    objects.put_bytes(
        layout.chunk_key(run.run_id, chunk.index, "feature_sketch.npz"),
        sketches.to_bytes(sketches.sketch_features(matrix, schema, total, _segments(spec, schema))),
    )
    if spec.online.enabled:  # the batch features the online API joins (none without one)
        raw = {name: columns[spec.column_of(name)].tolist() for name in spec.features}
        if by_import(total, spec.scoring.import_from_rows):  # into the chunk's import part
            lines = bulk_publication.feature_lines(raw, matrix.rows)
            objects.put_bytes(_online_key(item), bulk_publication.staged_features(lines))
        else:
            online_features.write(
                run.model,
                _publication(item),
                run.as_of.isoformat(),
                matrix.entity.tolist(),
                raw,
                latest.expiry(spec.scoring.keep_latest_days, now=run.started()),
            )
    result = TransformChunkResult(
        rows=matrix.rows,
        invalid={name: int(mask.sum()) for name, mask in masks.items()},
        tallies=tallies,
        seconds=round(time.perf_counter() - started, 3),
    )
    objects.put_json(layout.chunk_key(run.run_id, chunk.index, "transform.json"), result.model_dump())
    item.results.transform_chunk = result
    return item


def _scores(model: str, version: str, features: FeatureMatrix) -> np.ndarray:
    from modelops.domain.model import estimators

    estimator = registry.load_estimator(registry.servable(model, version))
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
    spec = spec_of(run)
    schema = None
    if spec.drift.segments:  # the scores per segment too: the features hold each row's category
        schema = FeatureSchema.from_dict(
            registry.feature_schema(registry.get_version(run.model, run.version()))
        )
    sketched = sketches.sketch_scores(
        scored.score,
        run.as_of,
        _total_rows(item),
        schema,
        features.X,
        [] if schema is None else _segments(spec, schema),
    )
    objects.put_bytes(
        layout.chunk_key(run.run_id, chunk.index, "score_sketch.npz"), sketches.to_bytes(sketched)
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
    spec = spec_of(run)
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
    indexed = latest.indexed_rows(scored.score, spec.scoring.top_candidates, spec.campaign.min_score)
    transformed = item.results.transform_chunk
    feature_rows = transformed.rows if transformed and spec.online.enabled else 0
    if by_import(_total_rows(item), spec.scoring.import_from_rows):
        features = (
            bulk_publication.read_features(objects.get_bytes(_online_key(item)))
            if spec.online.enabled
            else None
        )
        if features is not None and len(features) != scored.rows:
            raise ScoreCountError(
                f"chunk {chunk.index} staged {len(features)} online features for {scored.rows} rows"
            )
        shards = [
            latest.shard(e) if marked else None
            for e, marked in zip(scored.entity.tolist(), indexed.tolist(), strict=True)
        ]
        objects.put_bytes(
            layout.publication_part_key(run.run_id, chunk.index),
            bulk_publication.part(scored.entity, scored.score, shards, features),
        )
        written = scored.rows
        feature_rows = 0 if features is None else len(features)
    else:
        written = latest.write_rows(
            run.model,
            _publication(item),
            run.run_id,
            run.as_of.isoformat(),
            run.version(),
            scored.entity,
            scored.score,
            indexed,
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
    result = PublishChunkResult(
        history_rows=scored.rows,
        latest_rows=written,
        online_feature_rows=feature_rows,
        shadow_rows=shadow_rows,
        seconds=round(time.perf_counter() - started, 3),
    )
    item.results.publish_chunk = result
    # The receipt: what every stage of this chunk did, for deploy_scores' count check.
    objects.put_json(layout.chunk_key(run.run_id, chunk.index, "receipt.json"), item.results.model_dump())
    return item
