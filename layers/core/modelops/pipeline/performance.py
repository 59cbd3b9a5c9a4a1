"""Performance in validate_outcomes: the realized measures of the period whose outcomes have
arrived, the estimated ones of the period just scored (from the scores' sketches and the
version's calibration), each per segment too, into the metadata; then the pooled measures of
the batch scores tested against the version's own periods (``domain/monitoring/performance``),
as one Benjamini-Hochberg family, their flags stored like drift flags.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from modelops.domain.contract import Evidence, StageDoc
from modelops.domain.data.features import FeatureSchema
from modelops.domain.monitoring import evaluation, sketches
from modelops.domain.monitoring import performance as measures
from modelops.domain.monitoring.calibration import Calibration
from modelops.domain.monitoring.profiles import SCORE_METRIC, Profile
from modelops.domain.monitoring.reference import Observation
from modelops.domain.monitoring.segments import Slicing, split_metric
from modelops.domain.scores import ScoreSet
from modelops.domain.spec import ModelSpec
from modelops.pipeline import monitoring
from modelops.pipeline.common import chunk_list
from modelops.stores import calibrations, layout, metadata, objects, registry

BATCH = "batch"


def encode_segments(entity: np.ndarray, codes: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, entity=entity, codes=codes)
    return buffer.getvalue()


def _decode_segments(body: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(body), allow_pickle=False) as archive:
        return {str(e): row for e, row in zip(archive["entity"], archive["codes"], strict=True)}


def _slicings(doc: StageDoc, spec: ModelSpec) -> list[Slicing]:
    record = registry.get_version(doc.run.model, doc.run.version())
    return monitoring.slicings(doc.run.model, spec, FeatureSchema.from_dict(registry.feature_schema(record)))


def realized_profiles(
    doc: StageDoc,
    spec: ModelSpec,
    period: date,
    source: str,
    version: str,
    joined: ScoreSet,
    segments_key: str,
) -> list[Profile]:
    """One source's realized measures of ``period``; for the batch scores, per segment too."""
    assert joined.outcome is not None
    found = measures.realized_profiles(period, source, version, joined.outcome, joined.score, spec.campaign)
    if source != BATCH or not spec.drift.segments or not objects.exists(segments_key):
        return found
    codes = _decode_segments(objects.get_bytes(segments_key))
    width = len(spec.drift.segments)
    rows = np.array([codes.get(str(e), np.full(width, np.nan)) for e in joined.entity]).reshape(-1, width)
    for chosen in _slicings(doc, spec):
        column = rows[:, spec.drift.segments.index(chosen.feature)]
        for segment, members in chosen.groups(column):
            y, score = joined.outcome[members], joined.score[members]
            for name, values in measures.realized(y, score, spec.campaign).items():
                metric = f"{source}:{name}[{chosen.feature}={segment}]"
                found.append(Profile(metric, period, {"count": float(y.size), **values}))
    return found


def estimated_profiles(doc: StageDoc, spec: ModelSpec) -> list[Profile]:
    """The estimated measures of the period just scored, pooled and per segment, from the batch
    scores' sketches and the version's calibration (none for a version without one)."""
    run = doc.run
    stored = calibrations.load(registry.get_version(run.model, run.version()))
    if stored is None:
        return []
    calibration = Calibration.from_dict(stored["calibration"])
    merged = [
        s
        for c in chunk_list(doc)
        for s in sketches.from_bytes(
            objects.get_bytes(layout.chunk_key(run.run_id, c.index, "score_sketch.npz"))
        )
    ]
    found = []
    for metric, (rows, sample) in sketches.samples(sketches.resegment(merged, _slicings(doc, spec))).items():
        base, segment = split_metric(metric)
        if base != SCORE_METRIC or not sample.size:
            continue
        estimates = measures.estimated(calibration.apply(sample), sample, spec.campaign, rows)
        found += measures.estimated_profiles(run.as_of, BATCH, run.version(), estimates, segment)
    return found


@dataclass
class Judged:
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _measured(observation: Observation) -> measures.Measured:
    values = observation.values
    return measures.Measured(
        observation.timestamp,
        values["value"],
        values.get("se", math.nan),
        values.get("count", 0.0),
        bool(observation.flags),
    )


def judge(model: str, spec: ModelSpec, targets: list[tuple[str, date, str]]) -> Judged:
    """Test each target (test kind, period, version) of the batch scores: its measures against
    the version's test periods and settled history; decide them as one family; store flags and
    bands on the pooled and the version's rows."""
    observed = metadata.read_observations(model, measures.STAGE)
    findings: list[tuple[evaluation.Finding, str, date, list[Observation]]] = []
    judged = Judged()
    for test, period, version in targets:
        stored = calibrations.load(registry.get_version(model, version))
        if stored is None:
            judged.notes.append(
                f"version {version} keeps no test-period measures: its performance is not judged"
            )
            continue
        prefix = measures.ESTIMATED if test == "estimated" else ""
        for measure in measures.MEASURES:
            name = prefix + measure
            history = [o for o in observed.get(f"{BATCH}@{version}:{name}", []) if "se" in o.values]
            current = next((o for o in history if o.timestamp == period), None)
            if current is None:
                continue
            metric = f"{BATCH}:{name}"
            if measures.too_small(name, current.values, spec.drift):
                judged.notes.append(
                    f"{metric}: {current.values.get('count', 0):.0f} rows in {period}, too few to judge"
                )
                continue
            periods = measures.reference(
                measures.measured_of(stored["periods"], name),
                [_measured(o) for o in history],
                period,
                spec.drift.trend_periods,
            )
            outcome = measures.judge_period(metric, test, _measured(current), periods, spec.drift)
            if isinstance(outcome, str):
                judged.notes.append(outcome)
                continue
            pooled = [o for o in observed.get(metric, []) if o.timestamp < period]
            findings.append((outcome, version, period, pooled))
    evaluation.decide([f for f, *_ in findings], spec.drift)
    for finding, version, period, pooled in findings:
        persistent = evaluation.persistent(finding, [o.flags for o in reversed(pooled)], spec.drift)
        _store_flags(model, finding, version, period)
        if persistent:
            since = evaluation.first_flagged(finding.metric, period, pooled)
            judged.evidence.append(monitoring.as_evidence(measures.STAGE, finding, since))
    return judged


def _store_flags(model: str, finding: evaluation.Finding, version: str, period: date) -> None:
    flags = [finding.key] if finding.flagged else []
    bands: dict[str, tuple[float, float, float]] = {}
    if finding.expected is not None and finding.low is not None and finding.high is not None:
        bands["value"] = (finding.expected, finding.low, finding.high)
    name = finding.metric.partition(":")[2]
    for metric in (finding.metric, f"{BATCH}@{version}:{name}"):
        metadata.set_flags(model, measures.STAGE, metric, period, flags, bands)


def summary(profiles: list[Profile]) -> dict[str, Any]:
    """The pooled estimates of the period just scored, for the run's results."""
    found: dict[str, Any] = {}
    for profile in profiles:
        base, segment = split_metric(profile.metric)
        source, _, name = base.partition(":")
        if segment is None and source == BATCH and name.startswith(measures.ESTIMATED):
            measure = name.removeprefix(measures.ESTIMATED)
            found[measure] = round(profile.values["value"], 6)
            found[f"{measure}_realized_se"] = round(profile.values["realized_se"], 6)
    return found
