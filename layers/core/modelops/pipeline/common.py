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

from modelops.domain.contract import (
    Chunk,
    GetDataInput,
    GetDataResult,
    StageDoc,
    plan_run,
)
from modelops.domain.spec import ModelSpec
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


class ScoreCountError(RuntimeError):
    """A scoring chunk's work is missing, or the published rows do not match the rows that
    were extracted for scoring."""
