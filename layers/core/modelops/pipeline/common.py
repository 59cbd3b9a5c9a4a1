"""The stages both flows run: get_data and validate_data; and transform_data, which encodes the
whole window for training (scoring encodes chunk by chunk inside its Map: ``scoring.py``).

Training learns the feature schema from its window; scoring encodes with the schema of the
model version it scores with, so both build exactly the vector the model was trained on.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from modelops.domain.contract import (
    Chunk,
    Duplicates,
    GetDataInput,
    GetDataResult,
    Reconciliation,
    Run,
    StageDoc,
    plan_run,
)
from modelops.domain.data.reconcile import IncompleteExtractError, reconcile
from modelops.domain.data.repeats import most_repeated
from modelops.domain.periods import Window
from modelops.domain.spec import ModelSpec
from modelops.stores import layout, objects, registry, specs, tabular
from modelops.stores.query import Counted, Extract, NoDataError, Query, Sample, engine_for

MAX_WARNINGS = 12  # reconciliation warnings kept in a stage document (each names a period)


def spec_of(run: Run) -> ModelSpec:
    """The spec a run's stages read (docs/architecture.md, "Recipes"): the spec the run pinned
    when it started; when scoring, the recipe of the version it scores with, under the pinned
    spec's operational sections."""
    pinned = specs.pinned(run.run_id, run.spec())
    if run.pipeline == "training":
        return pinned
    return version_spec(run.model, run.version(), pinned)


def version_spec(model: str, version: str, current: ModelSpec) -> ModelSpec:
    """How ``version`` is scored today: its recipe, operated by ``current`` (a version from
    before recipes were kept is scored with ``current`` whole)."""
    return registry.scoring_spec(registry.get_version(model, version), current)


def same_source(one: ModelSpec, other: ModelSpec) -> bool:
    """Whether two recipes read the same rows the same way (so one extract serves both)."""
    fields = ("source", "entity", "timestamp", "period")
    return all(getattr(one, f) == getattr(other, f) for f in fields) and (
        one.window.lookback_periods == other.window.lookback_periods
    )


def query_for(
    spec: ModelSpec, window: Window, *, lookahead: int = 0, reconcile: bool = True, **options: Any
) -> Query:
    """The spec's query over ``window``: the SQL sees the spec's lookback (and ``lookahead``)
    periods too, each entity has one row per period (the spec's ``duplicates`` says what a
    repeat does), and (``reconcile``) the extract is counted against the spec's source table."""
    return Query(
        sql=spec.source.sql,
        tables=spec.source.tables,
        window=window,
        period=spec.period,
        timestamp=spec.timestamp,
        part_rows=spec.scoring.chunk_rows,
        lookback=spec.window.lookback_periods,
        lookahead=lookahead,
        counted=Counted(spec.source.reconciled_table, spec.source.rows.column) if reconcile else None,
        unique=spec.entity_key,
        duplicates=spec.duplicates,
        **options,
    )


def duplicates_dropped(spec: ModelSpec, extract: Extract) -> Duplicates | None:
    """What the spec's policy dropped of entities repeated within a period (the fail policy
    refused the extract in the engine already)."""
    if extract.repeats is None:
        return None
    return Duplicates(
        policy=spec.duplicates,
        rows=extract.repeats.rows,
        entities=extract.repeats.groups,
        example=most_repeated(spec.entity_key, extract.repeats),
    )


def _query(spec: ModelSpec, run: Run) -> Query:
    if run.pipeline == "scoring":  # never a later period: scoring must not see the future
        return query_for(spec, run.window)
    sample = Sample(
        rows=spec.split.max_training_rows,
        strata=(spec.timestamp, spec.outcome),
        key=spec.entity_key,
        seed=spec.split.seed,
    )
    # Training sees as far ahead as outcomes arrive, so an outcome defined with lead() is known.
    return query_for(spec, run.window, lookahead=spec.window.outcome_lag_periods, sample=sample)


