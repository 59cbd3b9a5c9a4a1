"""The figures of a version's model report, from its test sample's outcomes and scores (NumPy
only): the ROC and precision-recall curves, the reliability of the scores and their
distribution, lift and cumulative gain by decile, and what the campaign's selection rule picks
(precision, recall and volume). train_model stores them as the version's ``metrics.json``, for
the report (`modelops models report`) and for any other tool.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from modelops.domain.model import metrics
from modelops.domain.monitoring.estimate import selected
from modelops.domain.spec import Campaign

MAX_CURVE_POINTS = 201  # a curve's points, thinned evenly (its ends always kept)
RELIABILITY_BINS = 10  # equal-width score bins
HISTOGRAM_BINS = 20
DECILES = 10


def _thin(count: int, limit: int = MAX_CURVE_POINTS) -> np.ndarray:
    """At most ``limit`` indices of ``count`` points, evenly spaced, the first and last kept."""
    if count <= limit:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, limit).round().astype(int))


def _thresholds(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At each distinct score, highest first: the rows at or above it, the positives among them,
    and the score."""
    order = np.argsort(-score, kind="mergesort")
    sorted_score, sorted_y = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(sorted_score)), sorted_y.size - 1]
    return last + 1.0, np.cumsum(sorted_y)[last], sorted_score[last]


def roc_curve(y: np.ndarray, score: np.ndarray) -> dict[str, list[float]]:
    """False and true positive rates when every row at or above a threshold is called positive,
    from (0, 0) to (1, 1)."""
    metrics.auc_with_error(y, score)  # both classes, or a ValueError
    rows, positives, _ = _thresholds(y, score)
    fpr = np.r_[0.0, (rows - positives) / (y.size - y.sum())]
    tpr = np.r_[0.0, positives / y.sum()]
    keep = _thin(fpr.size)
    return {"fpr": fpr[keep].tolist(), "tpr": tpr[keep].tolist()}


def precision_recall_curve(y: np.ndarray, score: np.ndarray) -> dict[str, list[float]]:
    """Recall and precision at each threshold, from the highest score down."""
    metrics.auc_with_error(y, score)
    rows, positives, threshold = _thresholds(y, score)
    keep = _thin(rows.size)
    return {
        "recall": (positives / y.sum())[keep].tolist(),
        "precision": (positives / rows)[keep].tolist(),
        "threshold": threshold[keep].tolist(),
    }


def reliability(y: np.ndarray, score: np.ndarray, bins: int = RELIABILITY_BINS) -> list[dict[str, float]]:
    """Per equal-width score bin that holds rows: its bounds, the mean score and the observed
    outcome rate (a calibrated model's points lie on the diagonal), and its rows."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, bins - 1)
    found = []
    for k in range(bins):
        rows = index == k
        if rows.any():
            found.append(
                {
                    "low": float(edges[k]),
                    "high": float(edges[k + 1]),
                    "mean_score": float(score[rows].mean()),
                    "outcome_rate": float(y[rows].mean()),
                    "rows": float(rows.sum()),
                }
            )
    return found


def score_histogram(y: np.ndarray, score: np.ndarray, bins: int = HISTOGRAM_BINS) -> dict[str, list[float]]:
    """The scores' distribution in equal-width bins of [0, 1], positives and negatives apart."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    positive = y == 1
    return {
        "edges": edges.tolist(),
        "positives": np.histogram(score[positive], edges)[0].astype(float).tolist(),
        "negatives": np.histogram(score[~positive], edges)[0].astype(float).tolist(),
    }


def deciles(y: np.ndarray, score: np.ndarray) -> list[dict[str, float]]:
    """Each tenth of the rows by score, highest first: its rows, positives, outcome rate, lowest
    score, lift (its rate over the sample's) and the cumulative gain (the share of all positives
    found down to it) and cumulative lift."""
    base, total = float(y.mean()), float(y.sum())
    groups = np.array_split(np.argsort(-score, kind="stable"), DECILES)
    found, rows_so_far, positives_so_far = [], 0.0, 0.0
    for number, group in enumerate(groups, 1):
        if not group.size:
            continue
        positives = float(y[group].sum())
        rows_so_far += group.size
        positives_so_far += positives
        rate = positives / group.size
        found.append(
            {
                "decile": float(number),
                "rows": float(group.size),
                "positives": positives,
                "outcome_rate": rate,
                "min_score": float(score[group].min()),
                "lift": rate / base if base else math.nan,
                "cumulative_gain": positives_so_far / total if total else math.nan,
                "cumulative_lift": (positives_so_far / rows_so_far) / base if base else math.nan,
            }
        )
    return found


def at_campaign_rule(
    y: np.ndarray, score: np.ndarray, timestamp: np.ndarray, campaign: Campaign
) -> dict[str, Any]:
    """What the campaign's rule (``top_n`` highest and/or scores at or above ``min_score``,
    applied to each period as a scoring run applies it) selects in the test sample: its volume,
    precision (the outcome rate of the selected) and recall (the share of all positives
    selected), overall and per period. Computed whether or not the campaign is enabled."""
    periods = []
    chosen = np.zeros(y.size, dtype=bool)
    for period in np.unique(timestamp):
        rows = np.flatnonzero(timestamp == period)
        picked = rows[selected(score[rows], campaign.top_n, campaign.min_score)]
        chosen[picked] = True
        periods.append(_selection(y[rows], y[picked], np.datetime_as_string(period, unit="D")))
    overall = _selection(y, y[chosen], None)
    return {
        "enabled": campaign.enabled,
        "top_n": campaign.top_n,
        "min_score": campaign.min_score,
        **{key: value for key, value in overall.items() if key != "period"},
        "periods": periods,
    }


def _selection(y: np.ndarray, picked: np.ndarray, period: str | None) -> dict[str, Any]:
    positives = float(y.sum())
    return {
        "period": period,
        "rows": float(y.size),
        "volume": float(picked.size),
        "share": picked.size / y.size if y.size else math.nan,
        "precision": float(picked.mean()) if picked.size else math.nan,
        "recall": float(picked.sum()) / positives if positives else math.nan,
    }


def json_ready(value: Any) -> Any:
    """The figures with every non-finite number as None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def figures(
    y: np.ndarray,
    score: np.ndarray,
    timestamp: np.ndarray,
    campaign: Campaign,
    importance: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every figure of the report, as plain data (NaN where a value is undefined: ``json_ready``
    turns it into None). ``importance``: ``estimators.permutation_importance``'s."""
    y, score = np.asarray(y, dtype=np.float64), np.asarray(score, dtype=np.float64)
    auc, auc_se = metrics.auc_with_error(y, score)
    return {
        "rows": float(y.size),
        "positives": float(y.sum()),
        "outcome_rate": float(y.mean()),
        "roc_auc": auc,
        "roc_auc_se": auc_se,
        "average_precision": metrics.average_precision(y, score),
        "log_loss": metrics.log_loss(y, score),
        "brier": metrics.brier(y, score),
        "calibration": metrics.calibration(y, score),
        "roc": roc_curve(y, score),
        "precision_recall": precision_recall_curve(y, score),
        "reliability": reliability(y, score),
        "score_histogram": score_histogram(y, score),
        "deciles": deciles(y, score),
        "campaign": at_campaign_rule(y, score, timestamp, campaign),
        "permutation_importance": importance or {},
    }
