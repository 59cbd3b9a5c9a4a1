"""Drift tests on decile metadata: plain arrays in, findings out (no AWS here).

The newest period of a metric is compared with its *reference*: the periods up to the end
of the model's training window (``Reference``). Where the reference holds at least two
yearly cycles and the calendar explains a series (or the spec says so), the comparison is
with the same season of those cycles instead of with all of them.

Each test's bar comes from the reference itself, so that seasonality, autocorrelation and
small samples raise it where they exist and nowhere else:

- band: the value against the reference's 2.5-97.5 % prediction band, mean ± t·SD of the
  reference values (per season where seasonal), with Student's t for the small sample;
- KS: two-sample Kolmogorov-Smirnov of the period's sample against the reference's pooled
  samples; the same test run on every reference period (against the others) measures how
  much the test over-reacts on this metric, and the current statistic is divided by that;
- trend: the p-value of the slope over a recent window of periods *after* the model
  (deseasonalised), calibrated like KS on the reference's own windows, so a change older
  than the model is never re-flagged;
- chi-square on category counts, calibrated like KS.

A finding is flagged when its p-value survives Benjamini-Hochberg across every test of the
run AND its effect is large enough; the caller may also require persistence (k of n runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from modelops.domain.monitoring.reference import (
    Observation,
    Reference,
    cycles_by_construction,
    effect_unit,
    is_share,
    reference,
    season,
    spread_of,
)
from modelops.domain.monitoring.sampling import decile_sampling_p, sampling_floors
from modelops.domain.monitoring.segments import split_metric
from modelops.domain.monitoring.statistics import (
    band_test,
    benjamini_hochberg,
    calibrated_p,
    chi2_reference_p,
    chi2_test,
    ks_reference_p,
    ks_test,
    seasonal_columns,
    slope_p_values,
)
from modelops.domain.spec import Drift

UNTESTED = {"count"}  # volume is not drift
PERFORMANCE_TESTS = ("realized", "estimated")  # performance.judge_period: effects in AUC or rate points


@dataclass
class Finding:
    metric: str
    value: str  # decile / mean / missing / share:<category>, or "distribution" / "categories"
    test: str  # trend / band / ks / chi2
    statistic: float
    p_value: float | None
    effect: float
    series: list[float] = field(default_factory=list)
    adjusted_p: float | None = None
    flagged: bool = False
    expected: float | None = None  # band: the reference's expectation for this period
    low: float | None = None  # band: the 2.5-97.5 % prediction band
    high: float | None = None
    reference: str = "pooled"  # "seasonal": same season of earlier cycles; "pooled": all periods

    @property
    def key(self) -> str:
        return f"{self.test}:{self.metric}:{self.value}"


# ------------------------------------------------------------------ one metric


def evaluate_metric(
    metric: str,
    current: Observation,
    history: list[Observation],
    settings: Drift,
    reference_end: date | None = None,
) -> list[Finding]:
    """Every switched-on test of one metric's newest period against its reference (none when
    the period is too small to judge: ``too_small``)."""
    if split_metric(metric)[0] in settings.exclude or too_small(current, settings):
        return []
    ref = reference(history, settings, reference_end)
    if not ref.periods or cycles_by_construction([*ref.periods, current]):
        return []
    findings = _values(metric, current, ref, settings)
    findings += _distribution(metric, current, ref, settings)
    return findings


def too_small(current: Observation, settings: Drift) -> bool:
    """A period (or a segment of one) with fewer than ``min_rows`` rows is not judged."""
    count = current.values.get("count")
    return count is not None and count < settings.min_rows


def small_notes(current: dict[str, Observation], settings: Drift) -> list[str]:
    """One line per period or segment too small to judge: where, how many rows, the bar."""
    rows: dict[str, float] = {}
    for metric, period in current.items():
        if too_small(period, settings):
            segment = split_metric(metric)[1] or ""
            rows[segment] = max(rows.get(segment, 0.0), period.values["count"])
    when = next(iter(current.values())).timestamp.isoformat() if current else ""
    return [
        f"{segment + ': ' if segment else ''}{count:.0f} rows in {when}, too few to judge "
        f"(drift.min_rows {settings.min_rows})"
        for segment, count in sorted(rows.items())
    ]


def _common(current: Observation, periods: list[Observation]) -> list[str]:
    """The tested values of the current period that every reference period has too."""
    shared = set(current.values).intersection(*(p.values for p in periods)) - UNTESTED
    return [v for v in current.values if v in shared]


def _seasons(ref: Reference, current: Observation) -> tuple[np.ndarray | None, int | None]:
    if ref.cycle is None:
        return None, None
    seasons = np.array([season(p.timestamp, ref.cycle) for p in ref.periods])
    own = season(current.timestamp, ref.cycle)
    if (seasons == own).sum() < 2:
        return None, None  # this season is not in the reference twice
    return seasons, own


def _values(metric: str, current: Observation, ref: Reference, settings: Drift) -> list[Finding]:
    """Band and trend tests of every value (decile, mean, missing, share) of the metric."""
    names = _common(current, ref.periods)
    if not names or not (settings.band or settings.trend) or len(ref.periods) < 3:
        return []  # too short a reference to say what a period should look like
    matrix = np.array([[p.values[v] for v in names] for p in ref.periods], dtype=float)
    new = np.array([current.values[v] for v in names], dtype=float)
    seasons, own = _seasons(ref, current)
    seasonal = (
        seasonal_columns(matrix, seasons, forced=settings.seasonality != "auto")
        if seasons is not None
        else np.zeros(len(names), dtype=bool)
    )
    floor_new, floor_reference = sampling_floors(metric, names, matrix, ref.periods, current)
    p_sampling = decile_sampling_p(metric, names, new, ref.periods, current)
    if seasons is not None and seasonal.any():  # a seasonal value's rows are its season's
        mine = seasons == own
        chosen = [p for p, keep in zip(ref.periods, mine, strict=True) if keep]
        in_season = sampling_floors(metric, names, matrix[mine], chosen, current)
        floor_new = np.where(seasonal, in_season[0], floor_new)
        floor_reference = np.where(seasonal, in_season[1], floor_reference)
        p_sampling = np.where(seasonal, decile_sampling_p(metric, names, new, chosen, current), p_sampling)
    expected = np.empty(len(names))
    half = np.empty(len(names))
    p_band = np.empty(len(names))
    offsets = np.zeros_like(matrix)  # each reference period's season effect, for the trend
    for columns, labels, label in ((seasonal, seasons, own), (~seasonal, None, None)):
        if columns.any():
            e, h, _, p = band_test(
                matrix[:, columns],
                new[columns],
                labels,
                label,
                1 if labels is None else ref.cycle or 1,
                floor_new[columns],
                floor_reference[columns],
            )
            expected[columns], half[columns], p_band[columns] = e, h, np.fmax(p, p_sampling[columns])
            if labels is not None:
                offsets[:, columns] = _season_offsets(matrix[:, columns], labels)
    findings: list[Finding] = []
    recent = [p for p in ref.recent if all(v in p.values for v in names)]
    recent_rows = np.array([[p.values[v] for v in names] for p in recent], dtype=float).reshape(
        -1, len(names)
    )
    series_all = np.vstack([matrix, recent_rows, new[None, :]])
    spread = spread_of(ref.periods)
    for j, value in enumerate(names):
        unit = effect_unit(metric, value, matrix[:, j], spread)
        series = series_all[-12:, j].tolist()
        kind = "seasonal" if seasonal[j] else "pooled"
        if settings.band and len(ref.periods) >= settings.band_min_history:
            findings.append(
                Finding(
                    metric,
                    value,
                    "band",
                    float(new[j]),
                    float(p_band[j]),
                    abs(float(new[j] - expected[j])) / unit,
                    series,
                    expected=float(expected[j]),
                    low=float(expected[j] - half[j]),
                    high=float(expected[j] + half[j]),
                    reference=kind,
                )
            )
    if settings.trend:
        floors = (floor_new, floor_reference)
        findings += _trend(metric, names, matrix, offsets, seasonal, ref, recent, current, settings, floors)
    return findings


def _season_offsets(values: np.ndarray, seasons: np.ndarray) -> np.ndarray:
    """Each reference period's season mean minus the overall mean (per column)."""
    _, index = np.unique(seasons, return_inverse=True)
    counts = np.bincount(index).astype(float)
    means = np.stack([np.bincount(index, weights=c) for c in values.T], axis=1) / counts[:, None]
    offsets: np.ndarray = means[index] - values.mean(axis=0)
    return offsets


