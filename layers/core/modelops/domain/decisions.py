"""The system's decisions as pure functions: promote a model? which version number? how severe
is an alert, and is it the same as the last one? whom does a campaign contact?

The stores and the pipeline only move data in and out of these.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol, TypeVar

from modelops.domain.contract import Evidence
from modelops.domain.spec import Campaign, Promotion

# ---------------------------------------------------------------- promotion


@dataclass(frozen=True)
class Decision:
    accept: bool
    reason: str


def promotion(
    gate: Promotion,
    candidate_auc: float,
    champion_auc: float | None,
    *,
    drift_findings: int = 0,
    block_on_drift: bool = False,
) -> Decision:
    """Whether a newly registered candidate becomes the champion."""
    if block_on_drift and drift_findings:
        return Decision(False, f"drift alert blocks promotion ({drift_findings} findings)")
    if candidate_auc < gate.min_test_auc:
        return Decision(False, f"test AUC {candidate_auc:.4f} is below the gate {gate.min_test_auc:.4f}")
    if champion_auc is not None and candidate_auc < champion_auc - gate.max_auc_drop:
        return Decision(
            False,
            f"test AUC {candidate_auc:.4f} is more than {gate.max_auc_drop} below the "
            f"champion's {champion_auc:.4f}",
        )
    return Decision(True, f"test AUC {candidate_auc:.4f} passes the gate")


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

# Metrics whose drift always matters: what the model outputs and what it predicts.
HEADLINE_METRICS = frozenset({"score", "outcome", "outcome_by_score_decile"})


def alert_severity(findings: Iterable[Evidence]) -> str:
    """'high' when the scores or the outcome drift, or three metrics or more; else 'medium'."""
    metrics = {f.metric for f in findings}
    return "high" if metrics & HEADLINE_METRICS or len(metrics) >= 3 else "medium"


def alert_fingerprint(findings: Iterable[Evidence]) -> str:
    """What an alert is about (stage, test, metric, value), independent of order and numbers:
    an alert with the fingerprint of the previous one is not sent again."""
    keys = sorted({f"{f.stage}:{f.test}:{f.metric}:{f.value}" for f in findings})
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


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
    if previous is None or previous.contacted_on <= cutoff:
        return "claim"
    if previous.run_id == run_id:
        return "claim" if previous.status == "pending" else "already_sent"
    return "cooldown"


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
