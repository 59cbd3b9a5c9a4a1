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

import math
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np

from modelops.domain.spec import Drift

UNTESTED = {"count"}  # volume is not drift
SPREAD_LOW, SPREAD_HIGH = "d1", "d10"
SEASONAL_LEVEL = 0.01  # auto seasonality: the calendar must explain a series at this level
MIN_CALIBRATION = 3  # reference statistics needed before a test is calibrated on them
KS_GRID = 2048  # reference-period KS statistics are evaluated on at most this many points
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Observation:
    """One timestamp of one metric: its values and (for numeric metrics) a bounded sample,
    with what earlier runs stored about it (flags, the band each value was tested against,
    and the run that wrote it)."""

    timestamp: date
    values: dict[str, float]
    sample: np.ndarray | None = None
    flags: tuple[str, ...] = ()
    bands: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # value: expected, low, high
    run_id: str = ""


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


@dataclass(frozen=True)
class Reference:
    """A metric's reference periods (oldest first), the monitored periods after them and
    before the current one, and the number of periods per year if the calendar applies."""

    periods: list[Observation]
    recent: list[Observation]
    cycle: int | None


def is_share(metric: str, value: str) -> bool:
    """Values that are rates in [0, 1]: their effect is an absolute change, not a relative one."""
    rate_metric = metric == "outcome" or metric.endswith("_by_score_decile")
    return rate_metric or value == "missing" or value.startswith("share:")


# ------------------------------------------------------------------ the calendar


def periods_per_year(timestamps: list[date]) -> int | None:
    """How many periods a year holds, from the median gap between consecutive timestamps."""
    days = sorted({t.toordinal() for t in timestamps})
    if len(days) < 2:
        return None
    gap = float(np.median(np.diff(days)))
    return max(1, round(DAYS_PER_YEAR / gap))


@lru_cache(maxsize=4096)
def season(day: date, cycle: int) -> int:
    """A period's position in the year, 0 .. cycle-1 (month of year for cycle 12)."""
    return round((day.timetuple().tm_yday - 1) * cycle / DAYS_PER_YEAR) % cycle


def reference(history: list[Observation], settings: Drift, reference_end: date | None = None) -> Reference:
    """Split a metric's earlier periods into its reference (up to ``reference_end``, the end of
    the model's training window; everything when None) and the monitored periods after it."""
    history = sorted(history, key=lambda o: o.timestamp)
    periods = [o for o in history if reference_end is None or o.timestamp <= reference_end]
    recent = [o for o in history if reference_end is not None and o.timestamp > reference_end]
    if settings.reference_periods is not None:
        periods = periods[-settings.reference_periods :]
    cycle = None
    if settings.seasonality != "none":
        cycle = (
            periods_per_year([o.timestamp for o in periods])
            if settings.seasonality == "auto"
            else int(settings.seasonality)
        )
    if cycle is not None and (cycle < 2 or len(periods) < 2 * cycle):
        cycle = None  # a seasonal reference needs two cycles
    return Reference(periods, recent, cycle)


