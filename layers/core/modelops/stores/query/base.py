"""What every query engine shares: the query (the spec's SQL for a window), the extract it
writes (Parquet parts under the run's prefix), the errors, and how $start/$end are bound."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from modelops.domain.data.repeats import DuplicateEntityError as DuplicateEntityError
from modelops.domain.data.repeats import DuplicatesPolicy, Repeats
from modelops.domain.periods import Period, Window, period_starts
from modelops.stores.tabular import quote


class NoDataError(ValueError):
    """The window selects no data."""


class QueryError(ValueError):
    """The spec's SQL does not run; the message is the engine's first line."""


@dataclass(frozen=True)
class Sample:
    """Keep at most ``rows`` rows, the same share of every (period, outcome) stratum, chosen by
    a hash of the entity so a re-run keeps the same rows."""

    rows: int
    strata: tuple[str, ...]
    key: tuple[str, ...]  # the columns that name an entity
    seed: int


@dataclass(frozen=True)
class Counted:
    """A source table to count, period by period, on its own date column (the reconciliation)."""

    table: str
    column: str | None  # None: the date column the lake recorded for the table


@dataclass(frozen=True)
class Query:
    """The spec's SQL for a window of periods. The SQL sees ``lookback`` earlier and
    ``lookahead`` later periods too ($start and $end are bound to the first and last day it
    sees), so that lag, lead and rolling columns are complete; the extract keeps only the rows
    whose ``timestamp`` falls in the window."""

    sql: str  # the spec's SQL, with $start and $end (or $end_exclusive)
    tables: list[str]
    window: Window  # period starts, both included
    period: Period
    timestamp: str  # the result's time column
    part_rows: int  # at most this many rows per Parquet part
    lookback: int = 0
    lookahead: int = 0
    sample: Sample | None = None
    unique: tuple[str, ...] = ()  # columns whose values must not repeat in a period (the entity)
    duplicates: DuplicatesPolicy = "fail"  # what a repeat does (domain/data/repeats.py)
    counted: Counted | None = None  # the source table to reconcile the extract with

    @property
    def sees(self) -> Window:
        """The closed interval of days the SQL sees."""
        return self.window.days(self.period, before=self.lookback, after=self.lookahead)

    @property
    def keeps(self) -> Window:
        """The closed interval of days whose rows the extract keeps."""
        return self.window.days(self.period)

    def periods(self) -> list[date]:
        return period_starts(self.window.start, self.window.end, self.period)


@dataclass(frozen=True)
class Part:
    key: str
    rows: int


@dataclass(frozen=True)
class Extract:
    parts: list[Part]
    columns: list[str]
    rows: int  # after sampling
    matched: int  # rows of the window the query returned, before sampling
    periods: dict[date, int] = field(default_factory=dict)  # rows of the window per period
    before: int = 0  # rows of earlier periods the SQL computed (lookback), not kept
    after: int = 0  # rows of later periods the SQL computed (lookahead), not kept
    source: dict[date, int] | None = None  # the counted table's rows per period of the window
    source_column: str | None = None  # the date column they were counted on
    repeats: Repeats | None = None  # entities repeated within a period (before the policy)


class QueryEngine(Protocol):
    def extract(self, query: Query, destination_prefix: str) -> Extract:
        """Run the query for its window; store the result as Parquet parts under the prefix."""
        ...


def bind_window(sql: str, window: Window, *, fraction: int = 6) -> str:
    """The spec's SQL with its window parameters bound as TIMESTAMP literals, so that the
    natural filters keep every row of the window's days whatever the column's type (DATE,
    TIMESTAMP, or TIMESTAMPTZ read in UTC):

    - ``$start``: the first day, 00:00:00;
    - ``$end``: the last day's last instant (23:59:59.999999, ``fraction`` digits), so that
      ``ts BETWEEN $start AND $end`` and ``ts <= $end`` hold the whole last day;
    - ``$end_exclusive``: the day after the last, 00:00:00, for ``ts < $end_exclusive``.
    """
    after = window.end + timedelta(days=1)
    last = f"{window.end.isoformat()} 23:59:59" + (f".{'9' * fraction}" if fraction else "")
    literals = {
        "start": f"TIMESTAMP '{window.start.isoformat()} 00:00:00'",
        "end_exclusive": f"TIMESTAMP '{after.isoformat()} 00:00:00'",
        "end": f"TIMESTAMP '{last}'",
    }
    for name, literal in literals.items():
        sql = re.sub(rf"\${name}\b", literal, sql)
    return sql


def entity_sql(columns: tuple[str, ...]) -> str:
    """SQL (DuckDB and Athena alike) for a row's entity as text: its key's values joined with
    '|', as ``features.entity_ids`` names it (a composite key's NULL part is left out)."""
    return "concat_ws('|', " + ", ".join(f"CAST({quote(c)} AS VARCHAR)" for c in columns) + ")"


def repeats_sql(source: str, query: Query, at: str) -> str:
    """SQL (DuckDB and Athena alike): one row (entity, period, rows, repeated rows, repeated
    entity-periods) naming the most repeated entity of ``source`` within a period, or no row."""
    grouped = (
        f"SELECT {entity_sql(query.unique)} AS entity, {period_sql(at, query.period)} AS period, "
        f"count(*) AS n FROM {source} GROUP BY 1, 2 HAVING count(*) > 1"  # nosec B608  # quoted names
    )
    return (
        "SELECT entity, period, n, sum(n - 1) OVER (), count(*) OVER () "
        f"FROM ({grouped}) ORDER BY n DESC, period NULLS LAST, entity LIMIT 1"  # nosec B608  # as built above
    )


def repeats_of(row: Sequence[object] | None) -> Repeats | None:
    """The Repeats of a ``repeats_sql`` row (None: no entity repeats)."""
    if not row:
        return None
    entity, period, count, rows, groups = row
    day = None if period is None else date.fromisoformat(str(period)[:10])
    return Repeats(
        rows=int(str(rows)), groups=int(str(groups)), entity=str(entity), count=int(str(count)), period=day
    )


def period_sql(column: str, period: Period) -> str:
    """SQL (DuckDB and Athena alike) for the start of each row's period, as a DATE; weeks start
    on Monday in both, as in domain/periods.py."""
    return f"CAST(date_trunc('{period}', CAST({column} AS TIMESTAMP)) AS DATE)"
