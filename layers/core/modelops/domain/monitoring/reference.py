"""What a metric's newest period is compared with: its reference periods (up to the end of the
model's training window), the monitored periods since, and the calendar (how many periods a
year holds; which season a period is in). Also what one unit of effect means for a metric.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np

from modelops.domain.monitoring.segments import split_metric
from modelops.domain.spec import Drift

SPREAD_LOW, SPREAD_HIGH = "d1", "d10"
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


@dataclass(frozen=True)
class Reference:
    """A metric's reference periods (oldest first), the monitored periods after them and
    before the current one, and the number of periods per year if the calendar applies."""

    periods: list[Observation]
    recent: list[Observation]
    cycle: int | None


def is_share(metric: str, value: str) -> bool:
    """Values that are rates in [0, 1]: their effect is an absolute change, not a relative one."""
    metric = split_metric(metric)[0]
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


def spread_of(periods: list[Observation]) -> float:
    """The metric's reference 90% spread, median of d10 - d1 (0 without deciles)."""
    spreads = [
        p.values[SPREAD_HIGH] - p.values[SPREAD_LOW]
        for p in periods
        if SPREAD_HIGH in p.values and SPREAD_LOW in p.values
    ]
    return float(np.median(spreads)) if spreads else 0.0


def effect_unit(metric: str, value: str, column: np.ndarray, spread: float) -> float:
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
