"""The statistics of the drift tests: plain arrays in, numbers out.

Each test's bar comes from the reference itself (``calibrated_p``): the same test run on every
reference period, against the others, measures how much it over-reacts on a metric, so that
seasonality, autocorrelation and small samples raise the bar where they exist and nowhere else.
``evaluation`` applies these to one metric's periods; ``reference`` says which periods.
"""

from __future__ import annotations

import math

import numpy as np

SEASONAL_LEVEL = 0.01  # auto seasonality: the calendar must explain a series at this level
MIN_CALIBRATION = 3  # reference statistics needed before a test is calibrated on them
KS_GRID = 2048  # reference-period KS statistics are evaluated on at most this many points


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


def sorted_quantile(ordered: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """np.quantile's default (linear) quantiles of an already sorted sample, without sorting."""
    position = np.clip(levels, 0.0, 1.0) * (ordered.size - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, ordered.size - 1)
    found: np.ndarray = ordered[below] + (position - below) * (ordered[above] - ordered[below])
    return found


def quantile_floor(ordered: np.ndarray, levels: np.ndarray, rows: float) -> np.ndarray:
    """The sampling variance of each ``levels`` quantile of ``rows`` fresh draws from the
    distribution of ``ordered`` (a sorted sample): the distribution-free 95 % interval of a
    sample quantile, Q(level ± 1.96·√(level(1 - level)/rows)), read as ± 1.96 SD. For a
    continuous variable this is the asymptotic q(1 - q) / (n·density²); for a count it is
    the jump to the next value when the interval straddles it."""
    if rows <= 0 or ordered.size < 2:
        return np.zeros(levels.size)
    half = 1.959964 * np.sqrt(levels * (1 - levels) / rows)
    width = sorted_quantile(ordered, levels + half) - sorted_quantile(ordered, levels - half)
    floor: np.ndarray = (width / (2 * 1.959964)) ** 2
    return floor


def quantile_sampling_p(ordered: np.ndarray, levels: np.ndarray, new: np.ndarray, rows: float) -> np.ndarray:
    """Two-sided p-value of each ``new`` value as the ``levels`` quantile of ``rows`` fresh
    draws from the distribution of ``ordered`` (a sorted sample), from the binomial count of
    draws below it. np.quantile's sample quantile sits at position q(n - 1) of the sorted
    draws: it reaches x only if at most ceil(q(n - 1)) draws fall below x, and falls to x only
    if at least floor(q(n - 1)) + 1 are at most x (exact at a whole position, conservative
    between two). This is what a count's decile needs: at the edge of a jump it moves to the
    next value in many months of a small segment by sampling alone."""
    from scipy.special import bdtr, bdtrc

    n = round(rows)
    if n < 1 or ordered.size < 2:
        return np.ones(levels.size)
    position = levels * (n - 1)
    below = np.searchsorted(ordered, new, side="left") / ordered.size
    at_most = np.searchsorted(ordered, new, side="right") / ordered.size
    upper = bdtr(np.ceil(position), n, below)  # P(the quantile is at least x)
    lower = bdtrc(np.floor(position), n, at_most)  # P(the quantile is at most x)
    p_value: np.ndarray = np.minimum(1.0, 2 * np.minimum(upper, lower))
    return np.where(np.isfinite(new), p_value, np.nan)  # a value not there is no evidence


def band_test(
    reference_values: np.ndarray,
    new: np.ndarray,
    seasons: np.ndarray | None = None,
    new_season: int | None = None,
    spacing: int = 1,
    floor_new: np.ndarray | None = None,
    floor_reference: np.ndarray | None = None,
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
    spread gives p = 1 when the value is exactly expected and p = 0 otherwise.

    ``floor_new`` and ``floor_reference`` (per column) are the sampling variances of a value
    computed from fresh rows, at the new period's size and at the reference periods' typical
    size: a period's variance is never taken below them. A small period then gets a wide band,
    and a panel whose rows carry over (few customers, replaced slowly) cannot show a reference
    spread narrower than its own sampling error."""
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
    variance = squares / freedom * (1 - 1 / typical) / (1 - 1 / effective_count(typical, between))
    zero = np.zeros_like(variance)
    mean_variance = np.maximum(variance, zero if floor_reference is None else floor_reference)
    new_variance = np.maximum(variance, zero if floor_new is None else floor_new)
    expected = means[own]
    scale = np.sqrt(new_variance + mean_variance / effective_count(counts[own], between))
    half_width = scale * float(stdtrit(freedom, 0.975))
    difference = new - expected
    tolerance = 1e-12 * np.maximum(1.0, np.abs(expected))
    seen = np.abs(difference) <= np.abs(residuals).max(axis=0) + tolerance
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = np.where(scale > 0, difference / scale, np.where(seen, 0.0, np.inf))
    p_value = np.where(seen, 1.0, np.where(scale > 0, 2 * stdtr(freedom, -np.abs(statistic)), 0.0))
    return expected, half_width, statistic, p_value


def slope_p_values(windows: np.ndarray, floor: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """OLS slope of each row of ``windows`` (windows x n) on 0..n-1, and its two-sided p-value
    (Student's t with n - 2 degrees of freedom); a constant row has slope 0 and p = 1. The
    residual variance is never taken below ``floor`` (per row: the values' own sampling
    variance), so a slope that sampling error alone could draw is no evidence."""
    from scipy.special import stdtr

    n = windows.shape[1]
    x = np.arange(n, dtype=float) - (n - 1) / 2
    sxx = float((x**2).sum())
    slope = (windows - windows.mean(axis=1, keepdims=True)) @ x / sxx
    fitted = windows.mean(axis=1, keepdims=True) + slope[:, None] * x
    residual = np.maximum(((windows - fitted) ** 2).sum(axis=1) / (n - 2), floor)
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
