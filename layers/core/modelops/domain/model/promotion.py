"""Fair promotion: does a candidate replace the champion? Both are judged on the candidate's
own out-of-time test sample, row by row, so neither gets an easier month.

``decide`` is pure: the rows' outcomes and both models' scores in, a decision and its
evidence out (the evidence goes into the audit row and the stage's result).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from modelops.domain.model import metrics
from modelops.domain.spec import Campaign, Promotion

# Below this many selected customers (by the larger of the two selections) a share is too
# few people to compare: 1 against 8 of 2,000 rows is noise, not a changed campaign.
MIN_SELECTED = 20


@dataclass(frozen=True)
class Candidate:
    """What the promotion gate knows of a model: its scores on the test sample's rows and the
    end of its training window."""

    version: str
    scores: np.ndarray
    trained_through: date


@dataclass(frozen=True)
class Verdict:
    accept: bool
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def selected_share(scores: np.ndarray, rule: Campaign) -> float | None:
    """The share of rows the campaign's score floor selects (None without a floor: top N
    always selects N)."""
    if rule.min_score is None or not scores.size:
        return None
    return float(np.mean(scores >= rule.min_score))


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def decide(
    gate: Promotion,
    rule: Campaign,
    outcome: np.ndarray,
    candidate: Candidate,
    champion: Candidate | None,
    *,
    baseline_rate: float,
    drift_findings: int = 0,
    block_on_drift: bool = False,
) -> Verdict:
    """Whether ``candidate`` becomes the champion (see ``spec.Promotion`` for the rules)."""
    y = outcome.astype(np.float64)
    auc = metrics.roc_auc(y, candidate.scores)
    calibration = metrics.calibration(y, candidate.scores)
    evidence: dict[str, Any] = {
        "rows": int(y.size),
        "outcome_rate": _round(float(y.mean())),
        "candidate": {
            "version": candidate.version,
            "roc_auc": _round(auc),
            "calibration": _round(calibration),
        },
    }
    if block_on_drift and drift_findings:
        return Verdict(False, f"drift alert blocks promotion ({drift_findings} findings)", evidence)
    if auc < gate.min_test_auc:
        return Verdict(False, f"test AUC {auc:.4f} is below the gate {gate.min_test_auc:.4f}", evidence)
    if abs(calibration - 1) > gate.calibration_tolerance:
        return Verdict(
            False,
            f"mean score is {calibration:.2f} times the observed outcome rate "
            f"(allowed: within {gate.calibration_tolerance:.0%})",
            evidence,
        )
    if champion is None:
        baseline = np.full(y.size, baseline_rate)
        versus = (
            metrics.delong(y, candidate.scores, None)
            if gate.metric == "roc_auc"
            else metrics.paired_bootstrap(gate.metric, y, candidate.scores, baseline)
        )
        evidence["baseline"] = _comparison(versus)
        if versus.difference <= 0 or 1 - versus.p_worse > gate.level:
            return Verdict(
                False,
                f"{gate.metric} {versus.candidate:.4f} is not significantly better than knowing "
                f"nothing ({versus.reference:.4f}, p = {1 - versus.p_worse:.3g})",
                evidence,
            )
        return Verdict(
            True, f"first model: {gate.metric} {versus.candidate:.4f} beats the baseline", evidence
        )
    if candidate.trained_through < champion.trained_through:
        return Verdict(
            False,
            f"trained on data up to {candidate.trained_through}, older than the champion's "
            f"{champion.trained_through}",
            evidence,
        )
    comparison = metrics.compare(gate.metric, y, candidate.scores, champion.scores)
    evidence["champion"] = {"version": champion.version, **_comparison(comparison)}
    if comparison.p_worse < gate.level:
        return Verdict(
            False,
            f"{gate.metric} {comparison.candidate:.4f} is significantly worse than the champion's "
            f"{comparison.reference:.4f} on the same rows (p = {comparison.p_worse:.3g})",
            evidence,
        )
    if comparison.difference < -gate.allowed_loss:
        return Verdict(
            False,
            f"{gate.metric} {comparison.candidate:.4f} is more than {gate.allowed_loss:g} worse than "
            f"the champion's {comparison.reference:.4f} on the same rows",
            evidence,
        )
    ours, theirs = selected_share(candidate.scores, rule), selected_share(champion.scores, rule)
    evidence["selected_share"] = {"candidate": ours, "champion": theirs}
    if _selects_differently(ours, theirs, gate.selection_factor, rows=outcome.size):
        return Verdict(
            False,
            f"the campaign rule (score >= {rule.min_score}) would select {ours:.1%} of the customers "
            f"instead of the champion's {theirs:.1%}",
            evidence,
        )
    return Verdict(
        True,
        f"{gate.metric} {comparison.candidate:.4f} against the champion's {comparison.reference:.4f} "
        "on the same rows passes the gate",
        evidence,
    )


def _selects_differently(ours: float | None, theirs: float | None, factor: float, *, rows: int) -> bool:
    """Whether the candidate's selected share is more than ``factor`` times off the champion's
    (judged once either selects at least ``MIN_SELECTED`` of the ``rows``)."""
    if ours is None or not theirs or max(ours, theirs) * rows < MIN_SELECTED:
        return False
    return not theirs / factor <= ours <= theirs * factor


def _comparison(comparison: metrics.Comparison) -> dict[str, Any]:
    return {
        "metric": comparison.metric,
        "candidate": _round(comparison.candidate),
        "reference": _round(comparison.reference),
        "difference": _round(comparison.difference),
        "p_worse": _round(comparison.p_worse),
        "method": comparison.method,
    }
