"""Drift tests on decile metadata: plain arrays in, findings out (no AWS here).

For each metric and value (decile, mean, missing share, category share) the newest value is
tested against its history:
- trend: regress the series on time (d = a + b·t + e); the p-value of b;
- band: is the new value outside the historical [q2.5%, q97.5%] interval;
- KS: two-sample Kolmogorov–Smirnov between the new period's sample and a reference
  (the bounded samples of the previous periods);
- chi-square on category counts, for categorical metrics.
Against false alarms on large samples and many metrics: a finding needs a minimum effect
size, p-values are adjusted with Benjamini–Hochberg across every test of the run, a test
needs a minimum history, and the caller can require persistence (k of the last n runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from modelops.domain.spec import Drift

UNTESTED = {"count"}  # volume is not drift
SPREAD_LOW, SPREAD_HIGH = "d1", "d10"


@dataclass(frozen=True)
class Observation:
    """One timestamp of one metric: its values and (for numeric metrics) a bounded sample."""

    timestamp: date
    values: dict[str, float]
    sample: np.ndarray | None = None
    flags: tuple[str, ...] = ()


@dataclass
class Finding:
    metric: str
    value: str  # decile / mean / missing / share:<category>, or "distribution"
    test: str  # trend / band / ks / chi2
    statistic: float
    p_value: float | None
    effect: float
    series: list[float] = field(default_factory=list)
    adjusted_p: float | None = None
    flagged: bool = False

    @property
    def key(self) -> str:
        return f"{self.test}:{self.metric}:{self.value}"


def _is_share(metric: str, value: str) -> bool:
    """Values that are rates in [0, 1]: their effect is an absolute change, not a relative one."""
    rate_metric = metric == "outcome" or metric.endswith("_by_score_decile")
    return rate_metric or value == "missing" or value.startswith("share:")


def trend_test(values: np.ndarray) -> tuple[float, float]:
    """Slope of values on 0..n-1 and the two-sided p-value of the slope (scipy.linregress)."""
    from scipy.stats import linregress

    if np.ptp(values) == 0:
        return 0.0, 1.0
    result = linregress(np.arange(values.size, dtype=float), values)
    return float(result.slope), float(result.pvalue)


def band(history: np.ndarray) -> tuple[float, float]:
    """The historical [q2.5%, q97.5%] interval (non-parametric)."""
    low, high = np.quantile(history, [0.025, 0.975])
    return float(low), float(high)


def ks_test(reference: np.ndarray, sample: np.ndarray) -> tuple[float, float]:
    from scipy.stats import ks_2samp

    result = ks_2samp(reference, sample)
    return float(result.statistic), float(result.pvalue)


def chi2_test(reference_counts: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """Chi-square test of homogeneity of category counts (categories present in either)."""
    from scipy.stats import chi2_contingency

    table = np.vstack([reference_counts, counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    statistic, p_value, _, _ = chi2_contingency(table, correction=False)
    return float(statistic), float(p_value)


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """BH-adjusted p-values (step-up, monotone, capped at 1)."""
    if not p_values:
        return []
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(adjusted)
    out[order] = np.minimum(adjusted, 1.0)
    return [float(value) for value in out]


def _scale(metric: str, value: str, history: list[Observation]) -> float:
    """What one unit of effect means: shares are absolute, anything else is relative to the
    metric's historical 90% spread (d10 - d1)."""
    if _is_share(metric, value):
        return 1.0
    spreads = [
        p.values[SPREAD_HIGH] - p.values[SPREAD_LOW]
        for p in history
        if SPREAD_HIGH in p.values and SPREAD_LOW in p.values
    ]
    spread = float(np.median(spreads)) if spreads else 0.0
    if spread > 0:
        return spread
    levels = [abs(p.values[value]) for p in history if value in p.values]
    level = float(np.median(levels)) if levels else 0.0
    return level if level > 0 else 1.0


def _threshold(metric: str, value: str, settings: Drift) -> float:
    return settings.min_share_change if _is_share(metric, value) else settings.min_effect


def evaluate_metric(
    metric: str, current: Observation, history: list[Observation], settings: Drift
) -> list[Finding]:
    """Every switched-on test of one metric's newest period against its (older) history."""
    findings: list[Finding] = []
    history = sorted(history, key=lambda p: p.timestamp)
    for value, new in current.values.items():
        if value in UNTESTED:
            continue
        past = np.array([p.values[value] for p in history if value in p.values], dtype=float)
        series = [*past.tolist(), new]
        scale = _scale(metric, value, history)
        if settings.trend and past.size >= settings.min_history:
            slope, p_value = trend_test(np.array(series))
            findings.append(
                Finding(
                    metric, value, "trend", slope, p_value, abs(slope) * (len(series) - 1) / scale, series
                )
            )
        if settings.band and past.size >= settings.band_min_history:
            low, high = band(past)
            outside = new < low or new > high
            findings.append(
                Finding(
                    metric,
                    value,
                    "band",
                    new,
                    0.0 if outside else 1.0,
                    abs(new - float(np.median(past))) / scale if outside else 0.0,
                    series,
                )
            )
    references = [p.sample for p in history[-settings.reference_periods :] if p.sample is not None]
    if settings.ks and current.sample is not None and current.sample.size and references:
        reference = np.concatenate(references)
        if reference.size:
            statistic, p_value = ks_test(reference, current.sample)
            findings.append(Finding(metric, "distribution", "ks", statistic, p_value, statistic))
    shares = [v for v in current.values if v.startswith("share:")]
    recent = history[-settings.reference_periods :]
    if settings.chi2 and shares and recent:
        reference_counts = np.array(
            [sum(p.values.get(v, 0.0) * p.values["count"] for p in recent) for v in shares]
        )
        counts = np.array([current.values[v] * current.values["count"] for v in shares])
        statistic, p_value = chi2_test(reference_counts, counts)
        reference_shares = reference_counts / max(reference_counts.sum(), 1.0)
        current_shares = counts / max(counts.sum(), 1.0)
        findings.append(
            Finding(
                metric,
                "categories",
                "chi2",
                statistic,
                p_value,
                float(np.abs(current_shares - reference_shares).max()),
            )
        )
    return findings


def decide(findings: list[Finding], settings: Drift) -> list[Finding]:
    """Adjust p-values (BH across all p-value tests) and flag what is significant AND large."""
    tested = [f for f in findings if f.test != "band"]
    for finding, adjusted in zip(tested, benjamini_hochberg([f.p_value or 1.0 for f in tested]), strict=True):
        finding.adjusted_p = adjusted
    for finding in findings:
        if finding.test == "band":
            significant = finding.p_value == 0.0
            threshold = _threshold(finding.metric, finding.value, settings)
        elif finding.test == "ks":
            significant = (finding.adjusted_p or 1.0) < settings.level
            threshold = settings.ks_min_effect
        elif finding.test == "chi2":
            significant = (finding.adjusted_p or 1.0) < settings.level
            threshold = settings.min_share_change
        else:
            significant = (finding.adjusted_p or 1.0) < settings.level
            threshold = _threshold(finding.metric, finding.value, settings)
        finding.flagged = significant and finding.effect >= threshold
    return findings


def persistent(finding: Finding, previous_flags: list[tuple[str, ...]], settings: Drift) -> bool:
    """k of the last n runs, counting this one: previous_flags holds the n-1 runs before."""
    runs = [finding.flagged] + [
        finding.key in flags for flags in previous_flags[: settings.persistence.n - 1]
    ]
    return sum(runs) >= settings.persistence.k
