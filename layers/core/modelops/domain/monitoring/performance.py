"""Performance per period, realized and estimated, and its test against the version's own periods.

**Measures.** Once a scored period's outcomes are known, how each source's scores did:
``<source>:roc_auc`` (with DeLong's standard error), ``:precision`` (the outcome rate in the
campaign's selection), ``:outcome_rate`` (both with binomial errors), ``:log_loss``, ``:brier``,
``:calibration`` and ``:response_rate`` (the outcome rate per score decile); the same under
``<source>@<version>:``. Before the outcomes, ``estimate`` gives ``:estimated_roc_auc``,
``:estimated_precision`` and ``:estimated_outcome_rate`` from the calibrated scores.

**The reference** of a version's measure in a period is the same measure in each period of the
version's out-of-time test sample (``reference_periods``, computed at training), joined by the
version's realized history once it is old enough (periods more than ``drift.trend_periods``
before the current one, and not flagged themselves: a recent or flagged period is what is under
test, never its yardstick). Where the reference holds two yearly cycles, the current season
twice, and the calendar explains the series (one-way ANOVA at 1 %), only the same season counts.

**The test** (``judge_period``) is a random-effects prediction: each reference period's value
is its period's true level plus sampling error of known variance (DeLong, binomial); the true
levels vary between periods by τ² (DerSimonian–Laird). The current value is expected at the
weighted mean, give or take τ² + its own sampling variance at its size + the mean's variance,
read off Student's t with R - G - 1 degrees of freedom (R periods in G seasons). A small period
has a large sampling variance, so a wide band, not a false alarm. A drop of AUC or precision is
one-sided, a changed outcome rate two-sided; the p-value joins the run's Benjamini–Hochberg
correction and the effect must reach ``drift.min_auc_drop`` (AUC) or ``min_share_change``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from modelops.domain.model import metrics
from modelops.domain.monitoring.calibration import Calibration
from modelops.domain.monitoring.estimate import (
    Estimate,
    expected_auc,
    expected_precision,
    expected_rate,
    selected,
)
from modelops.domain.monitoring.evaluation import Finding
from modelops.domain.monitoring.profiles import DECILES, Profile
from modelops.domain.monitoring.reference import periods_per_year, season
from modelops.domain.monitoring.statistics import seasonal_columns
from modelops.domain.spec import Campaign, Drift

STAGE = "validate_outcomes"
MEASURES = ("roc_auc", "precision", "outcome_rate")  # the tested ones; a drop of the first two matters
ESTIMATED = "estimated_"
MIN_CLASS_ROWS = 5  # an AUC needs at least this many rows of each outcome


@dataclass(frozen=True)
class Measured:
    """One measure of one period: its value, standard error and the rows behind it."""

    timestamp: date
    value: float
    se: float
    count: float
    flagged: bool = False


def _rule(campaign: Campaign) -> tuple[int | None, float | None] | None:
    return (campaign.top_n, campaign.min_score) if campaign.enabled else None


# ------------------------------------------------------------------ measures


def realized(y: np.ndarray, score: np.ndarray, campaign: Campaign) -> dict[str, dict[str, float]]:
    """The tested measures of scores against their outcomes, each with its standard error."""
    measured: dict[str, dict[str, float]] = {}
    positives = int((y == 1).sum())
    if min(positives, y.size - positives) >= 2:
        auc, error = metrics.auc_with_error(y, score)
        measured["roc_auc"] = {
            "value": auc,
            "se": error,
            "count": float(y.size),
            "positives": float(positives),
        }
    measured["outcome_rate"] = _rate(y)
    rule = _rule(campaign)
    if rule is not None:
        chosen = selected(score, *rule)
        if chosen.any():
            measured["precision"] = _rate(y[chosen])
    return measured


def _rate(y: np.ndarray) -> dict[str, float]:
    rate = float(y.mean())
    return {"value": rate, "se": math.sqrt(rate * (1 - rate) / y.size), "count": float(y.size)}


def estimated(
    p: np.ndarray, score: np.ndarray, campaign: Campaign, population: int | None = None
) -> dict[str, Estimate]:
    """The expected measures of scores (``score`` may be a uniform sample of ``population``
    rows) whose calibrated probabilities are ``p``."""
    found = {"roc_auc": expected_auc(p, score, population), "outcome_rate": expected_rate(p, population)}
    rule = _rule(campaign)
    if rule is not None:
        found["precision"] = expected_precision(p, score, *rule, population)
    return {name: value for name, value in found.items() if math.isfinite(value.value)}


def realized_profiles(
    timestamp: date,
    source: str,
    version: str,
    y: np.ndarray,
    score: np.ndarray,
    campaign: Campaign | None = None,
) -> list[Profile]:
    """Metadata of one source's scores against the outcomes of their period."""
    measured: dict[str, dict[str, float]] = {
        name: {"value": value}
        for name, value in (
            ("log_loss", metrics.log_loss(y, score)),
            ("brier", metrics.brier(y, score)),
            ("calibration", metrics.calibration(y, score)),
        )
    }
    measured.update(realized(y, score, campaign or Campaign(enabled=False)))
    rates = dict(zip(DECILES, metrics.decile_rates(y, score), strict=True))
    profiles = []
    for prefix in (source, f"{source}@{version}"):
        for name, values in measured.items():
            profiles.append(Profile(f"{prefix}:{name}", timestamp, {"count": float(y.size), **values}))
        profiles.append(Profile(f"{prefix}:response_rate", timestamp, {**rates, "count": float(y.size)}))
    return profiles