def _trend(
    metric: str,
    names: list[str],
    matrix: np.ndarray,
    offsets: np.ndarray,
    seasonal: np.ndarray,
    ref: Reference,
    recent: list[Observation],
    current: Observation,
    settings: Drift,
    floors: tuple[np.ndarray, np.ndarray],
) -> list[Finding]:
    """The slope over the periods after the model (at most ``trend_periods``), deseasonalised
    with the reference's season means, calibrated on the reference's own windows; neither
    slope is read against less scatter than its values' sampling error (``floors``)."""
    window = [*recent, current][-settings.trend_periods :]
    n = len(window)
    if n < 4 or len(ref.periods) < max(settings.min_history, n):
        return []
    values = np.array([[p.values[v] for v in names] for p in window], dtype=float)
    if ref.cycle is not None and seasonal.any():
        cycle = ref.cycle
        table = {season(p.timestamp, cycle): row for p, row in zip(ref.periods, offsets, strict=True)}
        for i, period in enumerate(window):
            values[i] -= table.get(season(period.timestamp, cycle), 0.0) * seasonal
    deseasonalised = matrix - offsets * seasonal
    slopes, p_values = slope_p_values(values.T, floors[0])
    starts = range(matrix.shape[0] - n + 1)
    reference_windows = np.stack([deseasonalised[s : s + n] for s in starts])  # windows x n x names
    _, reference_p = slope_p_values(
        reference_windows.transpose(2, 0, 1).reshape(-1, n), np.repeat(floors[1], len(starts))
    )
    reference_p = reference_p.reshape(len(names), -1)
    findings = []
    spread = spread_of(ref.periods)
    for j, value in enumerate(names):
        p_value = calibrated_p(float(p_values[j]), reference_p[j])
        unit = effect_unit(metric, value, matrix[:, j], spread)
        findings.append(
            Finding(
                metric,
                value,
                "trend",
                float(slopes[j]),
                p_value,
                abs(float(slopes[j])) * (n - 1) / unit,
                values[:, j].tolist(),
                reference="seasonal" if seasonal[j] else "pooled",
            )
        )
    return findings


