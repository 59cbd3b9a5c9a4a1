"""The data lake: Parquet partitions per table and period under ``data/<table>/``.

A partition holds the rows of one period (day, week, month or quarter), named by the period's
first day: daily rows loaded for monthly monitoring make one partition per month. A file is
checked whole before anything is written (``inspect_file``): rows with the wrong number of
fields, a column of numbers with a stray word, dates that do not parse, each named with its
line and value; then each period is written with its columns' types kept (a DATE stays a DATE).
"""

from __future__ import annotations

import csv
import re
import tempfile
from array import array
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from modelops.domain.data.datacheck import ColumnError, ColumnProfile, column_type
from modelops.domain.periods import Period, Window, period_end, period_start
from modelops.domain.spec import IDENTIFIER_PATTERN
from modelops.stores import catalog, layout, objects, tabular
from modelops.stores.tabular import literal, quote

# Always missing in a text file; --na-values adds to these.
DEFAULT_NA = ("", "nan", "NaN")
TYPE_NAMES: dict[str, str] = {
    "integer": "BIGINT",
    "number": "DOUBLE",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "text": "VARCHAR",
    "varchar": "VARCHAR",
}
_DATE_FORMATS = (
    "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%Y%m%d", "%d-%m-%Y", "%Y.%m.%d", "%Y-%m", "%Y%m", "%Y",
)  # fmt: skip


class LoadError(ValueError):
    """A file that cannot be loaded as it is; the message names the line, column and value."""


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
class LoadOptions:
    """How to read a file: which column dates each row (and its format, if not YYYY-MM-DD),
    the period to partition by, extra missing-value markers, column types to force, and how
    many lines come before the header."""

    date_column: str | None = None
    date_format: str | None = None
    period: Period = "month"
    na_values: tuple[str, ...] = ()
    types: dict[str, str] = field(default_factory=dict)
    skip_rows: int = 0


@dataclass(frozen=True)
class ColumnSummary:
    name: str
    type: str
    missing: int


@dataclass(frozen=True)
class LoadSummary:
    """What a load found (and, unless a dry run, wrote): rows, typed columns, the date column,
    and the rows of each period."""

    table: str
    source: str
    rows: int
    columns: list[ColumnSummary]
    date_column: str
    period: Period
    partitions: dict[date, int]
    written: bool


class _Lines:
    """Maps a data row (0-based) of a CSV file to the line it starts on, for messages."""

    def __init__(self, starts: array[int] | None) -> None:
        self.starts = starts

    def __call__(self, row: int) -> str:
        if self.starts is None:
            return f"row {row + 1}"
        return f"line {self.starts[row]}" if row < len(self.starts) else f"row {row + 1}"


def _not_utf8(path: Path, error: UnicodeDecodeError) -> LoadError:
    return LoadError(f"{path.name}: not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8")


def _delimiter(path: Path, skip_rows: int) -> str:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            lines = [handle.readline() for _ in range(skip_rows + 20)][skip_rows:]
    except UnicodeDecodeError as error:
        raise _not_utf8(path, error) from None
    sample = "".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _check_rows(path: Path, delimiter: str, skip_rows: int) -> array[int]:
    """Every data row has the header's number of fields (else a LoadError listing the lines);
    returns the line each data row starts on."""
    starts, ragged = array("L"), []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            for _ in range(skip_rows):
                handle.readline()
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                raise LoadError(f"{path.name}: no header line (the file is empty)")
            width, line = len(header), reader.line_num
            for row in reader:
                first, line = line + 1, reader.line_num
                if not row:
                    continue  # a blank line
                if len(row) != width:
                    ragged.append((first + skip_rows, len(row)))
                starts.append(first + skip_rows)
    except UnicodeDecodeError as error:
        raise _not_utf8(path, error) from None
    except csv.Error as error:
        raise LoadError(f"{path.name}: line {line + skip_rows}: {error}") from None
    if ragged:
        shown = ", ".join(f"line {number} has {count}" for number, count in ragged[:3])
        more = f" and {len(ragged) - 3} more" if len(ragged) > 3 else ""
        hint = (
            " (if the header is not the first line, pass --skip-rows)"
            if ragged[0][0] == 2 + skip_rows
            else ""
        )
        rows = "1 row does" if len(ragged) == 1 else f"{len(ragged)} rows do"
        raise LoadError(f"{path.name}: {rows} not have the header's {width} fields: {shown}{more}{hint}")
    return starts


