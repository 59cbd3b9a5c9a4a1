"""The scoring flow after get_data:

verify_model → Map over the extract's chunks: transform_chunk → score_data → publish_chunk
→ validate_data → (collect_outcomes → validate_outcomes: pipeline/outcomes.py)
→ validate_scores → deploy_scores → campaign → (the readers' grace) → retire_publications.

Every per-row step runs in the Map's children, in parallel: a chunk is encoded with the model
version's schema, scored, and written to the run's new publication (latest scores, online
features) and to a staged history part, each with a sketch for validation. The stages after
the Map only merge sketches, check counts and flip the ``latest`` pointer: nothing a reader
sees changes before validation has passed.
"""

from __future__ import annotations

from datetime import date

from modelops.domain import publication
from modelops.domain.contract import (
    ChunkResults,
    DeployScoresResult,
    RetireResult,
    StageDoc,
    TransformChunkResult,
    VerifyModelResult,
)
from modelops.domain.data import skew, validity
from modelops.domain.data.features import FeatureSchema
from modelops.domain.monitoring import sketches
from modelops.domain.periods import add_periods
from modelops.domain.publication import ScoreCountError
from modelops.pipeline import monitoring
from modelops.pipeline.common import chunk_list, spec_of
from modelops.settings import settings
from modelops.stores import bulk_publication, history, latest, layout, objects, registry


def verify_model(doc: StageDoc) -> StageDoc:
    """Load and verify the run's model version once, before the fan-out, so a bad artifact (or a
    version retired since the run started) fails the run early and by name."""
    record = registry.servable(doc.run.model, doc.run.version())
    registry.load_estimator(record)
    registry.feature_schema(record)  # the metadata too: a Map child's failure would not say why
    if doc.run.shadow_version is not None:
        shadow = registry.servable(doc.run.model, doc.run.shadow_version)
        registry.load_estimator(shadow)
        registry.feature_schema(shadow)
    doc.results.verify_model = VerifyModelResult(model_version=record.version, sha256=record.sha256)
    return doc


def _chunk_object(run_id: str, index: int, name: str) -> bytes:
    """What a chunk of the scoring Map wrote; missing, the chunk did not finish."""
    key = layout.chunk_key(run_id, index, name)
    if not objects.exists(key):
        raise ScoreCountError(f"chunk {index} did not finish its transform ({key} is missing)")
    return objects.get_bytes(key)


def validate_data(doc: StageDoc) -> StageDoc:
    """Deciles of every feature of the scored period, merged from the chunks' sketches, into
    the metadata table; each feature checked against its training (skew: findings of the run's
    alert); refuses the run when too many values are invalid."""
    run = doc.run
    spec = spec_of(run)
    chunks = chunk_list(doc)
    record = registry.get_version(run.model, run.version())
    schema = FeatureSchema.from_dict(registry.feature_schema(record))
    merged = [
        s
        for c in chunks
        for s in sketches.from_bytes(_chunk_object(run.run_id, c.index, "feature_sketch.npz"))
    ]
    chosen = monitoring.slicings(run.model, spec, schema)
    profiles = sketches.merge(sketches.resegment(merged, chosen), spec.drift.sample_size)
    rows = sum(c.rows for c in chunks)
    done = [
        TransformChunkResult.model_validate_json(_chunk_object(run.run_id, c.index, "transform.json"))
        for c in chunks
    ]
    shares = validity.invalid_shares((counted.invalid for counted in done), rows)
    result = monitoring.validate(
        run.model, "validate_data", run.run_id, run.window.end, profiles, spec.drift, rows=rows, alert=False
    )
    result.invalid = {name: round(share, 6) for name, share in shares.items()}
    tallies = skew.merge({n: skew.Tally.from_list(v) for n, v in c.tallies.items()} for c in done)
    skewed = skew.findings(schema, tallies, spec.skew)
    result.drift = [*monitoring.skew_evidence("validate_data", run.as_of, skewed), *result.drift]
    doc.results.validate_data = result
    policies = {name: feature.on_invalid for name, feature in spec.features.items()}
    refused = validity.refusal(shares, policies, spec.scoring.max_invalid_share)
    if refused is not None:
        raise validity.InvalidDataError(refused)
    return doc


def validate_scores(doc: StageDoc) -> StageDoc:
    """The validation code fed the production scores (merged chunk sketches)."""
    run = doc.run
    spec = spec_of(run)
    chunks = chunk_list(doc)
    sketched = {
        c.index for c in chunks if objects.exists(layout.chunk_key(run.run_id, c.index, "score_sketch.npz"))
    }
    publication.require_all(chunks, sketched, "scores")
    merged = [
        s
        for c in chunks
        for s in sketches.from_bytes(
            objects.get_bytes(layout.chunk_key(run.run_id, c.index, "score_sketch.npz"))
        )
    ]
    schema = FeatureSchema.from_dict(registry.feature_schema(registry.get_version(run.model, run.version())))
    chosen = monitoring.slicings(run.model, spec, schema)
    profiles = sketches.merge(sketches.resegment(merged, chosen), spec.drift.sample_size)
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


