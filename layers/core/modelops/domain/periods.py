"""Calendar periods (day, week, month, quarter) and the closed date interval a run covers.

A period is named by its first day: a week starts on Monday (ISO weeks), a quarter on the
first of January, April, July or October. Runs, windows, lake partitions and decile
metadata all speak in these start dates.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, model_validator

Period = Literal["day", "week", "month", "quarter"]
PERIODS: tuple[str, ...] = get_args(Period)
# The days a run may be asked for: its window, lookback and lookahead (in any period) must
# stay within the calendar (years 1 to 9999).
FIRST_RUN_DAY, LAST_RUN_DAY = date(1000, 1, 1), date(9000, 12, 31)
_MONTHS = {"month": 1, "quarter": 3}


class PartialWindowError(ValueError):
    """A run's window has periods without rows, and neither the spec nor the request allows it."""


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_start(day: date, period: Period) -> date:
    """The first day of the period that contains ``day``."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return month_start(day)
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def add_periods(start: date, count: int, period: Period) -> date:
    """The start of the period ``count`` periods after (or before) the one holding ``start``."""
    first = period_start(start, period)
    if period == "day":
        return first + timedelta(days=count)
    if period == "week":
        return first + timedelta(weeks=count)
    return add_months(first, count * _MONTHS[period])


def period_end(start: date, period: Period) -> date:
    """The last day of the period that contains ``start``."""
    return add_periods(start, 1, period) - timedelta(days=1)


def period_starts(first: date, last: date, period: Period) -> list[date]:
    """Every period start from ``first``'s period to ``last``'s, both included."""
    starts, current, stop = [], period_start(first, period), period_start(last, period)
    while current <= stop:
        starts.append(current)
        current = add_periods(current, 1, period)
    return starts


class Window(BaseModel):
    """The periods a run reads: ``start`` to ``end``, both included (each a period start)."""

    model_config = ConfigDict(frozen=True)
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start > self.end:
            raise ValueError(f"window start {self.start} is after its end {self.end}")
        return self

    def days(self, period: Period, *, before: int = 0, after: int = 0) -> Window:
        """The same periods (with ``before`` earlier and ``after`` later ones) as a closed
        interval of days: the first period's first day to the last period's last day (what a
        query's $start and $end are bound to)."""
        first = add_periods(self.start, -before, period)
        return Window(start=first, end=period_end(add_periods(self.end, after, period), period))

    def missing(self, present: set[date], period: Period) -> list[date]:
        """The window's periods that have no rows (``present``: the period starts seen)."""
        return [start for start in period_starts(self.start, self.end, period) if start not in present]

    def require_complete(self, present: set[date], period: Period, *, allow_partial: bool) -> None:
        """Refuse (PartialWindowError) a window with periods that have no rows, unless allowed:
        a model trained on 3 of the 12 months asked for is not the model that was asked for."""
        missing = self.missing(present, period)
        if not missing or allow_partial:
            return
        total = len(period_starts(self.start, self.end, period))
        shown = ", ".join(day.isoformat() for day in missing[:3]) + (" …" if len(missing) > 3 else "")
        raise PartialWindowError(
            f"the window {self.start} … {self.end} has no rows for {len(missing)} of its {total} "
            f"{period}s ({shown}); choose another as-of date, or allow a partial window "
            "(window.allow_partial in the spec, or --allow-partial-window)"
        )