def _read(connection: Any, path: Path, options: LoadOptions) -> _Lines:
    """The file as table ``raw`` (text columns for CSV, typed for Parquet) with ``__row``."""
    if path.suffix.lower() == ".parquet":
        try:
            connection.execute(
                f"CREATE TABLE raw AS SELECT *, (row_number() OVER ()) - 1 AS __row "
                f"FROM read_parquet({literal(str(path))})"  # nosec B608  # the path as a literal
            )
        except Exception as error:  # noqa: BLE001 - DuckDB's errors have no common base worth naming
            raise LoadError(f"{path.name}: not a readable Parquet file ({_first_line(error)})") from None
        return _Lines(None)
    delimiter = _delimiter(path, options.skip_rows)
    starts = _check_rows(path, delimiter, options.skip_rows)
    na = sorted({*DEFAULT_NA, *options.na_values})
    connection.execute(
        f"CREATE TABLE raw AS SELECT *, (row_number() OVER ()) - 1 AS __row FROM read_csv("
        f"{literal(str(path))}, delim={literal(delimiter)}, header=true, all_varchar=true, "
        f"skip={options.skip_rows}, quote='\"', escape='\"', "
        f"nullstr=[{', '.join(literal(v) for v in na)}])"  # nosec B608  # literals and a number
    )
    return _Lines(starts)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


def _guess_formats(connection: Any, column: str) -> list[str]:
    """The formats from a short list that read every value of a text column."""
    found = []
    for fmt in _DATE_FORMATS:
        unread = connection.execute(
            f"SELECT count(*) FROM raw WHERE {quote(column)} IS NOT NULL "
            f"AND TRY_STRPTIME(trim({quote(column)}), {literal(fmt)}) IS NULL"  # nosec B608  # quoted
        ).fetchone()[0]
        if unread == 0:
            found.append(fmt)
    return found


def _date_expression(
    connection: Any, column: str, profile: ColumnProfile, options: LoadOptions, where: _Lines
) -> tuple[str, str]:
    """(SQL of the date column as DATE or TIMESTAMP, its type); a LoadError names the first
    value that is not a date."""
    name = quote(column)
    if options.date_format is not None:
        parsed = f"TRY_STRPTIME(trim(CAST({name} AS VARCHAR)), {literal(options.date_format)})"
        has_time = any(code in options.date_format for code in ("%H", "%I", "%M", "%S"))
        expression, kind = (parsed, "TIMESTAMP") if has_time else (f"CAST({parsed} AS DATE)", "DATE")
    elif profile.is_time:
        return name, "DATE" if profile.type.upper() == "DATE" else "TIMESTAMP"
    elif profile.is_text and profile.dates + profile.timestamps == profile.present and profile.present:
        kind = "DATE" if profile.timestamps == 0 else "TIMESTAMP"
        expression = f"TRY_CAST(trim({name}) AS {kind})"
    elif profile.is_text:
        formats = _guess_formats(connection, column)
        hint = (
            f"--date-format {formats[0]} reads every value"
            if formats
            else "give its format with --date-format"
        )
        example = profile.first_non_date or profile.first_non_number
        shown = f" ({example.where} holds {example.value!r})" if example else ""
        raise LoadError(f"date column {column!r} does not hold YYYY-MM-DD dates{shown}: {hint}")
    else:
        raise LoadError(
            f"date column {column!r} holds {profile.type} values ({', '.join(profile.examples[:2])}), "
            "not dates: name a column of dates with --date-column"
        )
    bad = connection.execute(
        f"SELECT __row, CAST({name} AS VARCHAR) FROM raw WHERE {name} IS NOT NULL AND {expression} IS NULL "
        "ORDER BY __row LIMIT 1"  # nosec B608  # a quoted name, an expression of quoted names and literals
    ).fetchone()
    if bad is not None:
        raise LoadError(
            f"date column {column!r}: {where(bad[0])} holds {bad[1]!r}, which is not a date"
            + (f" in the format {options.date_format}" if options.date_format else "")
        )
    return expression, kind


def _pick_date_column(profiles: dict[str, ColumnProfile], options: LoadOptions) -> str:
    if options.date_column is not None:
        if options.date_column not in profiles:
            raise LoadError(
                f"no column {options.date_column!r} for --date-column (columns: {', '.join(profiles)})"
            )
        return options.date_column
    dated = [
        name
        for name, p in profiles.items()
        if p.is_time or (p.is_text and p.present and p.dates + p.timestamps == p.present)
    ]
    if len(dated) == 1:
        return dated[0]
    if not dated:
        raise LoadError(
            f"no column of dates (YYYY-MM-DD) found: name the column that dates each row with "
            f"--date-column (columns: {', '.join(profiles)})"
        )
    raise LoadError(f"several columns hold dates ({', '.join(dated)}): choose one with --date-column")


