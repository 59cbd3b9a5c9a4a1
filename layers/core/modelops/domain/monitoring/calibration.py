"""Calibration of a version's scores: the map from a score to the probability of the outcome,
fitted on the version's out-of-time test sample at training and stored with the version. The
estimated performance before outcomes (``estimate``) reads calibrated probabilities.

Two methods, NumPy only (the scoring functions carry no scikit-learn):

- isotonic: the pool-adjacent-violators fit of the outcome on the score (a non-decreasing step
  function), read between its knots by linear interpolation and clipped beyond them, as
  scikit-learn's ``IsotonicRegression(out_of_bounds="clip")`` predicts;
- Platt: ``p = 1 / (1 + exp(-(a·logit(score) + b)))``, fitted by maximum likelihood.

``fit`` chooses isotonic when each outcome class has at least ``ISOTONIC_MIN_CLASS`` rows (its
steps are then estimated well enough), Platt's two parameters otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

ISOTONIC_MIN_CLASS = 200
_CLIP = 1e-6


@dataclass(frozen=True)
class Calibration:
    method: str  # "isotonic" | "platt"
    knots: tuple[float, ...] = ()  # isotonic: scores, non-decreasing
    levels: tuple[float, ...] = ()  # isotonic: the probability at each knot
    slope: float = 1.0  # platt: a
    intercept: float = 0.0  # platt: b

    def apply(self, score: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of scores."""
        score = np.asarray(score, dtype=np.float64)
        if self.method == "isotonic":
            probability: np.ndarray = np.interp(score, self.knots, self.levels)
            return probability
        return _sigmoid(self.slope * _logit(score) + self.intercept)

    def to_dict(self) -> dict[str, Any]:
        if self.method == "isotonic":
            return {"method": "isotonic", "knots": list(self.knots), "levels": list(self.levels)}
        return {"method": "platt", "slope": self.slope, "intercept": self.intercept}

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Calibration:
        if document["method"] == "isotonic":
            return cls(
                "isotonic",
                tuple(float(v) for v in document["knots"]),
                tuple(float(v) for v in document["levels"]),
            )
        return cls("platt", slope=float(document["slope"]), intercept=float(document["intercept"]))


def _logit(score: np.ndarray) -> np.ndarray:
    clipped = np.clip(score, _CLIP, 1 - _CLIP)
    odds: np.ndarray = np.log(clipped / (1 - clipped))
    return odds


def _sigmoid(z: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1 / (1 + np.exp(-z))
    return result


def fit(score: np.ndarray, outcome: np.ndarray, method: str = "auto") -> Calibration:
    """The calibration of ``score`` against its 0/1 ``outcome`` (rows with a known outcome)."""
    known = ~np.isnan(outcome)
    score, outcome = np.asarray(score, dtype=np.float64)[known], outcome[known].astype(np.float64)
    if score.size == 0:
        raise ValueError("a calibration needs scores with known outcomes")
    positives = int(outcome.sum())
    if method == "auto":
        enough = min(positives, score.size - positives) >= ISOTONIC_MIN_CLASS
        method = "isotonic" if enough else "platt"
    if method == "isotonic":
        knots, levels = isotonic(score, outcome)
        return Calibration("isotonic", tuple(knots.tolist()), tuple(levels.tolist()))
    slope, intercept = platt(score, outcome)
    return Calibration("platt", slope=slope, intercept=intercept)


def isotonic(score: np.ndarray, outcome: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pool adjacent violators: the non-decreasing fit of ``outcome`` on ``score`` (tied scores
    first averaged), as knots (the first and last score of each constant block) and levels."""
    x, index, counts = np.unique(score, return_inverse=True, return_counts=True)
    y = np.bincount(index, weights=outcome) / counts
    means: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    for value, weight in zip(y.tolist(), counts.astype(float).tolist(), strict=True):
        means.append(value)
        weights.append(weight)
        sizes.append(1)
        while len(means) > 1 and means[-2] >= means[-1]:  # a violation: pool the two blocks
            total = weights[-2] + weights[-1]
            pooled = (means[-2] * weights[-2] + means[-1] * weights[-1]) / total
            size = sizes[-2] + sizes[-1]
            del means[-1], weights[-1], sizes[-1]
            means[-1], weights[-1], sizes[-1] = pooled, total, size
    ends = np.cumsum(sizes)
    starts = ends - np.array(sizes)
    knots = np.column_stack([x[starts], x[ends - 1]]).ravel()
    levels = np.repeat(np.array(means), 2)
    keep = np.r_[True, knots[1:] != knots[:-1]]  # a one-score block is one knot
    return knots[keep], levels[keep]


def platt(score: np.ndarray, outcome: np.ndarray, iterations: int = 50) -> tuple[float, float]:
    """Maximum-likelihood (a, b) of ``outcome ~ sigmoid(a·logit(score) + b)`` by Newton's
    method (a tiny ridge keeps it finite when the outcome separates perfectly)."""
    design = np.column_stack([_logit(score), np.ones(score.size)])
    beta = np.array([1.0, 0.0])
    ridge = 1e-6 * np.eye(2)
    for _ in range(iterations):
        probability = _sigmoid(design @ beta)
        gradient = design.T @ (outcome - probability) - ridge @ beta
        hessian = (design * (probability * (1 - probability))[:, None]).T @ design + ridge
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if np.abs(step).max() < 1e-10:
            break
    return float(beta[0]), float(beta[1])
