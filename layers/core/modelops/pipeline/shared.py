"""The stages both flows run: get_data and validate_data; and transform_data, which encodes the
whole window for training (scoring encodes chunk by chunk inside its Map: ``scoring.py``).

Training learns the feature schema from its window; scoring encodes with the schema of the
model version it scores with, so both build exactly the vector the model was trained on.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from modelops.domain import sketches, validity
from modelops.domain.contract import (
    Chunk,
    GetDataInput,
    GetDataResult,
    StageDoc,
    TransformChunkResult,
    TransformResult,
    plan_run,
)
from modelops.domain.features import (
    FeatureMatrix,
    FeatureSchema,
    as_dates,
    infer_schema,
    period_starts,
    transform,
)
from modelops.domain.profiles import profile_features
from modelops.domain.spec import ModelSpec
from modelops.pipeline import monitoring
from modelops.stores import layout, objects, registry, tabular
from modelops.stores.query import NoDataError, Query, Sample, engine_for
from modelops.stores.specs import load_spec


def _query(spec: ModelSpec, doc: StageDoc) -> Query:
    run = doc.run
    training = run.pipeline == "training"
    entity = tuple(spec.entity_columns or [spec.timestamp])
    return Query(
        sql=spec.source.sql,
        tables=spec.source.tables,
        window=run.window.days(spec.period),
        part_rows=spec.scoring.chunk_rows,
        sample=Sample(
            rows=spec.split.max_training_rows,
            strata=(spec.timestamp, spec.outcome),
            key=entity,
            seed=spec.split.seed,
        )
        if training
        else None,
        unique=() if training else entity,
    )


def chunks_of(parts: list[tuple[str, int]], chunk_rows: int) -> list[Chunk]:
    """The scoring Map's items: each part cut into slices of at most ``chunk_rows`` rows."""
    chunks: list[Chunk] = []
    for key, rows in parts:
        for offset in range(0, rows, chunk_rows):
            chunks.append(
                Chunk(index=len(chunks), key=key, offset=offset, rows=min(chunk_rows, rows - offset))
            )
    return chunks