def estimated_profiles(
    timestamp: date, source: str, version: str, found: dict[str, Estimate], segment: str | None = None
) -> list[Profile]:
    """Metadata of a period's estimates (per version too, unless it is a segment's)."""
    prefixes = [source] if segment else [source, f"{source}@{version}"]
    suffix = f"[{segment}]" if segment else ""
    return [
        Profile(f"{prefix}:{ESTIMATED}{name}{suffix}", timestamp, estimate.values())
        for prefix in prefixes
        for name, estimate in found.items()
    ]


# ------------------------------------------------------------------ the version's reference


def reference_periods(
    calibration: Calibration, score: np.ndarray, y: np.ndarray, timestamp: np.ndarray, campaign: Campaign
) -> list[dict[str, Any]]:
    """Each test period's realized and estimated measures (what a version's periods in
    production are compared with), as stored with the version."""
    periods = []
    for period in np.unique(timestamp):
        rows = timestamp == period
        entry: dict[str, Any] = {"period": period.astype("datetime64[D]").item().isoformat()}
        for name, values in realized(y[rows], score[rows], campaign).items():
            entry[name] = {"value": values["value"], "se": values["se"], "count": values["count"]}
        p = calibration.apply(score[rows])
        for name, estimate in estimated(p, score[rows], campaign).items():
            entry[ESTIMATED + name] = {
                "value": estimate.value,
                "se": estimate.se,
                "count": float(estimate.count),
            }
        periods.append(entry)
    return periods


def measured_of(stored: list[dict[str, Any]], name: str) -> list[Measured]:
    """One measure's test periods from the stored reference."""
    return [
        Measured(
            date.fromisoformat(entry["period"]), entry[name]["value"], entry[name]["se"], entry[name]["count"]
        )
        for entry in stored
        if name in entry and math.isfinite(entry[name]["value"]) and math.isfinite(entry[name]["se"])
    ]


def reference(test: list[Measured], history: list[Measured], current: date, recent: int) -> list[Measured]:
    """The test periods, and the realized (or estimated) history before ``current`` that is
    older than the ``recent`` newest periods and was never flagged."""
    earlier = sorted((h for h in history if h.timestamp < current), key=lambda h: h.timestamp)
    settled = earlier[: max(len(earlier) - recent, 0)]
    return [*test, *(h for h in settled if not h.flagged)]


# ------------------------------------------------------------------ the test


@dataclass(frozen=True)
class Prediction:
    expected: float
    variance: float  # of the current value around ``expected``: tau² + its own + the mean's
    tau2: float
    freedom: int
    seasonal: bool


