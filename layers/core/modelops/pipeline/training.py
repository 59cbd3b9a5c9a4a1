"""The training flow after get_data: transform_data → validate_data → train_model →
validate_model → deploy_model.

Training learns the feature schema from its window and encodes the whole window;
deploy_model registers the candidate and lets the promotion gate decide.
"""

from __future__ import annotations

import io
import platform
from typing import TYPE_CHECKING, Any

import numpy as np

from modelops.domain.contract import (
    Chunk,
    ContractError,
    DeployModelResult,
    Run,
    StageDoc,
    TrainResult,
    TransformResult,
)
from modelops.domain.data.features import (
    FeatureMatrix,
    FeatureSchema,
    as_dates,
    infer_schema,
    period_starts,
    transform,
)
from modelops.domain.model import deployment, fastscore, promotion
from modelops.domain.monitoring import calibration, performance
from modelops.domain.monitoring.profiles import (
    profile_features,
    profile_scores,
    profile_segment_scores,
    profile_segments,
)
from modelops.domain.monitoring.segments import slicing
from modelops.domain.scores import ScoreSet
from modelops.domain.spec import ModelSpec
from modelops.pipeline import monitoring
from modelops.pipeline.common import read_extract, spec_of
from modelops.stores import calibrations, layout, notifications, objects, registry, specs, version_metrics

if TYPE_CHECKING:
    from modelops.domain.model.estimators import TrainingResult

PERFORMANCE = "performance.json"

PROMOTION_ATTEMPTS = 3  # conditional promotions tried while the alias keeps moving


def _library_versions() -> dict[str, str]:
    import joblib
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "joblib": joblib.__version__,
        "numpy": np.__version__,
    }


def _champion_test(
    doc: StageDoc,
    spec: ModelSpec,
    columns: dict[str, np.ndarray],
    matrix: FeatureMatrix,
    schema: FeatureSchema,
) -> None:
    """The candidate will be compared with the champion on the candidate's own test rows: when
    the champion reads other features or categories, encode those rows its way too."""
    from modelops.domain.model.estimators import TrainingError, split_rows

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
    spec = spec_of(run)
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


def validate_data(doc: StageDoc) -> StageDoc:
    """Deciles of the outcome and every feature of the training window, per period, into the
    metadata table (the reference that scoring runs are compared with)."""
    run = doc.run
    spec = spec_of(run)
    matrix, schema = load_features(doc)
    profiles = profile_features(matrix, schema, spec.drift.sample_size)
    # Segments: the largest categories of this window's own profiles (what scoring will slice by).
    chosen = [
        slicing(
            name, info.categories, [p.values for p in profiles if p.metric == name], spec.drift.max_segments
        )
        for name in spec.drift.segments
        if name in schema.names
        for info in [schema.features[schema.names.index(name)]]
    ]
    profiles += profile_segments(matrix, schema, chosen, spec.drift.sample_size)
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


def train_model(doc: StageDoc) -> StageDoc:
    """Search, fit and measure; the fitted model and its test-sample scores go to the run."""
    import joblib

    from modelops.domain.model import estimators

    run = doc.run
    spec = spec_of(run)
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

    performance = _performance(spec, scores)
    if performance is not None:  # the calibration and the test periods' measures, for monitoring
        put(PERFORMANCE, performance)
        summary[calibrations.SHA256_FIELD] = registry.sha256(performance)
    figures = _figures(run, spec, result, test, schema)  # the report's figures, for any tool
    put(version_metrics.NAME, figures)
    summary[version_metrics.SHA256_FIELD] = registry.sha256(figures)
    doc.artifacts.model = put("model.joblib", buffer.getvalue())
    doc.artifacts.test_scores = put("test_scores.npz", scores.to_bytes())
    doc.artifacts.test_features = put("test_features.npz", test.to_bytes())
    exported = fastscore.export(result.estimator)
    if exported is not None:
        doc.artifacts.fast_model = put("fast.npz", fastscore.FastModel(exported).to_bytes())
    doc.artifacts.training = objects.put_json(layout.training_key(run.run_id, "training.json"), summary)
    doc.results.train_model = TrainResult(params=result.params, metrics=result.metrics["test"])
    return doc


def _performance(spec: ModelSpec, scores: ScoreSet) -> bytes | None:
    """The test sample's calibration (isotonic or Platt) and each test period's realized and
    estimated measures; None when its outcomes cannot calibrate anything (one class only)."""
    if scores.outcome is None:
        return None
    known = ~np.isnan(scores.outcome)
    if np.unique(scores.outcome[known]).size < 2:
        return None
    fitted = calibration.fit(scores.score[known], scores.outcome[known])
    periods = performance.reference_periods(
        fitted, scores.score[known], scores.outcome[known], scores.timestamp[known], spec.campaign
    )
    rule = spec.campaign.model_dump(mode="json", include={"enabled", "top_n", "min_score"})
    return calibrations.encode(fitted, periods, rule)


def _figures(
    run: Run, spec: ModelSpec, result: TrainingResult, test: FeatureMatrix, schema: FeatureSchema
) -> bytes:
    """metrics.json: the test sample's curves, deciles, campaign selection and permutation
    importance (on at most estimators.IMPORTANCE_ROWS rows, seeded by the split's seed)."""
    from modelops.domain.model import estimators, figures

    y = np.asarray(test.y, dtype=np.float64)
    importance = estimators.permutation_importance(
        result.estimator, test.X, y, schema.names, seed=spec.split.seed
    )
    found = figures.figures(y, result.test_scores, test.timestamp, spec.campaign, importance)
    return version_metrics.encode({"model": run.model, "run_id": run.run_id, "sample": "test", **found})


