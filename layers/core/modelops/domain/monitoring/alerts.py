"""Alerts as pure functions: how severe a drift finding is, whether an alert is the same as the
last one (its fingerprint), the sentence it says, and whether it starts a retraining.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from modelops.domain.contract import Evidence
from modelops.domain.monitoring.evaluation import PERFORMANCE_TESTS
from modelops.domain.monitoring.reference import is_share
from modelops.domain.monitoring.segments import label, split_metric

# Effect sizes at which a finding is medium / high: shifts in units of the metric's reference
# 90% spread (d10 - d1), absolute changes of shares and rates, and the KS distance D.
SEVERITY_BARS = {"shift": (0.2, 0.5), "share": (0.05, 0.10), "ks": (0.15, 0.30), "auc": (0.03, 0.05)}
SEVERITIES = ("low", "medium", "high")
ALERT_METRICS = 3  # how many metrics an alert's sentence names


def _kind(finding: Evidence) -> str:
    if finding.test in PERFORMANCE_TESTS:
        return "auc" if split_metric(finding.metric)[0].endswith("roc_auc") else "share"
    if finding.test == "ks":
        return "ks"
    return "share" if finding.test == "chi2" or is_share(finding.metric, finding.value) else "shift"


# A contract finding (skew) ranks by its own severity: a high one leads any drift finding (a
# feature the model never saw empty matters more than how far its deciles moved), a medium one
# ranks with a drift finding at its 'high' bar.
CONTRACT_STRENGTH = {"high": 100.0, "medium": 1.0, "low": 0.5}


def strength(finding: Evidence) -> float:
    """A finding's effect as a fraction of its kind's 'high' bar: comparable across tests."""
    if finding.severity is not None:
        return CONTRACT_STRENGTH[finding.severity] + abs(finding.effect)
    return finding.effect / SEVERITY_BARS[_kind(finding)][1]


def finding_severity(finding: Evidence) -> str:
    if finding.severity is not None:
        return finding.severity
    medium, high = SEVERITY_BARS[_kind(finding)]
    return "high" if finding.effect >= high else "medium" if finding.effect >= medium else "low"


@dataclass(frozen=True)
class MetricChange:
    """One metric's flagged findings, led by its strongest."""

    stage: str
    metric: str
    lead: Evidence
    findings: tuple[Evidence, ...]

    @property
    def severity(self) -> str:
        return max((finding_severity(f) for f in self.findings), key=SEVERITIES.index)

    @property
    def since(self) -> date | None:
        days = [f.since for f in self.findings if f.since is not None]
        return min(days) if days else None


def metric_changes(findings: Iterable[Evidence]) -> list[MetricChange]:
    """Flagged findings grouped by (stage, metric), the metric that changed most first."""
    groups: dict[tuple[str, str], list[Evidence]] = {}
    for finding in findings:
        groups.setdefault((finding.stage, finding.metric), []).append(finding)
    changes = [
        MetricChange(
            stage, metric, max(group, key=strength), tuple(sorted(group, key=strength, reverse=True))
        )
        for (stage, metric), group in groups.items()
    ]
    return sorted(changes, key=lambda c: (-strength(c.lead), c.metric, c.stage))


def alert_severity(findings: Iterable[Evidence]) -> str:
    """The largest effect among the findings decides: 'high', 'medium' or 'low'."""
    return max((finding_severity(f) for f in findings), key=SEVERITIES.index, default="low")


def alert_fingerprint(findings: Iterable[Evidence]) -> str:
    """What an alert is about (which metrics of which stage, and how severe), independent of
    order and numbers: an alert with the fingerprint of the previous one is not sent again."""
    found = list(findings)
    keys = [*sorted({f"{f.stage}:{f.metric}" for f in found}), alert_severity(found)]
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


def _number(value: float) -> str:
    return f"{value:.3g}"


