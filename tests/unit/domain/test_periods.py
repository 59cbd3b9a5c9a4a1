"""Calendar periods: every period start, end and step agrees with the calendar, and the
vectorized period of a column of days agrees with the scalar one."""

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelops.domain.data.features import period_starts
from modelops.domain.periods import (
    PERIODS,
    PartialWindowError,
    Window,
    add_periods,
    period_end,
    period_start,
)
from modelops.domain.periods import (
    period_starts as starts_between,
)

days = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


@pytest.mark.parametrize(
    ("day", "period", "start", "end"),
    [
        (date(2024, 2, 29), "day", date(2024, 2, 29), date(2024, 2, 29)),
        (date(2024, 3, 10), "week", date(2024, 3, 4), date(2024, 3, 10)),  # Sunday -> Monday before
        (date(2024, 3, 4), "week", date(2024, 3, 4), date(2024, 3, 10)),
        (date(2024, 12, 31), "week", date(2024, 12, 30), date(2025, 1, 5)),  # across the year
        (date(2024, 2, 17), "month", date(2024, 2, 1), date(2024, 2, 29)),  # leap February
        (date(2023, 2, 17), "month", date(2023, 2, 1), date(2023, 2, 28)),
        (date(2024, 11, 30), "quarter", date(2024, 10, 1), date(2024, 12, 31)),
        (date(2024, 1, 1), "quarter", date(2024, 1, 1), date(2024, 3, 31)),
    ],
)
def test_a_period_starts_and_ends_where_the_calendar_says(day, period, start, end):
    assert period_start(day, period) == start
    assert period_end(day, period) == end


@pytest.mark.parametrize(
    ("start", "count", "period", "expected"),
    [
        (date(2025, 11, 1), 3, "month", date(2026, 2, 1)),
        (date(2025, 1, 1), -1, "month", date(2024, 12, 1)),
        (date(2025, 1, 15), -1, "quarter", date(2024, 10, 1)),
        (date(2024, 3, 7), 1, "week", date(2024, 3, 11)),
        (date(2024, 2, 28), 2, "day", date(2024, 3, 1)),
    ],
)
def test_adding_periods_steps_from_the_period_start(start, count, period, expected):
    assert add_periods(start, count, period) == expected


@given(days, st.sampled_from(PERIODS))
def test_periods_tile_the_calendar(day, period):
    start = period_start(day, period)
    assert start <= day <= period_end(day, period)
    assert period_start(period_end(day, period) + timedelta(days=1), period) == add_periods(start, 1, period)
    assert add_periods(add_periods(start, 5, period), -5, period) == start


@given(st.lists(days, min_size=1, max_size=40), st.sampled_from(PERIODS))
def test_the_vectorized_period_is_the_scalar_one(many, period):
    column = np.array(many, dtype="datetime64[D]")
    assert [d.item() for d in period_starts(column, period)] == [period_start(d, period) for d in many]
    timestamps = column.astype("datetime64[us]") + np.timedelta64(23, "h")  # late in the day
    assert [d.item() for d in period_starts(timestamps, period)] == [period_start(d, period) for d in many]


def test_a_window_reads_its_periods_as_days_and_names_the_missing_ones():
    window = Window(start=date(2024, 1, 1), end=date(2024, 3, 1))
    assert window.days("month") == Window(start=date(2024, 1, 1), end=date(2024, 3, 31))
    assert starts_between(window.start, window.end, "month") == [date(2024, m, 1) for m in (1, 2, 3)]
    assert window.missing({date(2024, 2, 1)}, "month") == [date(2024, 1, 1), date(2024, 3, 1)]
    with pytest.raises(PartialWindowError) as refused:
        window.require_complete({date(2024, 2, 1)}, "month", allow_partial=False)
    assert str(refused.value).startswith(
        "the window 2024-01-01 … 2024-03-01 has no rows for 2 of its 3 months (2024-01-01, 2024-03-01)"
    )
    window.require_complete({date(2024, 2, 1)}, "month", allow_partial=True)
    window.require_complete({date(2024, m, 1) for m in (1, 2, 3)}, "month", allow_partial=False)


def test_a_window_cannot_end_before_it_starts():
    with pytest.raises(ValueError, match="is after its end"):
        Window(start=date(2024, 2, 1), end=date(2024, 1, 1))
