"""How good scores are against outcomes, with NumPy only (the functions that use these carry no
scikit-learn): ROC AUC, average precision, log loss, Brier score, calibration and the outcome
rate per score decile; and how sure a difference between two scorers of the same rows is
(DeLong's test for AUC, a paired bootstrap for the rest)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

HIGHER_IS_BETTER = {"roc_auc": True, "average_precision": True, "log_loss": False, "brier": False}
_EPS = float(np.finfo(np.float64).eps)


def _midranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank."""
    order = np.argsort(values, kind="mergesort")
    ranked = values[order]
    ranks = np.empty(values.size, dtype=np.float64)
    start = 0
    while start < values.size:
        end = start
        while end + 1 < values.size and ranked[end + 1] == ranked[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def _classes(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    positive = y == 1
    if positive.all() or not positive.any():
        raise ValueError("scores need outcomes of both classes to be measured")
    return positive, ~positive


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    positive, negative = _classes(y)
    ranks = _midranks(score)
    m, n = int(positive.sum()), int(negative.sum())
    return float((ranks[positive].sum() - m * (m + 1) / 2) / (m * n))


def average_precision(y: np.ndarray, score: np.ndarray) -> float:
    """Mean precision at each distinct threshold, weighted by the recall it adds."""
    _classes(y)
    order = np.argsort(-score, kind="mergesort")
    sorted_score, sorted_y = score[order], y[order]
    last_of_threshold = np.r_[np.flatnonzero(np.diff(sorted_score)), sorted_y.size - 1]
    true_positives = np.cumsum(sorted_y)[last_of_threshold]
    precision = true_positives / (last_of_threshold + 1)
    recall = true_positives / sorted_y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def log_loss(y: np.ndarray, score: np.ndarray) -> float:
    p = np.clip(score, _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def brier(y: np.ndarray, score: np.ndarray) -> float:
    return float(np.mean((score - y) ** 2))


MEASURES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "roc_auc": roc_auc,
    "average_precision": average_precision,
    "log_loss": log_loss,
    "brier": brier,
}


def calibration(y: np.ndarray, score: np.ndarray) -> float:
    """Mean predicted over observed outcome rate (1 is calibrated in the large)."""
    observed = float(np.mean(y))
    return float(np.mean(score)) / observed if observed > 0 else math.inf


def decile_rates(y: np.ndarray, score: np.ndarray) -> list[float]:
    """Outcome rate per score decile, lowest scores first (the lift chart's bars)."""
    groups = np.array_split(np.argsort(score, kind="stable"), 10)
    return [float(y[group].mean()) if group.size else math.nan for group in groups]


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


@dataclass(frozen=True)
class Comparison:
    """Candidate against reference on the same rows; ``difference`` is signed so that a
    positive one is an improvement, whatever the metric's direction."""

    metric: str
    candidate: float
    reference: float
    difference: float
    p_worse: float  # one-sided p-value of "the candidate is not worse" (small: it is worse)
    method: str


def _delong_components(y: np.ndarray, scores: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUCs and DeLong's covariance components (positives, negatives) of several scorers."""
    positive, negative = _classes(y)
    m, n = int(positive.sum()), int(negative.sum())
    v10, v01, aucs = [], [], []
    for score in scores:
        all_ranks = _midranks(score)
        within_positive = _midranks(score[positive])
        within_negative = _midranks(score[negative])
        v10.append((all_ranks[positive] - within_positive) / n)
        v01.append(1 - (all_ranks[negative] - within_negative) / m)
        aucs.append(float(np.mean(v10[-1])))
    return np.array(aucs), np.atleast_2d(np.cov(np.array(v10))), np.atleast_2d(np.cov(np.array(v01)))


def auc_with_error(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """The AUC and its standard error (DeLong)."""
    positive, _ = _classes(y)
    m, n = int(positive.sum()), int((~positive).sum())
    aucs, s10, s01 = _delong_components(y, [score])
    return float(aucs[0]), math.sqrt(max(s10[0, 0] / m + s01[0, 0] / n, 0.0))


def delong(y: np.ndarray, candidate: np.ndarray, reference: np.ndarray | None) -> Comparison:
    """DeLong's test for the AUC of ``candidate`` against ``reference``'s on the same rows, or
    against 0.5 (a scorer that knows nothing) when there is no reference."""
    positive, _ = _classes(y)
    m, n = int(positive.sum()), int((~positive).sum())
    if reference is None:
        aucs, s10, s01 = _delong_components(y, [candidate])
        variance = s10[0, 0] / m + s01[0, 0] / n
        difference, reference_auc = float(aucs[0] - 0.5), 0.5
    else:
        aucs, s10, s01 = _delong_components(y, [candidate, reference])
        variance = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
        difference, reference_auc = float(aucs[0] - aucs[1]), float(aucs[1])
    if variance <= 0:
        p_worse = 0.0 if difference < 0 else 1.0
    else:
        p_worse = 1 - normal_sf(difference / math.sqrt(variance))
    return Comparison("roc_auc", float(aucs[0]), reference_auc, difference, p_worse, "DeLong")


def paired_bootstrap(
    metric: str, y: np.ndarray, candidate: np.ndarray, reference: np.ndarray, rounds: int = 500, seed: int = 0
) -> Comparison:
    """The metric's difference on the rows, and the one-sided bootstrap p-value of "the
    candidate is not worse": how often resampled rows still show it at least as good (rows are
    resampled within each outcome class)."""
    measure, higher = MEASURES[metric], HIGHER_IS_BETTER[metric]
    sign = 1.0 if higher else -1.0
    observed = sign * (measure(y, candidate) - measure(y, reference))
    rng = np.random.default_rng(seed)
    positive, negative = np.flatnonzero(y == 1), np.flatnonzero(y != 1)
    not_worse = 0
    for _ in range(rounds):
        rows = np.concatenate([rng.choice(positive, positive.size), rng.choice(negative, negative.size)])
        not_worse += sign * (measure(y[rows], candidate[rows]) - measure(y[rows], reference[rows])) >= 0
    return Comparison(
        metric,
        measure(y, candidate),
        measure(y, reference),
        observed,
        (not_worse + 1) / (rounds + 1),
        f"paired bootstrap ({rounds} rounds)",
    )


def compare(metric: str, y: np.ndarray, candidate: np.ndarray, reference: np.ndarray) -> Comparison:
    """The paired comparison fit for the metric: DeLong for AUC, the bootstrap otherwise."""
    if metric == "roc_auc":
        return delong(y, candidate, reference)
    return paired_bootstrap(metric, y, candidate, reference)
