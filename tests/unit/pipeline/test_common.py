"""What get_data says of the rows a query returned outside what the run asked it to see."""

from datetime import date

from modelops.domain.periods import Window
from modelops.pipeline.common import _outside
from modelops.stores.query import Extract, Query

WEEK = Window(start=date(2025, 3, 10), end=date(2025, 3, 10))


def query(**options) -> Query:
    return Query("SELECT 1 WHERE $start < $end", ["t"], WEEK, "week", "day", part_rows=10, **options)


def extract(before: int, after: int) -> Extract:
    return Extract([], ["day"], 7, 7, {WEEK.start: 7}, before, after)


def test_rows_outside_the_window_that_nobody_asked_for_are_named():
    # a monthly partition read for one week, by a WHERE that does not filter the timestamp
    assert _outside(query(), extract(9, 15)) == [
        "the query returned 9 rows before 2025-03-10, which the run does not use (does its WHERE filter "
        "the timestamp with $start?)",
        "the query returned 15 rows after 2025-03-16, which the run does not use (does its WHERE filter "
        "the timestamp with $end?)",
    ]


def test_lookback_and_lookahead_rows_are_expected():
    assert _outside(query(lookback=1, lookahead=1), extract(7, 7)) == []
    assert _outside(query(), extract(0, 0)) == []
