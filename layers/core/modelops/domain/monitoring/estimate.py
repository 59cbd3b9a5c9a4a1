"""Performance estimated before the outcomes arrive (confidence-based, like NannyML's CBPE):
from a period's scores and the version's calibration (``p`` = P(outcome | score)), what the
realized ROC AUC, outcome rate and precision in the campaign's selection are expected to be.

Each estimate carries two uncertainties:

- ``se``: its sampling error (other rows of the same population would give another estimate),
  which the test against the reference's estimates reads, as DeLong's error is read for a
  realized AUC;
- ``realized_se``: how far the realized value will stray from it once the outcomes arrive, if
  the calibration holds (the outcomes are Bernoulli draws of ``p`` given these scores); the
  report draws ``value ± 1.96 · realized_se`` and the realized value beside it.

The expected AUC is the ratio of expected pair counts over pairs of distinct rows (i, j):
``Σ p_i (1 - p_j) H(s_i - s_j) / Σ p_i (1 - p_j)``, H = 1 above, ½ tied, 0 below; with 0/1
``p`` it is the realized AUC and its ``se`` is DeLong's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    value: float
    se: float
    realized_se: float
    count: int  # rows it describes (for precision: the selected ones)

    def values(self) -> dict[str, float]:
        """As a metadata profile's values."""
        return {
            "value": self.value,
            "se": self.se,
            "realized_se": self.realized_se,
            "count": float(self.count),
        }


def _pair_sums(p: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the negatives' weight below it (ties half, itself left out) and the
    positives' weight above it (ties half, itself left out); and P, Q totals broadcast."""
    q = 1 - p
    _, group, counts = np.unique(s, return_inverse=True, return_counts=True)
    tied_p = np.bincount(group, weights=p, minlength=counts.size)
    tied_q = np.bincount(group, weights=q, minlength=counts.size)
    below_q = np.cumsum(tied_q) - tied_q  # groups with lower scores
    above_p = tied_p.sum() - np.cumsum(tied_p)  # groups with higher scores
    negatives_below = below_q[group] + 0.5 * (tied_q[group] - q)
    positives_above = above_p[group] + 0.5 * (tied_p[group] - p)
    return negatives_below, positives_above, np.full(p.size, p.sum()), np.full(p.size, q.sum())


def expected_auc(p: np.ndarray, s: np.ndarray, population: int | None = None) -> Estimate:
    """The expected ROC AUC of scores ``s`` whose outcomes are Bernoulli(``p``); ``s`` may be a
    uniform sample of ``population`` rows (the errors are then those of the population)."""
    p, s = np.asarray(p, dtype=np.float64), np.asarray(s, dtype=np.float64)
    n = p.size
    negatives_below, positives_above, total_p, total_q = _pair_sums(p, s)
    q = 1 - p
    pairs = float(p.sum() * q.sum() - (p * q).sum())
    if n < 2 or pairs <= 0:
        return Estimate(math.nan, math.nan, math.nan, population or n)
    auc = float((p * negatives_below).sum() / pairs)
    # Sampling error: the influence of each row on the ratio of two pair sums (a V-statistic).
    ordered = p * negatives_below + q * positives_above
    weight = p * (total_q - q) + q * (total_p - p)
    influence = ordered - auc * weight
    sampling = float(((influence - influence.mean()) ** 2).sum()) * n / (n - 1) / pairs**2
    # The realized AUC given these scores: each outcome a Bernoulli draw, linearised.
    gradient = (negatives_below - positives_above) - auc * ((n - 1) - 2 * (total_p - p))
    realized = float((p * q * gradient**2).sum()) / pairs**2
    scale = n / population if population else 1.0
    return Estimate(auc, math.sqrt(sampling * scale), math.sqrt(realized * scale), population or n)


def expected_rate(p: np.ndarray, population: int | None = None) -> Estimate:
    """The expected outcome rate: the mean probability; its realized spread is binomial-like
    (a sum of Bernoulli draws of different probabilities)."""
    p = np.asarray(p, dtype=np.float64)
    n = p.size
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    rows = population or n
    sampling = float(p.var(ddof=1)) / rows if n > 1 else 0.0
    realized = float((p * (1 - p)).mean()) / rows
    return Estimate(float(p.mean()), math.sqrt(sampling), math.sqrt(realized), rows)


def selected(
    s: np.ndarray, top_n: int | None, min_score: float | None, population: int | None = None
) -> np.ndarray:
    """The rows a campaign rule selects: scores at or above ``min_score``, the ``top_n`` highest
    (``s`` may be a uniform sample of ``population`` rows: the top share is kept)."""
    s = np.asarray(s, dtype=np.float64)
    eligible = np.ones(s.size, dtype=bool) if min_score is None else s >= min_score
    if top_n is None:
        return eligible
    limit = top_n if not population else max(1, round(top_n * s.size / population))
    order = np.argsort(-s, kind="stable")
    chosen = np.zeros(s.size, dtype=bool)
    chosen[order[eligible[order]][:limit]] = True
    return chosen


def expected_precision(
    p: np.ndarray, s: np.ndarray, top_n: int | None, min_score: float | None, population: int | None = None
) -> Estimate:
    """The expected outcome rate among the rows the campaign selects (its precision)."""
    chosen = selected(s, top_n, min_score, population)
    k = int(chosen.sum())
    rows = k if not population else max(1, round(k * population / max(s.size, 1)))
    estimate = expected_rate(np.asarray(p, dtype=np.float64)[chosen], rows if k else None)
    return Estimate(estimate.value, estimate.se, estimate.realized_se, rows if k else 0)


def realized_rate(y: np.ndarray) -> Estimate:
    """A realized rate with its binomial standard error (``realized_se`` 0: it is measured)."""
    y = np.asarray(y, dtype=np.float64)
    if y.size == 0:
        return Estimate(math.nan, math.nan, 0.0, 0)
    rate = float(y.mean())
    return Estimate(rate, math.sqrt(rate * (1 - rate) / y.size), 0.0, int(y.size))