def predict(
    values: np.ndarray,
    variances: np.ndarray,
    current_variance: float,
    groups: np.ndarray | None = None,
    own: int = 0,
) -> Prediction | None:
    """The random-effects prediction of a new period's value (module docstring); ``groups``
    labels each reference period's season (the prediction is for season ``own``). None when
    the reference cannot tell its periods' spread (fewer than 2 periods beyond the groups)."""
    labels = np.zeros(values.size, dtype=int) if groups is None else groups
    names, index = np.unique(labels, return_inverse=True)
    freedom = values.size - names.size
    if freedom < 1:
        return None
    weights = 1 / np.maximum(variances, 1e-12)
    totals = np.bincount(index, weights=weights)
    means = np.bincount(index, weights=weights * values) / totals
    q = float((weights * (values - means[index]) ** 2).sum())
    c = float(totals.sum() - (np.bincount(index, weights=weights**2) / totals).sum())
    tau2 = max(0.0, (q - freedom) / c) if c > 0 else 0.0
    mine = index == int(np.searchsorted(names, own))
    star = 1 / (variances[mine] + tau2)
    expected = float((star * values[mine]).sum() / star.sum())
    variance = tau2 + current_variance + 1 / float(star.sum())
    return Prediction(expected, variance, tau2, max(freedom - 1, 1), groups is not None)


def _seasons(periods: list[Measured], current: date, settings: Drift) -> np.ndarray | None:
    """Each reference period's season, where the calendar applies to this series."""
    if settings.seasonality == "none":
        return None
    days = [p.timestamp for p in periods]
    cycle = periods_per_year(days) if settings.seasonality == "auto" else int(settings.seasonality)
    if cycle is None or cycle < 2 or len(periods) < 2 * cycle:
        return None
    seasons = np.array([season(day, cycle) for day in days])
    if (seasons == season(current, cycle)).sum() < 2:
        return None
    values = np.array([[p.value] for p in periods])
    if not seasonal_columns(values, seasons, forced=settings.seasonality != "auto")[0]:
        return None
    return seasons


def judge_period(
    metric: str, test: str, current: Measured, periods: list[Measured], settings: Drift
) -> Finding | str:
    """The current period's measure against its reference (module docstring): a finding for the
    run's correction, or why it cannot be judged."""
    from scipy.special import stdtr, stdtrit

    if len(periods) < 3:
        return f"{metric}: {len(periods)} reference period(s), too few to judge (3 needed)"
    seasons = _seasons(periods, current.timestamp, settings)
    cycle = periods_per_year([p.timestamp for p in periods]) if seasons is not None else None
    own = season(current.timestamp, cycle) if cycle else 0
    values = np.array([p.value for p in periods])
    variances = np.array([p.se**2 for p in periods])
    predicted = predict(values, variances, current.se**2, seasons, own)
    if predicted is None:
        return f"{metric}: too few reference periods to tell their spread"
    sd = math.sqrt(predicted.variance)
    difference = current.value - predicted.expected
    statistic = (
        difference / sd if sd > 0 else (0.0 if difference == 0 else math.copysign(math.inf, difference))
    )
    drop_only = not metric.endswith("outcome_rate")
    if drop_only:
        p_value, effect = float(stdtr(predicted.freedom, statistic)), max(-difference, 0.0)
    else:
        p_value, effect = float(2 * stdtr(predicted.freedom, -abs(statistic))), abs(difference)
    half = float(stdtrit(predicted.freedom, 0.975)) * sd
    return Finding(
        metric,
        "value",
        test,
        current.value,
        p_value,
        effect,
        [p.value for p in periods[-11:]] + [current.value],
        expected=predicted.expected,
        low=predicted.expected - half,
        high=predicted.expected + half,
        reference="seasonal" if predicted.seasonal else "pooled",
    )


def too_small(name: str, values: dict[str, float], settings: Drift) -> bool:
    """Whether a period's measure rests on too few rows to judge (an AUC: too few of a class)."""
    count = values.get("count", 0.0)
    if name.endswith("roc_auc") and "positives" in values:
        positives = values["positives"]
        return min(positives, count - positives) < MIN_CLASS_ROWS
    return count < (MIN_CLASS_ROWS if name.endswith("precision") else settings.min_rows)