def _champion_scores(doc: StageDoc, version: str, test: FeatureMatrix) -> ScoreSet:
    """The champion's scores of the candidate's test rows (encoded its own way where its schema
    differs), for the fair comparison in deploy_model."""
    from modelops.domain.model import estimators

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
    spec = spec_of(run)
    scores = _test_scores(doc)
    # One profile per test period: the reference production scores are compared with.
    profiles = profile_scores(scores.score, scores.outcome, scores.timestamp, spec.drift.sample_size)
    if spec.drift.segments:  # and per segment, sliced as this run's validate_data sliced its window
        test = FeatureMatrix.from_bytes(
            objects.get_bytes(objects.key_of(doc.artifacts.require("test_features")))
        )
        schema = FeatureSchema.from_dict(
            objects.get_json(objects.key_of(doc.artifacts.require("feature_schema")))
        )
        chosen = monitoring.slicings(run.model, spec, schema, (run.window.start, run.window.end))
        codes = {c.feature: test.X[:, schema.names.index(c.feature)] for c in chosen}
        profiles += profile_segment_scores(
            scores.score, scores.outcome, scores.timestamp, codes, chosen, spec.drift.sample_size
        )
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


def _compared(doc: StageDoc) -> str | None:
    """The champion the gate compares the candidate with (transform_data saw it)."""
    return doc.results.transform_data.champion if doc.results.transform_data else None


def _verdict(doc: StageDoc, summary: dict[str, Any]) -> promotion.Verdict:
    """The promotion gate, fed the candidate's and the champion's scores of the same rows."""
    run = doc.run
    spec = spec_of(run)
    test = _test_scores(doc)
    if test.outcome is None:
        raise ContractError("the test sample has no outcomes to judge the candidate by")
    candidate = promotion.Candidate("candidate", test.score, run.window.end)
    compared = _compared(doc)
    champion = None
    if compared is not None:
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


def _registered(record: registry.ModelVersion) -> deployment.Registered:
    was_champion, rejection_noted = deployment.history(
        record.version, ((entry["kind"], entry["version"]) for entry in registry.audit(record.model))
    )
    return deployment.Registered(record.version, record.run_id, record.status, was_champion, rejection_noted)


def _decide(
    run: Run, verdict: promotion.Verdict, record: registry.ModelVersion, compared: str | None
) -> deployment.Deployment:
    """Decide (domain/model/deployment.py) and promote when that is the decision; when the
    alias moves between the read and the conditional write, decide again with the new one."""
    for _ in range(PROMOTION_ATTEMPTS):
        decision = deployment.decide(
            accept=verdict.accept,
            verdict=verdict.reason,
            registered=_registered(record),
            compared=compared,
            current=registry.champion(run.model),
        )
        if not decision.promote:
            return decision
        try:
            registry.change_champion(
                run.model,
                record.version,
                decision.expected,
                kind="promotion",
                reason=verdict.reason,
                caller=f"training run {run.run_id}",
                evidence=verdict.evidence,
            )
        except registry.ChampionMoved:
            continue
        return decision
    raise registry.RegistryConflict(
        f"the champion of {run.model!r} kept moving while {record.version} was promoted"
    )


def deploy_model(doc: StageDoc) -> StageDoc:
    """Register the candidate (its version allocated first, never overwritten) and let the
    promotion gate decide whether it replaces the champion it was compared with; a rejection is
    recorded and alerted, a candidate whose champion moved meanwhile stays registered."""
    run = doc.run
    summary = objects.get_json(objects.key_of(doc.artifacts.require("training")))
    artifact = objects.get_bytes(objects.key_of(doc.artifacts.require("model")))
    fast, online = _checked_fast_model(doc)
    verdict = _verdict(doc, summary)
    status = registry.REGISTERED if verdict.accept else registry.REJECTED
    record = registry.publish(
        run.model,
        run.run_id,
        artifact,
        {**summary, "online": online},
        fast,
        status=status,
        recipe=specs.pinned_text(run.run_id, run.spec()),
    )
    for name, field, keep in (
        (PERFORMANCE, calibrations.SHA256_FIELD, calibrations.keep),  # its calibration
        (version_metrics.NAME, version_metrics.SHA256_FIELD, version_metrics.keep),  # its figures
    ):
        if record.run_id == run.run_id and summary.get(field):
            keep(run.model, record.version, objects.get_bytes(layout.training_key(run.run_id, name)))
    compared = _compared(doc)
    decision = _decide(run, verdict, record, compared)
    detail = {"reason": decision.reason, "caller": f"training run {run.run_id}", "evidence": verdict.evidence}
    if decision.reject:
        registry.note(run.model, "rejected", record.version, detail)
        notifications.send_rejection(run.model, record.version, decision.reason, verdict.evidence)
    elif decision.hold:
        registry.note(run.model, "held", record.version, {**detail, "compared_with": compared})
    doc.results.deploy_model = DeployModelResult(
        version=record.version,
        status=record.status,
        sha256=record.sha256,
        artifact=objects.uri(record.artifact_key),
        metadata=objects.uri(record.metadata_key),
        champion=decision.champion,
        reason=decision.reason,
        online_scorer="numpy" if record.fast_sha256 else "scikit-learn",
        evidence=verdict.evidence,
    )
    return doc
