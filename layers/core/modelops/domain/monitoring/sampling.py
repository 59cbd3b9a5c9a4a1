"""What sampling alone moves a period's value: each value's sampling variance at a period's
size, and a decile's p-value as a sample quantile of fresh rows. The drift tests never read a
value against less scatter than this, so a small period or segment gets a wide band instead
of a false alarm."""

from __future__ import annotations

import numpy as np

from modelops.domain.monitoring.profiles import DECILE_LEVELS, DECILES, OUTCOME_METRIC
from modelops.domain.monitoring.reference import Observation, is_share
from modelops.domain.monitoring.segments import split_metric
from modelops.domain.monitoring.statistics import quantile_floor, quantile_sampling_p


def present_rows(period: Observation) -> float:
    """The rows a decile or a mean was computed from: those not missing (0 without a count).
    A share stands on every row, missing ones too."""
    return period.values.get("count", 0.0) * (1 - period.values.get("missing", 0.0))


def sampling_floors(
    metric: str, names: list[str], matrix: np.ndarray, periods: list[Observation], current: Observation
) -> tuple[np.ndarray, np.ndarray]:
    """Each value's sampling variance from fresh rows, at the current period's size and at the
    reference periods' median size (0 where it cannot be told): a share's p(1 - p) / n, a
    mean's variance / n, and a decile's from the distribution-free interval of a sample
    quantile read off the reference's pooled samples (``quantile_floor``: it holds for
    counts and other discrete values, whose deciles jump from one value to the next)."""
    pooled = pooled_sample(periods)
    counts = np.array([p.values.get("count", 0.0) for p in periods])
    present = np.array([present_rows(p) for p in periods])
    rows = {  # (now, the reference's median) of every row and of the present ones
        True: (current.values.get("count", 0.0), float(np.median(counts))),
        False: (present_rows(current), float(np.median(present))),
    }
    floors = np.zeros((2, len(names)))
    deciles = [j for j, v in enumerate(names) if v in DECILES and not is_share(metric, v)]
    if deciles and pooled.size > 1:
        levels = DECILE_LEVELS[[DECILES.index(names[j]) for j in deciles]]
        for k, n in enumerate(rows[False]):
            floors[k, deciles] = quantile_floor(pooled, levels, n)
    for j, value in enumerate(names):
        share = value != "mean" and is_share(metric, value)  # "missing" is a share too
        if share or split_metric(metric)[0] == OUTCOME_METRIC:
            level = float(np.clip(matrix[:, j].mean(), 0.0, 1.0))
            per_row = level * (1 - level)
        elif value == "mean" and pooled.size > 1:
            per_row = float(pooled.var())
        else:
            continue
        floors[:, j] = [per_row / n if n > 0 else 0.0 for n in rows[share]]
    return floors[0], floors[1]


def pooled_sample(periods: list[Observation]) -> np.ndarray:
    """The periods' samples pooled and sorted (empty when none has one)."""
    samples = [p.sample for p in periods if p.sample is not None and p.sample.size]
    return np.sort(np.concatenate(samples)) if samples else np.empty(0)


def decile_sampling_p(
    metric: str, names: list[str], new: np.ndarray, periods: list[Observation], current: Observation
) -> np.ndarray:
    """Each decile's p-value as a sample quantile of the current period's rows drawn from the
    reference's pooled samples (``quantile_sampling_p``), NaN for every other value. A band
    finding on a decile needs both: beyond the periods' spread and beyond what sampling alone
    moves."""
    p_values = np.full(len(names), np.nan)
    deciles = [j for j, v in enumerate(names) if v in DECILES and not is_share(metric, v)]
    pooled = pooled_sample(periods)
    if deciles and pooled.size > 1:
        levels = DECILE_LEVELS[[DECILES.index(names[j]) for j in deciles]]
        rows = present_rows(current)
        p_values[deciles] = quantile_sampling_p(pooled, levels, new[deciles], rows)
    return p_values
