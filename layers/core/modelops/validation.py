"""The one validation path of validate_data, validate_model and validate_scores: save the
decile metadata, test the newest period against its history, alert once per run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from modelops import alerts, drift, metadata, registry, report, store
from modelops.profiles import Profile
from modelops.spec import Drift

MAX_REPORTED = 40  # flagged findings carried in the stage document and the alert


def _as_evidence(stage: str, finding: drift.Finding) -> dict[str, Any]:
    return {
        "stage": stage,
        "metric": finding.metric,
        "value": finding.value,
        "test": finding.test,
        "statistic": round(finding.statistic, 6),
        "p_value": None if finding.p_value is None else float(f"{finding.p_value:.4g}"),
        "adjusted_p": None if finding.adjusted_p is None else float(f"{finding.adjusted_p:.4g}"),
        "effect": round(finding.effect, 4),
        "series": [round(v, 6) for v in finding.series[-12:]],
    }


def test_history(
    model: str, stage: str, timestamp: date, settings: Drift, reference_stage: str | None = None
) -> list[dict[str, Any]]:
    """Drift findings (flagged, persistent) of the period ``timestamp`` against earlier ones;
    stores each metric's flags so that later runs can apply the persistence rule. History of
    ``reference_stage`` counts too (production scores are compared with the test sample's)."""
    findings: list[drift.Finding] = []
    previous_flags: dict[str, list[tuple[str, ...]]] = {}
    references = metadata.read_periods(model, reference_stage) if reference_stage else {}
    for metric, periods in metadata.read_periods(model, stage).items():
        current = [p for p in periods if p.timestamp == timestamp]
        history = [p for p in periods if p.timestamp < timestamp]
        history = sorted(
            [p for p in references.get(metric, []) if p.timestamp < timestamp] + history,
            key=lambda p: p.timestamp,
        )
        if not current:
            continue
        findings += drift.evaluate_metric(metric, current[0], history, settings)
        previous_flags[metric] = [p.flags for p in reversed(history)]
    drift.decide(findings, settings)
    flagged = [f for f in findings if drift.persistent(f, previous_flags.get(f.metric, []), settings)]
    for metric in previous_flags:
        keys = [f.key for f in findings if f.metric == metric and f.flagged]
        metadata.set_flags(model, stage, metric, timestamp, keys)
    flagged.sort(key=lambda f: (-f.effect, f.metric, f.value))
    return [_as_evidence(stage, f) for f in flagged]


def validate(
    model: str,
    stage: str,
    run_id: str,
    timestamp: date,
    profiles: list[Profile],
    settings: Drift,
    earlier: list[dict[str, Any]] | None = None,
    alert: bool = True,
    reference_stage: str | None = None,
) -> dict[str, Any]:
    """Save, test, and (when ``alert``) send one alert for this and the ``earlier`` stages'
    findings of the run."""
    written = metadata.write_profiles(model, stage, run_id, profiles)
    findings = test_history(model, stage, timestamp, settings, reference_stage)
    result: dict[str, Any] = {"profiles": written, "drift": findings[:MAX_REPORTED]}
    everything = [*(earlier or []), *findings][:MAX_REPORTED]
    if alert and everything:
        result["alert"] = alerts.publish(model, run_id, timestamp, everything)
    if alert:  # the run's last validation: refresh the report people look at
        result["report"] = store.put_bytes(report_key(model), report_html(model).encode())
    return result


def report_key(model: str) -> str:
    return f"reports/{model}/drift.html"


def report_html(model: str) -> str:
    """The drift report of a model from everything stored: metadata, alerts, versions."""
    champion = registry.champion(model)
    versions = [
        {
            "version": v.version,
            "created_at": v.created_at,
            "test_auc": v.test_auc,
            "champion": v.version == champion,
            "run_id": v.run_id,
        }
        for v in registry.versions(model)
    ]
    periods = {stage: metadata.read_periods(model, stage) for stage in metadata.STAGES}
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    return report.render(model, periods, metadata.alerts(model), versions, generated)
