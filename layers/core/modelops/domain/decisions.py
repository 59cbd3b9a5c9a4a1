"""The system's decisions as pure functions: which version number? how severe is an alert,
and is it the same as the last one? whom does a campaign contact? does a run become the latest?
(Whether a model is promoted has its own module, ``promotion``.)

The stores and the pipeline only move data in and out of these.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol, TypeVar

from modelops.domain.contract import Evidence
from modelops.domain.drift import is_share
from modelops.domain.spec import Campaign

# ---------------------------------------------------------------- promotion


@dataclass(frozen=True)
class Decision:
    accept: bool
    reason: str


# ---------------------------------------------------------------- versions


def parse_version(version: str) -> tuple[int, int, int]:
    """'1.2.0' -> (1, 2, 0); anything else is a ValueError naming it."""
    parts = version.split(".")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ValueError(f"{version!r} is not a semantic version (major.minor.patch)")
    major, minor, patch = (int(part) for part in parts)
    return major, minor, patch


def next_version(existing: Sequence[tuple[str, str]], schema_hash: str) -> str:
    """The version of a new model, given ``(version, schema hash)`` of those registered: a new
    feature schema is a new major version, a retrain on the newest one's schema a minor one."""
    if not existing:
        return "1.0.0"
    newest, newest_schema = max(existing, key=lambda pair: parse_version(pair[0]))
    major, minor, _ = parse_version(newest)
    if newest_schema != schema_hash:
        return f"{major + 1}.0.0"
    return f"{major}.{minor + 1}.0"


# ---------------------------------------------------------------- alerts

# Effect sizes at which a finding is medium / high: shifts in units of the metric's reference
# 90% spread (d10 - d1), absolute changes of shares and rates, and the KS distance D.
SEVERITY_BARS = {"shift": (0.2, 0.5), "share": (0.05, 0.10), "ks": (0.15, 0.30)}
SEVERITIES = ("low", "medium", "high")
ALERT_METRICS = 3  # how many metrics an alert's sentence names


def _kind(finding: Evidence) -> str:
    if finding.test == "ks":
        return "ks"
    return "share" if finding.test == "chi2" or is_share(finding.metric, finding.value) else "shift"


def strength(finding: Evidence) -> float:
    """A finding's effect as a fraction of its kind's 'high' bar: comparable across tests."""
    return finding.effect / SEVERITY_BARS[_kind(finding)][1]


def finding_severity(finding: Evidence) -> str:
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


def describe(change: MetricChange) -> str:
    """How one metric changed, in a few words: its strongest value against what the reference
    expected, and the KS distance when the distribution test flagged it."""
    lead = change.lead
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
    return f"{change.metric} ({'; '.join(parts)}{since})"


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


# ---------------------------------------------------------------- campaign


class Scored(Protocol):
    @property
    def entity_id(self) -> str: ...

    @property
    def score(self) -> float: ...


S = TypeVar("S", bound=Scored)


def select_contacts(candidates: Iterable[S], rule: Campaign) -> list[S]:
    """Whom a campaign contacts: the highest scores at or above ``min_score``, at most
    ``top_n``; ties go to the smaller entity id so the selection is stable."""
    eligible = [c for c in candidates if rule.min_score is None or c.score >= rule.min_score]
    ranked = sorted(eligible, key=lambda c: (-c.score, c.entity_id))
    return ranked if rule.top_n is None else ranked[: rule.top_n]


def cooldown_cutoff(today: date, cooldown_days: int) -> date:
    """A customer last contacted on or before this day may be contacted again today."""
    return today - timedelta(days=cooldown_days)


@dataclass(frozen=True)
class Contact:
    """A customer's last contact by a campaign run."""

    run_id: str
    contacted_on: date
    status: str  # "pending" (claimed, maybe not sent) or "sent"


def claim_outcome(previous: Contact | None, run_id: str, cutoff: date) -> str:
    """May ``run_id`` contact a customer whose last contact was ``previous``?
    'claim': yes (never contacted, cooldown over, or this run claimed it and did not finish);
    'already_sent': this run sent it before; 'cooldown': another run contacted it recently.
    The contacts store's conditional write enforces the same rule atomically."""
    if previous is None:
        return "claim"
    if previous.run_id == run_id:  # this run's own contact: never twice, whatever the cooldown
        return "claim" if previous.status == "pending" else "already_sent"
    return "claim" if previous.contacted_on <= cutoff else "cooldown"


# ---------------------------------------------------------------- publication


def becomes_latest(current_as_of: date | None, run_as_of: date, *, force: bool = False) -> Decision:
    """Whether a scoring run's publication replaces the latest one: time only moves forward,
    so an older period goes to the history only, unless forced."""
    if current_as_of is None:
        return Decision(True, "first publication")
    if run_as_of >= current_as_of:
        return Decision(True, f"{run_as_of} is not older than the latest {current_as_of}")
    if force:
        return Decision(True, f"forced: {run_as_of} replaces the newer {current_as_of}")
    return Decision(False, f"{run_as_of} is older than the latest {current_as_of}: history only")


# ---------------------------------------------------------------- retraining


def should_retrain(severity: str, minimum: str | None) -> bool:
    """Whether a drift alert of ``severity`` starts a retraining (``minimum`` None: never)."""
    if minimum is None:
        return False
    return SEVERITIES.index(severity) >= SEVERITIES.index(minimum)


def rollback_target(champion_changes: Iterable[tuple[str, str]]) -> str | None:
    """The version a rollback returns to, from the champion changes ``(kind, new champion)``
    oldest first: promotions stack champions up, a rollback takes the top one off, so rolling
    back twice goes two champions back, never forth again. None when there is no earlier one."""
    line: list[str] = []
    for kind, version in champion_changes:
        if kind == "rollback":
            if line:
                line.pop()
            if not line or line[-1] != version:  # a history that began before the trail did
                line.append(version)
        else:
            line.append(version)
    return line[-2] if len(line) >= 2 else None
