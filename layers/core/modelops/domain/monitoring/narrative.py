"""The report's plain-language summary: what changed and since when, how much it matters for the
scores and the campaign, and what to do. Pure: the stored metadata and alerts in, sentences out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from modelops.domain.monitoring.reference import Observation
from modelops.domain.monitoring.segments import label, split_metric

PERFORMANCE_STAGE = "validate_outcomes"
SOURCE = "batch"


@dataclass(frozen=True)
class Summary:
    headline: str
    tone: str  # "quiet" | "watch" | "act"
    changed: list[str] = field(default_factory=list)
    matters: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


def _newest(history: list[Observation]) -> Observation | None:
    return max(history, key=lambda o: o.timestamp) if history else None


def _expected(observation: Observation) -> float | None:
    band = observation.bands.get("value")
    return band[0] if band else None


def _auc(value: float) -> str:
    return f"{value:.3f}"


def _points(value: float) -> str:
    return f"{value:.1%}"


def performance_lines(metrics: dict[str, list[Observation]]) -> list[str]:
    """How the scores are doing: the newest estimate (before outcomes) and realized value of
    the ROC AUC and of the campaign selection's precision, against what the version promised."""
    lines = []
    for measure, show, what in (
        ("roc_auc", _auc, "ROC AUC (how well the scores rank who responds)"),
        (
            "precision",
            _points,
            "precision of the campaign's selection (the share of contacted customers who respond)",
        ),
    ):
        estimated = _newest(metrics.get(f"{SOURCE}:estimated_{measure}", []))
        realized = _newest(metrics.get(f"{SOURCE}:{measure}", []))
        parts = []
        if estimated is not None and math.isfinite(estimated.values.get("value", math.nan)):
            spread = estimated.values.get("realized_se", 0.0) * 1.96
            expected = _expected(estimated)
            versus = (
                f", against {show(expected)} in the version's test periods" if expected is not None else ""
            )
            parts.append(
                f"expected at {show(estimated.values['value'])} ± {show(spread)} for "
                f"{estimated.timestamp.isoformat()} (estimated from the scores, before any outcome{versus})"
            )
        if realized is not None and "value" in realized.values:
            expected = _expected(realized)
            versus = f" (expected {show(expected)})" if expected is not None else ""
            flagged = " — a significant drop" if realized.flags else ""
            parts.append(
                f"measured at {show(realized.values['value'])} for "
                f"{realized.timestamp.isoformat()}{versus}{flagged}"
            )
        if parts:
            lines.append(f"The {what} is " + "; ".join(parts) + ".")
    return lines


def _latest(periods: dict[str, dict[str, list[Observation]]]) -> date | None:
    days = [
        o.timestamp
        for stage in ("validate_data", "validate_scores")
        for h in periods.get(stage, {}).values()
        for o in h
    ]
    return max(days) if days else None


def summarise(periods: dict[str, dict[str, list[Observation]]], alerts: list[dict[str, Any]]) -> Summary:
    """The summary of everything stored: the newest alert's changes, the performance, advice."""
    latest = _latest(periods)
    performance = periods.get(PERFORMANCE_STAGE, {})
    matters = performance_lines(performance)
    scores = periods.get("validate_scores", {}).get("score", [])
    newest_scores = _newest(scores)
    if newest_scores is not None:
        matters.insert(
            0,
            "The scores of the newest period moved beyond their usual range."
            if newest_scores.flags
            else "The scores of the newest period are within their usual range.",
        )
    alert = max(alerts, key=lambda a: str(a.get("timestamp", "")), default=None)
    if alert is None:
        headline = "No alert so far: the data, the scores and the performance are within their usual ranges."
        return Summary(headline, "quiet", [], matters, ["Nothing to do."])
    changes = alert.get("changes", [])
    when = str(alert.get("timestamp", ""))
    current = latest is None or when >= latest.isoformat()
    changed = [f"{c.get('why', c.get('metric', ''))}" for c in changes[:5]]
    if len(changes) > 5:
        changed.append(f"…and {len(changes) - 5} more in the details below.")
    metrics = [str(c.get("metric", "")) for c in changes]
    performance_drop = any(
        c.get("stage") == PERFORMANCE_STAGE
        and not split_metric(str(c.get("metric", "")))[0].endswith("outcome_rate")
        for c in changes
    )
    # A drop flagged in the performance measures themselves counts even when the newest alert
    # is about the data (the drop's own alert may be an earlier one): never "no drop so far".
    measured_drop = any(
        (last := _newest(performance.get(f"{SOURCE}:{measure}", []))) is not None and bool(last.flags)
        for measure in ("roc_auc", "estimated_roc_auc", "precision", "estimated_precision")
    )
    skewed = any(f.get("test") == "skew" for f in alert.get("findings", []))
    actions = []
    if performance_drop or measured_drop:
        actions.append(
            "Retrain: the model ranks customers worse than its own test periods said it would. "
            "A retrained candidate is compared with the champion on the same rows before it replaces it."
        )
    if skewed:
        actions.append(
            "Check the source: some scored features do not look like what the model was trained on "
            "(missing, out of range or constant), which is usually a pipeline or source change, "
            "not the customers."
        )
    drifted = [label(m) for m, c in zip(metrics, changes, strict=True) if c.get("stage") != PERFORMANCE_STAGE]
    if drifted:
        named = ", ".join(dict.fromkeys(drifted[:3]))
        actions.append(
            f"Check the source of {named}: a change there may explain the drop in performance."
            if performance_drop or measured_drop
            else f"Check the source of {named}: if the change is real, keep an eye on the performance "
            "(no drop so far); if it is a known seasonal event (a holiday, a promotion), it can be ignored."
        )
    segments = sorted({s for m in metrics if (s := split_metric(m)[1]) is not None})
    if segments:
        matters.append(f"The change is in part of the customers only: {', '.join(segments)}.")
    severity = str(alert.get("severity", ""))
    if current:
        headline = f"{severity.capitalize()}-severity alert for {when}: " + (
            "the model's performance dropped." if performance_drop else "the data changed."
        )
    else:
        newest = latest.isoformat() if latest else ""
        headline = f"No alert in the newest period ({newest}); the last one was for {when}."
    tone = "act" if current and (performance_drop or severity == "high") else "watch"
    return Summary(headline, tone, changed, matters, actions or ["Nothing to do."])