def get_data(request: GetDataInput) -> StageDoc:
    """Start a run from a request and extract the spec's query over the window, as Parquet parts
    listed in a manifest of chunks (the scoring Map's items)."""
    spec = load_spec(request.request.model)
    run = plan_run(
        request.request,
        request.pipeline,
        spec.window.training_periods,
        spec.window.outcome_lag_periods,
        request.execution,
        spec.period,
        spec.window.allow_partial,
    )
    if run.pipeline == "scoring":
        # Resolved once, so every chunk scores with the same versions even if the champion moves.
        version = registry.resolve_version(run.model, run.model_version).version
        shadow = registry.challenger(run.model) if spec.shadow else None
        run = run.model_copy(
            update={
                "model_version": version,
                "shadow_version": None if shadow is None or shadow.version == version else shadow.version,
            }
        )
    # A re-run of the same run keeps its first start: what it writes (scored_at) is the same.
    first = objects.put_json_once(
        layout.plan_key(run.run_id), {"started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    )
    run = run.model_copy(update={"started_at": datetime.fromisoformat(first["started_at"])})
    doc = StageDoc(run=run)
    extract = engine_for(spec.source.engine).extract(_query(spec, doc), layout.raw_prefix(run.run_id))
    if extract.rows == 0:
        raise NoDataError(
            f"the query of model {run.model!r} returns no rows "
            f"between {run.window.start} and {run.window.end}"
        )
    spec.require_columns(extract.columns, with_outcome=run.pipeline == "training")
    chunks = chunks_of([(part.key, part.rows) for part in extract.parts], spec.scoring.chunk_rows)
    manifest = layout.manifest_key(run.run_id)
    doc.artifacts.raw = objects.put_json(manifest, [chunk.model_dump() for chunk in chunks])
    doc.results.get_data = GetDataResult(
        rows=extract.rows,
        matched=extract.matched,
        columns=len(extract.columns),
        chunks=len(chunks),
        manifest_key=manifest,
    )
    return doc


def chunks(manifest_uri: str) -> list[Chunk]:
    """The chunks a manifest lists."""
    return [Chunk.model_validate(item) for item in objects.get_json(objects.key_of(manifest_uri))]


def chunk_list(doc: StageDoc) -> list[Chunk]:
    """The run's chunks, as get_data listed them in the manifest."""
    return chunks(doc.artifacts.require("raw"))


def read_chunk(chunk: Chunk) -> dict[str, np.ndarray]:
    """One chunk's rows of the extract, column by column."""
    with tempfile.TemporaryDirectory() as scratch:
        path = objects.download_file(chunk.key, Path(scratch) / "part.parquet")
        return tabular.read_slice(path, chunk.offset, chunk.rows)


def _concatenate(arrays: list[np.ndarray]) -> np.ndarray:
    if any(isinstance(array, np.ma.MaskedArray) for array in arrays):
        masked: np.ndarray = np.ma.concatenate(arrays)  # type: ignore[no-untyped-call]
        return masked
    return np.concatenate(arrays)


def read_extract(doc: StageDoc) -> dict[str, np.ndarray]:
    """The run's whole extract, column by column (training: a bounded sample)."""
    parts = [read_chunk(chunk) for chunk in chunk_list(doc)]
    return {name: _concatenate([part[name] for part in parts]) for name in parts[0]}


def _champion_test(
    doc: StageDoc,
    spec: ModelSpec,
    columns: dict[str, np.ndarray],
    matrix: FeatureMatrix,
    schema: FeatureSchema,
) -> None:
    """The candidate will be compared with the champion on the candidate's own test rows: when
    the champion reads other features or categories, encode those rows its way too."""
    from modelops.domain.estimators import TrainingError, split_rows

    current = registry.champion(doc.run.model)
    if current is None or doc.results.transform_data is None:
        return
    doc.results.transform_data.champion = current
    record = registry.get_version(doc.run.model, current)
    if record.schema_sha256 == registry.schema_sha256(schema.to_dict()):
        return  # the candidate's encoding is the champion's
    theirs = FeatureSchema.from_dict(registry.feature_schema(record))
    missing = [name for name in theirs.names if name not in columns]
    if missing:
        doc.results.transform_data.champion_comparable = (
            f"the champion reads {', '.join(missing)}, not in this extract"
        )
        return
    try:
        test = split_rows(matrix, spec.split).test
    except TrainingError:
        return  # train_model names the problem
    rows = {name: values[test] for name, values in columns.items()}
    encoded = transform(rows, spec, theirs, with_outcome=True)
    doc.artifacts.champion_test = objects.put_bytes(
        layout.training_key(doc.run.run_id, "champion_test.npz"), encoded.to_bytes()
    )


def transform_data(doc: StageDoc) -> StageDoc:
    """Training: learn the feature schema from the window and encode it, in chunks."""
    run = doc.run
    spec = load_spec(run.model)
    columns = read_extract(doc)
    periods = period_starts(as_dates(columns[spec.timestamp], spec.timestamp), spec.period)
    present = {day.item() for day in np.unique(periods)}
    run.window.require_complete(present, spec.period, allow_partial=bool(run.allow_partial))
    schema = infer_schema(columns, spec)
    matrix = transform(columns, spec, schema, with_outcome=True)
    chunks = []
    for index, part in enumerate(matrix.chunks(spec.scoring.chunk_rows)):
        key = layout.feature_chunk_key(run.run_id, index)
        objects.put_bytes(key, part.to_bytes())
        chunks.append(Chunk(index=index, key=key, rows=part.rows))
    doc.artifacts.feature_schema = objects.put_json(layout.schema_key(run.run_id), schema.to_dict())
    doc.artifacts.features = objects.put_json(
        layout.features_manifest_key(run.run_id), [chunk.model_dump() for chunk in chunks]
    )
    doc.results.transform_data = TransformResult(
        rows=matrix.rows, features=len(schema.features), chunks=len(chunks)
    )
    _champion_test(doc, spec, columns, matrix, schema)
    return doc


def load_features(doc: StageDoc) -> tuple[FeatureMatrix, FeatureSchema]:
    """A training run's whole feature matrix and its schema."""
    manifest = objects.get_json(objects.key_of(doc.artifacts.require("features")))
    parts = [FeatureMatrix.from_bytes(objects.get_bytes(Chunk.model_validate(item).key)) for item in manifest]
    schema = FeatureSchema.from_dict(
        objects.get_json(objects.key_of(doc.artifacts.require("feature_schema")))
    )
    return FeatureMatrix.concat(parts), schema


class ScoreCountError(RuntimeError):
    """A scoring chunk's work is missing, or the published rows do not match the rows that
    were extracted for scoring."""


def _chunk_object(run_id: str, index: int, name: str) -> bytes:
    """What a chunk of the scoring Map wrote; missing, the chunk did not finish."""
    key = layout.chunk_key(run_id, index, name)
    if not objects.exists(key):
        raise ScoreCountError(f"chunk {index} did not finish its transform ({key} is missing)")
    return objects.get_bytes(key)


def validate_data(doc: StageDoc) -> StageDoc:
    """Deciles of the outcome and every feature, per period, into the metadata table. Scoring
    merges its chunks' sketches and refuses the run when too many values are invalid."""
    run = doc.run
    spec = load_spec(run.model)
    if run.pipeline == "training":
        matrix, schema = load_features(doc)
        profiles = profile_features(matrix, schema, spec.drift.sample_size)
        rows, shares = matrix.rows, {}
    else:
        chunks = chunk_list(doc)
        merged = [
            s
            for c in chunks
            for s in sketches.from_bytes(_chunk_object(run.run_id, c.index, "feature_sketch.npz"))
        ]
        profiles = sketches.merge(merged, spec.drift.sample_size)
        rows = sum(c.rows for c in chunks)
        invalid: dict[str, int] = {}
        for c in chunks:
            written = _chunk_object(run.run_id, c.index, "transform.json")
            done = TransformChunkResult.model_validate_json(written)
            for name, count in done.invalid.items():
                invalid[name] = invalid.get(name, 0) + count
        shares = {name: count / rows for name, count in invalid.items() if count}
    result = monitoring.validate(
        run.model, "validate_data", run.run_id, run.window.end, profiles, spec.drift, rows=rows, alert=False
    )
    result.invalid = {name: round(share, 6) for name, share in shares.items()}
    doc.results.validate_data = result
    policies = {name: feature.on_invalid for name, feature in spec.features.items()}
    refused = validity.refused_features(shares, policies, spec.scoring.max_invalid_share)
    if refused:
        detail = ", ".join(f"{name} {shares[name]:.2%}" for name in refused)
        raise validity.InvalidDataError(
            f"values the model's schema refuses pass {spec.scoring.max_invalid_share:.2%} "
            f"of the rows: {detail} "
            "(unseen categories, numbers outside the accepted range, or missing where training had none; "
            "set features.<name>.on_invalid to 'missing' or 'clip' to score them anyway)"
        )
    return doc