def reconciled(spec: ModelSpec, query: Query, extract: Extract) -> Reconciliation:
    """The extract against its source table, period by period (``error`` set past the spec's
    tolerance)."""
    rows = spec.source.rows
    table = spec.source.reconciled_table
    if extract.source is None:
        return Reconciliation(
            table=table,
            extracted_rows=sum(extract.periods.values()),
            note=(
                f"not reconciled: no date column is known for table {table!r} "
                "(load it with `modelops data load`, or name it in source.rows.column)"
            ),
        )
    done = reconcile(
        table,
        extract.source,
        extract.periods,
        query.periods(),
        tolerance=rows.tolerance,
        filtered=rows.filtered,
        column=spec.timestamp,
    )
    return Reconciliation(
        table=table,
        column=extract.source_column,
        source_rows=done.source_rows,
        extracted_rows=done.extracted_rows,
        warnings=done.warnings[:MAX_WARNINGS],
        filtered=rows.filtered,
        error=done.error,
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


def _shadow(run: Run, spec: ModelSpec, current: ModelSpec) -> tuple[str | None, list[str]]:
    """The challenger scored beside the run's version (when the spec asks for one), unless its
    recipe reads other rows: one extract serves both only when they read the same."""
    shadow = registry.challenger(run.model) if current.shadow else None
    if shadow is None or shadow.version == run.version():
        return None, []
    if not same_source(spec, version_spec(run.model, shadow.version, current)):
        return None, [
            f"shadow {shadow.version} not scored: its recipe reads other rows than {run.version()}'s "
            "(source, entity, timestamp, period or lookback differ)"
        ]
    return shadow.version, []


def _outside(query: Query, extract: Extract) -> list[str]:
    """Rows the query returned outside what the run asked it to see: dropped, and said so."""
    notes = []
    if extract.before and not query.lookback:
        notes.append(
            f"the query returned {extract.before:,} rows before {query.keeps.start}, which the run does "
            "not use (does its WHERE filter the timestamp with $start?)"
        )
    if extract.after and not query.lookahead:
        notes.append(
            f"the query returned {extract.after:,} rows after {query.keeps.end}, which the run does not "
            "use (does its WHERE filter the timestamp with $end?)"
        )
    return notes


def get_data(request: GetDataInput) -> StageDoc:
    """Start a run from a request: pin the spec, plan the window, extract the spec's query over
    it as Parquet parts listed in a manifest of chunks (the scoring Map's items), and reconcile
    the extract with its source."""
    model = request.request.model
    current, body = specs.read(model)
    spec, version = current, request.request.model_version
    notes: list[str] = []
    if request.pipeline == "scoring":
        # Resolved once, so every chunk scores with the same version even if the champion
        # moves; the run's periods and SQL are that version's recipe's.
        version = registry.resolve_version(model, version).version
        spec = version_spec(model, version, current)
    run = plan_run(
        request.request,
        request.pipeline,
        spec.window.training_periods,
        spec.window.outcome_lag_periods,
        request.execution,
        spec.period,
        spec.window.allow_partial,
    ).model_copy(update={"model_version": version})
    if run.pipeline == "scoring":
        shadow, notes = _shadow(run, spec, current)
        run = run.model_copy(update={"shadow_version": shadow})
    digest = specs.pin(run.run_id, body)
    # A re-run of the same run keeps its first start: what it writes (scored_at) is the same.
    first = objects.put_json_once(
        layout.plan_key(run.run_id), {"started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    )
    run = run.model_copy(
        update={"started_at": datetime.fromisoformat(first["started_at"]), "spec_sha256": digest}
    )
    doc = StageDoc(run=run)
    query = _query(spec, run)
    extract = engine_for(spec.source.engine).extract(query, layout.raw_prefix(run.run_id))
    if extract.rows == 0:
        raise NoDataError(
            f"the query of model {run.model!r} returns no rows "
            f"between {run.window.start} and {run.window.end}"
        )
    spec.require_columns(extract.columns, with_outcome=run.pipeline == "training")
    reconciliation = reconciled(spec, query, extract)
    if reconciliation.error is not None:
        raise IncompleteExtractError(reconciliation.error)
    notes += _outside(query, extract)
    chunks = chunks_of([(part.key, part.rows) for part in extract.parts], spec.scoring.chunk_rows)
    manifest = layout.manifest_key(run.run_id)
    doc.artifacts.raw = objects.put_json(manifest, [chunk.model_dump() for chunk in chunks])
    doc.results.get_data = GetDataResult(
        rows=extract.rows,
        matched=extract.matched,
        columns=len(extract.columns),
        chunks=len(chunks),
        manifest_key=manifest,
        lookback_rows=extract.before,
        lookahead_rows=extract.after,
        reconciliation=reconciliation,
        duplicates=duplicates_dropped(spec, extract),
        notes=notes,
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