def _forced(connection: Any, column: str, type_name: str, where: _Lines) -> str:
    """SQL casting a column to a type given with --types; a LoadError names the first failure."""
    cast = f"TRY_CAST(trim(CAST({quote(column)} AS VARCHAR)) AS {TYPE_NAMES[type_name]})"
    bad = connection.execute(
        f"SELECT __row, CAST({quote(column)} AS VARCHAR) FROM raw "
        f"WHERE {quote(column)} IS NOT NULL AND {cast} IS NULL ORDER BY __row LIMIT 1"  # nosec B608  # quoted
    ).fetchone()
    if bad is not None:
        raise LoadError(f"column {column!r}: {where(bad[0])} holds {bad[1]!r}, which is not a {type_name}")
    return cast


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


def _typed(connection: Any, path: Path, options: LoadOptions) -> tuple[list[ColumnSummary], str]:
    """Read and check a file into the table ``typed`` (its columns cast to the types they hold,
    and ``__row``); returns the columns and the date column. Any problem is a LoadError."""
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    unknown = sorted(set(options.types.values()) - set(TYPE_NAMES))
    if unknown:
        raise LoadError(f"--types: unknown type {unknown[0]!r} (known: {', '.join(sorted(TYPE_NAMES))})")
    where = _read(connection, path, options)
    profiles: dict[str, ColumnProfile] = tabular.profile_columns(connection, "raw", where)
    for column in options.types:
        if column not in profiles:
            raise LoadError(f"--types: no column {column!r} (columns: {', '.join(profiles)})")
    date_column = _pick_date_column(profiles, options)
    selected, summary = [], []
    for column, profile in profiles.items():
        if column == date_column:
            expression, kind = _date_expression(connection, column, profile, options, where)
        elif column in options.types:
            kind = TYPE_NAMES[options.types[column]]
            expression = _forced(connection, column, options.types[column], where)
        elif profile.is_text:
            try:
                kind = column_type(profile)
            except ColumnError as error:
                raise LoadError(str(error)) from None
            expression = quote(column) if kind == "VARCHAR" else f"CAST(trim({quote(column)}) AS {kind})"
        else:
            expression, kind = quote(column), profile.type
        selected.append(f"{expression} AS {quote(column)}")
        summary.append(ColumnSummary(column, kind, profile.missing))
    missing_dates = connection.execute(
        f"SELECT min(__row) FROM raw WHERE {quote(date_column)} IS NULL"  # nosec B608  # a quoted name
    ).fetchone()[0]
    if missing_dates is not None:
        raise LoadError(f"date column {date_column!r}: {where(int(missing_dates))} has no date")
    connection.execute(f"CREATE TABLE typed AS SELECT {', '.join(selected)}, __row FROM raw")  # nosec B608  # quoted
    return summary, date_column


def inspect_file(table: str, path: Path, options: LoadOptions, *, write: bool) -> LoadSummary:
    """Check a CSV or Parquet file whole, then (``write``) store one partition per period."""
    if not re.fullmatch(IDENTIFIER_PATTERN, table):
        raise LoadError(f"table name {table!r} is not an identifier (letters, digits, _)")
    with tabular.connect() as connection:
        summary, date_column = _typed(connection, path, options)
        period_sql = _period_expression(quote(date_column), options.period)
        counts = connection.execute(
            f"SELECT {period_sql} AS period, count(*) FROM typed GROUP BY 1 ORDER BY 1"  # nosec B608  # a quoted name
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
                        f"COPY (SELECT {columns} FROM typed WHERE {period_sql} = $period ORDER BY __row) "
                        f"TO {literal(str(output))} "
                        "(FORMAT parquet, COMPRESSION zstd)",  # nosec B608  # quoted, bound, a literal
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
    )


def load_file(table: str, path: Path, options: LoadOptions | None = None) -> LoadSummary:
    """Load a CSV or Parquet file into the lake, one partition per period; nothing is written
    unless the whole file passes the checks."""
    return inspect_file(table, path, options or LoadOptions(), write=True)


def convert_file(path: Path, options: LoadOptions, output: Path) -> Path:
    """The file as one Parquet file, read and typed exactly as a load would (for checking a
    spec against a file that is not in the lake)."""
    with tabular.connect() as connection:
        summary, _ = _typed(connection, path, options)
        columns = ", ".join(quote(c.name) for c in summary)
        connection.execute(
            f"COPY (SELECT {columns} FROM typed ORDER BY __row) TO {literal(str(output))} (FORMAT parquet)"  # nosec B608  # quoted names, a literal
        )
    return output
