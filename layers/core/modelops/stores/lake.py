"""The data lake: Parquet partitions per table and period under ``data/<table>/``.

A partition holds the rows of one period (day, week, month or quarter), named by the period's
first day: daily rows loaded for monthly monitoring make one partition per month. A file is
checked whole before anything is written (``inspect_file``, reading through ``loader``): rows
with the wrong number of fields, a column of numbers with a stray word, dates that do not
parse, every problem named with its line and value at once; then each period is written with
its columns' types kept (a DATE stays a DATE).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from modelops.domain.periods import Period, Window, period_end, period_start
from modelops.domain.spec import IDENTIFIER_PATTERN
from modelops.stores import catalog, layout, loader, objects, tabular
from modelops.stores.csvtext import LoadError
from modelops.stores.loader import TYPE_NAMES, ColumnSummary, LoadOptions
from modelops.stores.tabular import literal, quote

__all__ = [
    "TYPE_NAMES",
    "ColumnSummary",
    "LoadError",
    "LoadOptions",
    "LoadSummary",
    "inspect_file",
    "load_file",
]


# ---------------------------------------------------------------------- partitions
def _table_info(table: str) -> dict[str, Any]:
    """What the table's loads recorded: its period and date column (empty for a table written
    by other code)."""
    key = layout.table_info_key(table)
    return dict(objects.get_json(key)) if objects.exists(key) else {}


def table_period(table: str) -> Period | None:
    """The period a table was loaded by (None for a table written without `data load`)."""
    period: Period | None = _table_info(table).get("period")
    return period


def date_column(table: str) -> str | None:
    """The column whose dates put each row in its partition (None if no load recorded it)."""
    column: str | None = _table_info(table).get("date_column")
    return column


def partition_floor(table: str, day: date) -> date:
    """The start of the partition that holds ``day`` (the day itself when the table's period
    is unknown)."""
    period = table_period(table)
    return day if period is None else period_start(day, period)


def partitions_in_window(table: str, window: Window) -> list[str]:
    """Parquet keys of a table's partitions that hold days of the window (closed interval of
    days). With the table's period known, exactly those; otherwise the partitions starting
    inside the window and the last one starting before it (which may run into it)."""
    period = table_period(table)
    listed = [
        (key, start)
        for key in objects.list_keys(layout.table_prefix(table))
        if (start := layout.partition_period(key))
    ]
    if period is not None:
        return [
            key for key, start in listed if start <= window.end and period_end(start, period) >= window.start
        ]
    inside = [key for key, start in listed if window.start <= start <= window.end]
    earlier = [start for _, start in listed if start < window.start]
    if not earlier or any(start == window.start for _, start in listed):
        return inside
    last = max(earlier)
    return sorted(inside + [key for key, start in listed if start == last])


def write_partition(
    table: str,
    period: date,
    columns: dict[str, np.ndarray],
    *,
    by: Period | None = None,
    dated_by: str | None = None,
) -> str:
    """Write one period of a table (column name -> numpy array) as a lake partition, and keep
    the table's Glue table in step with its columns; ``by`` and ``dated_by`` record the table's
    period and date column, as a load does (the reconciliation counts the table on it)."""
    if by is not None and dated_by is not None and not _table_info(table):
        objects.put_json(layout.table_info_key(table), {"period": by, "date_column": dated_by})
    with tempfile.TemporaryDirectory() as scratch:
        output = tabular.write_columns(Path(scratch) / "part.parquet", columns)
        written = objects.upload_file(output, layout.partition_key(table, period))
    catalog.register(table, catalog.array_types(columns))
    return written


# ---------------------------------------------------------------------- loading a file
@dataclass(frozen=True)
class LoadSummary:
    """What a load found (and, unless a dry run, wrote): rows, typed columns, the date column,
    the rows of each period, and the text values read as missing (a CSV file's)."""

    table: str
    source: str
    rows: int
    columns: list[ColumnSummary]
    date_column: str
    period: Period
    partitions: dict[date, int]
    written: bool
    missing_markers: tuple[str, ...] = ()


def command(table: str, location: str, options: LoadOptions, *, write: bool) -> list[str]:
    """The `data load` command line a load stands for, without its reading flags (a failing
    load suggests it with the flags that fix every problem)."""
    words = ["modelops", "data", "load", "--file", location, "--table", table]
    words += [] if options.period == "month" else ["--period", options.period]
    words += [] if options.default_na else ["--no-default-na"]
    words += ["--local-time"] if options.local_time else []
    return words + ([] if write else ["--dry-run"])


def _period_expression(date_sql: str, period: Period) -> str:
    if period == "day":
        return f"CAST({date_sql} AS DATE)"
    return f"CAST(date_trunc('{period}', {date_sql}) AS DATE)"  # DuckDB's weeks start on Monday too


def _check_period(table: str, period: Period) -> None:
    """One table, one period: a table loaded by days and then by months would hold every row
    twice for the window reader."""
    stored = table_period(table)
    if stored is not None and stored != period:
        raise LoadError(
            f"table {table!r} is partitioned by {stored}: load it with --period {stored}, or load "
            "into a new table"
        )


def inspect_file(
    table: str,
    path: Path,
    options: LoadOptions,
    *,
    write: bool,
    suggest: Sequence[str] | None = None,
    progress: loader.Progress | None = None,
) -> LoadSummary:
    """Check a CSV or Parquet file whole, then (``write``) store one partition per period.
    A refusal names every problem and the command line (``suggest``: its words before the
    reading flags; default the `data load` this is) that fixes them all; ``progress`` is told
    how much of the file is read."""
    if not re.fullmatch(IDENTIFIER_PATTERN, table):
        raise LoadError(f"table name {table!r} is not an identifier (letters, digits, _)")
    words = command(table, str(path), options, write=write) if suggest is None else suggest
    with tempfile.TemporaryDirectory() as kept, tabular.connect() as connection:
        summary, date_column, source = loader.typed(
            connection, path, options, words, progress, scratch=Path(kept), keep=write
        )
        period_sql = _period_expression(quote(date_column), options.period)
        # A dry run's one pass counted the rows per date; otherwise they are counted here.
        relation, counted = ("typed", "count(*)") if source.dates is None else (source.dates, "sum(rows)")
        counts = connection.execute(
            f"SELECT {period_sql} AS period, {counted} FROM {quote(relation)} GROUP BY 1 ORDER BY 1"  # nosec B608  # quoted names
        ).fetchall()
        partitions = {period: int(rows) for period, rows in counts}
        if write:
            _check_period(table, options.period)
            objects.put_json(
                layout.table_info_key(table), {"period": options.period, "date_column": date_column}
            )
            with tempfile.TemporaryDirectory() as scratch:
                columns = ", ".join(quote(c.name) for c in summary)
                for period in partitions:
                    output = Path(scratch) / f"{period.isoformat()}.parquet"
                    connection.execute(
                        f"COPY (SELECT {columns} FROM typed WHERE {period_sql} = $period "  # nosec B608  # quoted names, a bound period, a literal path
                        f"ORDER BY {quote(source.row)}) "
                        f"TO {literal(str(output))} (FORMAT parquet, COMPRESSION zstd)",
                        {"period": period},
                    )
                    objects.upload_file(output, layout.partition_key(table, period))
            catalog.register(table, catalog.sql_types({c.name: c.type for c in summary}))
    return LoadSummary(
        table=table,
        source=str(path),
        rows=sum(partitions.values()),
        columns=summary,
        date_column=date_column,
        period=options.period,
        partitions=partitions,
        written=write,
        missing_markers=() if loader.is_parquet(path) else options.missing_markers,
    )


def load_file(table: str, path: Path, options: LoadOptions | None = None) -> LoadSummary:
    """Load a CSV or Parquet file into the lake, one partition per period; nothing is written
    unless the whole file passes the checks."""
    return inspect_file(table, path, options or LoadOptions(), write=True)


def convert_file(path: Path, options: LoadOptions, output: Path, suggest: Sequence[str] = ()) -> Path:
    """The file as one Parquet file, read and typed exactly as a load would (for checking a
    spec against a file that is not in the lake; ``suggest``: the command a refusal suggests)."""
    with tempfile.TemporaryDirectory() as kept, tabular.connect() as connection:
        summary, _, source = loader.typed(connection, path, options, suggest, scratch=Path(kept))
        columns = ", ".join(quote(c.name) for c in summary)
        connection.execute(
            f"COPY (SELECT {columns} FROM typed ORDER BY {quote(source.row)}) TO {literal(str(output))} "  # nosec B608  # quoted names, a literal path
            "(FORMAT parquet)"
        )
    return output