def skew_sentence(finding: Evidence) -> str:
    """A skew finding in words (what the alert's sentence says of it)."""
    trained = finding.expected or 0.0
    if finding.value == "missing":
        return f"missing in {finding.statistic:.0%} of the scored rows, {trained:.0%} in training"
    if finding.value == "outside":
        return f"{finding.statistic:.0%} of its values outside what training saw"
    return "constant in every scored row, though it varied in every training period"


def performance_name(metric: str) -> str:
    """``batch:estimated_roc_auc[region=south]`` -> ``estimated ROC AUC of the batch scores in
    region=south``."""
    base, segment = split_metric(metric)
    source, _, measure = base.partition(":")
    estimated = measure.startswith("estimated_")
    measure = measure.removeprefix("estimated_")
    words = {"roc_auc": "ROC AUC", "precision": "precision of the campaign's selection"}
    named = f"{'estimated' if estimated else 'realized'} {words.get(measure, measure.replace('_', ' '))}"
    return f"{named} of the {source} scores" + (f" in {segment}" if segment else "")


def performance_sentence(change: MetricChange) -> str:
    """A performance finding in words: the value against its expectation and band."""
    lead = change.lead
    shown = _number if split_metric(lead.metric)[0].endswith("roc_auc") else (lambda v: f"{v:.1%}")
    expected = (
        "" if lead.expected is None else f" vs {shown(lead.expected)} expected from the version's periods"
    )
    before = " (before any outcome)" if lead.test == "estimated" else ""
    since = f", since {change.since.isoformat()}" if change.since is not None else ""
    return f"{performance_name(change.metric)} {shown(lead.statistic)}{expected}{before}{since}"


def describe(change: MetricChange) -> str:
    """How one metric changed, in a few words: its strongest value against what the reference
    expected, and the KS distance when the distribution test flagged it."""
    lead = change.lead
    name = label(change.metric)
    if lead.test == "skew":
        return f"{name} ({skew_sentence(lead)})"
    if lead.test in PERFORMANCE_TESTS:
        return performance_sentence(change)
    parts = []
    shifted = next((f for f in change.findings if f.test == "band" and f.series), None)
    if shifted is not None and shifted.expected is not None:
        where = "same season" if shifted.reference == "seasonal" else "reference"
        parts.append(
            f"{shifted.value} {_number(shifted.series[-1])} vs {_number(shifted.expected)} "
            f"expected from the {where}"
        )
    trend = next((f for f in change.findings if f.test == "trend"), None)
    if trend is not None and not parts:
        parts.append(f"{trend.value} trending by {_number(trend.statistic)} a period")
    ks = next((f for f in change.findings if f.test == "ks"), None)
    if ks is not None:
        parts.append(f"KS D {ks.statistic:.2f}")
    chi2 = next((f for f in change.findings if f.test == "chi2"), None)
    if chi2 is not None:
        parts.append(f"category shares moved by up to {chi2.effect:.0%}")
    if not parts:
        parts.append(f"{lead.test} on {lead.value}, effect {_number(lead.effect)}")
    since = f", since {change.since.isoformat()}" if change.since is not None else ""
    return f"{name} ({'; '.join(parts)}{since})"


def alert_summary(findings: Iterable[Evidence], limit: int = ALERT_METRICS) -> str:
    """The alert in one sentence: the few metrics that changed most, with their effects and
    the first period of the change."""
    found = list(findings)
    changes = metric_changes(found)
    if not changes:
        return "No drift."
    named = [describe(c) for c in changes[:limit]]
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    rest = len(changes) - len(named)
    more = f"; {rest} more metric{'s' if rest > 1 else ''} in the report" if rest else ""
    return f"{alert_severity(found).capitalize()}-severity drift: {listed} changed{more}."


def should_retrain(severity: str, minimum: str | None) -> bool:
    """Whether a drift alert of ``severity`` starts a retraining (``minimum`` None: never)."""
    if minimum is None:
        return False
    return SEVERITIES.index(severity) >= SEVERITIES.index(minimum)