def deploy_scores(doc: StageDoc) -> StageDoc:
    """Check every chunk's receipt against the extract (domain/publication.py); a large run's
    publication imported into its own table (stores/bulk_publication.py); the staged history
    parts copied into the history; the latest pointer flipped to the run's publication (last,
    and only if time moves forward or the run is forced); superseded tables past the readers'
    grace deleted (``retire_later``: some wait for retire_publications)."""
    run = doc.run
    spec = spec_of(run)
    registry.servable(run.model, run.version())  # retired while the run scored: nothing is published
    chunks = chunk_list(doc)
    rows = sum(chunk.rows for chunk in chunks)
    published = publication.published_rows(
        chunks,
        [r.publish_chunk for r in receipts(doc)],
        shadow=run.shadow_version is not None,
        online=spec.online.enabled,
    )
    validated = doc.results.validate_scores.rows if doc.results.validate_scores else rows
    publication.require_counts(extracted=rows, published=published, validated=validated)
    publication_id = latest.publication_id(run.run_id, run.version())
    current = latest.pointer(run.model)
    decision = publication.latest_decision(
        None if current is None else (current.publication, date.fromisoformat(current.as_of)),
        publication_id,
        run.as_of,
        force=run.force,
    )
    table = None
    if decision.flip and publication.by_import(rows, spec.scoring.import_from_rows):
        # Before the history: a run waiting on its import (PublicationPending) is called
        # again, and copies nothing twice meanwhile.
        table = _imported(run.run_id, run.model, publication_id, len(chunks), rows)
    elif current is not None and current.publication == publication_id:
        table = current.table  # a re-run of the latest publication: where it is
    elif not decision.flip:  # history only: an earlier attempt's import, before a newer run flipped
        earlier = bulk_publication.marked_table(run.run_id)
        if earlier is not None and not latest.holds(run.model, earlier):
            bulk_publication.discard(run.run_id, earlier)
    staged = [layout.chunk_key(run.run_id, chunk.index, "history.parquet") for chunk in chunks]
    written = history.publish(run.model, run.as_of, "batch", staged)
    if run.shadow_version is not None:
        shadows = [layout.chunk_key(run.run_id, chunk.index, "shadow_history.parquet") for chunk in chunks]
        history.publish(run.model, run.as_of, "shadow", shadows)
    if decision.flip:
        new = latest.Publication(
            run.model,
            publication_id,
            run.run_id,
            run.as_of.isoformat(),
            run.version(),
            rows,
            spec.scoring.top_candidates,
            table=table,
            scored_at=run.started().isoformat(timespec="seconds"),
        )
        try:
            latest.flip(new, current)
        except latest.FlipLost:  # another run moved the pointer meanwhile
            if table is not None and not latest.holds(run.model, table):
                bulk_publication.discard(run.run_id, table)  # no reader ever saw it
            raise
    retired = latest.retire(run.model, settings().reader_grace_seconds)
    after = latest.pointer(run.model)
    doc.results.deploy_scores = DeployScoresResult(
        history=written,
        publication=publication_id,
        rows=rows,
        latest=decision.accept,
        reason=decision.reason,
        table=table,
        retired=retired,
        retire_later=bool(after and after.superseded),
    )
    return doc


def _imported(run_id: str, model: str, publication_id: str, chunks: int, rows: int) -> str:
    """The run's publication table, once its import from the chunks' parts has brought in
    exactly the run's rows; a failed import is discarded (a re-run imports afresh) and fails
    the run by name, a running one is PublicationPending (retried by the state machine)."""
    table = bulk_publication.table_name(model, publication_id, bulk_publication.staged_parts(run_id, chunks))
    earlier = bulk_publication.marked_table(run_id)
    if earlier not in (None, table) and not latest.holds(model, earlier):  # parts since rewritten
        bulk_publication.delete_table(earlier)  # an import no reader ever saw
    state = bulk_publication.wait(bulk_publication.start(run_id, table))
    try:
        publication.check_import(table, state.status, state.imported, state.errors, rows, state.message)
    except publication.PublicationImportError:
        bulk_publication.discard(run_id, table)
        raise
    return table


def retire_publications(doc: StageDoc) -> StageDoc:
    """After the readers' grace (the state machine waits it out): delete the publication
    tables the run's flip superseded, now that no reader can still hold them."""
    doc.results.retire_publications = RetireResult(
        retired=latest.retire(doc.run.model, settings().reader_grace_seconds)
    )
    return doc
