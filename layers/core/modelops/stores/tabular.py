"""Parquet files through DuckDB, in-process: columns of NumPy arrays in and out.

DATE columns come out as datetime64[D] and go back in as DATE (TIMESTAMP ones as
datetime64[us] and TIMESTAMP), so a date stays a date from the lake to the scores.
Functions that cannot also carry a Parquet reader (the scikit-learn ones) never import this.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def connect(database: str = ":memory:") -> Any:
    import duckdb

    connection = duckdb.connect(database)
    # Lambda's only writable place is /tmp; DuckDB looks for a home directory at start.
    connection.execute(f"SET home_directory='{tempfile.gettempdir()}'")
    # A TIMESTAMPTZ compared with a window's TIMESTAMP bounds is read in UTC, as in Athena.
    connection.execute("SET TimeZone = 'UTC'")
    return connection


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
    with connect() as connection:
        result = connection.execute("SELECT * FROM read_parquet($path)", {"path": str(path)})
        dates = {column[0] for column in result.description if str(column[1]) == "DATE"}
        columns: dict[str, np.ndarray] = result.fetchnumpy()
    return {name: _as_dates(values) if name in dates else values for name, values in columns.items()}


def read_slice(path: Path, offset: int, rows: int) -> dict[str, np.ndarray]:
    """Rows ``[offset, offset + rows)`` of a Parquet file, in file order."""
    with connect() as connection:
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
    with connect() as connection:
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
    with connect() as connection:
        connection.execute(f"COPY ({query}) TO {literal(str(path))} (FORMAT parquet, COMPRESSION zstd)")
    return path


# ------------------------------------------------------------------ column profiles
_INTEGER = r"^[+-]?(0|[1-9][0-9]*)$"
# No leading zero before the point: '007' and '01234' are codes, not numbers.
_PADDED = r"^[+-]?0[0-9]+$"
_NUMBER = r"^[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$"


def _text_aggregates(column: str) -> list[str]:
    value = f"trim({quote(column)})"
    number = f"regexp_full_match({value}, '{_NUMBER}')"
    date = f"(regexp_full_match({value}, '{_DATE}') AND TRY_CAST({value} AS DATE) IS NOT NULL)"
    timestamp = f"(regexp_full_match({value}, '{_TIMESTAMP}') AND TRY_CAST({value} AS TIMESTAMP) IS NOT NULL)"
    present = f"{quote(column)} IS NOT NULL"
    return [
        f"count(*) FILTER (WHERE {present} AND regexp_full_match({value}, '{_INTEGER}'))",
        f"count(*) FILTER (WHERE {present} AND {number})",
        f"count(*) FILTER (WHERE {present} AND lower({value}) IN ('true', 'false'))",
        f"count(*) FILTER (WHERE {present} AND {date})",
        f"count(*) FILTER (WHERE {present} AND {timestamp} AND NOT {date})",
        "0",
        f"min(__row) FILTER (WHERE {present} AND NOT {number})",
        f"arg_min({quote(column)}, __row) FILTER (WHERE {present} AND NOT {number})",
        f"min(__row) FILTER (WHERE {present} AND NOT ({date} OR {timestamp}))",
        f"arg_min({quote(column)}, __row) FILTER (WHERE {present} AND NOT ({date} OR {timestamp}))",
        f"count(DISTINCT {value}) FILTER (WHERE {present} AND NOT {number})",
        f"count(DISTINCT {value}) FILTER (WHERE {present} AND NOT ({date} OR {timestamp}))",
        f"count(*) FILTER (WHERE {present} AND regexp_full_match({value}, '{_PADDED}'))",
    ]


def _typed_aggregates(column: str, duckdb_type: str) -> list[str]:
    name, kind = quote(column), duckdb_type.upper()
    present = f"count({name})"
    if kind.startswith(("DATE", "TIMESTAMP")):
        dates, stamps = (present, "0") if kind == "DATE" else ("0", present)
        return ["0", "0", "0", dates, stamps, "0", "NULL", "NULL", "NULL", "NULL", "0", "0", "0"]
    if kind == "BOOLEAN":
        return ["0", "0", present, "0", "0", "0", "NULL", "NULL", "NULL", "NULL", "0", "0", "0"]
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
    ]


# The aggregates computed per column, in the order of the SQL's select list (the first two
# in profile_columns, the rest from _text_aggregates / _typed_aggregates).
_AGGREGATES = (
    "missing", "distinct", "integers", "numbers", "booleans", "dates", "timestamps", "negatives",
    "non_number_row", "non_number", "non_date_row", "non_date", "non_numbers", "non_dates", "padded",
)  # fmt: skip
_FIRSTS = ("non_number_row", "non_number", "non_date_row", "non_date")
_COUNTS = tuple(name for name in _AGGREGATES if name not in _FIRSTS)


def profile_columns(connection: Any, relation: str, where: Callable[[int], str]) -> dict[str, Any]:
    """A ColumnProfile (domain.datacheck) of every column of ``relation`` (a table or view with a
    0-based ``__row`` column, which is left out); ``where(row)`` names a row in messages."""
    from modelops.domain.data.datacheck import ColumnProfile, Example

    described = [
        (row[0], str(row[1]))
        for row in connection.execute(f"DESCRIBE {quote(relation)}").fetchall()
        if row[0] != "__row"
    ]
    if not described:
        return {}
    parts = ["count(*)"]
    for column, duckdb_type in described:
        name = quote(column)
        missing = f"count(*) FILTER (WHERE {name} IS NULL)"
        if duckdb_type.upper() in ("DOUBLE", "FLOAT", "REAL"):
            missing = f"count(*) FILTER (WHERE {name} IS NULL OR isnan({name}))"
        text = duckdb_type.upper() == "VARCHAR"
        parts += [missing, f"count(DISTINCT {name})"]
        parts += _text_aggregates(column) if text else _typed_aggregates(column, duckdb_type)
    aggregates = ", ".join(parts)
    query = f"SELECT {aggregates} FROM {quote(relation)}"  # nosec B608  # quoted names
    values = connection.execute(query).fetchone()
    rows, found = int(values[0]), {}
    width = len(_AGGREGATES)
    for index, (column, duckdb_type) in enumerate(described):
        stats = dict(zip(_AGGREGATES, values[1 + index * width : 1 + (index + 1) * width], strict=True))
        examples = connection.execute(
            f"SELECT DISTINCT CAST({quote(column)} AS VARCHAR) FROM {quote(relation)} "
            f"WHERE {quote(column)} IS NOT NULL LIMIT 4"  # nosec B608  # quoted names
        ).fetchall()
        number_row, date_row = stats["non_number_row"], stats["non_date_row"]
        found[column] = ColumnProfile(
            name=column,
            type=duckdb_type,
            rows=rows,
            **{name: int(stats[name]) for name in _COUNTS},
            first_non_number=None if number_row is None else Example(where(number_row), stats["non_number"]),
            first_non_date=None if date_row is None else Example(where(date_row), stats["non_date"]),
            examples=[str(row[0]) for row in examples],
        )
    return found