def _distribution(metric: str, current: Observation, ref: Reference, settings: Drift) -> list[Finding]:
    """KS on the samples, chi-square on the category counts, each against the season's
    reference periods where the calendar explains the metric, else all of them."""
    seasons, own = _seasons(ref, current)
    names = _common(current, ref.periods)
    if seasons is not None and names:
        matrix = np.array([[p.values[v] for v in names] for p in ref.periods], dtype=float)
        if not seasonal_columns(matrix, seasons, forced=settings.seasonality != "auto").any():
            seasons = None
    groups = seasons if seasons is not None else np.zeros(len(ref.periods), dtype=int)
    chosen = [p for p, g in zip(ref.periods, groups, strict=True) if seasons is None or g == own]
    kind = "pooled" if seasons is None else "seasonal"
    findings = []
    samples = [
        (p.sample, g)
        for p, g in zip(ref.periods, groups, strict=True)
        if p.sample is not None and p.sample.size
    ]
    pool = [p.sample for p in chosen if p.sample is not None and p.sample.size]
    if settings.ks and current.sample is not None and current.sample.size and pool:
        statistic, p_value = ks_test(np.concatenate(pool), current.sample)
        reference_p = (
            ks_reference_p([s for s, _ in samples], np.array([g for _, g in samples]))
            if len(samples) > 1
            else np.empty(0)
        )
        findings.append(
            Finding(
                metric,
                "distribution",
                "ks",
                statistic,
                calibrated_p(p_value, reference_p),
                statistic,
                reference=kind,
            )
        )
    shares = [v for v in current.values if v.startswith("share:")]
    if settings.chi2 and shares and chosen:

        def counts(period: Observation) -> np.ndarray:
            return np.array([period.values.get(v, 0.0) * period.values["count"] for v in shares])

        reference_counts = np.sum([counts(p) for p in chosen], axis=0)
        new_counts = counts(current)
        statistic, p_value = chi2_test(reference_counts, new_counts)
        reference_p = chi2_reference_p(np.array([counts(p) for p in ref.periods]), groups)
        reference_shares = reference_counts / max(reference_counts.sum(), 1.0)
        current_shares = new_counts / max(new_counts.sum(), 1.0)
        findings.append(
            Finding(
                metric,
                "categories",
                "chi2",
                statistic,
                calibrated_p(p_value, reference_p),
                float(np.abs(current_shares - reference_shares).max()),
                reference=kind,
            )
        )
    return findings


# ------------------------------------------------------------------ the run


def decide(findings: list[Finding], settings: Drift) -> list[Finding]:
    """Adjust p-values (BH across every test of the run) and flag what is significant AND large."""
    for finding, adjusted in zip(
        findings,
        benjamini_hochberg([f.p_value if f.p_value is not None else 1.0 for f in findings]),
        strict=True,
    ):
        finding.adjusted_p = adjusted
    for finding in findings:
        if finding.test in PERFORMANCE_TESTS:
            auc = split_metric(finding.metric)[0].endswith("roc_auc")
            threshold = settings.min_auc_drop if auc else settings.min_share_change
        elif finding.test == "ks":
            threshold = settings.ks_min_effect
        elif finding.test == "chi2" or is_share(finding.metric, finding.value):
            threshold = settings.min_share_change
        else:
            threshold = settings.min_effect
        significant = finding.adjusted_p is not None and finding.adjusted_p < settings.level
        finding.flagged = significant and finding.effect >= threshold
    return findings


def persistent(finding: Finding, previous_flags: list[tuple[str, ...]], settings: Drift) -> bool:
    """k of the last n runs, counting this one: previous_flags holds the n-1 runs before."""
    runs = [finding.flagged] + [
        finding.key in flags for flags in previous_flags[: settings.persistence.n - 1]
    ]
    return sum(runs) >= settings.persistence.k


def flag_of(flag: str, metric: str) -> bool:
    """Whether a flag key ``<test>:<metric>:<value>`` is this metric's (metric names may hold
    colons themselves: ``batch:roc_auc``)."""
    return flag.partition(":")[2].startswith(f"{metric}:")


def first_flagged(metric: str, current: date, earlier: list[Observation]) -> date:
    """The first period of the change: walking back from the current period, the earliest of
    the unbroken run of periods in which this metric had a flag."""
    since = current
    for period in sorted(earlier, key=lambda o: o.timestamp, reverse=True):
        if not any(flag_of(flag, metric) for flag in period.flags):
            break
        since = period.timestamp
    return since
