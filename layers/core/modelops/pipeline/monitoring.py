"""The one validation path of validate_data, validate_model and validate_scores: save the
decile metadata, test the newest period against its history, alert once per run."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from modelops.domain.contract import VALIDATION_STAGES, AlertOutcome, Evidence, ValidationResult
from modelops.domain.data.features import FeatureSchema
from modelops.domain.data.skew import SkewFinding
from modelops.domain.monitoring import evaluation, report
from modelops.domain.monitoring.alerts import (
    alert_fingerprint,
    alert_severity,
    alert_summary,
    describe,
    metric_changes,
    should_retrain,
    strength,
)
from modelops.domain.monitoring.profiles import Profile
from modelops.domain.monitoring.reference import Observation
from modelops.domain.monitoring.segments import Slicing, slicing
from modelops.domain.spec import Drift, ModelSpec
from modelops.stores import calibrations, layout, metadata, notifications, objects, registry

MAX_REPORTED = 40


@dataclass(frozen=True)
class Retrain:
    """Ask for a retraining as of ``as_of`` when an alert is at least ``min_severity``."""

    min_severity: str
    as_of: date


# flagged findings carried in the stage document and the alert


def as_evidence(stage: str, finding: evaluation.Finding, since: date) -> Evidence:
    return Evidence(
        stage=stage,
        metric=finding.metric,
        value=finding.value,
        test=finding.test,
        statistic=round(finding.statistic, 6),
        p_value=None if finding.p_value is None else float(f"{finding.p_value:.4g}"),
        adjusted_p=None if finding.adjusted_p is None else float(f"{finding.adjusted_p:.4g}"),
        effect=round(finding.effect, 4),
        series=[round(v, 6) for v in finding.series[-12:]],
        expected=None if finding.expected is None else round(finding.expected, 6),
        reference=finding.reference,
        since=since,
    )


def skew_evidence(stage: str, period: date, findings: list[SkewFinding]) -> list[Evidence]:
    """Skew findings as the run's alert carries them: no p-value (a contract, not a test),
    their own severity, and what training had (``expected``)."""
    return [
        Evidence(
            stage=stage,
            metric=f.feature,
            value=f.check,
            test="skew",
            statistic=round(f.scored, 6),
            effect=round(f.scored - f.trained, 6),
            expected=round(f.trained, 6),
            severity=f.severity,
            since=period,
        )
        for f in findings
    ]


def _champion_window(model: str) -> tuple[dict[str, Any], str | None]:
    name = registry.champion(model)
    if name is None:
        return {}, None
    record = registry.get_version(model, name)
    return objects.get_json(record.metadata_key).get("training_window") or {}, record.run_id


def model_reference(model: str) -> tuple[date | None, str | None]:
    """The end of the champion's training window and its training run (None without one):
    what the monitored periods are compared with."""
    window, run_id = _champion_window(model)
    end = window.get("end")
    return (date.fromisoformat(end) if end else None), run_id


def slicings(
    model: str, spec: ModelSpec, schema: FeatureSchema, window: tuple[date, date] | None = None
) -> list[Slicing]:
    """How ``drift.segments`` slice rows: each feature's largest categories over ``window``
    (default: the champion's training window; without one, every period) in the pooled
    feature's decile metadata."""
    names = [name for name in spec.drift.segments if name in schema.names]
    if names and window is None:
        found, _ = _champion_window(model)
        if found.get("start") and found.get("end"):
            window = date.fromisoformat(found["start"]), date.fromisoformat(found["end"])
    chosen = []
    for name in names:
        periods = [
            o.values
            for o in metadata.read_metric(model, "validate_data", name)
            if window is None or window[0] <= o.timestamp <= window[1]
        ]
        categories = schema.features[schema.names.index(name)].categories
        chosen.append(slicing(name, categories, periods, spec.drift.max_segments))
    return chosen


def _history(
    observed: list[Observation],
    baseline: list[Observation],
    timestamp: date,
    reference_end: date | None,
    champion_run: str | None,
) -> list[Observation]:
    """A metric's periods before ``timestamp``. With a ``baseline`` (production scores get the
    test sample's), the reference is the champion's own baseline and the stage's periods after
    the champion's training window (earlier ones came from earlier models)."""
    earlier = [o for o in observed if o.timestamp < timestamp]
    if not baseline:
        return earlier
    own = [o for o in baseline if o.run_id == champion_run] or baseline
    after = [o for o in earlier if reference_end is None or o.timestamp > reference_end]
    return sorted([o for o in own if o.timestamp < timestamp] + after, key=lambda o: o.timestamp)


def _with_fresh(
    stored: dict[str, list[Observation]], fresh: dict[str, list[Observation]]
) -> dict[str, list[Observation]]:
    """The stored history with the profiles about to be written in place of what is stored
    at their timestamps (a re-run's), as reading after the write would give it."""
    merged = dict(stored)
    for metric, observations in fresh.items():
        replaced = {o.timestamp for o in observations}
        kept = [o for o in stored.get(metric, []) if o.timestamp not in replaced]
        merged[metric] = sorted([*kept, *observations], key=lambda o: o.timestamp)
    return merged


def find_drift(
    model: str,
    stage: str,
    timestamp: date,
    settings: Drift,
    reference_stage: str | None = None,
    fresh: dict[str, list[Observation]] | None = None,
) -> tuple[list[Evidence], list[str], metadata.Judged]:
    """Drift findings (flagged, persistent) of the period ``timestamp`` against the model's
    reference, a note for each period or segment too small to judge, and each metric's flags
    and bands, to be stored so that later runs can apply the persistence rule and the report
    can draw them. ``fresh``: observations not stored yet (the run's own). History of
    ``reference_stage`` counts too (production scores are compared with the test sample's)."""
    reference_end, champion_run = model_reference(model)
    findings: list[evaluation.Finding] = []
    earlier: dict[str, list[Observation]] = {}
    now: dict[str, Observation] = {}
    baselines = metadata.read_observations(model, reference_stage) if reference_stage else {}
    observations = _with_fresh(metadata.read_observations(model, stage), fresh or {})
    for metric, observed in observations.items():
        current = [o for o in observed if o.timestamp == timestamp]
        if not current:
            continue
        now[metric] = current[0]
        history = _history(observed, baselines.get(metric, []), timestamp, reference_end, champion_run)
        end = reference_end if reference_end is not None and reference_end < timestamp else None
        findings += evaluation.evaluate_metric(metric, current[0], history, settings, end)
        earlier[metric] = history
    evaluation.decide(findings, settings)
    flagged = [
        f
        for f in findings
        if evaluation.persistent(f, [o.flags for o in reversed(earlier[f.metric])], settings)
    ]
    judged: metadata.Judged = {}
    for metric in earlier:
        mine = [f for f in findings if f.metric == metric]
        bands = {
            f.value: (f.expected, f.low, f.high)
            for f in mine
            if f.test == "band"
            and f.expected is not None
            and f.low is not None
            and f.high is not None
            and all(math.isfinite(v) for v in (f.expected, f.low, f.high))
        }
        judged[metric, timestamp] = ([f.key for f in mine if f.flagged], bands)
    evidence = [
        as_evidence(stage, f, evaluation.first_flagged(f.metric, timestamp, earlier[f.metric]))
        for f in flagged
    ]
    evidence.sort(key=lambda e: (-strength(e), e.metric, e.value))
    return evidence, evaluation.small_notes(now, settings), judged


def send_alert(
    model: str, run_id: str, timestamp: date, findings: list[Evidence], retrain: Retrain | None = None
) -> AlertOutcome:
    """Send the run's drift alert unless it repeats the model's previous one; with ``retrain``,
    an alert severe enough asks for a retraining (an EventBridge rule starts it)."""
    digest = alert_fingerprint(findings)
    previous = metadata.alerts(model)
    severity = alert_severity(findings)
    changes = metric_changes(findings)
    metrics = list(dict.fromkeys(change.metric for change in changes))
    summary = alert_summary(findings)
    outcome = AlertOutcome(
        sent=False, severity=severity, metrics=metrics, findings=len(findings), summary=summary
    )
    if previous and previous[-1]["fingerprint"] == digest:
        return outcome.model_copy(update={"reason": "unchanged since the last alert"})
    alert: dict[str, Any] = {
        "model": model,
        "run_id": run_id,
        "timestamp": timestamp.isoformat(),
        "severity": severity,
        "summary": summary,
        "metrics": metrics,
        "changes": [
            {
                "stage": change.stage,
                "metric": change.metric,
                "severity": change.severity,
                "since": None if change.since is None else change.since.isoformat(),
                "why": describe(change),
            }
            for change in changes
        ],
        "findings": [f.model_dump(mode="json") for f in findings],
    }
    retraining = retrain is not None and should_retrain(severity, retrain.min_severity)
    if retrain is not None and retraining:
        alert.update(retrain=True, retrain_as_of=retrain.as_of.isoformat())
    notifications.send_drift_alert(
        f"modelops drift: {model} {timestamp.isoformat()} ({severity})", severity, alert
    )
    metadata.record_alert(model, timestamp, run_id, digest, alert)
    return outcome.model_copy(update={"sent": True, "retrain": retraining})


def validate(
    model: str,
    stage: str,
    run_id: str,
    timestamp: date,
    profiles: list[Profile],
    settings: Drift,
    *,
    rows: int,
    earlier: list[Evidence] | None = None,
    alert: bool = True,
    reference_stage: str | None = None,
    retrain: Retrain | None = None,
) -> ValidationResult:
    """Save, test, and (when ``alert``: the run's last validation) send one alert for this
    and the ``earlier`` stages' findings of the run, then refresh the drift report."""
    latest = {(p.metric, p.timestamp): p for p in profiles}  # as the batch writes them: the last wins
    fresh: dict[str, list[Observation]] = {}
    for (metric, _), profile in latest.items():
        fresh.setdefault(metric, []).append(metadata.as_stored(profile, run_id))
    findings, notes, judged = find_drift(model, stage, timestamp, settings, reference_stage, fresh)
    # One write of the period, flags and all; a metric stored at this period by an earlier
    # attempt but not profiled now keeps its item and gets its flags alone.
    written = metadata.write_profiles(model, stage, run_id, profiles, judged)
    profiled = {(p.metric, p.timestamp) for p in profiles}
    for (metric, at), (flags, bands) in judged.items():
        if (metric, at) not in profiled:
            metadata.set_flags(model, stage, metric, at, flags, bands)
    result = ValidationResult(rows=rows, profiles=written, drift=findings[:MAX_REPORTED], notes=notes)
    everything = sorted([*(earlier or []), *findings], key=lambda e: -strength(e))[:MAX_REPORTED]
    if alert and everything:
        result.alert = send_alert(model, run_id, timestamp, everything, retrain)
    if alert:
        result.report = objects.put_bytes(layout.report_key(model), report_html(model).encode())
    return result


def _version_entry(model: str, record: registry.ModelVersion, champion: str | None) -> dict[str, Any]:
    """What the report shows of a version: its status, windows and (kept with the version) its
    test periods' measures."""
    stored = calibrations.load(record)
    periods = (stored or {}).get("periods") or []
    window = {"start": periods[0]["period"], "end": periods[-1]["period"]} if periods else None
    return {
        "version": record.version,
        "created_at": record.created_at,
        "test_auc": record.test_auc,
        "champion": record.version == champion,
        "status": record.status,
        "trained_through": record.trained_through,
        "test_window": window,
        "reference": periods,
        "run_id": record.run_id,
    }


def report_html(model: str) -> str:
    """The monitoring report of a model from everything stored: metadata, alerts, versions."""
    champion = registry.champion(model)
    versions = [_version_entry(model, v, champion) for v in registry.versions(model)]
    observed = {stage: metadata.read_observations(model, stage, samples=False) for stage in VALIDATION_STAGES}
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    return report.render(model, observed, metadata.alerts(model), versions, generated)
