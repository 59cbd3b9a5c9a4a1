"""The one validation path of validate_data, validate_model and validate_scores: save the
decile metadata, test the newest period against its history, alert once per run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from modelops.domain import drift, report
from modelops.domain.contract import VALIDATION_STAGES, AlertOutcome, Evidence, ValidationResult
from modelops.domain.decisions import alert_fingerprint, alert_severity
from modelops.domain.profiles import Profile
from modelops.domain.spec import Drift
from modelops.stores import layout, metadata, notifications, objects, registry

MAX_REPORTED = 40  # flagged findings carried in the stage document and the alert


def _as_evidence(stage: str, finding: drift.Finding) -> Evidence:
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
    )


def find_drift(
    model: str, stage: str, timestamp: date, settings: Drift, reference_stage: str | None = None
) -> list[Evidence]:
    """Drift findings (flagged, persistent) of the period ``timestamp`` against earlier ones;
    stores each metric's flags so that later runs can apply the persistence rule. History of
    ``reference_stage`` counts too (production scores are compared with the test sample's)."""
    findings: list[drift.Finding] = []
    previous_flags: dict[str, list[tuple[str, ...]]] = {}
    references = metadata.read_observations(model, reference_stage) if reference_stage else {}
    for metric, observed in metadata.read_observations(model, stage).items():
        current = [o for o in observed if o.timestamp == timestamp]
        history = sorted(
            [o for o in references.get(metric, []) if o.timestamp < timestamp]
            + [o for o in observed if o.timestamp < timestamp],
            key=lambda o: o.timestamp,
        )
        if not current:
            continue
        findings += drift.evaluate_metric(metric, current[0], history, settings)
        previous_flags[metric] = [o.flags for o in reversed(history)]
    drift.decide(findings, settings)
    flagged = [f for f in findings if drift.persistent(f, previous_flags.get(f.metric, []), settings)]
    for metric in previous_flags:
        keys = [f.key for f in findings if f.metric == metric and f.flagged]
        metadata.set_flags(model, stage, metric, timestamp, keys)
    flagged.sort(key=lambda f: (-f.effect, f.metric, f.value))
    return [_as_evidence(stage, f) for f in flagged]


def send_alert(model: str, run_id: str, timestamp: date, findings: list[Evidence]) -> AlertOutcome:
    """Send the run's drift alert unless it repeats the model's previous one."""
    digest = alert_fingerprint(findings)
    previous = metadata.alerts(model)
    severity = alert_severity(findings)
    metrics = sorted({f.metric for f in findings})
    outcome = AlertOutcome(sent=False, severity=severity, metrics=metrics, findings=len(findings))
    if previous and previous[-1]["fingerprint"] == digest:
        return outcome.model_copy(update={"reason": "unchanged since the last alert"})
    alert = {
        "model": model,
        "run_id": run_id,
        "timestamp": timestamp.isoformat(),
        "severity": severity,
        "metrics": metrics,
        "findings": [f.model_dump(mode="json") for f in findings],
    }
    notifications.send_drift_alert(
        f"modelops drift: {model} {timestamp.isoformat()} ({severity})", severity, alert
    )
    metadata.record_alert(model, timestamp, run_id, digest, alert)
    return outcome.model_copy(update={"sent": True})


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
) -> ValidationResult:
    """Save, test, and (when ``alert``: the run's last validation) send one alert for this
    and the ``earlier`` stages' findings of the run, then refresh the drift report."""
    written = metadata.write_profiles(model, stage, run_id, profiles)
    findings = find_drift(model, stage, timestamp, settings, reference_stage)
    result = ValidationResult(rows=rows, profiles=written, drift=findings[:MAX_REPORTED])
    everything = [*(earlier or []), *findings][:MAX_REPORTED]
    if alert and everything:
        result.alert = send_alert(model, run_id, timestamp, everything)
    if alert:
        result.report = objects.put_bytes(layout.report_key(model), report_html(model).encode())
    return result


def report_html(model: str) -> str:
    """The drift report of a model from everything stored: metadata, alerts, versions."""
    champion = registry.champion(model)
    versions: list[dict[str, Any]] = [
        {
            "version": v.version,
            "created_at": v.created_at,
            "test_auc": v.test_auc,
            "champion": v.version == champion,
            "run_id": v.run_id,
        }
        for v in registry.versions(model)
    ]
    observed = {stage: metadata.read_observations(model, stage) for stage in VALIDATION_STAGES}
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    return report.render(model, observed, metadata.alerts(model), versions, generated)
