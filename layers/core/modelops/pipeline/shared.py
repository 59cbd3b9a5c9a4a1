"""The stages both flows run: get_data, transform_data and validate_data.

Training learns the feature schema from its window; scoring encodes with the schema of the
model version it scores with, so both build exactly the vector the model was trained on.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from modelops.domain.contract import (
    Chunk,
    GetDataInput,
    GetDataResult,
    StageDoc,
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
from modelops.pipeline import monitoring
from modelops.stores import layout, objects, registry, tabular
from modelops.stores.query import DuckDBEngine
from modelops.stores.specs import load_spec


def get_data(request: GetDataInput) -> StageDoc:
    """Start a run from a request and extract the spec's query over the window as Parquet."""
    spec = load_spec(request.request.model)
    run = plan_run(
        request.request,
        request.pipeline,
        spec.window.training_periods,
        spec.window.outcome_lag_periods,
        spec.period,
        spec.window.allow_partial,
    )
    if run.pipeline == "scoring":
        # Resolved once, so every chunk scores with the same version even if the champion moves.
        version = registry.resolve_version(run.model, run.model_version).version
        run = run.model_copy(update={"model_version": version})
    # $start/$end are the window's first and last day, whatever the period.
    extract = DuckDBEngine().extract(
        spec.source.sql, spec.source.tables, run.window.days(spec.period), layout.raw_key(run.run_id)
    )
    spec.require_columns(extract.columns, with_outcome=run.pipeline == "training")
    doc = StageDoc(run=run)
    doc.artifacts.raw = extract.uri
    doc.results.get_data = GetDataResult(rows=extract.rows, columns=len(extract.columns))
    return doc


def read_extract(doc: StageDoc) -> dict[str, np.ndarray]:
    """The run's raw extract, column by column."""
    with tempfile.TemporaryDirectory() as scratch:
        path = objects.download_file(
            objects.key_of(doc.artifacts.require("raw")), Path(scratch) / "raw.parquet"
        )
        return tabular.read_columns(path)


def transform_data(doc: StageDoc) -> StageDoc:
    """Raw extract -> feature matrix in chunks; training learns the schema, scoring uses the model's."""
    run = doc.run
    spec = load_spec(run.model)
    columns = read_extract(doc)
    periods = period_starts(as_dates(columns[spec.timestamp], spec.timestamp), spec.period)
    present = {day.item() for day in np.unique(periods)}
    run.window.require_complete(present, spec.period, allow_partial=bool(run.allow_partial))
    training = run.pipeline == "training"
    if training:
        schema = infer_schema(columns, spec)
    else:
        record = registry.get_version(run.model, run.version())
        schema = FeatureSchema.from_dict(registry.feature_schema(record))
    matrix = transform(columns, spec, schema, with_outcome=training)
    chunks = []
    for index, part in enumerate(matrix.chunks(spec.scoring.chunk_rows)):
        key = layout.feature_chunk_key(run.run_id, index)
        objects.put_bytes(key, part.to_bytes())
        chunks.append(Chunk(index=index, key=key, rows=part.rows))
    manifest = layout.manifest_key(run.run_id)
    doc.artifacts.feature_schema = objects.put_json(layout.schema_key(run.run_id), schema.to_dict())
    doc.artifacts.features = objects.put_json(manifest, [chunk.model_dump() for chunk in chunks])
    doc.results.transform_data = TransformResult(
        rows=matrix.rows, features=len(schema.features), chunks=len(chunks), manifest_key=manifest
    )
    return doc


def chunk_list(doc: StageDoc) -> list[Chunk]:
    """The run's chunks, as transform_data listed them in the manifest."""
    manifest = objects.get_json(objects.key_of(doc.artifacts.require("features")))
    return [Chunk.model_validate(item) for item in manifest]


def load_features(doc: StageDoc) -> tuple[FeatureMatrix, FeatureSchema]:
    """The run's whole feature matrix and its schema."""
    parts = [FeatureMatrix.from_bytes(objects.get_bytes(chunk.key)) for chunk in chunk_list(doc)]
    schema = FeatureSchema.from_dict(
        objects.get_json(objects.key_of(doc.artifacts.require("feature_schema")))
    )
    return FeatureMatrix.concat(parts), schema


def validate_data(doc: StageDoc) -> StageDoc:
    """Deciles of the outcome and every feature, per period, into the metadata table."""
    run = doc.run
    spec = load_spec(run.model)
    matrix, schema = load_features(doc)
    profiles = profile_features(matrix, schema, spec.drift.sample_size)
    doc.results.validate_data = monitoring.validate(
        run.model,
        "validate_data",
        run.run_id,
        run.window.end,
        profiles,
        spec.drift,
        rows=matrix.rows,
        alert=False,
    )
    return doc
