"""Parquet files through DuckDB, in-process: columns of NumPy arrays in and out.

DATE columns come out as datetime64[D] and go back in as DATE (TIMESTAMP ones as
datetime64[us] and TIMESTAMP), so a date stays a date from the lake to the scores.
Functions that cannot also carry a Parquet reader (the scikit-learn ones) never import this.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _configured(connection: Any) -> Any:
    # Lambda's only writable place is /tmp; DuckDB looks for a home directory at start.
    connection.execute(f"SET home_directory='{tempfile.gettempdir()}'")
    # A TIMESTAMPTZ compared with a window's TIMESTAMP bounds is read in UTC, as in Athena.
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def connect(database: str = ":memory:") -> Any:
    """A database of its own: for work that creates tables or views by name."""
    import duckdb

    return _configured(duckdb.connect(database))


_shared: tuple[int, Any] | None = None  # (the process that opened it, the database)
_shared_lock = threading.Lock()


def cursor() -> Any:
    """A connection to this process's one in-memory database, for work that creates nothing
    by name (reading Parquet files, writing arrays): opening a database takes 15-20 ms, a
    connection to an open one half a millisecond, and a stage reads and writes many files.
    A forked process opens its own (DuckDB's threads do not survive a fork)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared[0] != os.getpid():
            _shared = (os.getpid(), connect())
        return _configured(_shared[1].cursor())


def quote(name: str) -> str:
    """A column or table name as a SQL identifier (any characters: spaces, brackets, quotes)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A string as a SQL literal."""
    return "'" + text.replace("'", "''") + "'"


def literal_list(texts: list[str]) -> str:
    """Strings as a DuckDB list of SQL literals (a file list where a parameter cannot be bound:
    a view's definition)."""
    return "[" + ", ".join(literal(text) for text in texts) + "]"


def _as_dates(values: np.ndarray) -> np.ndarray:
    if isinstance(values, np.ma.MaskedArray):
        return np.ma.MaskedArray(values.data.astype("datetime64[D]"), mask=np.ma.getmaskarray(values))
    return values.astype("datetime64[D]")


def read_columns(path: Path) -> dict[str, np.ndarray]:
    """Every column of a Parquet file as NumPy arrays (masked where values are missing)."""
    with cursor() as connection:
        result = connection.execute("SELECT * FROM read_parquet($path)", {"path": str(path)})
        dates = {column[0] for column in result.description if str(column[1]) == "DATE"}
        columns: dict[str, np.ndarray] = result.fetchnumpy()
    return {name: _as_dates(values) if name in dates else values for name, values in columns.items()}


def read_slice(path: Path, offset: int, rows: int) -> dict[str, np.ndarray]:
    """Rows ``[offset, offset + rows)`` of a Parquet file, in file order."""
    with cursor() as connection:
        result = connection.execute(
            "SELECT * EXCLUDE (file_row_number) FROM read_parquet($path, file_row_number = true) "
            "WHERE file_row_number >= $first AND file_row_number < $last ORDER BY file_row_number",
            {"path": str(path), "first": offset, "last": offset + rows},
        )
        dates = {column[0] for column in result.description if str(column[1]) == "DATE"}
        columns: dict[str, np.ndarray] = result.fetchnumpy()
    return {name: _as_dates(values) if name in dates else values for name, values in columns.items()}


def parquet_rows(path: Path) -> int:
    """Rows of a Parquet file (from its footer)."""
    with cursor() as connection:
        found = connection.execute(
            "SELECT sum(row_group_num_rows) FROM (SELECT DISTINCT row_group_id, row_group_num_rows "
            "FROM parquet_metadata($path))",
            {"path": str(path)},
        ).fetchone()
    return int(found[0] or 0) if found else 0


def write_columns(path: Path, columns: dict[str, np.ndarray], order_by: str | None = None) -> Path:
    """Columns (name -> array of one length) as a zstd-compressed Parquet file."""
    # DuckDB scans this local by name; it reads datetime64 only at microsecond precision,
    # so day-precision columns are widened here and written back as DATE.
    frame = {  # noqa: F841
        name: values.astype("datetime64[us]") if values.dtype.kind == "M" else values
        for name, values in columns.items()
    }
    selected = ", ".join(
        f"CAST({quote(name)} AS DATE) AS {quote(name)}"
        if values.dtype.kind == "M" and np.datetime_data(values.dtype)[0] == "D"
        else quote(name)
        for name, values in columns.items()
    )
    query = f"SELECT {selected} FROM frame" + (  # nosec B608  # quoted column names
        f" ORDER BY {quote(order_by)}" if order_by else ""
    )
    with cursor() as connection:
        connection.execute(f"COPY ({query}) TO {literal(str(path))} (FORMAT parquet, COMPRESSION zstd)")
    return path


# ------------------------------------------------------------------ column profiles
_INTEGER = r"^[+-]?(0|[1-9][0-9]*)$"
# No leading zero before the point: '007' and '01234' are codes, not numbers.
_PADDED = r"^[+-]?0[0-9]+$"
_NUMBER = r"^[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# ISO-8601: a T or a space, fractional seconds, Z or an offset (+02:00, +0200, +02).
ZONE = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?" + ZONE[:-1] + "?$"


def _typed_aggregates(column: str, duckdb_type: str) -> list[str]:
    name, kind = quote(column), duckdb_type.upper()
    present = f"count({name})"
    if kind.startswith(("DATE", "TIMESTAMP")):
        dates, stamps = (present, "0") if kind == "DATE" else ("0", present)
        zoned = present if "TIME ZONE" in kind or kind == "TIMESTAMPTZ" else "0"
        return ["0", "0", "0", dates, stamps, "0", "NULL", "NULL", "NULL", "NULL", "0", "0", "0", zoned]
    if kind == "BOOLEAN":
        return ["0", "0", present, "0", "0", "0", "NULL", "NULL", "NULL", "NULL", "0", "0", "0", "0"]
    try_number = f"TRY_CAST({name} AS DOUBLE)"
    return [
        f"count(*) FILTER (WHERE {try_number} = floor({try_number}))",
        f"count({try_number})",
        "0",
        "0",
        "0",
        f"count(*) FILTER (WHERE {try_number} < 0)",
        "NULL",
        "NULL",
        "NULL",
        "NULL",
        "0",
        "0",
        "0",
        "0",
    ]


# The aggregates computed per column, in the order of the SQL's select list (the first two
# in profile_columns, the rest from _typed_aggregates; _text_profiles computes the same).
_AGGREGATES = (
    "missing", "distinct", "integers", "numbers", "booleans", "dates", "timestamps", "negatives",
    "non_number_row", "non_number", "non_date_row", "non_date", "non_numbers", "non_dates", "padded",
    "zoned",
)  # fmt: skip
_FIRSTS = ("non_number_row", "non_number", "non_date_row", "non_date")
_COUNTS = tuple(name for name in _AGGREGATES if name not in _FIRSTS)


def _kind(value: str) -> str:
    """SQL naming what a trimmed text value looks like, testing the common kinds first (one
    regular expression for most values, not one per kind)."""
    date = f"(regexp_full_match({value}, '{_DATE}') AND TRY_CAST({value} AS DATE) IS NOT NULL)"
    timestamp = f"(regexp_full_match({value}, '{_TIMESTAMP}') AND TRY_CAST({value} AS TIMESTAMP) IS NOT NULL)"
    return (
        f"CASE WHEN regexp_full_match({value}, '{_INTEGER}') THEN "  # past 64 bits: an id, a code
        f"CASE WHEN TRY_CAST({value} AS BIGINT) IS NULL THEN 'padded' ELSE 'integer' END "
        f"WHEN regexp_full_match({value}, '{_NUMBER}') THEN 'number' "
        f"WHEN regexp_full_match({value}, '{_PADDED}') THEN 'padded' "
        f"WHEN lower({value}) IN ('true', 'false') THEN 'boolean' "
        f"WHEN {date} THEN 'date' "
        f"WHEN {timestamp} THEN "
        f"CASE WHEN regexp_matches({value}, '{ZONE}') THEN 'zoned' ELSE 'timestamp' END "
        "ELSE 'text' END"
    )


def _text_profiles(connection: Any, relation: str, columns: list[str], row: str) -> dict[str, dict[str, Any]]:
    """The aggregates of every text column in one query over the columns unpivoted (its size
    does not grow with the number of columns; missing values drop out)."""
    if not columns:
        return {}
    names = ", ".join(quote(c) for c in columns)
    numbers, dates = "kind IN ('integer', 'number')", "kind IN ('date', 'timestamp', 'zoned')"
    counts = connection.execute(
        f"""SELECT name, count(*), count(DISTINCT v),
            count(*) FILTER (WHERE kind = 'integer'), count(*) FILTER (WHERE {numbers}),
            count(*) FILTER (WHERE kind = 'boolean'), count(*) FILTER (WHERE kind = 'date'),
            count(*) FILTER (WHERE kind IN ('timestamp', 'zoned')), 0,
            min(r) FILTER (WHERE NOT {numbers}), arg_min(v, r) FILTER (WHERE NOT {numbers}),
            min(r) FILTER (WHERE NOT {dates}), arg_min(v, r) FILTER (WHERE NOT {dates}),
            count(DISTINCT t) FILTER (WHERE NOT {numbers}), count(DISTINCT t) FILTER (WHERE NOT {dates}),
            count(*) FILTER (WHERE kind = 'padded'), count(*) FILTER (WHERE kind = 'zoned')
        FROM (SELECT name, v, r, t, {_kind("t")} AS kind
              FROM (SELECT name, v, r, trim(v) AS t
                    FROM (UNPIVOT (SELECT {names}, {quote(row)} AS r FROM {quote(relation)})
                          ON {names} INTO NAME name VALUE v)))
        GROUP BY name"""  # nosec B608  # quoted names and constant expressions
    ).fetchall()
    examples = dict(
        connection.execute(
            f"""SELECT name, list_sort(list(DISTINCT v))[1:4]
            FROM (UNPIVOT (SELECT {names} FROM {quote(relation)} LIMIT 10000)
                  ON {names} INTO NAME name VALUE v)
            GROUP BY name"""  # nosec B608  # quoted names
        ).fetchall()
    )
    found = {}
    for name, present, *stats in counts:
        found[name] = {
            "present": present,
            **dict(zip(_AGGREGATES[1:], stats, strict=True)),
            "examples": examples.get(name) or [],
        }
    return found


def profile_columns(
    connection: Any, relation: str, where: Callable[[int], str], row: str = "__row"
) -> dict[str, Any]:
    """A ColumnProfile (domain.datacheck) of every column of ``relation`` (a table or view with a
    0-based row number column ``row``, which is left out); ``where(row)`` names a row in
    messages. Text columns in one query over them unpivoted, the others in one scan."""
    from modelops.domain.data.datacheck import ColumnProfile, Example

    described = [
        (line[0], str(line[1]))
        for line in connection.execute(f"DESCRIBE {quote(relation)}").fetchall()
        if line[0] != row
    ]
    if not described:
        return {}
    text = [column for column, kind in described if kind.upper() == "VARCHAR"]
    typed = [(column, kind) for column, kind in described if kind.upper() != "VARCHAR"]
    parts = ["count(*)"]
    for column, duckdb_type in typed:
        name = quote(column)
        missing = f"count(*) FILTER (WHERE {name} IS NULL)"
        if duckdb_type.upper() in ("DOUBLE", "FLOAT", "REAL"):
            missing = f"count(*) FILTER (WHERE {name} IS NULL OR isnan({name}))"
        parts += [missing, f"count(DISTINCT {name})", *_typed_aggregates(column, duckdb_type)]
    query = f"SELECT {', '.join(parts)} FROM {quote(relation)}"  # nosec B608  # quoted names
    values = connection.execute(query).fetchone()
    rows = int(values[0])
    width = len(_AGGREGATES)
    stats_of = {
        column: dict(zip(_AGGREGATES, values[1 + index * width : 1 + (index + 1) * width], strict=True))
        for index, (column, _) in enumerate(typed)
    }
    if typed:
        examples = connection.execute(
            "SELECT "
            + ", ".join(
                f"list(DISTINCT CAST({quote(column)} AS VARCHAR)) FILTER (WHERE {quote(column)} IS NOT NULL)"
                for column, _ in typed
            )
            + f" FROM (SELECT * FROM {quote(relation)} LIMIT 10000)"  # nosec B608  # quoted names
        ).fetchone()
        for index, (column, _) in enumerate(typed):
            stats_of[column]["examples"] = sorted(examples[index] or [])[:4]
    for column, stats in _text_profiles(connection, relation, text, row).items():
        stats_of[column] = {**stats, "missing": rows - stats.pop("present")}
    found = {}
    for column, duckdb_type in described:
        stats = stats_of.get(column) or {"missing": rows, "examples": []}
        number_row, date_row = stats.get("non_number_row"), stats.get("non_date_row")
        found[column] = ColumnProfile(
            name=column,
            type=duckdb_type,
            rows=rows,
            **{name: int(stats.get(name) or 0) for name in _COUNTS},
            first_non_number=None if number_row is None else Example(where(number_row), stats["non_number"]),
            first_non_date=None if date_row is None else Example(where(date_row), stats["non_date"]),
            examples=list(stats["examples"]),
        )
    return found