def seasonal_columns(values: np.ndarray, seasons: np.ndarray, forced: bool) -> np.ndarray:
    """Which columns of ``values`` (periods x series) the calendar explains: a one-way
    analysis of variance of each series on the season, at SEASONAL_LEVEL (all when forced)."""
    from scipy.special import fdtrc

    labels, index = np.unique(seasons, return_inverse=True)
    n, groups = values.shape[0], labels.size
    if groups < 2 or n <= groups:
        return np.zeros(values.shape[1], dtype=bool)
    if forced:
        return np.ones(values.shape[1], dtype=bool)
    counts = np.bincount(index, minlength=groups).astype(float)
    sums = np.stack([np.bincount(index, weights=column, minlength=groups) for column in values.T], axis=1)
    means = sums / counts[:, None]
    within = ((values - means[index]) ** 2).sum(axis=0)
    between = (counts[:, None] * (means - values.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = (between / (groups - 1)) / (within / (n - groups))
    p_value = np.where(within > 0, fdtrc(groups - 1, n - groups, np.nan_to_num(statistic, posinf=1e300)), 0.0)
    explained = (p_value < SEASONAL_LEVEL) & (between > 0)
    return np.asarray(explained, dtype=bool)


# ------------------------------------------------------------------ the tests


def trend_test(values: np.ndarray) -> tuple[float, float]:
    """Slope of values on 0..n-1 and the two-sided p-value of the slope (ordinary least squares)."""
    from scipy.stats import linregress

    if np.ptp(values) == 0:
        return 0.0, 1.0
    result = linregress(np.arange(values.size, dtype=float), values)
    return float(result.slope), float(result.pvalue)


def ks_p_value(distance: np.ndarray | float, n: np.ndarray | float, m: np.ndarray | float) -> np.ndarray:
    """Two-sided p-value of a two-sample KS distance: Kolmogorov's limit distribution at
    λ = (√e + 0.12 + 0.11/√e)·D, e = nm/(n+m) (Stephens' small-sample correction)."""
    from scipy.special import kolmogorov

    root = np.sqrt(np.asarray(n, dtype=float) * m / (np.asarray(n, dtype=float) + m))
    p_value: np.ndarray = np.clip(kolmogorov((root + 0.12 + 0.11 / root) * distance), 0.0, 1.0)
    return p_value


def ks_test(reference: np.ndarray, sample: np.ndarray) -> tuple[float, float]:
    """Two-sample KS distance D = max |F_ref - F_sample| and its p-value (ks_p_value)."""
    a, b = np.sort(reference), np.sort(sample)
    points = np.concatenate([a, b])
    distance = float(
        np.abs(
            np.searchsorted(a, points, side="right") / a.size
            - np.searchsorted(b, points, side="right") / b.size
        ).max()
    )
    return distance, float(ks_p_value(distance, a.size, b.size))


def chi2_tests(reference_counts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chi-square tests of homogeneity of category counts, one per row of the two (tables x
    categories) arrays: the statistic over the categories present in either, and its p-value
    with (categories present - 1) degrees of freedom; (0, 1) when there is nothing to compare."""
    from scipy.special import chdtrc

    table = np.stack([np.atleast_2d(reference_counts), np.atleast_2d(counts)]).astype(float)  # 2 x T x K
    rows = table.sum(axis=2, keepdims=True)
    columns = table.sum(axis=0, keepdims=True)
    expected = rows * columns / np.maximum(table.sum(axis=(0, 2), keepdims=True), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        cells = np.where(expected > 0, (table - expected) ** 2 / expected, 0.0)
    statistic = cells.sum(axis=(0, 2))
    freedom = (columns[0] > 0).sum(axis=1) - 1
    valid = (freedom >= 1) & (rows[:, :, 0] > 0).all(axis=0)
    p_value = np.where(valid, chdtrc(np.maximum(freedom, 1), statistic), 1.0)
    return np.where(valid, statistic, 0.0), p_value


def chi2_test(reference_counts: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """Chi-square test of homogeneity of two rows of category counts."""
    statistic, p_value = chi2_tests(reference_counts, counts)
    return float(statistic[0]), float(p_value[0])


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


def z_of(p_values: np.ndarray) -> np.ndarray:
    """The |z| of two-sided p-values (p = 2·(1 - Φ(|z|))), exact down to p = 1e-300."""
    from scipy.special import ndtri_exp

    p = np.clip(np.asarray(p_values, dtype=float), 1e-300, 1.0)
    z: np.ndarray = np.maximum(np.asarray(-ndtri_exp(np.log(p / 2)), dtype=float), 0.0)
    return z


def calibrated_p(p_value: float, reference_p: np.ndarray) -> float:
    """A test's p-value calibrated on the same test run on the reference periods.

    Under the test's assumptions the reference's |z| have mean square 1; seasonality,
    autocorrelation or a too-optimistic null make it larger, by phi². The current |z| is
    divided by phi and read off Student's t with one degree of freedom per reference
    statistic (phi is estimated from them). With fewer than MIN_CALIBRATION reference
    statistics, or phi <= 1, the test's own p-value stands."""
    from scipy.special import stdtr

    if reference_p.size < MIN_CALIBRATION:
        return p_value
    inflation = float(np.mean(z_of(reference_p) ** 2))
    if inflation <= 1.0:
        return p_value
    z = float(z_of(np.array([p_value]))[0])
    return float(2 * stdtr(reference_p.size, -z / math.sqrt(inflation)))


def effective_count(count: np.ndarray | float, correlation: np.ndarray) -> np.ndarray:
    """How many independent values ``count`` values with neighbour correlation ``correlation``
    are worth when averaged (AR(1): c·(1 - r)/(1 + r)), at least 1.5 and at most ``count``."""
    worth: np.ndarray = np.clip(count * (1 - correlation) / (1 + correlation), np.minimum(1.5, count), count)
    return worth


def band_test(
    reference_values: np.ndarray,
    new: np.ndarray,
    seasons: np.ndarray | None = None,
    new_season: int | None = None,
    spacing: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Prediction of each column of ``reference_values`` (periods in time order x series) for
    the new period: (expected, half-width of the 2.5-97.5 % band, t statistic, p-value).

    Without seasons: the reference mean, and SD·sqrt(1 + 1/R) with R - 1 degrees of freedom
    (mean ± t·SD, the small-sample prediction interval). With seasons (one label per reference
    period, ``spacing`` periods apart): the mean of the new period's season, and the pooled
    within-season SD·sqrt(1 + 1/c), c the season's count, with R - S degrees of freedom.

    Periods that carry over (lag-1 correlation r of the residuals, ``spacing``-th power between
    values of one mean) are worth fewer independent values: the SD is scaled up for the
    wander a short reference under-shows and the mean's error uses the effective count. A
    value is flagged only beyond the largest deviation the reference itself shows (p = 1
    inside it), so a discrete or heavy-tailed series is not judged by normal tails. A zero
    spread gives p = 1 when the value is exactly expected and p = 0 otherwise."""
    from scipy.special import stdtr, stdtrit

    if seasons is None:
        seasons, new_season = np.zeros(reference_values.shape[0], dtype=int), 0
    labels, index = np.unique(seasons, return_inverse=True)
    counts = np.bincount(index).astype(float)
    means = (
        np.stack([np.bincount(index, weights=column) for column in reference_values.T], axis=1)
        / counts[:, None]
    )
    residuals = reference_values - means[index]
    freedom = max(reference_values.shape[0] - labels.size, 1)
    squares = (residuals**2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lag1 = np.where(squares > 0, (residuals[1:] * residuals[:-1]).sum(axis=0) / squares, 0.0)
    between = np.clip(lag1, 0.0, 0.95) ** spacing
    typical = reference_values.shape[0] / labels.size
    own = int(np.searchsorted(labels, 0 if new_season is None else new_season))
    sd = np.sqrt(squares / freedom * (1 - 1 / typical) / (1 - 1 / effective_count(typical, between)))
    expected = means[own]
    scale = sd * np.sqrt(1 + 1 / effective_count(counts[own], between))
    half_width = scale * float(stdtrit(freedom, 0.975))
    difference = new - expected
    tolerance = 1e-12 * np.maximum(1.0, np.abs(expected))
    seen = np.abs(difference) <= np.abs(residuals).max(axis=0) + tolerance
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = np.where(scale > 0, difference / scale, np.where(seen, 0.0, np.inf))
    p_value = np.where(seen, 1.0, np.where(scale > 0, 2 * stdtr(freedom, -np.abs(statistic)), 0.0))
    return expected, half_width, statistic, p_value


def slope_p_values(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS slope of each row of ``windows`` (windows x n) on 0..n-1, and its two-sided p-value
    (Student's t with n - 2 degrees of freedom); a constant row has slope 0 and p = 1."""
    from scipy.special import stdtr

    n = windows.shape[1]
    x = np.arange(n, dtype=float) - (n - 1) / 2
    sxx = float((x**2).sum())
    slope = (windows - windows.mean(axis=1, keepdims=True)) @ x / sxx
    fitted = windows.mean(axis=1, keepdims=True) + slope[:, None] * x
    residual = ((windows - fitted) ** 2).sum(axis=1) / (n - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = slope / np.sqrt(residual / sxx)
    p_value = np.where(residual > 0, 2 * stdtr(n - 2, -np.abs(statistic)), np.where(slope == 0, 1.0, 0.0))
    return slope, p_value


def _ks_p_values(
    pool_counts: np.ndarray, pool_sizes: np.ndarray, own: np.ndarray, sizes: np.ndarray
) -> np.ndarray:
    """The KS p-value of each period (rows of ``own``: counts of its sample at or below each
    grid point) against its pool minus itself."""
    others = pool_counts - own
    other_sizes = pool_sizes - sizes
    valid = (sizes > 0) & (other_sizes > 0)
    sizes, other_sizes, own, others = sizes[valid], other_sizes[valid], own[valid], others[valid]
    distance = np.abs(own / sizes[:, None] - others / other_sizes[:, None]).max(axis=1)
    return ks_p_value(distance, sizes, other_sizes)


def ks_reference_p(samples: list[np.ndarray], groups: np.ndarray) -> np.ndarray:
    """The KS p-value of every reference period against the other periods of its group (its
    season, or all of them), all evaluated on one grid of the pooled values (vectorised: one
    sort, one count per period and grid cell, one cumulative sum)."""
    pooled = np.concatenate(samples)
    labels = np.repeat(np.arange(len(samples)), [s.size for s in samples])
    ordered = np.argsort(pooled, kind="stable")
    pooled, labels = pooled[ordered], labels[ordered]
    grid = pooled if pooled.size <= KS_GRID else pooled[np.linspace(0, pooled.size - 1, KS_GRID).astype(int)]
    cells = np.searchsorted(grid, pooled, side="left")  # the first grid point at or above each value
    counts = np.bincount(labels * grid.size + cells, minlength=len(samples) * grid.size)
    own = np.cumsum(counts.reshape(len(samples), grid.size), axis=1).astype(float)
    sizes = np.array([s.size for s in samples], dtype=float)
    _, index = np.unique(groups, return_inverse=True)
    pool_counts = np.stack([own[index == g].sum(axis=0) for g in range(index.max() + 1)])[index]
    pool_sizes = np.bincount(index, weights=sizes)[index]
    return _ks_p_values(pool_counts, pool_sizes, own, sizes)


def chi2_reference_p(counts: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The chi-square p-value of every reference period's category counts (rows) against the
    summed counts of the other periods of its group."""
    _, index = np.unique(groups, return_inverse=True)
    totals = np.stack([counts[index == g].sum(axis=0) for g in range(index.max() + 1)])[index]
    others = totals - counts
    keep = others.sum(axis=1) > 0
    return chi2_tests(others[keep], counts[keep])[1]


# ------------------------------------------------------------------ one metric


def _spread(periods: list[Observation]) -> float:
    """The metric's reference 90% spread, median of d10 - d1 (0 without deciles)."""
    spreads = [
        p.values[SPREAD_HIGH] - p.values[SPREAD_LOW]
        for p in periods
        if SPREAD_HIGH in p.values and SPREAD_LOW in p.values
    ]
    return float(np.median(spreads)) if spreads else 0.0


def _unit(metric: str, value: str, column: np.ndarray, spread: float) -> float:
    """What one unit of effect means: shares are absolute, anything else is relative to the
    metric's reference 90% spread, else to the value's typical level."""
    if is_share(metric, value):
        return 1.0
    if spread > 0:
        return spread
    level = float(np.median(np.abs(column))) if column.size else 0.0
    return level if level > 0 else 1.0


def cycles_by_construction(periods: list[Observation]) -> bool:
    """A categorical metric that is one category per period, a different one across periods
    (a month name, a quarter): its mix is the calendar, not the data."""
    dominant = []
    for period in periods:
        shares = {k: v for k, v in period.values.items() if k.startswith("share:")}
        if not shares:
            return False
        top = max(shares, key=lambda k: shares[k])
        if shares[top] < 0.99:
            return False
        dominant.append(top)
    return len(set(dominant)) > 1


def evaluate_metric(
    metric: str,
    current: Observation,
    history: list[Observation],
    settings: Drift,
    reference_end: date | None = None,
) -> list[Finding]:
    """Every switched-on test of one metric's newest period against its reference."""
    if metric in settings.exclude:
        return []
    ref = reference(history, settings, reference_end)
    if not ref.periods or cycles_by_construction([*ref.periods, current]):
        return []
    findings = _values(metric, current, ref, settings)
    findings += _distribution(metric, current, ref, settings)
    return findings


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
    expected = np.empty(len(names))
    half = np.empty(len(names))
    p_band = np.empty(len(names))
    offsets = np.zeros_like(matrix)  # each reference period's season effect, for the trend
    for columns, labels, label in ((seasonal, seasons, own), (~seasonal, None, None)):
        if columns.any():
            e, h, _, p = band_test(
                matrix[:, columns], new[columns], labels, label, 1 if labels is None else ref.cycle or 1
            )
            expected[columns], half[columns], p_band[columns] = e, h, p
            if labels is not None:
                offsets[:, columns] = _season_offsets(matrix[:, columns], labels)
    findings: list[Finding] = []
    recent = [p for p in ref.recent if all(v in p.values for v in names)]
    recent_rows = np.array([[p.values[v] for v in names] for p in recent], dtype=float).reshape(
        -1, len(names)
    )
    series_all = np.vstack([matrix, recent_rows, new[None, :]])
    spread = _spread(ref.periods)
    for j, value in enumerate(names):
        unit = _unit(metric, value, matrix[:, j], spread)
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
        findings += _trend(metric, names, matrix, offsets, seasonal, ref, recent, current, settings)
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
) -> list[Finding]:
    """The slope over the periods after the model (at most ``trend_periods``), deseasonalised
    with the reference's season means, calibrated on the reference's own windows."""
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
    slopes, p_values = slope_p_values(values.T)
    starts = range(matrix.shape[0] - n + 1)
    reference_windows = np.stack([deseasonalised[s : s + n] for s in starts])  # windows x n x names
    _, reference_p = slope_p_values(reference_windows.transpose(2, 0, 1).reshape(-1, n))
    reference_p = reference_p.reshape(len(names), -1)
    findings = []
    spread = _spread(ref.periods)
    for j, value in enumerate(names):
        p_value = calibrated_p(float(p_values[j]), reference_p[j])
        unit = _unit(metric, value, matrix[:, j], spread)
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
        if finding.test == "ks":
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


def first_flagged(metric: str, current: date, earlier: list[Observation]) -> date:
    """The first period of the change: walking back from the current period, the earliest of
    the unbroken run of periods in which this metric had a flag."""
    since = current
    for period in sorted(earlier, key=lambda o: o.timestamp, reverse=True):
        if not any(flag.split(":", 2)[1] == metric for flag in period.flags if flag.count(":") >= 2):
            break
        since = period.timestamp
    return since
